"""One scenario suite, two exchanges: the paper exchange, and Bitget through real ccxt
talking HTTP to the emulator. Same candles, same clock: they must end in the same
positions, stop orders, open orders, balances and fills."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, MovableClock

from tradekit.emulator.server import TEST_CREDENTIALS, Emulator
from tradekit.emulator.trading import Fault
from tradekit.exchange.adapters import BitgetAdapter, PaperAdapter
from tradekit.exchange.base import Exchange
from tradekit.exchange.bitget import ExchangeSettings, client
from tradekit.exchange.errors import NoPosition
from tradekit.exchange.paper import PaperExchange
from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore
from tradekit.store import Store

START = datetime(2026, 2, 17, 10, tzinfo=UTC)


@dataclass
class Venue:
    exchange: Exchange
    clock: MovableClock
    partial: Callable[[D], None]


def _candles(root: Path) -> CandleStore:
    store = CandleStore(root)
    store.merge(read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "BTCUSDT", "1h"))
    return store


@pytest.fixture(params=["paper", "bitget"])
def venue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Venue]:
    clock = MovableClock(START)
    if request.param == "paper":
        adapter = PaperAdapter(
            PaperExchange(Store(tmp_path / "db"), _candles(tmp_path / "d"), clock)
        )  # type: ignore[arg-type]

        def partial(ratio: D) -> None:
            adapter.next_fill_ratio = ratio

        yield Venue(adapter, clock, partial)
        return
    emulator = Emulator(_candles(tmp_path / "d"), market_clock=clock.ms)
    key, (secret, passphrase) = next(iter(TEST_CREDENTIALS.items()))
    with emulator.serve() as server:
        ccxt_client = client(
            ExchangeSettings(url=server.url, rate_limit=False),
            {"apiKey": key, "secret": secret, "password": passphrase},
        )

        def partial(ratio: D) -> None:
            emulator.faults.arm(
                Fault("partial_fill", path="/api/v2/mix/order/place-order", ratio=ratio)
            )

        yield Venue(BitgetAdapter(ccxt_client), clock, partial)


def snapshot(ex: Exchange) -> dict[str, Any]:
    """Everything the two venues must agree on (ids aside: clientOids name the orders)."""
    return {
        "balance": ex.balance(),
        "positions": sorted(
            (p.side, p.size, p.entry_price, p.leverage, p.margin_mode, p.liquidation_price)
            for p in ex.positions("BTCUSDT")
        ),
        "stops": sorted(
            (s.client_oid, s.kind, s.trigger_price, s.size, s.state) for s in ex.stops("BTCUSDT")
        ),
        "open": sorted((o.client_oid, o.side, o.size, o.filled) for o in ex.open_orders("BTCUSDT")),
        "fills": [(f.side, f.price, f.size, f.fee, f.profit, f.ts) for f in ex.fills("BTCUSDT")],
    }


def one_way_scenario(v: Venue) -> list[dict[str, Any]]:
    ex, tick = v.exchange, D("0.1")
    ex.configure("BTCUSDT", leverage=5, margin_mode="isolated", position_mode="one_way_mode")
    entry = ex.place("BTCUSDT", "buy", D("0.01"), client_oid="tk-e1")
    assert (entry.state, entry.filled) == ("closed", D("0.01"))
    assert entry.average is not None
    sl = (entry.average * D("0.985") / tick).quantize(D(1)) * tick
    tp = (entry.average * D("1.01") / tick).quantize(D(1)) * tick
    ex.place_stop("BTCUSDT", "long", "sl", sl, client_oid="tk-sl1")
    ex.place_stop("BTCUSDT", "long", "tp", tp, client_oid="tk-tp1", size=D("0.005"))
    resting = ex.place("BTCUSDT", "buy", D("0.002"), client_oid="tk-lim", price=D("50000"))
    assert resting.state == "open"
    ex.cancel("BTCUSDT", client_oid="tk-lim")
    assert ex.order("BTCUSDT", client_oid="tk-lim").state == "canceled"
    v.partial(D("0.4"))
    add = ex.place("BTCUSDT", "buy", D("0.01"), client_oid="tk-add")
    assert (add.state, add.filled) == ("open", D("0.004"))
    states = [snapshot(ex)]
    v.clock.moment = START + timedelta(hours=30)  # 30 bars: the rest fills, stops may fire
    assert ex.order("BTCUSDT", client_oid="tk-add").state == "closed"
    states.append(snapshot(ex))
    ex.close_position("BTCUSDT")
    assert ex.close_position("BTCUSDT") == []  # already flat: not an error
    with pytest.raises(NoPosition):
        ex.place("BTCUSDT", "sell", D("0.01"), client_oid="tk-x", reduce_only=True)
    states.append(snapshot(ex))
    return states


def hedge_scenario(v: Venue) -> list[dict[str, Any]]:
    ex = v.exchange
    ex.configure("BTCUSDT", leverage=3, margin_mode="isolated", position_mode="hedge_mode")
    ex.place("BTCUSDT", "buy", D("0.01"), client_oid="tk-long")
    ex.place("BTCUSDT", "sell", D("0.02"), client_oid="tk-short")
    last, _mark = ex.last_price("BTCUSDT")
    ex.place_stop("BTCUSDT", "short", "sl", (last * D("1.02")).quantize(D(1)), client_oid="tk-ssl")
    closing = ex.place("BTCUSDT", "sell", D("0.01"), client_oid="tk-close", reduce_only=True)
    assert closing.side == "sell" and closing.state == "closed"  # a sell that closes the long
    states = [snapshot(ex)]
    v.clock.moment = START + timedelta(hours=48)
    states.append(snapshot(ex))
    return states


RESULTS: dict[str, dict[str, list[dict[str, Any]]]] = {}


@pytest.mark.parametrize("scenario", [one_way_scenario, hedge_scenario], ids=["one-way", "hedge"])
def test_scenarios_end_the_same_on_both_venues(venue: Venue, scenario, request) -> None:
    states = scenario(venue)
    name = request.node.callspec.params["venue"]
    RESULTS.setdefault(scenario.__name__, {})[name] = states
    both = RESULTS[scenario.__name__]
    if len(both) == 2:
        assert both["paper"] == both["bitget"]
        assert any(state["fills"] for state in both["paper"])
