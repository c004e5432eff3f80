"""Indicators: the standard ones agree with TA-Lib on real candles; the seed variants agree
with a literal, slow transcription of the seed spec (seed000-spec §2, §7.2)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import talib
from conftest import OHLCV

from tradekit import indicators as ind

CANDLES = OHLCV / "BTCUSDT-1h-binancefutures-marketlab.csv"
RTOL = 1e-9


@pytest.fixture(scope="module")
def bars() -> dict[str, np.ndarray]:
    data = np.loadtxt(CANDLES, delimiter=",", skiprows=1)
    return {
        name: data[:, i] for i, name in enumerate(["ts", "open", "high", "low", "close", "volume"])
    }


def same(actual: np.ndarray, expected: np.ndarray, rtol: float = RTOL) -> None:
    assert actual.shape == expected.shape
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), "NaN positions differ"
    mask = ~np.isnan(expected)
    np.testing.assert_allclose(actual[mask], expected[mask], rtol=rtol, atol=0)


# -- slow references, written from the spec text, one bar at a time -----------------------


def ref_ema(x: list[float], p: int) -> list[float]:
    out = [math.nan] * len(x)
    if len(x) < p:
        return out
    e = sum(x[:p]) / p
    out[p - 1] = e
    k = 2 / (p + 1)
    for i in range(p, len(x)):
        e = x[i] * k + e * (1 - k)
        out[i] = e
    return out


def ref_tr(h: list[float], lo: list[float], c: list[float]) -> list[float]:
    return [math.nan] + [
        max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1])) for i in range(1, len(h))
    ]


def ref_adx_seed(
    h: list[float], lo: list[float], c: list[float], p: int
) -> tuple[list, list, list]:
    n = len(h)
    tr = ref_tr(h, lo, c)
    pdm, mdm = [math.nan] * n, [math.nan] * n
    for i in range(1, n):
        up, down = h[i] - h[i - 1], lo[i - 1] - lo[i]
        pdm[i] = up if up > down and up > 0 else 0.0
        mdm[i] = down if down > up and down > 0 else 0.0
    adx, pdi, mdi = [math.nan] * n, [math.nan] * n, [math.nan] * n
    s_tr, s_p, s_m = sum(tr[1 : p + 1]), sum(pdm[1 : p + 1]), sum(mdm[1 : p + 1])
    a = None
    for i in range(p, n):
        if i >= p + 1:
            s_tr, s_p, s_m = s_tr - s_tr / p + tr[i], s_p - s_p / p + pdm[i], s_m - s_m / p + mdm[i]
        pdi[i], mdi[i] = 100 * s_p / s_tr, 100 * s_m / s_tr
        total = pdi[i] + mdi[i]
        dx = 0.0 if total == 0 else 100 * abs(pdi[i] - mdi[i]) / total
        a = dx if a is None else (a * (p - 1) + dx) / p  # ADX seed = the first DX
        adx[i] = a
    return adx, pdi, mdi


def ref_rsi_seed(x: list[float], p: int) -> list[float]:
    out = [math.nan] * len(x)
    diffs = [x[i] - x[i - 1] for i in range(1, len(x))]
    g = sum(max(d, 0) for d in diffs[:p]) / p
    lo = sum(max(-d, 0) for d in diffs[:p]) / p
    out[p] = 100.0 if lo == 0 else 100 - 100 / (1 + g / lo)
    for i in range(p + 1, len(x)):
        d = diffs[i - 1]
        g, lo = (g * (p - 1) + max(d, 0)) / p, (lo * (p - 1) + max(-d, 0)) / p
        out[i] = 100.0 if lo == 0 else 100 - 100 / (1 + g / lo)
    return out


# -- standard definitions: TA-Lib on 10k real bars ----------------------------------------


def test_ema_is_the_seed_definition_and_talib(bars: dict) -> None:
    close = bars["close"]
    same(ind.ema(close, 20), np.array(ref_ema(list(close), 20)))


def test_rsi_seed_matches_talib_where_they_agree(bars: dict) -> None:
    close = bars["close"]
    same(ind.rsi_seed(close, 14), talib.RSI(close, 14))
    same(ind.rsi_seed(close, 14), np.array(ref_rsi_seed(list(close), 14)))


def test_rsi_seed_is_100_without_losses_where_talib_differs() -> None:
    flat = np.array([5.0] * 20)
    assert ind.rsi_seed(flat, 14)[14] == 100.0
    assert talib.RSI(flat, 14)[14] == 0.0


def test_atr_and_true_range(bars: dict) -> None:
    h, lo, c = bars["high"], bars["low"], bars["close"]
    tr = ind.true_range(h, lo, c)
    same(tr, np.array(ref_tr(list(h), list(lo), list(c))))
    same(tr[1:], talib.TRANGE(h, lo, c)[1:])
    expected = ind.wilder(tr, 14, tr[1:15].mean(), 14)  # the seed's text, literally
    same(ind.atr(h, lo, c, 14), expected)


def test_adx_and_di_are_talibs(bars: dict) -> None:
    h, lo, c = bars["high"], bars["low"], bars["close"]
    adx, pdi, mdi = ind.adx(h, lo, c, 14)
    same(adx, talib.ADX(h, lo, c, 14))
    same(pdi, talib.PLUS_DI(h, lo, c, 14))
    same(mdi, talib.MINUS_DI(h, lo, c, 14))


def test_adx_seed_follows_the_seed_spec_and_differs_from_talib(bars: dict) -> None:
    h, lo, c = (bars[k][:3000] for k in ("high", "low", "close"))
    adx, pdi, mdi = ind.adx_seed(h, lo, c, 14)
    ref_adx, ref_pdi, ref_mdi = (np.array(v) for v in ref_adx_seed(list(h), list(lo), list(c), 14))
    same(adx, ref_adx)
    same(pdi, ref_pdi)
    same(mdi, ref_mdi)
    assert not np.isnan(adx[14]) and np.isnan(talib.ADX(h, lo, c, 14)[14])


def test_macd_seed_signal_runs_over_zero_filled_line(bars: dict) -> None:
    close = bars["close"][:2000]
    line, sig, hist = ind.macd_seed(close, 12, 26, 9)
    zero_filled = [0.0 if math.isnan(v) else v for v in line]
    same(sig, np.array(ref_ema(zero_filled, 9)))
    same(hist, line - sig)
    ref_line = np.array(ref_ema(list(close), 12)) - np.array(ref_ema(list(close), 26))
    same(line, ref_line)
    # TA-Lib seeds its fast EMA at the slow one's first bar, so early values differ and
    # converge later; its signal line has no zero seeding.
    std_line, std_sig, _ = ind.macd(close, 12, 26, 9)
    assert not np.allclose(std_line[25:40], line[25:40])
    np.testing.assert_allclose(std_line[-100:], line[-100:], rtol=1e-6)
    assert not np.allclose(std_sig[40:60], sig[40:60])


def test_bollinger_uses_population_sigma(bars: dict) -> None:
    close = bars["close"][:500]
    mid, up, low = ind.bollinger(close, 20, 2.0)
    window = close[100 - 19 : 101]
    assert mid[100] == pytest.approx(window.mean(), rel=RTOL)
    assert up[100] == pytest.approx(window.mean() + 2 * window.std(ddof=0), rel=RTOL)
    assert low[100] == pytest.approx(window.mean() - 2 * window.std(ddof=0), rel=RTOL)


def test_stochastic_donchian_vwap_pct_change(bars: dict) -> None:
    h, lo, c, v = (bars[k][:500] for k in ("high", "low", "close", "volume"))
    k = ind.stoch_raw_k(h, lo, c, 14)
    i = 200
    hh, ll = h[i - 13 : i + 1].max(), lo[i - 13 : i + 1].min()
    assert k[i] == pytest.approx(100 * (c[i] - ll) / (hh - ll), rel=RTOL)
    assert ind.stoch_raw_k(np.ones(20), np.ones(20), np.ones(20), 14)[19] == 50.0
    slow_k, _ = ind.stoch(h, lo, c, k=14, smooth_k=3, d=3)
    same(slow_k, talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)[0])
    assert ind.donchian_high(h, 15)[i] == h[i - 14 : i + 1].max()
    assert ind.donchian_low(lo, 15)[i] == lo[i - 14 : i + 1].min()
    tp = (h + lo + c) / 3
    assert ind.vwap(h, lo, c, v, 60)[i] == pytest.approx(
        (tp[i - 59 : i + 1] * v[i - 59 : i + 1]).sum() / v[i - 59 : i + 1].sum(), rel=RTOL
    )
    assert ind.pct_change(c, 3)[i] == pytest.approx(c[i] / c[i - 3] - 1, rel=RTOL)


# -- the in-browser backtest's seedings (spec §7.2) ---------------------------------------


def test_viewer_variants_by_hand() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    # EMA(3) seeded with the first value: k = 0.5 -> 1, 1.5, 2.25, 3.125
    np.testing.assert_allclose(ind.ema_viewer(x, 3), [1.0, 1.5, 2.25, 3.125])
    h = np.array([10.0, 11.0, 12.0, 11.5, 13.0])
    lo = np.array([9.0, 10.0, 10.5, 10.0, 11.0])
    c = np.array([9.5, 10.5, 11.5, 10.5, 12.5])
    # TR = [1 (H-L), 1.5, 1.5, 1.5, 2.5]; ATR(3) seeded at index 2 with mean(1, 1.5, 1.5)
    atr = ind.atr_viewer(h, lo, c, 3)
    assert np.isnan(atr[1])
    assert atr[2] == pytest.approx(4 / 3)
    assert atr[3] == pytest.approx((4 / 3 * 2 + 1.5) / 3)
    assert atr[4] == pytest.approx((atr[3] * 2 + 2.5) / 3)


def test_adx_viewer_seeds_with_the_mean_of_dx_over_p_plus_1_to_2p(bars: dict) -> None:
    h, lo, c = (bars[k][:400] for k in ("high", "low", "close"))
    p = 14
    adx, _, _ = ind.adx_viewer(h, lo, c, p)
    _, ref_pdi, ref_mdi = ref_adx_seed(list(h), list(lo), list(c), p)
    dx = [100 * abs(a - b) / (a + b) for a, b in zip(ref_pdi[p:], ref_mdi[p:], strict=True)]
    dx = [math.nan] * p + dx
    a = sum(dx[p + 1 : 2 * p + 1]) / p
    assert adx[2 * p] == pytest.approx(a, rel=RTOL)
    a = (a * (p - 1) + dx[2 * p + 1]) / p
    assert adx[2 * p + 1] == pytest.approx(a, rel=RTOL)
    assert np.isnan(adx[2 * p - 1])


def test_smooth_rejects_non_integer_periods() -> None:
    with pytest.raises(ValueError, match="not 2/"):
        ind.smooth(np.ones(5), 0.3, 1.0, 0)


def test_spliced_seed_variants_equal_their_exact_recursion(
    bars: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seed variants take TA-Lib's values once their seeding has decayed away; they must
    equal the exact recursion computed over every bar."""
    h, lo, c = bars["high"], bars["low"], bars["close"]
    fast = {
        "ema_viewer": ind.ema_viewer(c, 50),
        "atr_viewer": ind.atr_viewer(h, lo, c, 14),
        "adx_seed": np.concatenate(ind.adx_seed(h, lo, c, 14)),
        "adx_viewer": np.concatenate(ind.adx_viewer(h, lo, c, 14)),
        "macd_seed": np.concatenate(ind.macd_seed(c, 12, 26, 9)),
    }
    monkeypatch.setattr(ind, "transient_bars", lambda *_a, **_k: 10**9)  # exact everywhere
    exact = {
        "ema_viewer": ind.ema_viewer(c, 50),
        "atr_viewer": ind.atr_viewer(h, lo, c, 14),
        "adx_seed": np.concatenate(ind.adx_seed(h, lo, c, 14)),
        "adx_viewer": np.concatenate(ind.adx_viewer(h, lo, c, 14)),
        "macd_seed": np.concatenate(ind.macd_seed(c, 12, 26, 9)),
    }
    for name, values in fast.items():
        same(values, exact[name], rtol=1e-12)
    assert len(c) > 2 * 1086  # long enough that the spliced path was really taken


def test_a_seam_that_does_not_hold_falls_back_to_the_exact_recursion() -> None:
    x = np.arange(5000, dtype=float)
    calls = []

    def exact(m: int) -> np.ndarray:
        calls.append(m)
        return np.full(m, 1.0)

    result = ind.spliced(exact, lambda: np.full(5000, 2.0), 5000, 100)  # seams disagree
    assert calls == [100, 5000] and (result == 1.0).all()
    del x
