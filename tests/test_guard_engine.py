"""The guard pass on real venues: the paper exchange, and Bitget through real ccxt talking
HTTP to the emulator. Positions are opened by tk-exec's own service, prices are scripted,
the clock is moved by hand."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, MovableClock, approve
from test_tk_exec import approved

from tradekit.emulator.server import TEST_CREDENTIALS, Emulator
from tradekit.emulator.trading import Fault
from tradekit.exchange.adapters import BitgetAdapter, PaperAdapter
from tradekit.exchange.base import Exchange
from tradekit.exchange.bitget import ExchangeSettings, client
from tradekit.exchange.model import Prices
from tradekit.exchange.paper import PaperExchange
from tradekit.execution.ledger import Ledger
from tradekit.execution.locks import IntentLocks
from tradekit.execution.service import ExecutionService
from tradekit.execution.settings import ExecutionSettings
from tradekit.guard.engine import Guard, PassResult
from tradekit.guard.market import latest_signal
from tradekit.guard.settings import GuardSettings
from tradekit.killswitch import FLAG
from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore
from tradekit.records import TradePlan
from tradekit.risk.settings import RiskSettings
from tradekit.store import Store

START = datetime(2026, 2, 19, 18, tzinfo=UTC)  # the bundled candles' last close: 66336.1
EXEC = ExecutionSettings(retry_delays=[0.01, 0.02])
#: the tests' plans are worth up to 1,000 USDT (tk-exec checks max_notional again)
RISK = RiskSettings.model_validate({"sizing": {"max_notional": 1000}})


@dataclass
class Venue:
    name: str
    mode: str
    exchange: Exchange
    store: Store
    clock: MovableClock
    set_price: Callable[[str], None]
    home: Path
    emulator: Emulator | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    def guard(self, **settings: Any) -> Guard:
        return Guard(
            exchange=self.exchange, store=self.store, mode=self.mode,
            settings=GuardSettings.model_validate(settings), execution=EXEC,
            now_ms=self.clock.ms, emit=self.events.append, act=True, home=self.home,
            sleep=lambda _s: None,
        )  # fmt: skip

    def run(self, **settings: Any) -> PassResult:
        self.events.clear()
        return self.guard(**settings).run_once()

    def kinds(self) -> list[tuple[str, str | None]]:
        return [(e["kind"], e.get("reason")) for e in self.events]

    def open(self, record: dict[str, Any] | None = None) -> dict[str, Any]:
        service = ExecutionService(
            mode=self.mode, ledger=Ledger(self.store), locks=IntentLocks(self.home / "exec.lock"),
            settings=EXEC, risk=RISK, now_ms=self.clock.ms, journal=lambda *_a: None,
            connect=lambda: self.exchange, sleep=lambda _s: None,
        )  # fmt: skip
        plan = TradePlan.model_validate(record or approved())
        approve(self.store, [plan], self.mode, self.clock.ms())
        execution = service.execute(plan)
        assert execution.status == "placed", execution.reasons
        return execution.to_json()

    def stops(self, kind: str) -> list[Any]:
        return [s for s in self.exchange.stops("BTCUSDT") if s.kind == kind]

    def closes(self) -> list[tuple[str, str]]:
        rows = self.store.db.execute("SELECT symbol, reason FROM closes ORDER BY id").fetchall()
        return [tuple(row) for row in rows]


def _candles(root: Path) -> CandleStore:
    store = CandleStore(root)
    store.merge(read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "BTCUSDT", "1h"))
    return store


@pytest.fixture(params=["paper", "emulator"])
def venue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Venue]:
    clock = MovableClock(START)
    home = tmp_path / "home"
    home.mkdir()
    store = Store(home / "tradekit.db")
    candles = _candles(tmp_path / "data")
    if request.param == "paper":
        paper = PaperExchange(store, candles, clock)  # type: ignore[arg-type]

        def set_paper_price(price: str) -> None:
            with paper.session("BTCUSDT") as engine:
                engine.update_price("BTCUSDT", Prices(D(price), D(price)), clock.ms())
                engine.state.synced["BTCUSDT"] = clock.ms()

        yield Venue("paper", "paper", PaperAdapter(paper), store, clock, set_paper_price, home)
        return
    emulator = Emulator(candles, market_clock=clock.ms)
    key, (secret, passphrase) = next(iter(TEST_CREDENTIALS.items()))
    with emulator.serve() as server:
        ccxt_client = client(
            ExchangeSettings(url=server.url, rate_limit=False, timeout_ms=3000),
            {"apiKey": key, "secret": secret, "password": passphrase},
        )

        def set_emulated_price(price: str) -> None:
            with emulator._lock:
                emulator.engine.update_price("BTCUSDT", Prices(D(price), D(price)), clock.ms())
                emulator.engine.state.synced["BTCUSDT"] = clock.ms()

        adapter = BitgetAdapter(ccxt_client, sleep=lambda _s: None)
        yield Venue("emulator", "live", adapter, store, clock, set_emulated_price, home, emulator)


# -- tracking and the stop-loss invariant ------------------------------------------------------


def test_a_position_tk_exec_opened_is_tracked_and_held(venue: Venue) -> None:
    venue.open()
    result = venue.run()
    assert venue.kinds() == [("tracking", "opened by a plan"), ("hold", "in_range")]
    assert (result.positions, result.error, result.stale, result.without_stop) == (1, None, [], [])
    hold = venue.events[1]
    assert hold["prices"]["stop"] == D(65000) and hold["prices"]["last"] == D("66336.1")


def test_a_missing_stop_loss_is_placed_again(venue: Venue) -> None:
    venue.open()
    venue.run()
    [sl] = venue.stops("sl")
    venue.exchange.cancel("BTCUSDT", order_id=sl.id, stop=True)
    venue.clock.advance(minutes=1)
    venue.run()
    assert ("repair_sl", "stop-loss missing") in venue.kinds()
    [again] = venue.stops("sl")
    assert (again.trigger_price, again.size) == (D(65000), D("0.01"))
    venue.clock.advance(minutes=1)
    venue.run()
    assert venue.kinds() == [("hold", "in_range")]  # covered: nothing more to do


def test_a_stop_loss_that_cannot_be_placed_ends_in_a_protective_close(venue: Venue) -> None:
    if venue.emulator is None:
        pytest.skip("faults are the emulator's (the paper exchange always takes stops)")
    venue.open()
    venue.run()
    [sl] = venue.stops("sl")
    venue.exchange.cancel("BTCUSDT", order_id=sl.id, stop=True)
    venue.emulator.faults.arm(
        Fault("code", path="/api/v2/mix/order/place-tpsl-order", code="40017", times=100)
    )
    settings = {"stop_loss": {"max_time_without_sl_seconds": 60}}
    venue.clock.advance(minutes=1)
    first = venue.run(**settings)
    assert [k for k, _ in venue.kinds()] == ["sl_missing", "hold"]
    assert first.without_stop == ["BTCUSDT"]
    assert venue.exchange.positions("BTCUSDT")  # not closed yet: it may still be placed
    venue.clock.advance(minutes=1)
    venue.run(**settings)
    assert [k for k, _ in venue.kinds()] == ["sl_missing", "close", "safe_mode"]
    assert venue.events[1]["reason"] == "protective_close"
    assert venue.exchange.positions("BTCUSDT") == []
    assert venue.store.get_flag(FLAG) == "safe"
    assert venue.closes() == [("BTCUSDT", "protective_close")]


# -- reconciliation ----------------------------------------------------------------------------


def test_a_stop_loss_fired_on_the_exchange_is_recorded_with_its_loss(venue: Venue) -> None:
    venue.open()
    venue.run()
    venue.clock.advance(minutes=5)
    venue.set_price("64900")  # through the stop at 65000: the exchange closes it
    assert venue.exchange.positions("BTCUSDT") == []
    venue.run()
    closed, idle = venue.events
    assert (closed["kind"], closed["reason"]) == ("closed_on_exchange", "stop_loss")
    assert (idle["kind"], idle["reason"]) == ("hold", "no open positions")
    assert closed["pnl"] < -13  # 0.01 x (66356 - 64900) and fees
    assert venue.closes() == [("BTCUSDT", "stop_loss")]
    venue.clock.advance(minutes=1)
    venue.run()
    assert venue.kinds() == [("hold", "no open positions")]  # nothing left to guard


def test_a_position_no_plan_opened_is_adopted_and_the_system_goes_safe(venue: Venue) -> None:
    venue.exchange.place("BTCUSDT", "buy", D("0.01"), client_oid="by-hand-1")
    venue.run()
    kinds = [k for k, _ in venue.kinds()]
    assert kinds == ["unknown_position", "safe_mode", "repair_sl", "hold"]
    assert venue.store.get_flag(FLAG) == "safe"
    [sl] = venue.stops("sl")
    entry = venue.exchange.positions("BTCUSDT")[0].entry_price
    assert sl.trigger_price == (entry * D("0.994")).quantize(D("0.1"))  # default 0.6 %


def test_a_flagged_unknown_position_is_reported_not_managed(venue: Venue) -> None:
    venue.exchange.place("BTCUSDT", "buy", D("0.01"), client_oid="by-hand-2")
    venue.run(unknown_positions="flag")
    assert [k for k, _ in venue.kinds()] == ["unknown_position", "safe_mode", "hold"]
    assert venue.stops("sl") == []


def test_a_position_that_grew_gets_a_stop_loss_for_all_of_it(venue: Venue) -> None:
    venue.open()
    venue.run()
    venue.exchange.place("BTCUSDT", "buy", D("0.005"), client_oid="more-1")  # a later fill
    venue.clock.advance(minutes=1)
    venue.run()
    assert [k for k, _ in venue.kinds()] == ["resized", "repair_sl", "hold"]
    [sl] = venue.stops("sl")
    assert sl.size == D("0.015")


# -- exits -------------------------------------------------------------------------------------


def test_the_trailing_stop_moves_the_exchange_stop_then_it_fires(venue: Venue) -> None:
    trailing = {
        "trailing": {
            "enabled": True, "mode": "percent", "activation_pct": D("0.01"), "trail_pct": D("0.005")
        },
        "break_even": {"enabled": False},
    }  # fmt: skip
    venue.open()
    venue.run(**trailing)
    for minutes, price in ((1, "67200"), (2, "67800")):
        venue.clock.advance(minutes=minutes)
        venue.set_price(price)
        venue.run(**trailing)
    assert ("move_stop", "trailing") in venue.kinds() and (
        "repair_sl",
        "stop-loss not at the stop",
    ) in venue.kinds()
    [sl] = venue.stops("sl")
    assert sl.trigger_price == D("67461.0")  # 67800 x (1 - 0.005)
    venue.clock.advance(minutes=1)
    venue.set_price("67400")
    venue.run(**trailing)
    assert venue.kinds() == [
        ("closed_on_exchange", "trailing_stop"),
        ("hold", "no open positions"),
    ]
    assert venue.events[0]["pnl"] > 0


def test_a_losing_position_is_closed_at_its_timeout(venue: Venue) -> None:
    venue.open()
    venue.run(timeout={"max_hold_minutes": 60})
    venue.clock.advance(minutes=61)
    venue.set_price("66000")
    venue.run(timeout={"max_hold_minutes": 60})
    [close] = venue.events
    assert (close["kind"], close["reason"]) == ("close", "timeout")
    assert venue.exchange.positions("BTCUSDT") == [] and venue.stops("sl") == []
    assert venue.closes() == [("BTCUSDT", "timeout")]


def test_a_reverse_signal_confirmed_on_two_bars_closes(venue: Venue) -> None:
    record = approved()
    record["plan"]["source"] = {"kind": "strategy", "strategy": "v5", "timeframe": "1h"}
    venue.open(record)
    bars = iter([(1, "short"), (1, "short"), (2, None), (3, "short"), (4, "short")])
    guard = venue.guard(reverse={"confirmations": 2})
    guard.reverse = lambda _tracked, _now: next(bars)
    reasons = []
    for _ in range(5):
        venue.events.clear()
        guard.run_once()
        reasons.append(venue.events[-1]["reason"])
    # bar 1 counts once however often it is seen; bar 2 (no signal) resets the count
    assert reasons == ["in_range", "in_range", "in_range", "in_range", "reverse_signal"]


@pytest.mark.parametrize(
    ("exit_long", "reason"),
    [
        ("close < ema_slow", "reverse_signal"),  # the last bar: 66336.1, below its EMA50
        ("close > ema_slow", "in_range"),
    ],
)
def test_a_dsl_position_is_closed_by_its_own_exit_rule(
    venue: Venue, tmp_path: Path, exit_long: str, reason: str
) -> None:
    """The guard's reverse exit evaluates the spec the plan names, over the stored bars."""
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "features": [{"name": "ema_slow", "kind": "ema", "period": 50}],
                "entryLong": "close > ema_slow",
                "exitLong": exit_long,
            }
        )
    )
    record = approved()
    record["plan"]["source"] = {
        "kind": "strategy", "strategy": "dsl", "timeframe": "1h", "spec": str(spec),
    }  # fmt: skip
    venue.open(record)
    candles = CandleStore(tmp_path / "data")
    guard = venue.guard(reverse={"confirmations": 1})
    guard.reverse = lambda tracked, now: latest_signal(candles, {}, tracked, now)
    venue.events.clear()
    guard.run_once()
    assert venue.events[-1]["reason"] == reason
    assert venue.closes() == ([("BTCUSDT", reason)] if reason == "reverse_signal" else [])


