"""tk-guard --watch: the emulator's websocket ticker through real ccxt.pro, the watch loop
(fast exits on each price, REST fallback, reconnects) and the health endpoints, read over
real HTTP. The clock is the real one here: the loop is about time passing."""

from __future__ import annotations

import json
import queue
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from conftest import approve
from test_guard_engine import EXEC, RISK, _candles
from test_tk_exec import approved

from tradekit.emulator.server import TEST_CREDENTIALS, Emulator
from tradekit.emulator.ws import WsServer
from tradekit.exchange.adapters import BitgetAdapter
from tradekit.exchange.base import Ticker
from tradekit.exchange.bitget import ExchangeSettings, client, ws_client
from tradekit.exchange.model import Prices
from tradekit.execution.ledger import Ledger
from tradekit.execution.locks import IntentLocks
from tradekit.execution.service import ExecutionService
from tradekit.guard.engine import Guard
from tradekit.guard.feed import WsTickerFeed, ticker_from_ccxt, wall_ms
from tradekit.guard.health import HealthServer, WatchState, readiness
from tradekit.guard.settings import GuardSettings
from tradekit.guard.watch import Watcher
from tradekit.records import TradePlan
from tradekit.store import Store

TRAILING = {
    "trailing": {
        "enabled": True, "mode": "percent", "activation_pct": D("0.005"), "trail_pct": D("0.003"),
    },
    "break_even": {"enabled": False},
    "watch": {"interval_seconds": 0.05, "max_stale_seconds": 2, "reconcile_seconds": 30,
              "reconnect_seconds": 0.05},
    "health": {"port": 0},
}  # fmt: skip


@dataclass
class Rig:
    emulator: Emulator
    ws: WsServer
    rest_url: str
    store: Store
    home: Path
    events: list[dict[str, Any]] = field(default_factory=list)

    def exchange(self) -> BitgetAdapter:
        key, (secret, passphrase) = next(iter(TEST_CREDENTIALS.items()))
        ccxt_client = client(
            ExchangeSettings(url=self.rest_url, rate_limit=False, timeout_ms=3000),
            {"apiKey": key, "secret": secret, "password": passphrase},
        )
        return BitgetAdapter(ccxt_client, sleep=lambda _s: None)

    def set_price(self, price: str) -> None:
        with self.emulator._lock:
            now = self.emulator.market_now()
            self.emulator.engine.update_price("BTCUSDT", Prices(D(price), D(price)), now)
            self.emulator.engine.state.synced["BTCUSDT"] = now

    def open(self) -> None:
        exchange = self.exchange()
        service = ExecutionService(
            mode="live", ledger=Ledger(self.store), locks=IntentLocks(self.home / "exec.lock"),
            settings=EXEC, risk=RISK, now_ms=wall_ms, journal=lambda *_a: None,
            connect=lambda: exchange, sleep=lambda _s: None,
        )  # fmt: skip
        plan = TradePlan.model_validate(approved())
        approve(self.store, [plan], "live", wall_ms())
        assert service.execute(plan).status == "placed"

    def feed(self, out: queue.Queue[tuple[str, Ticker]]) -> WsTickerFeed:
        settings = ExchangeSettings(url=self.rest_url, rate_limit=False, timeout_ms=3000)
        return WsTickerFeed(lambda: ws_client(settings, self.ws.url), out, reconnect_seconds=0.05)

    def watcher(
        self, *, ws: bool = True, say: Callable[[str], None] | None = None, **overrides: Any
    ) -> Watcher:
        settings = GuardSettings.model_validate({**TRAILING, **overrides})
        guard = Guard(
            exchange=self.exchange(), store=self.store, mode="live", settings=settings,
            execution=EXEC, now_ms=wall_ms, emit=self.events.append, act=True, home=self.home,
            sleep=lambda _s: None,
        )  # fmt: skip
        prices: queue.Queue[tuple[str, Ticker]] = queue.Queue()
        feed = self.feed(prices).start() if ws else None
        return Watcher(guard, settings, prices=prices, feed=feed, say=say)

    def kinds(self) -> list[tuple[str, str | None]]:
        return [(e["kind"], e.get("reason")) for e in self.events]

    def positions(self) -> list[Any]:
        with self.emulator._lock:
            return [p for p in self.emulator.engine.state.positions.values() if p.size > 0]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    home = tmp_path / "home"
    home.mkdir()
    emulator = Emulator(_candles(tmp_path / "data"))  # the real clock
    with emulator.serve() as server, WsServer(emulator, push_ms=10) as ws:
        rig = Rig(emulator, ws, server.url, Store(home / "tradekit.db"), home)
        rig.set_price("66336.1")  # the candles' last close, as of now: a live price is fresh
        yield rig


