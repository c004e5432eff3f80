"""The figures of a backtest, from its trades and its equity curve (marked to market at
every bar close). Returns are annualised over 365 days; Sharpe and Sortino from the bars'
returns (no risk-free rate)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from tradekit.backtest.trades import Trade

YEAR_MS = 365 * 24 * 3600 * 1000
HOUR_MS = 3600 * 1000


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 or not math.isfinite(num / den) else num / den


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"))


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(float(value), places)


def _streak(wins: Sequence[bool], want: bool) -> int:
    best = run = 0
    for won in wins:
        run = run + 1 if won == want else 0
        best = max(best, run)
    return best


def _hours(trades: Sequence[Trade]) -> float | None:
    if not trades:
        return None
    return sum(t.hold_ms for t in trades) / len(trades) / HOUR_MS


def trade_figures(trades: Sequence[Trade]) -> dict[str, Any]:
    pnl = [t.pnl for t in trades]
    winners = [t for t in trades if t.pnl > 0]
    losers = [t for t in trades if t.pnl <= 0]
    won = sum((t.pnl for t in winners), Decimal(0))
    lost = -sum((t.pnl for t in losers), Decimal(0))
    values = np.array([float(p) for p in pnl])
    sqn = None
    if len(values) > 1 and values.std(ddof=1) > 0:
        sqn = math.sqrt(len(values)) * values.mean() / values.std(ddof=1)
    return {
        "trades": len(trades),
        "winRate": _round(_ratio(len(winners), len(trades))),
        "profitFactor": _round(_ratio(float(won), float(lost))),
        "expectancy": _money(sum(pnl, Decimal(0)) / len(pnl)) if pnl else None,
        "sqn": _round(sqn),
        "longs": sum(1 for t in trades if t.side == "long"),
        "shorts": sum(1 for t in trades if t.side == "short"),
        "bestTrade": _money(max(pnl)) if pnl else None,
        "worstTrade": _money(min(pnl)) if pnl else None,
        "maxConsecutiveWins": _streak([p > 0 for p in pnl], True),
        "maxConsecutiveLosses": _streak([p > 0 for p in pnl], False),
        "avgHoldHoursWinners": _round(_hours(winners), 2),
        "avgHoldHoursLosers": _round(_hours(losers), 2),
        "fees": _money(sum((t.fees for t in trades), Decimal(0))),
        "funding": _money(sum((t.funding for t in trades), Decimal(0))),
        "pnl": _money(sum(pnl, Decimal(0))),
    }


def equity_figures(
    ts: np.ndarray, equity: np.ndarray, bar_ms: int, in_position: np.ndarray
) -> dict[str, Any]:
    """ts: bar close times; equity: float per bar; in_position: bool per bar."""
    start, end = float(equity[0]), float(equity[-1])
    years = (int(ts[-1]) - int(ts[0]) + bar_ms) / YEAR_MS
    total = end / start - 1
    cagr = None
    if years > 0 and end > 0:
        try:
            cagr = (end / start) ** (1 / years) - 1
        except OverflowError:  # days that doubled: no meaningful yearly rate
            cagr = None
    returns = np.diff(equity) / equity[:-1] if len(equity) > 1 else np.zeros(0)
    per_year = YEAR_MS / bar_ms
    sharpe = sortino = None
    if len(returns) > 1 and returns.std(ddof=1) > 0:
        sharpe = returns.mean() / returns.std(ddof=1) * math.sqrt(per_year)
        downside = np.sqrt(np.mean(np.minimum(returns, 0) ** 2))
        sortino = _ratio(returns.mean() * math.sqrt(per_year), downside)
    peak = np.maximum.accumulate(equity)
    drawdown = (peak - equity) / peak
    worst = int(np.argmax(drawdown))
    underwater = drawdown > 0
    longest = run = 0
    for down in underwater.tolist():
        run = run + 1 if down else 0
        longest = max(longest, run)
    max_dd = float(drawdown[worst])
    return {
        "startEquity": round(start, 4),
        "endEquity": round(end, 4),
        "totalReturnPct": round(total * 100, 4),
        "cagrPct": _round(None if cagr is None else cagr * 100),
        "sharpe": _round(sharpe),
        "sortino": _round(sortino),
        "calmar": _round(_ratio(cagr, max_dd) if cagr is not None else None),
        "maxDrawdownPct": round(max_dd * 100, 4),
        "maxDrawdown": round(float(peak[worst] - equity[worst]), 4),
        "maxDrawdownHours": round(longest * bar_ms / HOUR_MS, 2),
        "exposurePct": round(float(in_position.mean()) * 100, 4) if len(in_position) else 0.0,
    }


def tables(trades: Sequence[Trade]) -> dict[str, Any]:
    """PnL and count by exit reason and by month of the exit."""
    from datetime import UTC, datetime

    by_reason: dict[str, list[Decimal]] = defaultdict(list)
    by_month: dict[str, list[Decimal]] = defaultdict(list)
    for t in trades:
        by_reason[t.exit_reason].append(t.pnl)
        month = datetime.fromtimestamp(t.exit_ms / 1000, UTC).strftime("%Y-%m")
        by_month[month].append(t.pnl)

    def table(groups: dict[str, list[Decimal]]) -> dict[str, Any]:
        return {
            key: {
                "trades": len(values),
                "wins": sum(1 for v in values if v > 0),
                "pnl": _money(sum(values, Decimal(0))),
            }
            for key, values in sorted(groups.items())
        }

    return {"byExitReason": table(by_reason), "byMonth": table(by_month)}


def market_change_pct(closes: np.ndarray) -> float:
    return round((float(closes[-1]) / float(closes[0]) - 1) * 100, 4)