def test_take_profits_that_rest_nowhere_are_placed_for_what_is_left(venue: Venue) -> None:
    venue.open()
    for tp in venue.stops("tp"):
        venue.exchange.cancel("BTCUSDT", order_id=tp.id, stop=True)
    venue.run()
    assert ("repair_tp", "take-profits missing") in venue.kinds()
    assert sorted((t.trigger_price, t.size) for t in venue.stops("tp")) == [
        (D(67000), D("0.0035")), (D(68000), D("0.0035")), (D(69000), D("0.003"))
    ]  # fmt: skip


# -- kill switch, breakers, bad data ------------------------------------------------------------


def test_panic_cancels_everything_closes_everything_then_stays_safe(venue: Venue) -> None:
    venue.open()
    venue.store.set_flag(FLAG, "panic", START)
    venue.run()
    kinds = [k for k, _ in venue.kinds()]
    assert kinds[:1] == ["tracking"] and kinds[-3:] == ["panic_cancel", "close", "panic_done"]
    assert venue.exchange.positions() == [] and venue.exchange.stops("BTCUSDT") == []
    assert venue.store.get_flag(FLAG) == "safe"
    assert venue.closes() == [("BTCUSDT", "panic")]


def test_a_drawdown_from_the_peak_puts_the_system_in_safe_mode(venue: Venue) -> None:
    venue.store.set_flag("peak_equity:" + venue.mode, D(2000), START)
    venue.run()
    event, _idle = venue.events
    assert event["kind"] == "safe_mode" and event["reason"].startswith("drawdown 50")
    assert venue.store.get_flag(FLAG) == "safe"


