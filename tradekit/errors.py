"""Errors that end a command with a documented exit status instead of a traceback."""

from tradekit.exitstatus import ExitStatus


class TradekitError(Exception):
    """Base class: the message is shown to the user, the status becomes the exit code."""

    status: ExitStatus = ExitStatus.ERROR


class UsageError(TradekitError):
    status = ExitStatus.USAGE


class BadInputError(TradekitError):
    status = ExitStatus.BAD_INPUT


class ExchangeUnavailableError(TradekitError):
    status = ExitStatus.EXCHANGE_UNAVAILABLE


class TryAgainLaterError(TradekitError):
    status = ExitStatus.TRY_AGAIN_LATER


class ConfigError(TradekitError):
    status = ExitStatus.CONFIG
