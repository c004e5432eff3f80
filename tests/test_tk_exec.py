"""tk-exec: skipping, dry-run, paper and live (ccxt -> the Bitget emulator) execution,
idempotency, crash recovery at every step, concurrency, and every emulator fault."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, record_approvals, script

from tradekit import jsonio
from tradekit.clock import Clock, parse_time
from tradekit.emulator.server import TEST_CREDENTIALS
from tradekit.emulator.trading import Fault
from tradekit.exchange.adapters import PaperAdapter
from tradekit.exchange.paper import PaperExchange
from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore
from tradekit.store import Store

PLACE = "/api/v2/mix/order/place-order"
PLACE_STOP = "/api/v2/mix/order/place-tpsl-order"
#: the bundled candles' last close, the price the paper and emulated markets trade at
LAST = D("66336.1")


def approved(
    cycle: str = "v5:BTCUSDT:1h:2026-02-19T17:00:00Z",
    *,
    side: str = "long",
    quantity: str = "0.01",
    stop_loss: str = "65000",
    take_profits: tuple[str, ...] = ("67000", "68000", "69000"),
    **plan: Any,
) -> dict[str, Any]:
    """A plan as tk-risk approves it."""
    return {
        "tradePlanVersion": 1,
        "cycleId": cycle,
        "dryRun": False,
        "plan": {"symbol": "BTCUSDT", "side": side, "level": "strong", "reason": "test", **plan},
        "decision": {"blockedByNews": False, "newsReason": []},
        "risk": {
            "approved": True,
            "reasons": [],
            "warnings": [],
            "quantity": D(quantity),
            "leverage": 5,
            "entryPrice": LAST,
            "stopLoss": D(stop_loss),
            "takeProfits": [D(tp) for tp in take_profits],
        },
    }


def short() -> dict[str, Any]:
    return approved(side="short", stop_loss="67500", take_profits=("65000", "64000"))


def lines(*records: dict[str, Any]) -> str:
    return "".join(jsonio.dumps(r).decode() + "\n" for r in records)


def run_mode(args: tuple[str, ...]) -> str:
    return "paper" if "--paper" in args else "live" if "--live" in args else "dry-run"


def tk_exec(
    *args: str, stdin: str, env: dict[str, str] | None = None, approve: str | None = "auto"
) -> subprocess.CompletedProcess[str]:
    """tk-exec ARGS < stdin; first, unless `approve` is None, every approved line is
    recorded as tk-risk approves (in the run's mode, or the mode `approve` names)."""
    if approve is not None:
        mode = run_mode(args) if approve == "auto" else approve
        record_approvals(Path(os.environ["TK_HOME"]), stdin, mode)
    return subprocess.run(
        [script("tk-exec"), *args],
        input=stdin,
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def executions(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line)["execution"] for line in result.stdout.splitlines()]


def ledger(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "tradekit.db") as db:
        return db.execute("SELECT cycle_id, status FROM intents ORDER BY created_ms").fetchall()


def orders_log(home: Path) -> list[dict[str, Any]]:
    path = home / "logs" / "orders.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def paper_home(home: Path) -> Path:
    """A home with the bundled candles, for paper prices."""
    CandleStore(home / "data").merge(
        read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "BTCUSDT", "1h")
    )
    (home / "config.toml").write_text(
        "[execution]\nretry_delays = [0.01, 0.02]\n[risk.sizing]\nmax_notional = 1000\n"
    )
    return home


def paper_account(home: Path) -> PaperAdapter:
    clock = Clock(parse_time(os.environ["TK_NOW"]))
    store = Store(home / "tradekit.db")
    return PaperAdapter(PaperExchange(store, CandleStore(home / "data"), clock))


@pytest.fixture
def live(home: Path, emulator: Any) -> dict[str, str]:
    """--live against the emulator: the config enables it, the environment has keys."""
    (home / "config.toml").write_text(
        f'[live]\nenabled = true\n[exchange]\nurl = "{emulator.url}"\nrate_limit = false\n'
        "timeout_ms = 1000\n[execution]\nretry_delays = [0.2, 0.4]\n"
        "[risk.sizing]\nmax_notional = 1000\n"
    )
    key, (secret, passphrase) = next(iter(TEST_CREDENTIALS.items()))
    return {"BITGET_API_KEY": key, "BITGET_API_SECRET": secret, "BITGET_API_PASSPHRASE": passphrase}