def test_a_stale_price_holds_every_exit(venue: Venue) -> None:
    venue.open()
    venue.run(timeout={"max_hold_minutes": 60})
    venue.clock.advance(hours=3)  # no price since: the paper bars and the emulator stop at 18:00
    if venue.emulator is not None:
        venue.emulator.market_now = lambda: START.timestamp() * 1000  # the feed froze
    result = venue.run(timeout={"max_hold_minutes": 60})
    assert venue.kinds() == [("hold", "stale_price")]
    assert result.stale == ["BTCUSDT"] and venue.exchange.positions("BTCUSDT")


def test_an_unreachable_exchange_closes_nothing_and_counts_an_error(venue: Venue) -> None:
    if venue.emulator is None:
        pytest.skip("faults are the emulator's")
    venue.open()
    venue.emulator.faults.arm(Fault("http", status=503, msg="down", text=True, times=1000))
    result = venue.run()
    assert result.error is not None and [k for k, _ in venue.kinds()] == ["exchange_error"]
    venue.emulator.faults.clear()
    assert venue.exchange.positions("BTCUSDT")
    assert (
        venue.store.get_flag("api_errors:live")
        and len(venue.store.get_flag("api_errors:live")) == 1
    )


def test_margin_in_use_above_the_limit_puts_the_system_in_safe_mode(venue: Venue) -> None:
    venue.open()  # 0.01 BTC at about 66,356 with 5x leverage: about 133 USDT of margin
    venue.run(breakers={"max_margin_used": D("0.05")})
    [safe] = [e for e in venue.events if e["kind"] == "safe_mode"]
    assert safe["reason"].startswith("margin in use 13.") and "(max 5.00 %)" in safe["reason"]
    assert venue.store.get_flag(FLAG) == "safe"


