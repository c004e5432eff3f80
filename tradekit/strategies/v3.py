"""Strategy v3 "S1" (seed000-spec §2.2): a daily EMA200 bias, then a 4h pullback to
EMA20/50 reclaimed (long) or rejected (short).

On the evaluated 4h bar i: bias = the last closed daily close vs its EMA200; the close is
within `max_dist_pct` % of EMA20 or EMA50 (near band); and it crosses EMA20 on this bar
(prev close <= prev EMA20 and close > EMA20 for a long), with ATR known.
Fixes against the seed: closed bars only; `confirm_bars` (ignored by the seed) is honoured:
the cross happened `confirm_bars - 1` bars ago and every close since stayed on its side
(1 = the seed's behaviour). The seed's risk hint (SL/TP at 1.8/3.0 ATR) is in the context.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from tradekit import indicators as ind
from tradekit.market.candles import Candles
from tradekit.strategies.base import Evaluations, Params, aligned, pick


class V3Params(Params):
    timeframe: str = "4h"
    bias_timeframe: str = "1d"
    bias_ema: int = Field(200, ge=1)
    allow_sides: list[Literal["long", "short"]] = Field(default_factory=lambda: ["long", "short"])
    ema_fast: int = Field(20, ge=1)
    ema_slow: int = Field(50, ge=1)
    atr_period: int = Field(14, ge=1)
    max_dist_pct: float = Field(0.6, ge=0)
    confirm_bars: int = Field(1, ge=1)
    stop_atr: float = Field(1.8, gt=0)
    take_profit_atr: float = Field(3.0, gt=0)


@dataclass(frozen=True)
class V3:
    name: str = "v3"
    summary: str = "1d EMA200 bias; 4h pullback to EMA20/50 and reclaim"
    notes: str = ""
    params_model: type[V3Params] = V3Params

    def timeframes(self, params: V3Params) -> tuple[str, ...]:
        return (params.timeframe, params.bias_timeframe)

    def evaluate(
        self, data: dict[str, Candles], params: V3Params, *, forming: bool = False
    ) -> Evaluations:
        base, daily = data[params.timeframe], data[params.bias_timeframe]
        high, low, close = base.column("high"), base.column("low"), base.column("close")
        n = len(base)
        d_close = daily.column("close")
        j, present = aligned(daily, base, forming=forming)
        bias_close = pick(d_close, j, present)
        bias_ema = pick(ind.ema(d_close, params.bias_ema), j, present)

        e20, e50 = ind.ema(close, params.ema_fast), ind.ema(close, params.ema_slow)
        atr = ind.atr(high, low, close, params.atr_period)
        with np.errstate(invalid="ignore", divide="ignore"):
            near = (np.abs(close - e20) / e20 * 100 <= params.max_dist_pct) | (
                np.abs(close - e50) / e50 * 100 <= params.max_dist_pct
            )
        prev_close = np.r_[np.nan, close[:-1]]
        prev_e20 = np.r_[np.nan, e20[:-1]]
        k = params.confirm_bars - 1
        cross_up = (prev_close <= prev_e20) & (close > e20)
        cross_down = (prev_close >= prev_e20) & (close < e20)
        if k:
            above, below = close > e20, close < e20
            held_up = np.ones(n, dtype=bool)
            held_down = np.ones(n, dtype=bool)
            for lag in range(k):  # closes since the cross stayed on its side
                held_up &= np.r_[np.zeros(lag, bool), above[: n - lag]]
                held_down &= np.r_[np.zeros(lag, bool), below[: n - lag]]
            cross_up = np.r_[np.zeros(k, bool), cross_up[: n - k]] & held_up
            cross_down = np.r_[np.zeros(k, bool), cross_down[: n - k]] & held_down

        bias_long = bias_close > bias_ema
        bias_short = bias_close < bias_ema
        ready = np.isfinite(bias_ema) & np.isfinite(e50)
        atr_ok = np.isfinite(atr)
        long = ready & bias_long & near & cross_up & atr_ok & ("long" in params.allow_sides)
        short = ready & bias_short & near & cross_down & atr_ok & ("short" in params.allow_sides)
        note = np.select(
            [~ready, ~(bias_long | bias_short), long | short],
            ["insufficient_ohlcv", "bias_none", "signal"],
            "no_setup",
        ).astype(object)
        side = np.full(n, None, dtype=object)
        side[long], side[short] = "long", "short"
        reason = np.full(n, None, dtype=object)
        reason[long] = "S1_bias_1d_above_ema200 + pullback_to_ema20/50 + reclaim_ema20"
        reason[short] = "S1_bias_1d_below_ema200 + pullback_to_ema20/50 + reject_ema20"
        direction = np.where(short, -1.0, 1.0)
        fired = long | short
        return Evaluations(
            bar_ts=base.ts.copy(),
            side=side,
            note=note,
            reason=reason,
            context={
                "close1d": bias_close,
                "ema200_1d": bias_ema,
                "ema20": e20,
                "ema50": e50,
                "atr": atr,
                "close": close,
                "riskHintStop": np.where(fired, close - direction * params.stop_atr * atr, np.nan),
                "riskHintTakeProfit": np.where(
                    fired, close + direction * params.take_profit_atr * atr, np.nan
                ),
            },
        )


STRATEGY = V3()