def run_until(
    watcher: Watcher, done: Callable[[], bool], seconds: float = 10.0, why: str = ""
) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {why or done}"
        watcher.step(0.02)


def stop(watcher: Watcher) -> None:
    if watcher.feed is not None:
        watcher.feed.stop()


# -- the feed ---------------------------------------------------------------------------------


def test_ccxt_pro_streams_the_emulators_ticker_and_each_change(rig: Rig) -> None:
    out: queue.Queue[tuple[str, Ticker]] = queue.Queue()
    feed = rig.feed(out).start()
    try:
        feed.watch({"BTCUSDT"})
        symbol, first = out.get(timeout=10)
        assert (symbol, first.last, first.mark) == ("BTCUSDT", D("66336.1"), D("66336.1"))
        assert abs(first.ts_ms - wall_ms()) < 2000
        rig.set_price("66400.5")
        while out.get(timeout=5)[1].last != D("66400.5"):
            pass
        assert feed.is_up("BTCUSDT") and feed.snapshot().parse_errors == 0
    finally:
        feed.stop()


def test_a_dropped_connection_is_reconnected_and_prices_flow_again(rig: Rig) -> None:
    out: queue.Queue[tuple[str, Ticker]] = queue.Queue()
    feed = rig.feed(out).start()
    try:
        feed.watch({"BTCUSDT"})
        out.get(timeout=10)
        rig.ws.drop_connections()
        deadline = time.monotonic() + 10
        while feed.snapshot().reconnects == 0:
            assert time.monotonic() < deadline, "the drop was not noticed"
            time.sleep(0.01)
        rig.set_price("66111")
        while out.get(timeout=10)[1].last != D("66111"):
            pass
        assert feed.is_up("BTCUSDT")
    finally:
        feed.stop()


def test_an_unreadable_ticker_is_a_parse_error_not_a_price() -> None:
    good = {"last": 66000.5, "timestamp": 1, "info": {"markPrice": "66001"}}
    assert ticker_from_ccxt(good) == Ticker(D("66000.5"), D("66001"), 1)
    for bad in ({"last": None, "timestamp": 1}, {"last": "0", "timestamp": 1}, {"last": "x"}):
        with pytest.raises(ValueError, match="unreadable ticker"):
            ticker_from_ccxt(bad)


# -- the loop ---------------------------------------------------------------------------------


def test_a_price_crossing_the_trailing_stop_closes_at_once(rig: Rig) -> None:
    rig.open()
    watcher = rig.watcher()
    try:
        watcher.full_pass()
        assert watcher.watched == {"BTCUSDT"}
        run_until(watcher, lambda: watcher.feed is not None and watcher.feed.is_up("BTCUSDT"))
        rig.set_price("66800")  # +0.7%: the trail is armed at 66800 x 0.997 = 66599.6
        run_until(watcher, lambda: watcher.guard.book.open_positions()[0].best == D("66800"))
        assert rig.positions(), "not closed on the way up"
        rig.set_price("66550")
        run_until(watcher, lambda: not rig.positions(), why="the trailing close")
    finally:
        stop(watcher)
    close = next(e for e in rig.events if e["kind"] == "close")
    assert close["reason"] == "trailing_stop" and close["prices"]["last"] == D("66550")
    assert watcher.state.exits == {"trailing_stop": 1}
    sent = [r for r in rig.emulator.received if r.path.endswith("/order/place-order")]
    body = json.loads(sent[-1].body)
    assert body["clientOid"].endswith("-close") and body["reduceOnly"] == "YES"
    assert rig.exchange().stops("BTCUSDT") == []  # its stop-loss and take-profits canceled
    assert watcher.guard.book.open_positions() == [] and watcher.watched == set()