def test_a_burst_of_exchange_errors_puts_the_system_in_safe_mode(venue: Venue) -> None:
    if venue.emulator is None:
        pytest.skip("faults are the emulator's")
    venue.open()
    burst = {"breakers": {"api_error_burst": 3, "api_error_window_seconds": 60}}
    venue.emulator.faults.arm(Fault("http", status=502, msg="bad gateway", text=True, times=999))
    for _ in range(3):
        assert venue.run(**burst).error is not None
        venue.clock.advance(seconds=10)
    venue.emulator.faults.clear()
    venue.run(**burst)
    [safe] = [e for e in venue.events if e["kind"] == "safe_mode"]
    assert safe["reason"] == "3 exchange errors within 60 s (max 2)"
    assert venue.exchange.positions("BTCUSDT")  # safe mode blocks entries, closes nothing
    venue.store.delete_flag(FLAG)
    venue.clock.advance(seconds=60)  # the burst has left the window
    venue.run(**burst)
    assert not [e for e in venue.events if e["kind"] == "safe_mode"]


def test_a_liquidation_price_too_close_reduces_the_position(venue: Venue) -> None:
    venue.open()
    [position] = venue.exchange.positions("BTCUSDT")
    assert position.liquidation_price is not None
    distance = abs(position.liquidation_price - D("66336.1")) / D("66336.1")
    settings = {"liquidation": {"max_distance": distance + D("0.01"), "reduce_pct": 50}}
    venue.run(**settings)
    [reduce] = [e for e in venue.events if e["kind"] == "reduce"]
    assert reduce["reason"] == "liquidation too close"
    assert D(reduce["details"]["size"]) == D("0.005")
    [after] = venue.exchange.positions("BTCUSDT")
    assert after.size == D("0.005")
    venue.clock.advance(minutes=1)
    venue.run()  # the default distance (1 %): nothing more to do, the stop resized
    assert ("resized", "partly closed") in venue.kinds()
    assert sum(s.size for s in venue.stops("sl")) >= D("0.005")


