"""Indicator speed over 1,000,000 bars: each tradekit indicator against the TA-Lib calls
that compute the same outputs on the same data (issue target: within 2x). ADX-type
indicators return ADX, +DI and -DI, so their reference is those three TA-Lib calls; VWAP,
which TA-Lib lacks, is compared with the same formula written in TA-Lib calls.

    .venv/bin/python bench/indicators.py [--bars N] [--repeat R]

Prints best-of-R milliseconds, bars per second, and the ratio to TA-Lib.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import talib

from tradekit import indicators as ind


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    n = args.bars
    c = 20_000 + np.cumsum(rng.normal(0, 10, n))
    h = c + rng.random(n) * 20
    lo = c - rng.random(n) * 20
    v = rng.random(n) * 100

    def adx_di() -> object:  # the three outputs of ind.adx*, as TA-Lib computes them
        return talib.ADX(h, lo, c, 14), talib.PLUS_DI(h, lo, c, 14), talib.MINUS_DI(h, lo, c, 14)

    def vwap_talib() -> object:  # TA-Lib has no VWAP: the same formula in TA-Lib calls
        return talib.SUM(talib.TYPPRICE(h, lo, c) * v, 60) / talib.SUM(v, 60)

    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        ("ema", lambda: ind.ema(c, 20), lambda: talib.EMA(c, 20)),
        ("ema_viewer", lambda: ind.ema_viewer(c, 20), lambda: talib.EMA(c, 20)),
        ("sma", lambda: ind.sma(c, 20), lambda: talib.SMA(c, 20)),
        ("rsi_seed", lambda: ind.rsi_seed(c, 14), lambda: talib.RSI(c, 14)),
        ("true_range", lambda: ind.true_range(h, lo, c), lambda: talib.TRANGE(h, lo, c)),
        ("atr", lambda: ind.atr(h, lo, c, 14), lambda: talib.ATR(h, lo, c, 14)),
        ("atr_viewer", lambda: ind.atr_viewer(h, lo, c, 14), lambda: talib.ATR(h, lo, c, 14)),
        ("adx", lambda: ind.adx(h, lo, c, 14), adx_di),
        ("adx_seed", lambda: ind.adx_seed(h, lo, c, 14), adx_di),
        ("adx_viewer", lambda: ind.adx_viewer(h, lo, c, 14), adx_di),
        ("macd_seed", lambda: ind.macd_seed(c), lambda: talib.MACD(c)),
        ("bollinger", lambda: ind.bollinger(c, 20, 2.0), lambda: talib.BBANDS(c, 20)),
        ("stoch_raw_k", lambda: ind.stoch_raw_k(h, lo, c, 14), lambda: talib.STOCHF(h, lo, c, 14)),
        ("stoch", lambda: ind.stoch(h, lo, c), lambda: talib.STOCH(h, lo, c)),
        ("donchian_high", lambda: ind.donchian_high(h, 20), lambda: talib.MAX(h, 20)),
        ("vwap", lambda: ind.vwap(h, lo, c, v, 60), vwap_talib),
        ("pct_change", lambda: ind.pct_change(c, 1), lambda: talib.ROCP(c, 1)),
    ]
    print(f"{n:,} bars, best of {args.repeat}")
    print(f"{'indicator':<15}{'ours ms':>10}{'M bars/s':>10}{'TA-Lib ms':>11}{'ratio':>8}")
    for name, ours, reference in cases:
        a, b = best_ms(ours, args.repeat), best_ms(reference, args.repeat)
        print(f"{name:<15}{a:>10.2f}{n / a / 1000:>10.1f}{b:>11.2f}{a / b:>8.2f}")


if __name__ == "__main__":
    main()