def venue_orders(emulator: Any, role: str) -> list[Any]:
    """The emulator's orders of one role (entry, sl, tp1...) of any bundle."""
    return [
        o
        for o in emulator.emulator.engine.state.orders.values()
        if o.client_oid.endswith(f"-{role}")
    ]


def venue_position(emulator: Any) -> Any:
    positions = list(emulator.emulator.engine.state.positions.values())
    assert len(positions) <= 1
    return positions[0] if positions else None


# -- what is not executed ----------------------------------------------------------------------


def test_plans_not_approved_are_skipped_with_the_reasons(paper_home: Path) -> None:
    null = {"tradePlanVersion": 1, "cycleId": "c0", "plan": None}
    blocked = approved("c1")
    blocked["risk"] = {"approved": False, "reasons": ["kill switch is safe", "daily cap"]}
    unchecked = approved("c2")
    del unchecked["risk"]
    result = tk_exec("--paper", stdin=lines(null, blocked, unchecked))
    assert result.returncode == 0, result.stderr
    assert [(e["status"], e["reasons"]) for e in executions(result)] == [
        ("skipped", ["no plan"]),
        ("skipped", ["risk: kill switch is safe", "risk: daily cap"]),
        ("skipped", ["not checked by tk-risk (no risk block): nothing is sent unchecked"]),
    ]
    assert ledger(paper_home) == []
    assert paper_account(paper_home).positions() == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"stopLoss": D("67000")}, "risk.stopLoss is on the winning side of risk.entryPrice"),
        ({"stopLoss": None}, "risk.stopLoss is missing: no trade without a stop-loss"),
        ({"quantity": D(0)}, "risk.quantity must be a positive size"),
        (
            {"takeProfits": [D(60000)]},
            "risk.takeProfits[0] is on the losing side of risk.entryPrice",
        ),
    ],
)
def test_an_approved_plan_that_cannot_be_carried_out_is_rejected_naming_the_field(
    paper_home: Path, change: dict[str, Any], reason: str
) -> None:
    record = approved()
    record["risk"].update(change)
    result = tk_exec("--paper", stdin=lines(record))
    assert result.returncode == 0, result.stderr
    [execution] = executions(result)
    assert execution["status"] == "rejected"
    assert reason in execution["reasons"]
    assert ledger(paper_home) == [] and paper_account(paper_home).positions() == []


def test_a_bad_line_stops_the_run_naming_the_line_and_field(paper_home: Path) -> None:
    bad = approved("c-bad")
    bad["risk"]["quantity"] = "lots"
    result = tk_exec("--paper", stdin=lines(approved("c-ok")) + lines(bad))
    assert result.returncode == 65
    assert "<stdin>:2: risk.quantity: must be a number" in result.stderr
    assert "Traceback" not in result.stderr
    assert [e["status"] for e in executions(result)] == ["placed"]


# -- dry-run -----------------------------------------------------------------------------------


def test_dry_run_records_the_exact_orders_and_sends_nothing(paper_home: Path) -> None:
    result = tk_exec(stdin=lines(approved()))
    assert result.returncode == 0, result.stderr
    [execution] = executions(result)
    assert execution["mode"] == "dry-run" and execution["status"] == "dry_run"
    key = execution["idempotencyKey"]
    orders = [
        (o["role"], o["clientOid"], o["side"], o["size"], o.get("triggerPrice"), o["reduceOnly"])
        for o in execution["orders"]
    ]
    assert (
        orders
        == [
            ("entry", f"tk{key[:16]}-entry", "buy", 0.01, None, False),
            ("sl", f"tk{key[:16]}-sl", "sell", 0.01, 65000, True),
            ("tp1", f"tk{key[:16]}-tp1", "sell", 0.0035, 67000, True),  # 0.35
            ("tp2", f"tk{key[:16]}-tp2", "sell", 0.0035, 68000, True),  # 0.35
            ("tp3", f"tk{key[:16]}-tp3", "sell", 0.003, 69000, True),  # the rest
        ]
    )
    assert [entry["event"] for entry in orders_log(paper_home)] == ["dry-run"] * 5
    assert paper_account(paper_home).positions() == []
    # the same plan again: recognised, like live
    again = executions(tk_exec(stdin=lines(approved())))
    assert again[0]["status"] == "duplicate" and again[0]["idempotencyKey"] == key


