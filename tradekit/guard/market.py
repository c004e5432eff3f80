"""What the guard reads from the candles in HOME/data: the ATR at a position's entry, and
the latest plan of the strategy that opened it (for reverse signals)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tradekit.errors import TradekitError
from tradekit.guard.tracked import Tracked
from tradekit.market.store import CandleStore


def atr_at(
    candles: CandleStore, symbol: str, timeframe: str, period: int, at_ms: int
) -> Decimal | None:
    """The ATR of the last `timeframe` bar closed by `at_ms` (None without the data)."""
    import numpy as np

    from tradekit import indicators as ind

    try:
        series = candles.load_or_resample(symbol, timeframe).closed_at(at_ms)
    except (TradekitError, OSError, ValueError):
        return None
    rows = series.rows[-(period * 20 + 1) :]
    if len(rows) <= period:
        return None
    value = ind.atr(rows["high"], rows["low"], rows["close"], period)[-1]
    return None if np.isnan(value) else Decimal(repr(float(value)))


def latest_signal(
    candles: CandleStore, strategies: dict[str, dict[str, Any]], tracked: Tracked, now_ms: int
) -> tuple[int, str | None] | None:
    """(bar close ms, side or None) of the opening strategy's plan on the last closed bar;
    None when it cannot be evaluated (no data, stale data, an unknown strategy, a dsl
    position whose spec file is not named or cannot be read).

    A dsl position counts its own exit rule instead: where `exitLong` fires for a long
    (`exitShort` for a short), the side reported is the other one. The rule is read raw,
    not through the close plans, which follow the position the DSL's signals would hold,
    not the one the account holds."""
    from pathlib import Path

    from tradekit.market.candles import timeframe_ms
    from tradekit.signals import prepare, records

    origin = tracked.origin or {}
    name = origin.get("strategy")
    spec = origin.get("spec") if name == "dsl" else None
    if not name or (name == "dsl" and not spec):
        return None
    try:
        prepared = prepare(
            name,
            table=strategies.get(name, {}),
            config_source=f"[strategies.{name}]",
            symbol=tracked.symbol,
            store=candles,
            data_file=None,
            now=datetime.fromtimestamp(now_ms / 1000, UTC),
            spec_file=Path(spec) if spec else None,
        )
    except TradekitError:
        return None
    if prepared.problem is not None:
        return None
    record = next(records(prepared, dry_run=True))
    bar_close = int(prepared.evaluations.bar_ts[prepared.rows[-1]]) + timeframe_ms(
        prepared.timeframe
    )
    if spec:
        return bar_close, _dsl_exit(tracked.side, (record["plan"] or record)["context"])
    plan = record.get("plan")
    return bar_close, (plan or {}).get("side")


def _dsl_exit(side: str, context: dict[str, Any]) -> str | None:
    """The other side when the position's exit rule fires on the bar, else None."""
    rule = "exitLong" if side == "long" else "exitShort"
    if context.get(rule) == 1:
        return "short" if side == "long" else "long"
    return None