def test_a_silent_stream_falls_back_to_rest_and_readyz_says_degraded(rig: Rig) -> None:
    rig.open()
    watcher = rig.watcher()
    try:
        watcher.full_pass()
        run_until(watcher, lambda: watcher.feed is not None and watcher.feed.is_up("BTCUSDT"))
        rig.ws.drop_connections()
        rig.ws.paused.set()
        run_until(watcher, lambda: watcher.state.feed_degraded, why="degraded")
        ready, checks, _ = readiness(watcher.state, watcher.settings, wall_ms())
        assert not ready and checks["ws_mode_or_rest"] is False
        feed_events = [e["reason"] for e in rig.events if e["kind"] == "price_feed"]
        assert any(reason.startswith("websocket down: ") for reason in feed_events)
        before = len([r for r in rig.emulator.received if r.path.endswith("/market/ticker")])
        rig.set_price("66800")
        run_until(watcher, lambda: watcher.latest["BTCUSDT"].last == D("66800"), why="REST")
        polled = len([r for r in rig.emulator.received if r.path.endswith("/market/ticker")])
        assert polled > before  # the price came over REST
        rig.ws.paused.clear()
        run_until(watcher, lambda: not watcher.state.feed_degraded, why="the stream back")
        assert readiness(watcher.state, watcher.settings, wall_ms())[0]
        assert ("price_feed", "websocket back") in rig.kinds()
    finally:
        stop(watcher)


def test_rest_mode_polls_and_an_unreachable_exchange_closes_nothing(rig: Rig) -> None:
    from tradekit.emulator.trading import Fault

    rig.open()
    said: list[str] = []
    watcher = rig.watcher(ws=False, say=said.append)
    watcher.full_pass()
    assert said == []  # a good pass says nothing on stderr
    assert watcher.state.feed_mode == "rest"
    run_until(watcher, lambda: "BTCUSDT" in watcher.latest)
    rig.emulator.faults.arm(Fault("http", status=503, msg="down", text=True, times=10_000))
    rig.set_price("60000")  # far through the stop, but nobody can see it
    watcher.next_pass_ms = 0
    run_until(watcher, lambda: watcher.state.api_errors >= 2, why="errors counted")
    assert not watcher.state.last_pass_ok
    ready, checks, reasons = readiness(watcher.state, watcher.settings, wall_ms())
    assert not ready and not checks["account"] and any("last_pass_failed" in r for r in reasons)
    assert not any(e["kind"] == "close" for e in rig.events)
    watcher.next_pass_ms = 0
    run_until(watcher, lambda: watcher.next_pass_ms > wall_ms(), why="another failed pass")
    # the same trouble pass after pass is said once, as one line for people (stderr)
    [line] = said
    assert line.startswith("pass held, nothing decided on bad data: the exchange could not be read")
    assert "\n" not in line


# -- health -----------------------------------------------------------------------------------


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


@pytest.fixture
def health() -> Iterator[tuple[WatchState, str]]:
    settings = GuardSettings.model_validate({"health": {"port": 0}})
    state = WatchState(started_ms=wall_ms())
    server = HealthServer(state, settings, wall_ms).start()
    try:
        yield state, server.url
    finally:
        server.stop()


def test_health_binds_localhost_and_answers(health: tuple[WatchState, str]) -> None:
    _state, url = health
    assert url.startswith("http://127.0.0.1:")
    assert get(url + "/healthz") == (200, "application/json", b'{"status":"ok"}')
    assert get(url + "/nope")[0] == 404


def test_readyz_is_503_until_a_pass_succeeded_then_200(health: tuple[WatchState, str]) -> None:
    state, url = health
    status, _, body = get(url + "/readyz")
    assert status == 503 and json.loads(body)["checks"]["account"] is False
    with state.lock:
        state.last_pass_ms, state.last_pass_ok, state.symbols = wall_ms(), True, {"BTCUSDT"}
        state.price_ms["BTCUSDT"] = wall_ms()
    status, _, body = get(url + "/readyz")
    assert status == 200
    checks = (
        "account", "positions", "price", "sl_covered", "ws_mode_or_rest",
        "ws_parse_error_ratio", "local_guard_ws_required", "position_records",
    )  # fmt: skip
    expected = {
        "ready": True, "checks": dict.fromkeys(checks, True), "safeMode": False,
        "panicMode": False, "priceFeedMode": "rest", "priceFeedDegraded": False,
        "wsParseErrorRatio": 0.0, "reasons": [],
    }  # fmt: skip
    assert json.loads(body) == expected