def test_without_plan_orders_the_guard_closes_at_the_stop_itself(venue: Venue) -> None:
    if venue.emulator is None:
        pytest.skip("the paper exchange always takes stop orders")
    venue.open()
    for order in venue.exchange.stops("BTCUSDT"):
        venue.exchange.cancel("BTCUSDT", order_id=order.id, stop=True)
    plan_orders = "/api/v2/mix/order/orders-plan-pending"
    venue.emulator.faults.arm(Fault("code", path=plan_orders, code="40404", times=10_000))
    result = venue.run()
    assert result.local_guard == ["BTCUSDT"] and result.error is None
    assert [k for k, _ in venue.kinds()] == ["tracking", "local_guard", "hold"]
    venue.clock.advance(minutes=1)
    venue.set_price("64990")  # through the plan's stop at 65000
    venue.run()
    assert venue.kinds() == [("close", "stop_loss")]
    assert venue.exchange.positions("BTCUSDT") == []


def test_an_unreadable_position_record_is_set_aside_and_the_position_protected(
    venue: Venue,
) -> None:
    venue.open()
    venue.run()
    venue.store.db.execute("UPDATE guard_positions SET state='{\"symbol\": 1' WHERE id=1")
    venue.clock.advance(hours=5)  # a timeout would fire: not on a rebuilt record
    venue.set_price("66000")
    settings = {"timeout": {"max_hold_minutes": 60, "tighten_pct": 0}}
    result = venue.run(**settings)
    assert result.corrupt == [("BTCUSDT", "long")]
    assert [k for k, _ in venue.kinds()] == ["corrupt_record", "tracking", "hold"]
    assert venue.events[0]["reason"].startswith(
        "the guard's record of a position is unreadable: JsonError"
    )
    assert venue.events[-1]["reason"] == "record_rebuilt: exits resume next run"
    assert venue.exchange.positions("BTCUSDT")
    status = venue.store.db.execute("SELECT id, status FROM guard_positions ORDER BY id")
    assert status.fetchall() == [(1, "corrupt"), (2, "open")]
    venue.clock.advance(minutes=1)
    again = venue.run(**settings)  # the next run acts again (opened_ms came from the plan)
    assert again.corrupt == [] and venue.kinds()[0] == ("close", "timeout")


