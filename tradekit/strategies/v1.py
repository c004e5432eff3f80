"""Strategy v1, legacy (seed000-spec §2.0): a 15m trend, a 5m pullback to EMA20/50 and a
1m confirmation, evaluated on every closed 1m bar.

- trend: 15m EMA50 above (below) EMA200;
- 5m: d20, d50 = distance of the 5m close from EMA20 / EMA50 in %; ATR% = ATR14 / close;
- long: trend up, 0.20 <= ATR% <= 0.70 (or ATR unknown), d20 <= 0.28 or d50 <= 0.38, two
  rising 1m closes, the 1m close at or above the 60-bar VWAP of the typical price, and
  neither the 1m nor the 5m RSI14 falling; very-strong if d50 <= 0.22 and 5m RSI <= 45.
  Shorts mirror it (very-strong with 5m RSI >= 55).
Fixes against the seed: closed bars only; the 5m and 15m bars are used once closed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field

from tradekit import indicators as ind
from tradekit.market.candles import Candles
from tradekit.strategies.base import Evaluations, Params, aligned, pick


class V1Params(Params):
    timeframe: str = "1m"
    pullback_timeframe: str = "5m"
    trend_timeframe: str = "15m"
    near20_pct: float = Field(0.28, ge=0)
    near50_pct: float = Field(0.38, ge=0)
    cost_pct: float = Field(0.08, ge=0)
    max_atr_pct: float = Field(0.70, gt=0)
    very_strong_d50_max: float = 0.22
    long_rsi5_max: float = 45.0
    short_rsi5_min: float = 55.0
    vwap_window: int = Field(60, ge=1)
    two_min_momentum: bool = True
    vwap_confirm: bool = True
    vol_outside_atr_range: bool = True

    @property
    def min_atr_pct(self) -> float:
        return max(0.12, 2.5 * self.cost_pct)


def _prev(values: np.ndarray) -> np.ndarray:
    return np.r_[np.nan, values[:-1]]


@dataclass(frozen=True)
class V1:
    name: str = "v1"
    summary: str = "15m EMA50/200 trend; 5m pullback to EMA20/50; 1m VWAP and RSI confirmation"
    notes: str = ""
    params_model: type[V1Params] = V1Params

    def timeframes(self, params: V1Params) -> tuple[str, ...]:
        return (params.timeframe, params.pullback_timeframe, params.trend_timeframe)

    def evaluate(
        self, data: dict[str, Candles], params: V1Params, *, forming: bool = False
    ) -> Evaluations:
        m1 = data[params.timeframe]
        m5, m15 = data[params.pullback_timeframe], data[params.trend_timeframe]
        n = len(m1)
        c1 = m1.column("close")

        j15, p15 = aligned(m15, m1, forming=forming)
        c15 = m15.column("close")
        e50_15, e200_15 = pick(ind.ema(c15, 50), j15, p15), pick(ind.ema(c15, 200), j15, p15)

        j5, p5 = aligned(m5, m1, forming=forming)
        c5_all = m5.column("close")
        rsi5_all = ind.rsi_seed(c5_all, 14)
        c5 = pick(c5_all, j5, p5)
        e20_5, e50_5 = pick(ind.ema(c5_all, 20), j5, p5), pick(ind.ema(c5_all, 50), j5, p5)
        atr5 = pick(ind.atr(m5.column("high"), m5.column("low"), c5_all, 14), j5, p5)
        rsi5 = pick(rsi5_all, j5, p5)
        rsi5_prev = pick(_prev(rsi5_all), j5, p5)

        rsi1 = ind.rsi_seed(c1, 14)
        vwap = ind.vwap(
            m1.column("high"), m1.column("low"), c1, m1.column("volume"), params.vwap_window
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            d20 = np.abs(c5 - e20_5) / e20_5 * 100
            d50 = np.abs(c5 - e50_5) / e50_5 * 100
            atr_pct = atr5 / c5 * 100

        atr_known = np.isfinite(atr_pct)
        atr_ok = (~atr_known) | ((atr_pct >= params.min_atr_pct) & (atr_pct <= params.max_atr_pct))
        if not params.vol_outside_atr_range:
            atr_ok = np.ones(n, dtype=bool)
        near = (d20 <= params.near20_pct) | (d50 <= params.near50_pct)
        p1, p2 = _prev(c1), _prev(_prev(c1))
        rising, falling = (c1 > p1) & (p1 > p2), (c1 < p1) & (p1 < p2)
        if not params.two_min_momentum:
            rising = falling = np.ones(n, dtype=bool)
        above_vwap, below_vwap = c1 >= vwap, c1 <= vwap
        if not params.vwap_confirm:
            above_vwap = below_vwap = np.ones(n, dtype=bool)
        rsi1_prev = _prev(rsi1)
        up = e50_15 > e200_15
        down = e50_15 < e200_15
        ready = (
            np.isfinite(e200_15)
            & np.isfinite(d20)
            & np.isfinite(d50)
            & np.isfinite(rsi1_prev)
            & np.isfinite(rsi5_prev)
            & np.isfinite(vwap)
        )
        long = (
            ready
            & up
            & atr_ok
            & near
            & rising
            & above_vwap
            & (rsi1 >= rsi1_prev)
            & (rsi5 >= rsi5_prev)
        )
        short = (
            ready
            & down
            & atr_ok
            & near
            & falling
            & below_vwap
            & (rsi1 <= rsi1_prev)
            & (rsi5 <= rsi5_prev)
        )
        strong_long = long & (d50 <= params.very_strong_d50_max) & (rsi5 <= params.long_rsi5_max)
        strong_short = short & (d50 <= params.very_strong_d50_max) & (rsi5 >= params.short_rsi5_min)
        note = np.select(
            [~ready, long | short, ~(up | down)],
            ["indicator_unavailable", "signal", "trend_flat"],
            "no_setup",
        ).astype(object)
        side = np.full(n, None, dtype=object)
        side[long], side[short] = "long", "short"
        level = np.full(n, None, dtype=object)
        level[long | short] = "strong"
        level[strong_long | strong_short] = "very-strong"
        reason = np.full(n, None, dtype=object)
        reason[long] = "trend15m_up+pullback5m_to_ema+confirm1m_vwap_rsi"
        reason[short] = "trend15m_down+pullback5m_to_ema+confirm1m_vwap_rsi"
        return Evaluations(
            bar_ts=m1.ts.copy(),
            side=side,
            note=note,
            reason=reason,
            level=level,
            context={
                "ema50_15m": e50_15,
                "ema200_15m": e200_15,
                "d20_5m": d20,
                "d50_5m": d50,
                "atrPct5m": atr_pct,
                "rsi5m": rsi5,
                "rsi1m": rsi1,
                "vwap1m": vwap,
                "close": c1,
            },
        )


STRATEGY = V1()
