"""v1 (legacy) against a literal transcription of seed000-spec §2.0 on 12,000 real 1m candles
(about 8 days; 5m and 15m resampled, used once closed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import OHLCV

from tradekit import indicators as ind
from tradekit.market.candles import Candles, read_csv, resample
from tradekit.strategies import load
from tradekit.strategies.v1 import V1Params


@pytest.fixture(scope="module")
def minutes() -> Candles:
    # the repo keeps the first 12,000 rows of the month (tests/data/README.md)
    return read_csv(OHLCV / "BTCUSDT-1m-binancefutures-DcaTpStrategy.csv", "BTCUSDT", "1m")


def closed(higher: Candles, close_time: int) -> int:
    return int(np.searchsorted(higher.ts + higher.step, close_time, "right"))


def spec_v1(m1: Candles, m5: Candles, m15: Candles, i: int) -> tuple[str | None, str | None]:
    t = int(m1.ts[i]) + m1.step
    c15 = m15.column("close")[: closed(m15, t)]
    k5 = closed(m5, t)
    c5, h5, l5 = (m5.column(name)[:k5] for name in ("close", "high", "low"))
    c1 = m1.column("close")[: i + 1]
    e50, e200 = ind.ema(c15, 50)[-1], ind.ema(c15, 200)[-1]
    e20_5, e50_5 = ind.ema(c5, 20)[-1], ind.ema(c5, 50)[-1]
    atr = ind.atr(h5, l5, c5, 14)[-1]
    rsi5 = ind.rsi_seed(c5, 14)
    rsi1 = ind.rsi_seed(c1, 14)
    typical = (m1.column("high")[: i + 1] + m1.column("low")[: i + 1] + c1) / 3
    vol = m1.column("volume")[: i + 1]
    vwap = (typical[-60:] * vol[-60:]).sum() / vol[-60:].sum()
    values = (e200, e20_5, e50_5, rsi5[-2], rsi1[-2])
    if any(math.isnan(v) for v in values) or len(c1) < 60:
        return None, None
    close5 = c5[-1]
    d20, d50 = abs(close5 - e20_5) / e20_5 * 100, abs(close5 - e50_5) / e50_5 * 100
    atr_pct = atr / close5 * 100
    atr_ok = math.isnan(atr_pct) or 0.20 <= atr_pct <= 0.70
    near = d20 <= 0.28 or d50 <= 0.38
    rsi_up = rsi1[-1] >= rsi1[-2] and rsi5[-1] >= rsi5[-2]
    rsi_down = rsi1[-1] <= rsi1[-2] and rsi5[-1] <= rsi5[-2]
    setup = atr_ok and near
    if setup and e50 > e200 and c1[-1] > c1[-2] > c1[-3] and c1[-1] >= vwap and rsi_up:
        return "long", "very-strong" if d50 <= 0.22 and rsi5[-1] <= 45 else "strong"
    if setup and e50 < e200 and c1[-1] < c1[-2] < c1[-3] and c1[-1] <= vwap and rsi_down:
        return "short", "very-strong" if d50 <= 0.22 and rsi5[-1] >= 55 else "strong"
    return None, None


def test_v1_matches_the_spec(minutes: Candles) -> None:
    m5, m15 = resample(minutes, "5m"), resample(minutes, "15m")
    ev = load("v1").evaluate({"1m": minutes, "5m": m5, "15m": m15}, V1Params())
    fired = np.flatnonzero(ev.side != None).tolist()  # noqa: E711
    assert len(fired) > 20
    sample = sorted(set(fired) | set(range(3100, len(minutes), 37)))
    level = ev.level
    assert level is not None
    mismatches = [
        (i, spec_v1(minutes, m5, m15, i), (ev.side[i], level[i]))
        for i in sample
        if spec_v1(minutes, m5, m15, i) != (ev.side[i], level[i])
    ]
    assert mismatches == []
