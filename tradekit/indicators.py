"""Technical indicators over whole numpy arrays: one implementation for live signals,
replays, backtests and the report.

Inputs are float64 arrays, outputs are float64 arrays of the same length with NaN where a
value is not defined yet. The standard definitions are TA-Lib's, called directly (it is the
reference and fast C). The seed system's definitions differ in a few places; those variants
are named `*_seed` (the live signals of spec §2) and `*_viewer` (the in-browser backtest of
spec §7.2), and are documented where they differ.

Every seed variant is a Wilder or EMA recursion started from a custom value at a custom bar.
`smooth()` runs such a recursion through TA-Lib's EMA: an EMA of period n seeds itself with
the mean of its first n inputs, so n copies of the seed followed by the rest of the series
give exactly the recursion we want, at C speed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import talib

Array = np.ndarray


def _f64(values: Array) -> Array:
    return np.ascontiguousarray(values, dtype=np.float64)


def smooth(x: Array, alpha: float, seed: float, start: int) -> Array:
    """y[start] = seed; y[i] = y[i-1] + alpha * (x[i] - y[i-1]) for i > start; NaN before.

    alpha = 2/(p+1) is an EMA, alpha = 1/p is Wilder's smoothing.
    """
    x = _f64(x)
    if start >= len(x) or not np.isfinite(seed):
        return np.full(x.shape, np.nan)
    period = 2.0 / alpha - 1.0  # the EMA period whose alpha this is
    n = round(period)
    if abs(period - n) > 1e-9 or n < 1:
        raise ValueError(f"alpha {alpha} is not 2/(n+1) for an integer n")
    padded = np.empty(n + len(x) - start - 1)
    padded[:n] = seed
    padded[n:] = x[start + 1 :]
    result = talib.EMA(padded, timeperiod=n) if n > 1 else padded
    # result[n-1] is the seed. When TA-Lib's own NaN lookback is at least `start` long, the
    # output is a view of it (no copy); otherwise prepend the missing NaNs.
    offset = n - 1 - start
    if offset >= 0 and n > 1:
        return result[offset:]
    out = np.full(x.shape, np.nan)
    out[start:] = result[n - 1 :]
    return out


#: Below this relative difference two values are the same number for every purpose here.
SEAM_TOLERANCE = 1e-12


def transient_bars(alpha: float, stages: int = 1) -> int:
    """Bars after which a difference in seeding has decayed below 1e-17 (relative) through
    `stages` chained smoothings with factor (1 - alpha)."""
    return stages * (int(np.ceil(np.log(1e-17) / np.log1p(-alpha))) + 1)


def spliced(
    exact: Callable[[int], Array], reference: Callable[[], Array], n: int, transient: int
) -> Array:
    """A seed variant that differs from the reference only in its seeding: compute it exactly
    on the first `transient` bars, take the reference after them. Both follow the same
    recursion from their seeds on, so the seeding difference decays geometrically; the seam
    is checked, and the exact computation is used throughout if it does not hold."""
    if n <= 2 * transient:
        return exact(n)
    head, full = exact(transient), reference()
    a, b = head[-1], full[transient - 1]
    if not (np.isfinite(a) and np.isfinite(b)) or abs(a - b) > SEAM_TOLERANCE * max(abs(b), 1.0):
        return exact(n)
    full[:transient] = head
    return full


def wilder(x: Array, period: int, seed: float, start: int) -> Array:
    """Wilder's smoothing a = (a*(p-1) + x)/p, from `seed` at bar `start`."""
    return smooth(x, 2.0 / (2 * period - 1 + 1), seed, start)


# -- moving averages ---------------------------------------------------------------------


def sma(x: Array, period: int) -> Array:
    return talib.SMA(_f64(x), timeperiod=period)


def ema(x: Array, period: int) -> Array:
    """EMA seeded with the SMA of the first `period` values, at index period-1.

    The seed's live EMA (spec §2) is exactly this definition.
    """
    return talib.EMA(_f64(x), timeperiod=period)


