"""Strategy v5 (seed000-spec §2.3), the seed's production strategy.

1. Bias on the last *closed* 4h bar: EMA fast vs slow, ADX (the seed's ADX, seeded with
   the first DX) at least `adx_min`.
2. On the evaluated 1h bar i: ATR and EMA20.
3. Retest: the nearest breakout j in [i - retest_window_bars, i - 1] (close above the
   Donchian high of the `entry_lookback` bars before it, for a long bias) at level lvl;
   long if low_i <= lvl + tol and close_i > lvl, tol = retest_tol_atr x ATR.
4. Re-entry: long if low_i <= EMA20 + tol and close_i > EMA20 (tol = reentry_tol_atr x ATR).
5. Otherwise no_setup. Shorts mirror.

Fixes against the seed: bars are closed bars (no repainting), the 4h bar is used only once
closed (no look-ahead), and the parameters are one set, from the config, whose defaults
are those of perp-strategy-v5.json (ADX min 18, lookback 20) where the seed's live script
and its parameter file disagreed (15 / 15), and the live script's elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from pydantic import Field

from tradekit import indicators as ind
from tradekit.market.candles import Candles
from tradekit.strategies.base import Evaluations, Params, aligned, pick


class V5Params(Params):
    timeframe: str = "1h"
    bias_timeframe: str = "4h"
    bias_ema_fast: int = Field(20, ge=1)
    bias_ema_slow: int = Field(50, ge=1)
    adx_period: int = Field(14, ge=2)
    adx_min: float = Field(18.0, ge=0)
    entry_lookback: int = Field(20, ge=1)
    retest_window_bars: int = Field(32, ge=1)
    retest_tol_atr: float = Field(0.25, ge=0)
    reentry_enabled: bool = True
    reentry_ema: int = Field(20, ge=1)
    reentry_tol_atr: float = Field(0.35, ge=0)
    atr_period: int = Field(14, ge=1)
    #: fewer closed bars than this -> insufficient_ohlcv (the seed fetched 300 / 600)
    min_bias_bars: int = Field(100, ge=1)
    min_bars: int = Field(200, ge=1)


def _iso_ms(ms: int) -> str:
    """JavaScript's toISOString(), as the seed's reasons print bar times."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _last_true_before(flags: np.ndarray) -> np.ndarray:
    """out[i] = the largest j < i with flags[j], or -1."""
    index = np.where(flags, np.arange(len(flags)), -1)
    running = np.maximum.accumulate(index) if len(index) else index
    return np.concatenate([[-1], running[:-1]])


