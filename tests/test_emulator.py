"""The Bitget emulator's private side, through real ccxt: signed requests, orders and
positions in Bitget's shapes, and every fault switch with the ccxt error it produces."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import ccxt
import pytest
from conftest import ROOT

from tradekit.emulator.server import TEST_CREDENTIALS, Emulator
from tradekit.emulator.trading import Fault
from tradekit.exchange.bitget import ExchangeSettings, client
from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore

PAIR = "BTC/USDT:USDT"
KEY, (SECRET, PASSPHRASE) = next(iter(TEST_CREDENTIALS.items()))


@pytest.fixture
def emu(tmp_path: Path):
    store = CandleStore(tmp_path / "data")
    store.merge(read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "BTCUSDT", "1h"))
    with Emulator(store, market_clock=lambda: 1771524000000).serve() as server:
        yield server


def ccxt_client(url: str, **overrides: str) -> ccxt.bitget:
    creds = {"apiKey": KEY, "secret": SECRET, "password": PASSPHRASE, **overrides}
    return client(ExchangeSettings(url=url, rate_limit=False, timeout_ms=2000), creds)


def test_a_trade_through_ccxt(emu) -> None:
    ex = ccxt_client(emu.url)
    ex.load_markets()
    ex.set_leverage(5, PAIR)
    order = ex.create_order(PAIR, "market", "buy", 0.01, None, {"clientOrderId": "tk-e1"})
    assert order["clientOrderId"] == "tk-e1"
    fetched = ex.fetch_order(None, PAIR, {"clientOrderId": "tk-e1"})
    assert (fetched["status"], fetched["filled"], fetched["side"]) == ("closed", 0.01, "buy")
    assert fetched["average"] == 66356.0  # last close 66336.1 + 3 bps slippage, tick 0.1
    ex.create_order(
        PAIR, "market", "sell", 0.01, None, {"stopLossPrice": 60000, "clientOrderId": "tk-sl1"}
    )
    plans = ex.fetch_open_orders(PAIR, params={"planType": "profit_loss"})
    assert [(p["clientOrderId"], p["triggerPrice"]) for p in plans] == [("tk-sl1", 60000.0)]
    [position] = ex.fetch_positions([PAIR])
    assert (position["side"], position["contracts"], position["entryPrice"]) == (
        "long",
        0.01,
        66356.0,
    )
    balance = ex.fetch_balance()["USDT"]
    assert balance["total"] == pytest.approx(
        1000 - 0.01 * 66356 * 0.0006 + 0.01 * (66336.1 - 66356)
    )
    ex.close_position(PAIR)
    assert ex.fetch_positions([PAIR]) == []
    assert ex.fetch_open_orders(PAIR, params={"planType": "profit_loss"}) == []  # SL went too


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"secret": "wrong"}, ccxt.AuthenticationError),
        ({"password": "wrong"}, ccxt.AuthenticationError),
        ({"apiKey": "nobody"}, ccxt.AuthenticationError),
    ],
)
def test_bad_credentials_are_refused(emu, overrides: dict, error: type) -> None:
    with pytest.raises(error):
        ccxt_client(emu.url, **overrides).fetch_balance()


def test_a_stale_timestamp_is_refused(emu) -> None:
    ex = ccxt_client(emu.url)
    ex.options["timeDifference"] = 60_000  # our clock one minute behind
    with pytest.raises(ccxt.InvalidNonce):
        ex.fetch_balance()


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault("http", status=429, code="429", msg="Too Many Requests"), ccxt.DDoSProtection),
        (Fault("http", status=429, text=True), ccxt.RateLimitExceeded),
        (Fault("http", status=503, text=True, msg="<html>down</html>"), ccxt.ExchangeNotAvailable),
        (Fault("code", code="43012", msg="Insufficient balance"), ccxt.InsufficientFunds),
        (Fault("code", code="22002", msg="No position to close"), ccxt.ExchangeError),
        (Fault("delay", delay_ms=2500), ccxt.RequestTimeout),
    ],
)
def test_faults_become_ccxt_errors_and_send_no_order(emu, fault: Fault, error: type) -> None:
    ex = ccxt_client(emu.url)
    ex.load_markets()
    fault.path = "/api/v2/mix/order/place-order"
    emu.emulator.faults.arm(fault)
    with pytest.raises(error):
        ex.create_order(PAIR, "market", "buy", 0.01, None, {"clientOrderId": "tk-f1"})
    if fault.kind != "delay":
        assert emu.emulator.engine.find(client_oid="tk-f1") is None
    time.sleep(fault.delay_ms / 1000)  # a delayed request finishes in the background


def test_a_dropped_response_leaves_an_order_to_find_by_client_oid(emu) -> None:
    ex = ccxt_client(emu.url)
    ex.load_markets()
    emu.emulator.faults.arm(Fault("drop_response", path="/api/v2/mix/order/place-order"))
    with pytest.raises(ccxt.NetworkError):
        ex.create_order(PAIR, "market", "buy", 0.01, None, {"clientOrderId": "tk-lost"})
    found = ex.fetch_order(None, PAIR, {"clientOrderId": "tk-lost"})  # it was accepted
    assert (found["status"], found["filled"]) == ("closed", 0.01)


def test_partial_fill_then_the_rest(emu) -> None:
    ex = ccxt_client(emu.url)
    ex.load_markets()
    emu.emulator.faults.arm(
        Fault(
            "partial_fill",
            path="/api/v2/mix/order/place-order",
            ratio=Decimal("0.3"),
        )
    )
    ex.create_order(PAIR, "market", "buy", 0.01, None, {"clientOrderId": "tk-p1"})
    first = ex.fetch_order(None, PAIR, {"clientOrderId": "tk-p1"})
    assert (first["status"], first["filled"]) == ("open", 0.003)
    emu.emulator.engine.update_price("BTCUSDT", emu.emulator.engine.state.prices["BTCUSDT"], 1)
    done = ex.fetch_order(None, PAIR, {"clientOrderId": "tk-p1"})
    assert (done["status"], done["filled"]) == ("closed", 0.01)


def control(url: str, path: str, body: dict, token: str | None) -> dict:
    headers = {} if token is None else {"X-Emulator-Token": token}
    request = urllib.request.Request(
        url + path, json.dumps(body).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_faults_and_prices_can_be_set_over_http(emu) -> None:
    def post(path: str, body: dict) -> dict:
        return control(emu.url, path, body, emu.emulator.control_token)

    assert post("/_emulator/price", {"symbol": "BTCUSDT", "last": "70000"})["code"] == "00000"
    assert ccxt_client(emu.url).fetch_ticker(PAIR)["last"] == 70000.0
    post("/_emulator/faults", {"kind": "code", "code": "40762", "path": None, "times": 1})
    with pytest.raises(ccxt.InsufficientFunds):
        ccxt_client(emu.url).fetch_balance()
    with pytest.raises(urllib.error.HTTPError):
        post("/_emulator/faults", {"kind": "meteor"})


@pytest.mark.parametrize("token", [None, "", "guess", "x" * 24])
def test_the_control_endpoints_refuse_a_request_without_the_token(emu, token) -> None:
    before = ccxt_client(emu.url).fetch_ticker(PAIR)["last"]
    for path, body in (
        ("/_emulator/price", {"symbol": "BTCUSDT", "last": "1"}),
        ("/_emulator/faults", {"kind": "code", "code": "40762", "path": None, "times": 1}),
        ("/_emulator/faults/clear", {}),
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            control(emu.url, path, body, token)
        assert refused.value.code == 401
        assert json.loads(refused.value.read())["code"] == "40001"
    assert ccxt_client(emu.url).fetch_ticker(PAIR)["last"] == before  # the price unchanged
    ccxt_client(emu.url).fetch_balance()  # and no fault armed


def test_tk_emulator_prints_its_credentials_and_token_and_warns_off_loopback(
    home: Path, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess

    from conftest import script

    def start(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
        process = subprocess.Popen(
            [script("tk"), "emulator", "--port", "0", *args], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env={**os.environ, "TK_HOME": str(home)},
        )  # fmt: skip
        assert process.stdout is not None
        return process, [process.stdout.readline() for _ in range(3)]

    subprocess.run([script("tk"), "init"], check=True, capture_output=True)
    process, lines = start()
    try:
        url = lines[0].split()[3]
        assert url.startswith("http://127.0.0.1:")
        assert lines[1] == (
            f"test credentials: BITGET_API_KEY={KEY} BITGET_API_SECRET={SECRET} "
            f"BITGET_API_PASSPHRASE={PASSPHRASE}\n"
        )
        token = lines[2].rsplit(" ", 1)[1].strip()
        assert (
            control(url, "/_emulator/price", {"symbol": "BTCUSDT", "last": "1"}, token)["code"]
            == "00000"
        )
        with pytest.raises(urllib.error.HTTPError):
            control(url, "/_emulator/price", {"symbol": "BTCUSDT", "last": "2"}, token[:-1])
    finally:
        process.send_signal(signal.SIGINT)
        _, quiet = process.communicate(timeout=30)
    assert "warning" not in quiet
    process, lines = start("--host", "0.0.0.0")
    process.send_signal(signal.SIGINT)
    _, loud = process.communicate(timeout=30)
    assert loud.startswith("tk emulator: warning: listening on 0.0.0.0: anyone who reaches")


def test_markets_are_cached_in_the_store_and_refreshed_by_age(emu, tmp_path: Path) -> None:
    from tradekit.exchange.adapters import BitgetAdapter, MarketCache
    from tradekit.store import Store

    store = Store(tmp_path / "db")
    now = [1_000_000]
    contracts = "GET /api/v2/mix/market/contracts"

    def run() -> int:
        before = emu.emulator.requests.count(contracts)
        adapter = BitgetAdapter(
            ccxt_client(emu.url), market_cache=MarketCache(store, lambda: now[0], 3_600_000)
        )
        assert adapter.market("BTCUSDT").price_tick == Decimal("0.1")
        return emu.emulator.requests.count(contracts) - before

    assert run() == 6  # the first run loads the six product types
    assert run() == 0  # the next ones use the cache
    now[0] += 3_600_001
    assert run() == 6  # an hour later it is refreshed


@pytest.mark.parametrize(
    ("size", "price", "last", "message"),
    [
        (Decimal("0.00005"), None, None, "size 0.00005 is not a positive multiple of 0.0001"),
        (Decimal("0.0001"), None, Decimal(40000), "order value 4 USDT is below the minimum 5 USDT"),
        (Decimal("0.01"), Decimal("60000.05"), None, "price 60000.05 is not a positive multiple"),
    ],
)
def test_the_adapter_refuses_before_sending(
    emu,
    size: Decimal,
    price: Decimal | None,
    last: Decimal | None,
    message: str,
) -> None:
    from tradekit.exchange.adapters import BitgetAdapter
    from tradekit.exchange.errors import Rejected
    from tradekit.exchange.model import Prices

    if last is not None:  # a price at which 0.0001 BTC is worth less than 5 USDT
        emu.emulator.engine.update_price("BTCUSDT", Prices(last, last), 1771524000000)
        emu.emulator.engine.state.synced["BTCUSDT"] = 1771524000000
    adapter = BitgetAdapter(ccxt_client(emu.url))
    before = len(emu.emulator.received)
    with pytest.raises(Rejected) as refused:
        adapter.place("BTCUSDT", "buy", size, client_oid="tk-chk", price=price)
    assert message in str(refused.value)
    assert not any("place-order" in r.path for r in emu.emulator.received[before:])


def _signed(
    emu,
    method: str,
    path: str,
    body: bytes = b"",
    query: str = "",
    *,
    sign: str | None = None,
    stamp: str | None = None,
) -> tuple[int, bytes]:
    import base64
    import hashlib
    import hmac as hmac_

    stamp = stamp or str(int(time.time() * 1000))
    message = f"{stamp}{method}{path}" + (f"?{query}" if query else "")
    signature = (
        sign
        or base64.b64encode(
            hmac_.new(SECRET.encode(), message.encode() + body, hashlib.sha256).digest()
        ).decode()
    )
    request = urllib.request.Request(
        emu.url + path + (f"?{query}" if query else ""),
        body or None,
        method=method,
        headers={
            "ACCESS-KEY": KEY,
            "ACCESS-SIGN": signature,
            "ACCESS-TIMESTAMP": stamp,
            "ACCESS-PASSPHRASE": PASSPHRASE,
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize(
    ("method", "path", "body", "query"),
    [
        ("GET", "/api/v2/mix/order/fills", b"", "limit=abc&productType=USDT-FUTURES"),
        ("POST", "/api/v2/mix/order/place-order", b"\xff\xfe", ""),
        (
            "POST",
            "/api/v2/mix/order/place-order",
            b'{"symbol":"BTCUSDT","side":"buy","orderType":"stop","size":"0.01"}',
            "",
        ),
        (
            "POST",
            "/api/v2/mix/order/cancel-plan-order",
            b'{"symbol":"BTCUSDT","orderIdList":["1"]}',
            "",
        ),
    ],
)
def test_malformed_requests_get_a_bitget_error_and_the_emulator_goes_on(
    emu,
    method: str,
    path: str,
    body: bytes,
    query: str,
) -> None:
    status, payload = _signed(emu, method, path, body, query)
    assert status == 400 and json.loads(payload)["code"] != "00000"
    assert ccxt_client(emu.url).fetch_balance()["USDT"]["total"] == 1000.0


def test_a_delayed_request_does_not_hold_up_the_others(emu) -> None:
    import threading

    emu.emulator.faults.arm(Fault("delay", path="/api/v2/mix/account/accounts", delay_ms=1500))
    slow = threading.Thread(target=lambda: ccxt_client(emu.url).fetch_balance())
    slow.start()
    time.sleep(0.1)
    started = time.perf_counter()
    ccxt_client(emu.url).fetch_positions([PAIR])
    assert time.perf_counter() - started < 1.0
    slow.join()


def test_a_failed_read_back_after_placing_is_outcome_unknown(emu) -> None:
    from tradekit.exchange.adapters import BitgetAdapter
    from tradekit.exchange.errors import OutcomeUnknown

    adapter = BitgetAdapter(ccxt_client(emu.url), sleep=lambda _s: None)
    adapter.market("BTCUSDT")
    emu.emulator.faults.arm(
        Fault("http", path="/api/v2/mix/order/detail", status=503, text=True, times=3)
    )
    with pytest.raises(OutcomeUnknown) as unknown:
        adapter.place("BTCUSDT", "buy", Decimal("0.01"), client_oid="tk-rb")
    assert unknown.value.client_oid == "tk-rb"
    assert adapter.order("BTCUSDT", client_oid="tk-rb").state == "closed"  # it was placed