def ema_viewer(x: Array, period: int) -> Array:
    """The in-browser backtest's EMA (spec §7.2): seeded with the first value, at index 0."""
    x = _f64(x)
    if not len(x):
        return x.copy()
    alpha = 2.0 / (period + 1)
    return spliced(
        lambda m: smooth(x[:m], alpha, x[0], 0),
        lambda: talib.EMA(x, timeperiod=period),
        len(x),
        transient_bars(alpha) + period,
    )


# -- momentum ----------------------------------------------------------------------------


def rsi(x: Array, period: int = 14) -> Array:
    """Wilder's RSI, first value at index `period` (TA-Lib; the seed's definition too)."""
    return talib.RSI(_f64(x), timeperiod=period)


def rsi_seed(x: Array, period: int = 14) -> Array:
    """The seed's RSI: identical to `rsi` except that a window with no losses is 100
    (TA-Lib gives 0 when there are no gains and no losses at all).

    Wilder averages of gains and losses are both zero only while every move since the first
    bar has been zero, so those are the only bars where the two definitions differ.
    """
    x = _f64(x)
    out = talib.RSI(x, timeperiod=period)
    if len(x) > period:
        first_move = _first_move(x)
        out[period:first_move] = 100.0
    return out


def _first_move(x: Array) -> int:
    """The first bar whose value differs from the one before (len(x) if none): looks at a
    growing prefix, so a series that moves early costs nothing."""
    size = 1024
    while True:
        head = x[: size + 1]
        moved = np.flatnonzero(head[1:] != head[:-1])
        if len(moved):
            return int(moved[0]) + 1
        if size + 1 >= len(x):
            return len(x)
        size *= 8


