"""What can go wrong talking to an exchange, in the terms a trading system acts on."""

from __future__ import annotations

from tradekit.errors import TradekitError
from tradekit.exitstatus import ExitStatus


class ExchangeError(TradekitError):
    status = ExitStatus.EXCHANGE_UNAVAILABLE


class TemporaryError(ExchangeError):
    """Network trouble, a timeout, maintenance: nothing happened; a read may be retried."""


class RateLimited(TemporaryError):
    status = ExitStatus.TRY_AGAIN_LATER


class AuthError(ExchangeError):
    status = ExitStatus.CONFIG


class Rejected(ExchangeError):
    """The exchange refused the request (its code and message say why); nothing happened."""

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


class InsufficientFunds(Rejected):
    pass


class DuplicateClientOid(Rejected):
    """An order with this clientOid exists already (Bitget 40786/45034/43118): look it up."""


#: Bitget's codes for a reused clientOid (ccxt leaves them unmapped: a plain ExchangeError)
DUPLICATE_CODES = ("40786", "45034", "43118")


class NoPosition(Rejected):
    """A close or reduce-only order found no position (Bitget 22002): already flat."""


class OutcomeUnknown(ExchangeError):
    """A write was sent and no answer came back: the order may or may not exist. Look it up
    by its clientOid before doing anything else; never just send it again."""

    def __init__(self, message: str, client_oid: str | None = None):
        super().__init__(message)
        self.client_oid = client_oid
