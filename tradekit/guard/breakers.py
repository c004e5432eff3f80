"""Breakers: conditions of the whole account that put the system in safe mode."""

from __future__ import annotations

from decimal import Decimal

from tradekit.exchange.base import BalanceInfo, PositionInfo
from tradekit.guard.settings import BreakerSettings
from tradekit.store import Store


def peak_equity(store: Store, mode: str, equity: Decimal, now: object) -> Decimal:
    """The highest equity seen in this mode (kept in the database, shared with tk-risk)."""
    key = f"peak_equity:{mode}"
    stored = store.get_flag(key)
    peak = max(Decimal(str(stored)) if stored is not None else equity, equity)
    if stored is None or peak != Decimal(str(stored)):
        store.set_flag(key, peak, now)  # type: ignore[arg-type]
    return peak


def api_errors(store: Store, mode: str, now_ms: int, window_ms: int, *, add: bool) -> int:
    """Exchange errors of this mode within the window (recording one more with `add`)."""
    key = f"api_errors:{mode}"
    times = [int(t) for t in store.get_flag(key) or [] if now_ms - int(t) < window_ms]
    if add:
        times.append(now_ms)
        from datetime import UTC, datetime

        store.set_flag(key, times, datetime.fromtimestamp(now_ms / 1000, UTC))
    return len(times)


def tripped(
    settings: BreakerSettings,
    *,
    balance: BalanceInfo,
    peak: Decimal,
    positions: list[PositionInfo],
    errors: int,
) -> list[str]:
    """The reasons each tripped breaker gives (empty: none)."""
    reasons = []
    equity = balance.equity
    if peak > 0 and (peak - equity) / peak > settings.max_drawdown:
        drawdown = round((peak - equity) / peak * 100, 2)
        reasons.append(
            f"drawdown {drawdown} % from the peak equity {peak} "
            f"(max {settings.max_drawdown * 100} %)"
        )
    margin = sum((p.size * p.entry_price / max(p.leverage, 1) for p in positions), Decimal(0))
    if equity > 0 and margin / equity > settings.max_margin_used:
        used = round(margin / equity * 100, 1)
        reasons.append(f"margin in use {used} % of equity (max {settings.max_margin_used * 100} %)")
    if errors >= settings.api_error_burst:
        reasons.append(
            f"{errors} exchange errors within {settings.api_error_window_seconds} s "
            f"(max {settings.api_error_burst - 1})"
        )
    return reasons