def test_a_passing_refusal_to_list_stops_is_an_error_not_a_capability(venue: Venue) -> None:
    if venue.emulator is None:
        pytest.skip("faults are the emulator's")
    venue.open()
    venue.emulator.faults.arm(
        Fault("code", path="/api/v2/mix/order/orders-plan-pending", code="49999", times=1)
    )
    result = venue.run()
    assert result.error is not None and result.local_guard == []
    assert venue.store.cached("plan_orders:live", 10**9, venue.clock.ms()) is None
    again = venue.run()
    assert again.error is None and again.local_guard == [] and venue.stops("sl")


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("stop_loss", "NaN", "stop_loss: not a finite number"),
        ("entry", 0, "entry: must be a positive number"),
        ("opened_ms", "abc", "opened_ms: not an integer"),
        ("tps_done", "abc", "tps_done: not a list of integers"),
        ("best", "Infinity", "best: not a finite number"),
        ("side", "up", "side: 'up' is not long or short"),
    ],
)
def test_a_record_with_an_unusable_value_is_set_aside_not_acted_on(
    venue: Venue, field: str, value: Any, why: str
) -> None:
    import json

    if venue.emulator is not None:
        pytest.skip("the book is the same on every venue")
    venue.open()
    venue.run()
    state = json.loads(venue.store.db.execute("SELECT state FROM guard_positions").fetchone()[0])
    state[field] = value
    venue.store.db.execute("UPDATE guard_positions SET state=?", (json.dumps(state),))
    result = venue.run()
    assert result.corrupt == [("BTCUSDT", "long")]
    assert venue.events[0]["kind"] == "corrupt_record" and why in venue.events[0]["reason"]
    assert venue.exchange.positions("BTCUSDT")


def test_panic_cancels_orders_resting_where_nothing_is_held(venue: Venue) -> None:
    record = approved(entry={"type": "limit", "price": D(60000)})  # rests: far below
    record["risk"].update(entryPrice=D(60000), stopLoss=D(59000))
    venue.open(record)
    assert venue.exchange.open_orders("BTCUSDT") and not venue.exchange.positions("BTCUSDT")
    venue.store.set_flag(FLAG, "panic", START)
    venue.run()
    [cancel] = [e for e in venue.events if e["kind"] == "panic_cancel"]
    assert cancel["details"]["symbol"] == "BTCUSDT" and cancel["orderIds"]
    assert venue.exchange.open_orders("BTCUSDT") == []
    assert venue.store.get_flag(FLAG) == "safe"


def test_a_close_that_finds_the_position_gone_is_reconciled_as_closed_there(venue: Venue) -> None:
    from tradekit.exchange.base import Ticker

    venue.open()
    guard = venue.guard()
    guard.run_once()
    venue.clock.advance(minutes=1)
    venue.set_price("64900")  # the exchange's stop fires first
    assert venue.exchange.positions("BTCUSDT") == []
    venue.events.clear()
    reason = guard.on_price("BTCUSDT", Ticker(D("64900"), D("64900"), venue.clock.ms()))
    assert reason == "stop_loss"
    [closed] = venue.events
    assert (closed["kind"], closed["reason"]) == ("closed_on_exchange", "stop_loss")
    assert closed["prices"]["exit"] <= D(65000) and closed["pnl"] < 0
    assert venue.closes() == [("BTCUSDT", "stop_loss")]


def test_the_guards_own_close_reports_its_exit_price(venue: Venue) -> None:
    venue.open()
    venue.run(timeout={"max_hold_minutes": 60, "tighten_pct": 0})
    venue.clock.advance(minutes=61)
    venue.set_price("66000")
    venue.run(timeout={"max_hold_minutes": 60, "tighten_pct": 0})
    [close] = [e for e in venue.events if e["kind"] == "close"]
    assert close["reason"] == "timeout" and D("65900") < close["prices"]["exit"] <= D("66000")
