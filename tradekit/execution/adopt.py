"""Live trading from a home whose ledger knows nothing of what the account holds.

A fresh or wrong TK_HOME has an empty ledger: tk-exec would trade as if the account were
empty, with none of the idempotency keys, cooldowns or daily-loss state of the real home,
and tk-guard would take the positions over with default stops. So the first live run of a
home (tk-exec or tk-guard) looks at the account: positions, or open orders and stops whose
clientOid is ours (`tk` prefix), refuse it (exit 78) unless --adopt says this home is to
carry on with them. The adoption is recorded (a flags row), so it is asked once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from tradekit.errors import ConfigError
from tradekit.exchange.base import Exchange
from tradekit.store import Store

if TYPE_CHECKING:
    from tradekit.cli.base import Session

#: the clientOid prefix of every order tradekit sends (see execution.ledger.client_oid)
OUR_PREFIX = "tk"
ADOPTED_FLAG = "live.adopted"


@dataclass(frozen=True)
class AccountHoldings:
    positions: list[str]
    orders: list[str]

    def __bool__(self) -> bool:
        return bool(self.positions or self.orders)

    def describe(self) -> str:
        parts = []
        if self.positions:
            parts.append(f"{len(self.positions)} position(s) ({', '.join(self.positions)})")
        if self.orders:
            parts.append(
                f"{len(self.orders)} open order(s) with our clientOid ({', '.join(self.orders)})"
            )
        return " and ".join(parts)


def holdings(exchange: Exchange, symbols: Iterable[str]) -> AccountHoldings:
    """The account's positions, and its open orders and stops of ours on `symbols` and on
    every symbol with a position."""
    positions = exchange.positions()
    watched = sorted({*symbols, *(p.symbol for p in positions)})
    orders = [
        f"{order.symbol} {order.client_oid}"
        for symbol in watched
        for order in [*exchange.open_orders(symbol), *exchange.stops(symbol)]
        if order.client_oid.startswith(OUR_PREFIX)
    ]
    described = [f"{p.symbol} {p.side} {p.size}" for p in positions]
    return AccountHoldings(described, orders)


def has_live_history(store: Store) -> bool:
    """The ledger has a live plan, the guard's book a live position, or an earlier --adopt
    took the account over."""
    row = store.db.execute(
        "SELECT 1 FROM intents WHERE mode='live' "
        "UNION ALL SELECT 1 FROM guard_positions WHERE mode='live' LIMIT 1"
    ).fetchone()
    return row is not None or store.get_flag(ADOPTED_FLAG) is not None


def check_live_home(
    exchange: Exchange,
    store: Store,
    symbols: Iterable[str],
    *,
    home: str,
    adopt: bool,
    now: datetime,
) -> str | None:
    """Raise ConfigError when the ledger is empty but the account is not, unless `adopt`;
    then the adoption is recorded and described (for a warning). `symbols`: where to look
    for open orders besides the symbols with a position."""
    if has_live_history(store):
        return None
    found = holdings(exchange, symbols)
    # read the ledger again, after the account: every order tradekit sends is claimed in the
    # ledger before it is sent, so what another run of this home placed meanwhile (twenty
    # cron runs at once) is in the ledger by now, and is not a stranger's
    if not found or has_live_history(store):
        return None
    if not adopt:
        raise ConfigError(
            f"the ledger of {home} has no live plan, but the account shows {found.describe()}: "
            "is this the right TK_HOME? Nothing done; run with --adopt to trade on from this "
            "home with what the account holds"
        )
    store.set_flag(ADOPTED_FLAG, {"positions": found.positions, "orders": found.orders}, now)
    return f"--adopt: this home takes over {found.describe()}"


def check_session(session: Session, store: Store, exchange: Exchange, *, adopt: bool) -> None:
    """check_live_home for a live run of a command: the symbols traded are [risk] symbols
    and those with candles in HOME/data; an adoption is reported as a warning."""
    from tradekit.market.store import CandleStore

    symbols = [
        *session.config.risk.symbols,
        *(symbol for symbol, _ in CandleStore(session.home.data).series()),
    ]
    adopted = check_live_home(
        exchange,
        store,
        symbols,
        home=str(session.home.root),
        adopt=adopt,
        now=session.clock.now(),
    )
    if adopted:
        session.reporter.warning(adopted)