def test_a_record_marked_dry_run_is_never_sent(paper_home: Path) -> None:
    record = approved()
    record["dryRun"] = True
    [execution] = executions(tk_exec("--paper", stdin=lines(record)))
    assert (execution["mode"], execution["status"]) == ("dry-run", "dry_run")
    assert paper_account(paper_home).positions() == []


def test_live_without_the_config_is_refused_and_sends_nothing(paper_home: Path) -> None:
    result = tk_exec(
        "--live", stdin=lines(approved(), {"tradePlanVersion": 1, "cycleId": "x"}), approve=None
    )
    assert result.returncode == 78 and result.stdout == ""
    assert result.stderr.startswith("tk-exec: error: --live refused: [live] enabled is false")
    assert ledger(paper_home) == [] and orders_log(paper_home) == []
    assert not (paper_home / "logs" / "decisions.jsonl").exists()


# -- paper -------------------------------------------------------------------------------------


def test_paper_opens_the_position_with_its_stop_loss_and_take_profits(paper_home: Path) -> None:
    result = tk_exec("--paper", stdin=lines(approved()))
    assert result.returncode == 0, result.stderr
    [execution] = executions(result)
    assert execution["status"] == "placed", execution
    states = {o["role"]: (o["state"], o["size"]) for o in execution["orders"]}
    assert states == {
        "entry": ("closed", 0.01),
        "sl": ("open", 0.01),
        "tp1": ("open", 0.0035),
        "tp2": ("open", 0.0035),
        "tp3": ("open", 0.003),
    }
    account = paper_account(paper_home)
    [position] = account.positions()
    assert (position.side, position.size, position.leverage) == ("long", D("0.01"), 5)
    stops = sorted((s.kind, s.trigger_price, s.size) for s in account.stops("BTCUSDT"))
    assert stops == [
        ("sl", D("65000"), D("0.01")),
        ("tp", D("67000"), D("0.0035")),
        ("tp", D("68000"), D("0.0035")),
        ("tp", D("69000"), D("0.003")),
    ]
    assert ledger(paper_home) == [("v5:BTCUSDT:1h:2026-02-19T17:00:00Z", "placed")]
    events = [(e["event"], e["record"]["role"]) for e in orders_log(paper_home)]
    assert events == [("sent", r) for r in ("entry", "sl", "tp1", "tp2", "tp3")]


def test_a_rerun_of_the_same_plan_is_a_duplicate_and_sends_nothing(paper_home: Path) -> None:
    first = executions(tk_exec("--paper", stdin=lines(approved())))[0]
    second = executions(tk_exec("--paper", stdin=lines(approved())))[0]
    assert second["status"] == "duplicate"
    assert second["reasons"] == [
        "already handled (placed) under this idempotency key",
        "nothing sent",
    ]
    assert second["orders"] == first["orders"]
    account = paper_account(paper_home)
    assert account.positions()[0].size == D("0.01")
    assert len(account.stops("BTCUSDT")) == 4
    assert len(orders_log(paper_home)) == 5


def test_paper_short_and_manage_actions(paper_home: Path) -> None:
    assert executions(tk_exec("--paper", stdin=lines(short())))[0]["status"] == "placed"

    def manage(cycle: str, action: str, **extra: Any) -> dict[str, Any]:
        record = {
            "tradePlanVersion": 1,
            "cycleId": cycle,
            "plan": {"symbol": "BTCUSDT", "action": action, **extra},
            "risk": {"approved": True},
        }
        [execution] = executions(tk_exec("--paper", stdin=lines(record)))
        return execution

    reduce = manage("m1", "reduce", reducePct=50)
    assert reduce["status"] == "placed" and reduce["orders"][0]["side"] == "buy"
    account = paper_account(paper_home)
    assert account.positions()[0].size == D("0.005")

    entry = account.positions()[0].entry_price
    moved = manage("m2", "move_sl_to_be")
    assert moved["status"] == "placed", moved
    stop_losses = [s for s in account.stops("BTCUSDT") if s.kind == "sl"]
    assert [s.trigger_price for s in stop_losses] == [(entry * D("0.9995")).quantize(D("0.1"))]

    tps = manage("m3", "set_tp", takeProfits=[D(63000)])
    assert tps["status"] == "placed", tps
    take_profits = [(s.trigger_price, s.size) for s in account.stops("BTCUSDT") if s.kind == "tp"]
    assert take_profits == [(D(63000), D("0.005"))]

    assert manage("m4", "close")["status"] == "placed"
    assert account.positions() == []
    nothing = manage("m5", "reduce", reducePct=50)
    assert nothing["status"] == "rejected" and nothing["reasons"] == ["no open BTCUSDT position"]