def _bias_at(
    bias: Candles, base: Candles, params: V5Params, *, forming: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """EMA fast, EMA slow, ADX of the last bias bar closed by each base bar's close, and
    how many bias bars there were by then."""
    b_close = bias.column("close")
    e_fast = ind.ema(b_close, params.bias_ema_fast)
    e_slow = ind.ema(b_close, params.bias_ema_slow)
    adx, _, _ = ind.adx_seed(bias.column("high"), bias.column("low"), b_close, params.adx_period)
    j, present = aligned(bias, base, forming=forming)
    count = np.where(present, j + 1, 0)
    return pick(e_fast, j, present), pick(e_slow, j, present), pick(adx, j, present), count


@dataclass(frozen=True)
class V5:
    name: str = "v5"
    summary: str = "4h EMA/ADX bias; 1h Donchian breakout retest or EMA re-entry"
    notes: str = (
        "The defaults are the seed's perp-strategy-v5.json (ADX min 18, breakout lookback 20).\n"
        "The seed's live script ignored that file and ran ADX min 15 and lookback 15: to\n"
        "trade what it traded, use examples/v5-seed-live.toml (tk-signal v5 --config FILE).\n"
    )
    params_model: type[V5Params] = V5Params

    def timeframes(self, params: V5Params) -> tuple[str, ...]:
        return (params.timeframe, params.bias_timeframe)

    def evaluate(
        self, data: dict[str, Candles], params: V5Params, *, forming: bool = False
    ) -> Evaluations:
        base, bias = data[params.timeframe], data[params.bias_timeframe]
        o_h, o_l, o_c = base.column("high"), base.column("low"), base.column("close")
        n = len(base)

        ef, es, ax, bias_count = _bias_at(bias, base, params, forming=forming)

        # -- 1h values --------------------------------------------------------------------
        atr = ind.atr(o_h, o_l, o_c, params.atr_period)
        ema20 = ind.ema(o_c, params.reentry_ema)
        lookback = params.entry_lookback
        d_high = ind.donchian_high(o_h, lookback)
        d_low = ind.donchian_low(o_l, lookback)
        prev_high = np.concatenate([[np.nan], d_high[:-1]])  # channel of the bars before j
        prev_low = np.concatenate([[np.nan], d_low[:-1]])
        index = np.arange(n)
        first_scan = lookback + 2
        up_break = (o_c > prev_high) & (index >= first_scan)
        down_break = (o_c < prev_low) & (index >= first_scan)
        up_j = _last_true_before(up_break)
        down_j = _last_true_before(down_break)
        window_start = np.maximum(first_scan, index - params.retest_window_bars)

        enough = (index + 1 >= params.min_bars) & (bias_count >= params.min_bias_bars)
        bias_ok = np.isfinite(ef) & np.isfinite(es) & np.isfinite(ax) & (ax >= params.adx_min)
        is_long = bias_ok & (ef > es)
        is_short = bias_ok & (ef < es)
        atr_ok = np.isfinite(atr) & np.isfinite(ema20)
        note = np.select(
            [~enough, ~bias_ok, ~(is_long | is_short), ~atr_ok],
            ["insufficient_ohlcv", "bias_filtered", "bias_none", "atr_unavailable"],
            "no_setup",
        ).astype(object)
        active = note == "no_setup"

        # Retest of the nearest breakout in the window, on the bias side.
        brk = np.where(is_long, up_j, down_j)
        has_brk = active & (brk >= window_start)
        safe_brk = np.where(has_brk, brk, 0)
        level = np.where(
            has_brk, np.where(is_long, prev_high[safe_brk], prev_low[safe_brk]), np.nan
        )
        tol = params.retest_tol_atr * atr
        retest = has_brk & np.where(
            is_long, (o_l <= level + tol) & (o_c > level), (o_h >= level - tol) & (o_c < level)
        )
        # Re-entry at the EMA when there was no retest.
        rtol = params.reentry_tol_atr * atr
        reentry = (
            active
            & ~retest
            & params.reentry_enabled
            & np.where(
                is_long,
                (o_l <= ema20 + rtol) & (o_c > ema20),
                (o_h >= ema20 - rtol) & (o_c < ema20),
            )
        )
        note[retest] = "retest"
        note[reentry] = "reentry"
        side = np.full(n, None, dtype=object)
        fired = retest | reentry
        side[fired & is_long] = "long"
        side[fired & is_short] = "short"
        # the tolerance of the rule that fired (a re-entry beside an unretested breakout
        # used the re-entry's); on other bars the retest's while a breakout is in the window
        tol_out = np.where(reentry, rtol, np.where(has_brk, tol, np.nan))

        reason = np.full(n, None, dtype=object)
        for i in np.flatnonzero(retest):
            reason[i] = (
                f"v5 retest: bias={side[i]}; breakout@{_iso_ms(int(base.ts[brk[i]]))}; "
                f"level={level[i]:.2f}; tol={tol[i]:.2f}"
            )
        for i in np.flatnonzero(reentry):
            reason[i] = f"v5 reentry: bias={side[i]}; ema20={ema20[i]:.2f}; tol={rtol[i]:.2f}"
        return Evaluations(
            bar_ts=base.ts.copy(),
            side=side,
            note=note,
            reason=reason,
            context={
                "emaFast4h": ef,
                "emaSlow4h": es,
                "adx4h": ax,
                "atr1h": atr,
                "ema20_1h": ema20,
                "level": level,
                "tol": tol_out,
                "close": o_c,
                "high": o_h,
                "low": o_l,
            },
        )


STRATEGY = V5()
