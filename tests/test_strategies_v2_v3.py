"""v2 and v3 against literal, bar-by-bar transcriptions of seed000-spec §2.1 and §2.2, on
real candles (the higher timeframes resampled from 1h and used once closed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import OHLCV

from tradekit import indicators as ind
from tradekit.market.candles import Candles, read_csv, resample
from tradekit.strategies import load
from tradekit.strategies.v2 import REASON, V2Params
from tradekit.strategies.v3 import V3Params


@pytest.fixture(scope="module")
def hourly() -> Candles:
    return read_csv(OHLCV / "BTCUSDT-1h-bybitfutures-mohsenjfar_trade.csv", "BTCUSDT", "1h")


def closed_upto(higher: Candles, close_time: int) -> int:
    """Number of higher bars closed by close_time."""
    return int(np.searchsorted(higher.ts + higher.step, close_time, "right"))


def last(values: np.ndarray) -> float:
    return float(values[-1]) if len(values) else math.nan


def spec_v3(h4: Candles, d1: Candles, i: int, p: V3Params) -> str | None:
    k = closed_upto(d1, int(h4.ts[i]) + h4.step)
    d_close = d1.column("close")[:k]
    ema200 = last(ind.ema(d_close, 200))
    close = h4.column("close")[: i + 1]
    e20, e50 = ind.ema(close, 20), ind.ema(close, 50)
    atr = last(ind.atr(h4.column("high")[: i + 1], h4.column("low")[: i + 1], close, 14))
    if math.isnan(ema200) or math.isnan(e50[-1]):
        return None
    c, pc = close[-1], close[-2]
    near = abs(c - e20[-1]) / e20[-1] * 100 <= 0.6 or abs(c - e50[-1]) / e50[-1] * 100 <= 0.6
    if d_close[-1] > ema200 and near and pc <= e20[-2] and c > e20[-1] and not math.isnan(atr):
        return "long"
    if d_close[-1] < ema200 and near and pc >= e20[-2] and c < e20[-1] and not math.isnan(atr):
        return "short"
    return None


def spec_v2(h1: Candles, h4: Candles, d1: Candles, i: int) -> str | None:
    close_time = int(h1.ts[i]) + h1.step
    kd, k4 = closed_upto(d1, close_time), closed_upto(h4, close_time)
    dc = d1.column("close")[:kd]
    e50, e100, e200 = (last(ind.ema(dc, n)) for n in (50, 100, 200))
    adx = last(ind.adx_seed(d1.column("high")[:kd], d1.column("low")[:kd], dc, 14)[0])
    c4, v4 = h4.column("close")[:k4], h4.column("volume")[:k4]
    line, sig, hist = (last(series) for series in ind.macd_seed(c4, 12, 26, 9))
    rsi = last(ind.rsi_seed(c4, 14))
    vol_break = v4[-1] >= 1.8 * v4[-20:].mean()
    hi, lo, c = (h1.column(name)[: i + 1] for name in ("high", "low", "close"))
    window = c[-20:]
    upper, lower = window.mean() + 2 * window.std(), window.mean() - 2 * window.std()
    prev = c[-21:-1]
    prev_upper, prev_lower = prev.mean() + 2 * prev.std(), prev.mean() - 2 * prev.std()
    raw_k = ind.stoch_raw_k(hi, lo, c, 14)
    k_now = raw_k[-3:].mean()
    d_now = np.array([raw_k[-m - 3 : len(raw_k) - m].mean() for m in (2, 1, 0)]).mean()
    if adx >= 25 and e50 > e100 > e200:
        setup = line > sig and (math.isnan(hist) or hist >= 0) and rsi >= 50 and vol_break
        entry = c[-1] > upper and k_now > d_now and 20 <= k_now <= 55 and c[-2] <= prev_upper
        if setup and entry:
            return "long"
    if adx >= 25 and e50 < e100 < e200:
        setup = line < sig and (math.isnan(hist) or hist <= 0) and rsi <= 50 and vol_break
        entry = c[-1] < lower and k_now < d_now and 45 <= k_now <= 80 and c[-2] >= prev_lower
        if setup and entry:
            return "short"
    return None


def test_v3_matches_the_spec(hourly: Candles) -> None:
    h4, d1 = resample(hourly, "4h"), resample(hourly, "1d")
    params = V3Params()
    ev = load("v3").evaluate({"4h": h4, "1d": d1}, params)
    fired = np.flatnonzero(ev.side != None).tolist()  # noqa: E711
    sample = sorted(set(fired) | set(range(1300, len(h4), 9)))
    mismatches = [
        (i, spec_v3(h4, d1, i, params), ev.side[i])
        for i in sample
        if spec_v3(h4, d1, i, params) != ev.side[i]
    ]
    assert mismatches == []
    assert len(fired) > 50
    assert ev.reason[fired[0]].startswith("S1_bias_1d_")


def test_v3_confirm_bars_waits_for_the_reclaim_to_hold(hourly: Candles) -> None:
    h4, d1 = resample(hourly, "4h"), resample(hourly, "1d")
    one = load("v3").evaluate({"4h": h4, "1d": d1}, V3Params())
    two = load("v3").evaluate({"4h": h4, "1d": d1}, V3Params(confirm_bars=2))
    close, e20 = h4.column("close"), ind.ema(h4.column("close"), 20)
    for i in np.flatnonzero(two.side == "long").tolist():
        assert close[i - 1] > e20[i - 1] and close[i] > e20[i]  # held for two closes
    assert (one.side != None).sum() != (two.side != None).sum()  # noqa: E711


def test_v2_matches_the_spec(hourly: Candles) -> None:
    h4, d1 = resample(hourly, "4h"), resample(hourly, "1d")
    ev = load("v2").evaluate({"1h": hourly, "4h": h4, "1d": d1}, V2Params())
    fired = np.flatnonzero(ev.side != None).tolist()  # noqa: E711
    assert fired, "the sample data should contain at least one v2 signal"
    sample = sorted(set(fired) | set(range(5200, len(hourly), 61)))
    mismatches = [
        (i, spec_v2(hourly, h4, d1, i), ev.side[i])
        for i in sample
        if spec_v2(hourly, h4, d1, i) != ev.side[i]
    ]
    assert mismatches == []
    assert ev.reason[fired[0]] == REASON


def test_v2_disabled_says_so(hourly: Candles) -> None:
    h4, d1 = resample(hourly, "4h"), resample(hourly, "1d")
    ev = load("v2").evaluate({"1h": hourly, "4h": h4, "1d": d1}, V2Params(enabled=False))
    assert set(ev.note) == {"strategy_disabled"} and set(ev.side) == {None}