def macd(x: Array, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[Array, Array, Array]:
    """(line, signal, histogram), TA-Lib's MACD (signal is an EMA of the defined line)."""
    return talib.MACD(_f64(x), fastperiod=fast, slowperiod=slow, signalperiod=signal)


def macd_seed(
    x: Array, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[Array, Array, Array]:
    """The seed's v2 MACD (spec §2.1): line = EMA(fast) - EMA(slow), each EMA seeded on its
    own; the signal is an EMA over the line **with its undefined values replaced by 0**.
    TA-Lib's MACD differs early on: it seeds the fast EMA at the slow one's first bar."""
    x = _f64(x)

    def exact(m: int) -> tuple[Array, Array, Array]:
        line = ema(x[:m], fast)
        line -= ema(x[:m], slow)
        zero_filled = line.copy()
        zero_filled[np.isnan(zero_filled)] = 0.0
        sig = ema(zero_filled, signal)
        return line, sig, line - sig

    transient = transient_bars(2.0 / (fast + 1)) + transient_bars(2.0 / (signal + 1)) + slow
    if len(x) <= 2 * transient:
        return exact(len(x))
    head_line, head_sig, _ = exact(transient)
    line, sig, _ = talib.MACD(x, fastperiod=fast, slowperiod=slow, signalperiod=signal)
    for head, full in ((head_line, line), (head_sig, sig)):
        a, b = head[-1], full[transient - 1]
        if not (np.isfinite(a) and np.isfinite(b)) or abs(a - b) > SEAM_TOLERANCE * max(
            abs(b), 1.0
        ):
            return exact(len(x))
        full[:transient] = head
    return line, sig, line - sig


def pct_change(x: Array, period: int = 1) -> Array:
    """x[i] / x[i-period] - 1 (TA-Lib ROCP)."""
    return talib.ROCP(_f64(x), timeperiod=period)


# -- volatility and trend strength -------------------------------------------------------


def true_range(high: Array, low: Array, close: Array) -> Array:
    """max(h-l, |h-prevC|, |l-prevC|); undefined (NaN) on the first bar."""
    return talib.TRANGE(_f64(high), _f64(low), _f64(close))


def atr(high: Array, low: Array, close: Array, period: int = 14) -> Array:
    """Wilder's ATR: first value at index `period` = mean of TR over bars 1..period
    (TA-Lib; the seed's live definition too)."""
    return talib.ATR(_f64(high), _f64(low), _f64(close), timeperiod=period)


def atr_viewer(high: Array, low: Array, close: Array, period: int = 14) -> Array:
    """The in-browser backtest's ATR (spec §7.2): TR[0] = H-L, first value at index
    period-1 = mean of TR over bars 0..period-1."""
    n = len(high)
    if n < period:
        return np.full(n, np.nan)

    def exact(m: int) -> Array:
        tr = true_range(high[:m], low[:m], close[:m])
        tr[0] = float(high[0]) - float(low[0])
        return wilder(tr, period, tr[:period].mean(), period - 1)

    return spliced(
        exact, lambda: atr(high, low, close, period), n, transient_bars(1.0 / period) + period
    )


def directional_movement(high: Array, low: Array) -> tuple[Array, Array]:
    """(+DM, -DM): +DM = up move if it beats the down move and is positive, else 0."""
    high, low = _f64(high), _f64(low)
    # With a period of 1 TA-Lib returns the raw, unsmoothed directional movement.
    return talib.PLUS_DM(high, low, timeperiod=1), talib.MINUS_DM(high, low, timeperiod=1)


def adx(high: Array, low: Array, close: Array, period: int = 14) -> tuple[Array, Array, Array]:
    """(ADX, +DI, -DI), TA-Lib's definitions (ADX seeded with the mean of the first DXs)."""
    h, lo, c = _f64(high), _f64(low), _f64(close)
    return (
        talib.ADX(h, lo, c, timeperiod=period),
        talib.PLUS_DI(h, lo, c, timeperiod=period),
        talib.MINUS_DI(h, lo, c, timeperiod=period),
    )


def _di_dx(
    high: Array, low: Array, close: Array, *, period: int, start: int, first: slice
) -> tuple[Array, Array, Array]:
    tr = true_range(high, low, close)
    plus, minus = directional_movement(high, low)
    tr_s = wilder(tr, period, tr[first].mean(), start)
    plus_s = wilder(plus, period, plus[first].mean(), start)
    minus_s = wilder(minus, period, minus[first].mean(), start)
    with np.errstate(divide="ignore", invalid="ignore"):
        pdi = 100.0 * plus_s / tr_s
        mdi = 100.0 * minus_s / tr_s
        total = pdi + mdi
        dx = np.where(total == 0, 0.0, 100.0 * np.abs(pdi - mdi) / total)
    dx[np.isnan(total)] = np.nan
    return pdi, mdi, dx


def adx_seed(high: Array, low: Array, close: Array, period: int = 14) -> tuple[Array, Array, Array]:
    """The seed's live ADX (spec §2): running sums start as the sums over bars 1..period
    (so DI is defined from bar `period`), and **ADX is seeded with the first DX** at bar
    `period`, then smoothed with Wilder. TA-Lib instead starts its sums one bar earlier
    and seeds ADX with the mean of the first `period` DXs."""
    n = len(high)
    empty = np.full(n, np.nan)
    if n <= period:
        return empty, empty.copy(), empty.copy()

    def exact(m: int) -> tuple[Array, Array, Array]:
        pdi, mdi, dx = _di_dx(
            high[:m], low[:m], close[:m], period=period, start=period, first=slice(1, period + 1)
        )
        return wilder(dx, period, dx[period], period), pdi, mdi

    return _spliced_adx(exact, high, low, close, period)


def _spliced_adx(
    exact: Callable[[int], tuple[Array, Array, Array]],
    high: Array,
    low: Array,
    close: Array,
    period: int,
) -> tuple[Array, Array, Array]:
    """ADX, +DI, -DI of a seed variant: exact over the transient, TA-Lib's after it (two
    chained Wilder smoothings), each seam checked; exact throughout if one does not hold."""
    n = len(high)
    transient = transient_bars(1.0 / period, stages=2) + 2 * period
    if n <= 2 * transient:
        return exact(n)
    head = exact(transient)
    full = adx(high, low, close, period)
    for h, f in zip(head, full, strict=True):
        a, b = h[-1], f[transient - 1]
        if not (np.isfinite(a) and np.isfinite(b)) or abs(a - b) > SEAM_TOLERANCE * max(
            abs(b), 1.0
        ):
            return exact(n)
    for h, f in zip(head, full, strict=True):
        f[:transient] = h
    return full


def adx_viewer(
    high: Array, low: Array, close: Array, period: int = 14
) -> tuple[Array, Array, Array]:
    """The in-browser backtest's ADX (spec §7.2): as `adx_seed`, but ADX is seeded with the
    mean of DX over bars period+1..2*period (its value at bar 2*period)."""
    n = len(high)
    empty = np.full(n, np.nan)
    if n <= 2 * period:
        return empty, empty.copy(), empty.copy()

    def exact(m: int) -> tuple[Array, Array, Array]:
        pdi, mdi, dx = _di_dx(
            high[:m], low[:m], close[:m], period=period, start=period, first=slice(1, period + 1)
        )
        seed = dx[period + 1 : 2 * period + 1].mean()
        return wilder(dx, period, seed, 2 * period), pdi, mdi

    return _spliced_adx(exact, high, low, close, period)


# -- bands and channels ------------------------------------------------------------------


def bollinger(x: Array, period: int = 20, mult: float = 2.0) -> tuple[Array, Array, Array]:
    """(middle, upper, lower): SMA ± mult × population standard deviation."""
    upper, middle, lower = talib.BBANDS(
        _f64(x), timeperiod=period, nbdevup=mult, nbdevdn=mult, matype=0
    )
    return middle, upper, lower


def stoch_raw_k(high: Array, low: Array, close: Array, period: int = 14) -> Array:
    """Raw %K = 100 (C - LL)/(HH - LL) over `period` bars; 50 when the range is flat
    (the seed's convention)."""
    hh = talib.MAX(_f64(high), timeperiod=period)
    ll = talib.MIN(_f64(low), timeperiod=period)
    span = hh - ll
    with np.errstate(divide="ignore", invalid="ignore"):
        k = 100.0 * (_f64(close) - ll) / span
    return np.where(span == 0, 50.0, k)


def stoch(
    high: Array, low: Array, close: Array, *, k: int = 14, smooth_k: int = 3, d: int = 3
) -> tuple[Array, Array]:
    """Slow stochastic (%K, %D) with simple moving averages (TA-Lib STOCH)."""
    return talib.STOCH(
        _f64(high),
        _f64(low),
        _f64(close),
        fastk_period=k,
        slowk_period=smooth_k,
        slowk_matype=0,
        slowd_period=d,
        slowd_matype=0,
    )


def donchian_high(high: Array, lookback: int) -> Array:
    """Highest high over the window [i-lookback+1, i]. Breakout rules compare the close at
    bar j with the channel *before* it: donchian_high(h, L)[j-1]."""
    return talib.MAX(_f64(high), timeperiod=lookback)


def donchian_low(low: Array, lookback: int) -> Array:
    return talib.MIN(_f64(low), timeperiod=lookback)


def vwap(high: Array, low: Array, close: Array, volume: Array, window: int) -> Array:
    """Rolling VWAP of the typical price (H+L+C)/3 over `window` bars."""
    typical = talib.TYPPRICE(_f64(high), _f64(low), _f64(close))
    volume = _f64(volume)
    with np.errstate(divide="ignore", invalid="ignore"):
        return talib.SUM(typical * volume, timeperiod=window) / talib.SUM(volume, timeperiod=window)
