"""When a price is too old to act on: the one rule that tk-guard's exits, tk-risk's new
entries and `tk paper trade` all follow, with the one limit [guard.watch] max_stale_seconds.

A price's time is when it was true on the exchange: a ticker's own timestamp, and for a
price replayed from stored bars (the paper exchange, the emulator, tk-risk in dry-run) see
bar_price_ms."""

from __future__ import annotations

from datetime import UTC, datetime

SECOND = 1000
YEAR = 31_556_952 * SECOND  # a mean Gregorian year
#: (ages below this are written in this unit, its size in ms, its name); each unit starts
#: at two of itself, so no age reads "1 hours"
_UNITS = (
    (120 * SECOND, SECOND, "s"),
    (120 * 60 * SECOND, 60 * SECOND, "min"),
    (48 * 3600 * SECOND, 3600 * SECOND, "hours"),
    (90 * 86_400 * SECOND, 86_400 * SECOND, "days"),
    (2 * YEAR, YEAR // 12, "months"),
)


def is_stale(price_ms: int | None, now_ms: int, max_stale_seconds: float) -> bool:
    """Whether a price of that (exchange) time is too old to decide on; no time is stale."""
    return price_ms is None or now_ms - price_ms > max_stale_seconds * SECOND


def stale_reason(
    symbol: str, price_ms: int | None, now_ms: int, max_stale_seconds: float
) -> str | None:
    """Why the price of `symbol` cannot be used (naming its age), or None when it is fresh."""
    if not is_stale(price_ms, now_ms, max_stale_seconds):
        return None
    limit = f"[guard.watch] max_stale_seconds is {max_stale_seconds:g}"
    if price_ms is None:
        return f"price: {symbol} last price has no time ({limit})"
    when = datetime.fromtimestamp(price_ms / SECOND, tz=UTC)
    return (
        f"price: {symbol} last price is {describe_age(now_ms - price_ms)} old "
        f"(from {when:%Y-%m-%dT%H:%M:%SZ}; {limit})"
    )


def describe_age(age_ms: int) -> str:
    """An age as a trader reads it: 45 s, 12 min, 5 hours, 3 days, 10 months, 2 years."""
    for largest, size, name in _UNITS:
        if age_ms < largest:
            return f"{age_ms // size} {name}"
    return f"{age_ms // YEAR} years"


def bar_price_ms(close_ms: int, step_ms: int, now_ms: int) -> int:
    """When the close of a bar replayed as the price was true: `now` until the next bar
    should have closed (no newer price can exist yet), the bar's close time after that (the
    bars that should follow are missing, and the price ages from its close)."""
    return now_ms if now_ms - close_ms < step_ms else close_ms
