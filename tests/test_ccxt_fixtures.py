"""ccxt's own request fixtures for Bitget USDT-M swaps (tests/data/ccxt-static), replayed
through our ccxt client against the emulator: what the emulator receives must be what the
fixture says ccxt sends (path, query and JSON body, minus the fixtures' skipKeys)."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal as D
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from conftest import ROOT, TEST_DATA

from tradekit.emulator.server import TEST_CREDENTIALS, Emulator
from tradekit.exchange.bitget import ExchangeSettings, client
from tradekit.exchange.markets import DEFAULT_MARKETS
from tradekit.exchange.model import MarketSpec
from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore

FIXTURES = TEST_DATA / "ccxt-static" / "request" / "bitget.json"
DATA = json.loads(FIXTURES.read_text())
SKIP = set(DATA["skipKeys"])
# The markets the fixtures were written against (tests/data/README.md).
MARKETS = {
    **DEFAULT_MARKETS,
    "LTCUSDT": MarketSpec("LTCUSDT", "LTC", D("0.01"), D("0.1"), D("0.1"), D("5")),
    "ADAUSDT": MarketSpec("ADAUSDT", "ADA", D("0.0001"), D("1"), D("1"), D("5")),
}
ENTRIES = [
    (method, index, entry)
    for method, entries in DATA["methods"].items()
    for index, entry in enumerate(entries)
    if "BTC/USD:BTC" not in json.dumps(entry["input"])  # coin-margined: not our product
]


@pytest.fixture(scope="module")
def emulated(tmp_path_factory: pytest.TempPathFactory):
    store = CandleStore(tmp_path_factory.mktemp("data"))
    store.merge(read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "BTCUSDT", "1h"))
    with Emulator(store, markets=MARKETS, market_clock=lambda: 1771524000000).serve() as server:
        key, (secret, passphrase) = next(iter(TEST_CREDENTIALS.items()))
        ex = client(
            ExchangeSettings(url=server.url, rate_limit=False),
            {"apiKey": key, "secret": secret, "password": passphrase},
        )
        ex.load_markets()
        yield server.emulator, ex


def _expected(entry: dict[str, Any]) -> tuple[str, dict[str, str], Any]:
    url = urlsplit(entry["url"])
    query = {k: v for k, v in parse_qsl(url.query, keep_blank_values=True) if k not in SKIP}
    body = entry.get("output")
    if isinstance(body, str):
        body = json.loads(body)
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in SKIP}
    return url.path, query, body


@pytest.mark.parametrize(
    ("method", "index", "entry"), ENTRIES, ids=[f"{m}[{i}]" for m, i, _ in ENTRIES]
)
def test_ccxt_sends_what_the_fixture_says(
    emulated,
    method: str,
    index: int,
    entry: dict[str, Any],
) -> None:
    emulator, ex = emulated
    before = len(emulator.received)
    # The emulator may refuse (unknown order ids, endpoints it does not model): the request
    # is what counts here.
    with contextlib.suppress(Exception):
        getattr(ex, method)(*entry["input"])
    sent = [r for r in emulator.received[before:] if "/contracts" not in r.path]
    assert sent, "ccxt sent nothing"
    request = sent[-1]
    path, query, body = _expected(entry)
    assert request.path == path
    got_query = {
        k: v for k, v in parse_qsl(request.raw_query, keep_blank_values=True) if k not in SKIP
    }
    assert got_query == query
    if body is not None:
        got = json.loads(request.body)
        if isinstance(got, dict):
            got = {k: v for k, v in got.items() if k not in SKIP}
        assert got == body


def test_most_fixtures_are_replayed() -> None:
    assert len(ENTRIES) >= 70  # of 76: only coin-margined ones are left out