def test_a_limit_entry_rests_with_its_stop_loss_attached(paper_home: Path) -> None:
    record = approved(entry={"type": "limit", "price": D(60000)})
    record["risk"]["entryPrice"] = D(60000)
    record["risk"]["stopLoss"] = D(59000)
    [execution] = executions(tk_exec("--paper", stdin=lines(record)))
    assert execution["status"] == "placed"
    entry, sl = execution["orders"][:2]
    assert (entry["type"], entry["price"], entry["state"], entry["stopLoss"]) == (
        "limit",
        60000,
        "open",
        59000,
    )
    assert sl["state"] == "attached"
    assert "arms on the fill" in execution["reasons"][0]
    assert paper_account(paper_home).positions() == []


# -- live: ccxt -> the Bitget emulator ---------------------------------------------------------


def test_live_through_ccxt_places_the_bundle_on_the_exchange(
    emulator: Any, live: dict[str, str], home: Path
) -> None:
    result = tk_exec("--live", stdin=lines(approved()), env=live)
    assert result.returncode == 0, result.stderr
    [execution] = executions(result)
    assert execution["mode"] == "live" and execution["status"] == "placed", execution
    position = venue_position(emulator)
    assert (position.side, position.size) == ("long", D("0.01"))
    [sl] = venue_orders(emulator, "sl")
    assert (sl.plan_type, sl.trigger_price, sl.size, sl.open) == (
        "pos_loss",
        D(65000),
        D("0.01"),
        True,
    )
    assert [o.size for o in venue_orders(emulator, "tp1") + venue_orders(emulator, "tp3")] == [
        D("0.0035"),
        D("0.003"),
    ]
    assert emulator.emulator.engine.settings("BTCUSDT").leverage == 5
    assert all(o["exchangeId"] for o in execution["orders"])
    for secret in live.values():  # keys never reach output, logs or the database
        assert secret not in result.stdout + result.stderr
        for path in [*home.glob("logs/*.jsonl"), home / "tradekit.db"]:
            assert secret.encode() not in path.read_bytes()


CRASH_POINTS = [
    "configured",
    "entry-sent",
    "entry-recorded",
    "sl-sent",
    "sl-recorded",
    "tp1-sent",
    "tp1-recorded",
    "tp2-sent",
    "tp2-recorded",
    "tp3-sent",
    "tp3-recorded",
]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_crash_at_any_step_is_finished_by_the_next_run_without_a_second_order(
    emulator: Any, live: dict[str, str], home: Path, point: str
) -> None:
    crashed = tk_exec("--live", stdin=lines(approved()), env={**live, "TK_TEST_CRASH_AT": point})
    assert crashed.returncode == -9, crashed.stderr  # SIGKILL: no cleanup ran
    assert ledger(home) == [("v5:BTCUSDT:1h:2026-02-19T17:00:00Z", "pending")]

    rerun = tk_exec("--live", stdin=lines(approved()), env=live)
    assert rerun.returncode == 0, rerun.stderr
    assert "unfinished order bundle" in rerun.stderr
    [execution] = executions(rerun)
    assert execution["status"] == "duplicate"
    assert [o["state"] for o in execution["orders"]] == ["closed", "open", "open", "open", "open"]
    for role in ("entry", "sl", "tp1", "tp2", "tp3"):
        assert len(venue_orders(emulator, role)) == 1, role
    assert venue_position(emulator).size == D("0.01")
    assert ledger(home) == [("v5:BTCUSDT:1h:2026-02-19T17:00:00Z", "placed")]


