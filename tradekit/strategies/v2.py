"""Strategy v2 (seed000-spec §2.1): a daily EMA pyramid with ADX, a 4h MACD/RSI/volume
setup, and a 1h Bollinger break with a stochastic turn.

- 1d bias: EMA50 > EMA100 > EMA200 (long) or the reverse (short), and the seed's ADX14 >= 25.
- 4h setup: MACD line above its signal (the seed's signal, over a zero-filled line), the
  histogram >= 0, RSI14 >= 50, and volume >= 1.8 x the mean of the last 20 bars (short:
  mirrored, RSI <= 50).
- 1h entry: close above the upper Bollinger band (20, 2 population sigma) with the previous
  close inside it, k > d and 20 <= k <= 55, where k = mean of the last 3 raw %K(14) and
  d = mean of the last 3 values of SMA3(raw %K) (short: below the lower band, k < d,
  45 <= k <= 80).
Fixes against the seed: closed bars only (the seed used the forming bar, and its volume).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from tradekit import indicators as ind
from tradekit.market.candles import Candles
from tradekit.strategies.base import Evaluations, Params, aligned, pick

REASON = "macro_1d_ema_pyramid+adx && setup_4h_macd_rsi_vol && entry_1h_boll_break+stoch_reversal"


class V2Params(Params):
    enabled: bool = True
    allow_sides: list[Literal["long", "short"]] = Field(default_factory=lambda: ["long", "short"])
    timeframe: str = "1h"
    setup_timeframe: str = "4h"
    macro_timeframe: str = "1d"
    ema_fast: int = Field(50, ge=1)
    ema_mid: int = Field(100, ge=1)
    ema_slow: int = Field(200, ge=1)
    adx_period: int = Field(14, ge=2)
    adx_min: float = Field(25.0, ge=0)
    macd_fast: int = Field(12, ge=1)
    macd_slow: int = Field(26, ge=1)
    macd_signal: int = Field(9, ge=1)
    rsi_period: int = Field(14, ge=1)
    rsi_long_min: float = 50.0
    rsi_short_max: float = 50.0
    volume_lookback: int = Field(20, ge=1)
    volume_mult: float = Field(1.8, ge=0)
    boll_period: int = Field(20, ge=2)
    boll_mult: float = Field(2.0, gt=0)
    stoch_k: int = Field(14, ge=1)
    stoch_smooth: int = Field(3, ge=1)
    stoch_d: int = Field(3, ge=1)
    long_k_min: float = 20.0
    long_k_max: float = 55.0
    short_k_min: float = 45.0
    short_k_max: float = 80.0
    require_prev_inside_band: bool = True


@dataclass(frozen=True)
class V2:
    name: str = "v2"
    summary: str = "1d EMA pyramid + ADX; 4h MACD/RSI/volume; 1h Bollinger break + stochastic"
    notes: str = ""
    params_model: type[V2Params] = V2Params

    def timeframes(self, params: V2Params) -> tuple[str, ...]:
        return (params.timeframe, params.setup_timeframe, params.macro_timeframe)

    def evaluate(
        self, data: dict[str, Candles], params: V2Params, *, forming: bool = False
    ) -> Evaluations:
        base = data[params.timeframe]
        setup, macro = data[params.setup_timeframe], data[params.macro_timeframe]
        n = len(base)
        high, low, close = base.column("high"), base.column("low"), base.column("close")

        m_close = macro.column("close")
        jm, pm = aligned(macro, base, forming=forming)
        e_f = pick(ind.ema(m_close, params.ema_fast), jm, pm)
        e_m = pick(ind.ema(m_close, params.ema_mid), jm, pm)
        e_s = pick(ind.ema(m_close, params.ema_slow), jm, pm)
        adx = pick(
            ind.adx_seed(macro.column("high"), macro.column("low"), m_close, params.adx_period)[0],
            jm,
            pm,
        )
        strong = adx >= params.adx_min
        bias_long = (e_f > e_m) & (e_m > e_s) & strong
        bias_short = (e_f < e_m) & (e_m < e_s) & strong

        s_close, s_vol = setup.column("close"), setup.column("volume")
        js, ps = aligned(setup, base, forming=forming)
        line, sig, hist = (
            pick(series, js, ps)
            for series in ind.macd_seed(
                s_close, params.macd_fast, params.macd_slow, params.macd_signal
            )
        )
        rsi = pick(ind.rsi_seed(s_close, params.rsi_period), js, ps)
        vol_mean = pick(ind.sma(s_vol, params.volume_lookback), js, ps)
        vol_break = pick(s_vol, js, ps) >= params.volume_mult * vol_mean
        hist_ok_long = np.isnan(hist) | (hist >= 0)
        hist_ok_short = np.isnan(hist) | (hist <= 0)
        setup_long = (line > sig) & hist_ok_long & (rsi >= params.rsi_long_min) & vol_break
        setup_short = (line < sig) & hist_ok_short & (rsi <= params.rsi_short_max) & vol_break

        _, upper, lower = ind.bollinger(close, params.boll_period, params.boll_mult)
        raw_k = ind.stoch_raw_k(high, low, close, params.stoch_k)
        k_now = ind.sma(raw_k, params.stoch_smooth)
        d_now = ind.sma(ind.sma(raw_k, params.stoch_d), params.stoch_smooth)
        prev_close = np.r_[np.nan, close[:-1]]
        prev_upper, prev_lower = np.r_[np.nan, upper[:-1]], np.r_[np.nan, lower[:-1]]
        if params.require_prev_inside_band:
            inside_long, inside_short = prev_close <= prev_upper, prev_close >= prev_lower
        else:
            inside_long = inside_short = np.ones(n, dtype=bool)
        entry_long = (
            (close > upper)
            & (k_now > d_now)
            & (k_now >= params.long_k_min)
            & (k_now <= params.long_k_max)
            & inside_long
        )
        entry_short = (
            (close < lower)
            & (k_now < d_now)
            & (k_now >= params.short_k_min)
            & (k_now <= params.short_k_max)
            & inside_short
        )

        long = bias_long & setup_long & entry_long & ("long" in params.allow_sides)
        short = bias_short & setup_short & entry_short & ("short" in params.allow_sides) & ~long
        ready = np.isfinite(e_s) & np.isfinite(adx) & np.isfinite(d_now) & np.isfinite(line)
        if not params.enabled:
            long[:] = short[:] = False
        note = np.select(
            [np.full(n, not params.enabled), ~ready, long | short, ~(bias_long | bias_short)],
            ["strategy_disabled", "insufficient_ohlcv", "signal", "bias_none"],
            "no_setup",
        ).astype(object)
        side = np.full(n, None, dtype=object)
        side[long], side[short] = "long", "short"
        reason = np.where(long | short, REASON, None).astype(object)
        return Evaluations(
            bar_ts=base.ts.copy(),
            side=side,
            note=note,
            reason=reason,
            context={
                "ema50_1d": e_f,
                "ema100_1d": e_m,
                "ema200_1d": e_s,
                "adx1d": adx,
                "macd4h": line,
                "macdSignal4h": sig,
                "rsi4h": rsi,
                "volume4h": pick(s_vol, js, ps),
                "volumeMean4h": vol_mean,
                "bollUpper": upper,
                "bollLower": lower,
                "stochK": k_now,
                "stochD": d_now,
                "close": close,
            },
        )


STRATEGY = V2()