@pytest.mark.parametrize(
    ("change", "failed", "reason"),
    [
        ({"without_stop": ["BTCUSDT"]}, ["sl_covered"], "positions_without_stop:BTCUSDT"),
        ({"price_ms": {"BTCUSDT": 0}}, ["price"], "stale_prices:BTCUSDT"),
        (
            {"feed_mode": "ws", "ws_messages": 10, "ws_errors": 3},
            ["ws_parse_error_ratio"],
            "ws_parse_error_ratio_too_high:0.30>0.2",
        ),
        ({"feed_mode": "ws", "feed_degraded": True}, ["ws_mode_or_rest"], None),
        ({"local_guard": ["BTCUSDT"]}, ["local_guard_ws_required"], None),
        ({"last_pass_ms": 1}, ["account", "positions"], None),
        ({"corrupt": ["BTCUSDT long"]}, ["position_records"], None),
        ({"stale": ["BTCUSDT"]}, ["price"], "stale_prices:BTCUSDT"),
        (
            {"last_pass_ok": False, "last_error": "503"},
            ["account", "positions"],
            "last_pass_failed:503",
        ),
    ],
)
def test_each_readyz_gate(
    health: tuple[WatchState, str], change: dict[str, Any], failed: list[str], reason: str | None
) -> None:
    state, url = health
    with state.lock:
        state.last_pass_ms, state.last_pass_ok, state.symbols = wall_ms(), True, {"BTCUSDT"}
        state.price_ms["BTCUSDT"] = wall_ms()
        for key, value in change.items():
            setattr(state, key, value)
    status, _, body = get(url + "/readyz")
    answer = json.loads(body)
    assert status == 503 and answer["ready"] is False
    assert [name for name, ok in answer["checks"].items() if not ok] == failed
    assert all(f"check_failed:{name}" in answer["reasons"] for name in failed)
    if reason:
        assert reason in answer["reasons"]


def test_metrics_in_prometheus_text(health: tuple[WatchState, str]) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    state, url = health
    with state.lock:
        state.equity, state.open_positions, state.api_errors = 1234.5, 1, 3
        state.without_stop, state.kill, state.symbols = ["BTCUSDT"], "safe", {"BTCUSDT"}
        state.price_ms["BTCUSDT"] = wall_ms() - 1500
        state.exits.update({"trailing_stop": 2, "timeout": 1})
    status, ctype, body = get(url + "/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }
    assert samples[("tk_guard_equity_usdt", ())] == 1234.5
    assert samples[("tk_guard_open_positions", ())] == 1
    assert samples[("tk_guard_positions_without_stop", ())] == 1
    assert samples[("tk_guard_breaker_state", ())] == 1
    assert samples[("tk_guard_api_errors_total", ())] == 3
    assert samples[("tk_guard_exits_total", (("reason", "trailing_stop"),))] == 2
    assert samples[("tk_guard_exits_total", (("reason", "timeout"),))] == 1
    age = samples[("tk_guard_price_age_seconds", (("symbol", "BTCUSDT"),))]
    assert 1.4 < age < 5


def test_an_old_price_is_stale_by_its_own_time_not_by_when_it_arrived(rig: Rig) -> None:
    rig.open()
    watcher = rig.watcher(ws=False)
    watcher.full_pass()
    old = Ticker(D("66336.1"), D("66336.1"), wall_ms() - 60_000)  # a minute old on arrival
    watcher.on_tick("BTCUSDT", old)
    assert watcher.state.price_ms["BTCUSDT"] == old.ts_ms
    ready, checks, reasons = readiness(watcher.state, watcher.settings, wall_ms())
    assert not ready and not checks["price"] and "stale_prices:BTCUSDT" in reasons
    rig.set_price("60000")  # far through the stop, but the only price seen is old
    watcher.on_tick("BTCUSDT", Ticker(D("60000"), D("60000"), wall_ms() - 60_000))
    assert not any(e["kind"] == "close" for e in rig.events)


def test_a_failed_pass_is_reported_and_the_loop_goes_on(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradekit.errors import TryAgainLaterError

    watcher = rig.watcher(ws=False)

    def busy(**_kwargs: Any) -> Any:
        raise TryAgainLaterError("tradekit.db: database is busy (database is locked)")

    monkeypatch.setattr(watcher.guard, "run_once", busy)
    watcher.full_pass()
    assert rig.kinds() == [("pass_failed", "tradekit.db: database is busy (database is locked)")]
    assert not watcher.state.last_pass_ok
    monkeypatch.undo()
    watcher.full_pass()
    assert watcher.state.last_pass_ok