def test_a_crash_before_the_entry_is_not_acted_on_once_stale(
    emulator: Any, live: dict[str, str], home: Path
) -> None:
    crashed = tk_exec(
        "--live", stdin=lines(approved()), env={**live, "TK_TEST_CRASH_AT": "configured"}
    )
    assert crashed.returncode == -9
    later = {**live, "TK_NOW": "2026-11-20T10:05:00Z"}  # five minutes on: stale (120 s)
    rerun = tk_exec("--live", stdin="", env=later)
    assert rerun.returncode == 0, rerun.stderr
    assert "never reached the exchange" in rerun.stderr
    assert venue_orders(emulator, "entry") == [] and venue_position(emulator) is None
    assert ledger(home) == [("v5:BTCUSDT:1h:2026-02-19T17:00:00Z", "failed")]


def test_twenty_concurrent_runs_of_one_plan_open_one_position(
    emulator: Any, live: dict[str, str], home: Path
) -> None:
    stdin = lines(approved())
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: tk_exec("--live", stdin=stdin, env=live), range(20)))
    assert all(r.returncode == 0 for r in results), [
        (r.returncode, r.stderr) for r in results if r.returncode != 0
    ]
    statuses = sorted(executions(r)[0]["status"] for r in results)
    assert statuses == ["duplicate"] * 19 + ["placed"]
    assert len(venue_orders(emulator, "entry")) == 1
    assert len(venue_orders(emulator, "sl")) == 1
    assert venue_position(emulator).size == D("0.01")


# -- faults ------------------------------------------------------------------------------------


def arm(emulator: Any, kind: str, path: str, **fault: Any) -> None:
    emulator.emulator.faults.arm(Fault(kind, path=path, **fault))


def test_a_timeout_on_the_entry_is_resolved_by_clientoid(
    emulator: Any, live: dict[str, str]
) -> None:
    arm(emulator, "delay", PLACE, delay_ms=1500)  # ccxt gives up after 1000 ms
    result = tk_exec("--live", stdin=lines(approved()), env=live)
    [execution] = executions(result)
    assert execution["status"] == "placed", (execution, result.stderr)
    assert len(venue_orders(emulator, "entry")) == 1
    assert venue_orders(emulator, "sl")[0].size == D("0.01")


@pytest.mark.parametrize("text", [False, True], ids=["json-429", "plain-text-429"])
def test_a_429_is_retried(emulator: Any, live: dict[str, str], text: bool) -> None:
    arm(emulator, "http", PLACE, status=429, code="429", msg="Too Many Requests", text=text)
    [execution] = executions(tk_exec("--live", stdin=lines(approved()), env=live))
    assert execution["status"] == "placed"
    assert len(venue_orders(emulator, "entry")) == 1


def test_a_lasting_429_fails_the_plan_with_exit_75_and_the_next_run_finishes_it(
    emulator: Any, live: dict[str, str], home: Path
) -> None:
    arm(emulator, "http", PLACE, status=429, code="429", msg="Too Many Requests", times=10)
    result = tk_exec("--live", stdin=lines(approved()), env=live)
    assert result.returncode == 75, result.stderr
    [execution] = executions(result)
    assert execution["status"] == "failed"
    assert "next tk-exec run" in execution["reasons"][1]
    assert venue_orders(emulator, "entry") == []
    emulator.emulator.faults.clear()
    rerun = tk_exec("--live", stdin=lines(approved()), env=live)
    assert rerun.returncode == 0, rerun.stderr
    assert executions(rerun)[0]["status"] == "duplicate"
    assert len(venue_orders(emulator, "entry")) == 1 and len(venue_orders(emulator, "sl")) == 1
    assert ledger(home)[0][1] == "placed"


def test_a_5xx_on_the_stop_loss_is_retried(emulator: Any, live: dict[str, str]) -> None:
    # a gateway's 502: no Bitget JSON, so nothing says whether the order got through
    arm(emulator, "http", PLACE_STOP, status=502, msg="Bad Gateway", text=True)
    [execution] = executions(tk_exec("--live", stdin=lines(approved()), env=live))
    assert execution["status"] == "placed"
    assert len(venue_orders(emulator, "sl")) == 1


def test_a_stop_loss_that_cannot_be_placed_closes_the_position(
    emulator: Any, live: dict[str, str]
) -> None:
    arm(emulator, "http", PLACE_STOP, status=503, msg="Unavailable", text=True, times=10)
    result = tk_exec("--live", stdin=lines(approved()), env=live)
    [execution] = executions(result)
    assert execution["status"] == "failed"
    assert execution["reasons"][-1].startswith("stop-loss failed: place stop: ExchangeNotAvailable")
    assert execution["reasons"][-1].endswith("position closed (1 order(s))")
    assert venue_position(emulator) is None  # never an unprotected position
    assert len(venue_orders(emulator, "entry")) == 1


def test_a_dropped_answer_is_found_by_clientoid(emulator: Any, live: dict[str, str]) -> None:
    arm(emulator, "drop_response", PLACE)
    [execution] = executions(tk_exec("--live", stdin=lines(approved()), env=live))
    assert execution["status"] == "placed"
    assert len(venue_orders(emulator, "entry")) == 1


def test_a_dropped_answer_on_the_stop_loss_is_found_by_clientoid(
    emulator: Any, live: dict[str, str]
) -> None:
    arm(emulator, "drop_response", PLACE_STOP)
    [execution] = executions(tk_exec("--live", stdin=lines(approved()), env=live))
    assert execution["status"] == "placed"
    assert len(venue_orders(emulator, "sl")) == 1


def test_a_partial_fill_gets_a_stop_loss_for_what_filled(
    emulator: Any, live: dict[str, str]
) -> None:
    arm(emulator, "partial_fill", PLACE, ratio=D("0.4"))
    [execution] = executions(tk_exec("--live", stdin=lines(approved()), env=live))
    assert execution["status"] == "placed", execution
    entry = execution["orders"][0]
    assert entry["filled"] == 0.004 and "the rest canceled" in entry["note"]
    assert venue_position(emulator).size == D("0.004")
    assert venue_orders(emulator, "sl")[0].size == D("0.004")
    assert sum(o.size for r in ("tp1", "tp2", "tp3") for o in venue_orders(emulator, r)) == D(
        "0.004"
    )


def test_a_rejected_entry_is_rejected_and_sends_nothing_else(
    emulator: Any, live: dict[str, str], home: Path
) -> None:
    arm(
        emulator,
        "code",
        PLACE,
        code="40762",
        msg="The order size is greater than the max open size",
    )
    result = tk_exec("--live", stdin=lines(approved()), env=live)
    assert result.returncode == 0
    [execution] = executions(result)
    assert execution["status"] == "rejected"
    assert "40762" in execution["reasons"][0]
    assert venue_position(emulator) is None and venue_orders(emulator, "sl") == []
    assert ledger(home)[0][1] == "rejected"


def test_a_rejected_stop_loss_closes_the_position(emulator: Any, live: dict[str, str]) -> None:
    arm(emulator, "code", PLACE_STOP, code="40017", msg="Parameter verification failed")
    [execution] = executions(tk_exec("--live", stdin=lines(approved()), env=live))
    assert execution["status"] == "failed"
    assert "stop-loss refused" in execution["reasons"][-1]
    assert venue_position(emulator) is None


def test_an_unreachable_exchange_blocks_new_plans_until_the_old_bundle_is_resolved(
    emulator: Any, live: dict[str, str], home: Path
) -> None:
    crashed = tk_exec(
        "--live", stdin=lines(approved()), env={**live, "TK_TEST_CRASH_AT": "entry-sent"}
    )
    assert crashed.returncode == -9
    arm(emulator, "http", None, status=503, code="503", msg="Unavailable", times=1000)
    other = approved(
        "v5:BTCUSDT:1h:2026-02-19T18:00:00Z", side="short", stop_loss="67500", take_profits=()
    )
    result = tk_exec("--live", stdin=lines(other), env=live)
    assert result.returncode == 69, result.stderr
    [execution] = executions(result)
    assert execution["status"] == "failed"
    assert execution["reasons"][0].startswith("not sent: an unfinished order bundle")
    emulator.emulator.faults.clear()
    assert len(venue_orders(emulator, "entry")) == 1  # the first plan's only
