"""The trust boundary between tk-risk and tk-exec: tk-exec acts only on a risk block that
tk-risk of the same home recorded, in the same mode, recently, and re-checks the hard
limits itself. Every plan here goes through the real tk-risk first, then is forged."""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, init_home, record_approvals, script
from test_tk_exec import executions, lines, orders_log, paper_account, tk_exec
from test_tk_risk import MARKET_NOW, NOW_MS, plan, run

from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore

ALTERED = "differs from what tk-risk approved for cycleId c1 (altered)"
TEN_MINUTES_EARLIER = "2026-02-19T17:50:00Z"


@pytest.fixture(autouse=True)
def market_now(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every run as of the bundled candles' last close, when their prices are fresh."""
    monkeypatch.setenv("TK_NOW", MARKET_NOW)


def with_candles(home: Path) -> None:
    CandleStore(home / "data").merge(
        read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "BTCUSDT", "1h")
    )


def risked(*args: str, stdin: str, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """tk-risk ARGS < stdin: the records it wrote."""
    result = run("tk-risk", *args, stdin=stdin, env=env)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def intents(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "tradekit.db") as db:
        return db.execute("SELECT cycle_id, status FROM intents ORDER BY created_ms").fetchall()


def approvals(home: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(home / "tradekit.db") as db:
        return db.execute(
            "SELECT cycle_id, mode, approved_ms FROM approvals ORDER BY cycle_id, mode"
        ).fetchall()


def exec_unapproved(*args: str, stdin: str) -> Any:
    """tk-exec with no approval recorded for it: only what tk-risk recorded counts."""
    return tk_exec(*args, stdin=stdin, approve=None)


def edit(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set one field (`risk.quantity`, `plan.side`, `cycleId`) of a record."""

    def change(record: dict[str, Any]) -> None:
        *parents, name = path.split(".")
        target = record
        for parent in parents:
            target = target.setdefault(parent, {})
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value

    return change


def hand_written(record: dict[str, Any]) -> None:
    """The issue's example: a block nobody approved, 100x and a stop past liquidation."""
    record["cycleId"] = "hand:1"
    record["risk"] = {
        "approved": True, "reasons": [], "warnings": [], "quantity": 0.5, "leverage": 100,
        "entryPrice": 66336.1, "stopLoss": 1000, "takeProfits": [70000],
    }  # fmt: skip


def issue_block_on_the_real_cycle(record: dict[str, Any]) -> None:
    record["risk"].update(leverage=100, stopLoss=1000, quantity=0.5)


def flipped(record: dict[str, Any]) -> None:
    """The line tk-risk blocked, edited to approved."""
    record.update(copy.deepcopy(BLOCKED[0]))
    record["risk"].update(approved=True, reasons=[])


def approved_elsewhere(record: dict[str, Any]) -> None:
    record.clear()
    record.update(copy.deepcopy(OTHER_HOME[0]))


def approved_in_dry_run(record: dict[str, Any]) -> None:
    record.clear()
    record.update(copy.deepcopy(DRY_RUN[0]))


def approved_too_long_ago(record: dict[str, Any]) -> None:
    record.clear()
    record.update(copy.deepcopy(EARLIER[0]))


def extra_take_profit(record: dict[str, Any]) -> None:
    record["risk"]["takeProfits"] = [*record["risk"]["takeProfits"], 99999]


def forged_manage(record: dict[str, Any]) -> None:
    record.clear()
    record.update(
        {
            "tradePlanVersion": 1,
            "cycleId": "hand:close",
            "plan": {"symbol": "BTCUSDT", "action": "close"},
            "risk": {"approved": True},
        }
    )


NO_APPROVAL = "tk-risk recorded no approval for cycleId"
#: (name, forgery, what the reason must say)
FORGERIES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("hand-written block", hand_written, f"{NO_APPROVAL} hand:1 in this home (paper)"),
    ("the issue's block on an approved cycle", issue_block_on_the_real_cycle, ALTERED),
    ("approved flipped on a blocked plan", flipped, f"{NO_APPROVAL} c-blocked"),
    ("risk.quantity raised", edit("risk.quantity", 0.5), ALTERED),
    ("risk.leverage raised", edit("risk.leverage", 10), ALTERED),
    ("risk.stopLoss moved", edit("risk.stopLoss", 60000), ALTERED),
    ("risk.stopLoss removed", edit("risk.stopLoss", None), ALTERED),
    ("risk.takeProfits changed", edit("risk.takeProfits", [80000]), ALTERED),
    ("a take-profit added", extra_take_profit, ALTERED),
    ("risk.entryPrice changed", edit("risk.entryPrice", 50000), ALTERED),
    ("risk.notional changed", edit("risk.notional", 199), ALTERED),
    ("risk.warnings changed", edit("risk.warnings", ["none"]), ALTERED),
    ("plan.symbol changed", edit("plan.symbol", "ETHUSDT"), ALTERED),
    ("plan.side changed", edit("plan.side", "short"), ALTERED),
    ("plan.level changed", edit("plan.level", "very-strong"), ALTERED),
    ("plan.stopLoss changed", edit("plan.stopLoss", 64000), ALTERED),
    ("plan.leverage set", edit("plan.leverage", 20), ALTERED),
    ("plan.entry made a limit", edit("plan.entry", {"type": "limit", "price": 60000}), ALTERED),
    ("plan.action changed", edit("plan.action", "close"), ALTERED),
    ("replayed for another cycleId", edit("cycleId", "c2"), f"{NO_APPROVAL} c2"),
    ("orders added to the risk block", edit("risk.orders", [{"role": "entry"}]),
     "risk.orders is not written by tk-risk (the block was altered)"),
    ("approved in dry-run, sent in paper", approved_in_dry_run,
     "approval: recorded by tk-risk in dry-run, not in paper"),
    ("approved in another home", approved_elsewhere, f"{NO_APPROVAL} c-home in this home"),
    ("approved too long ago", approved_too_long_ago,
     "approval: expired, tk-risk approved it 600 s ago "
     "([execution] max_approval_age_seconds = 300)"),
    ("a manage plan nobody approved", forged_manage, f"{NO_APPROVAL} hand:close"),
]  # fmt: skip

GENUINE: list[dict[str, Any]] = []
BLOCKED: list[dict[str, Any]] = []
OTHER_HOME: list[dict[str, Any]] = []
DRY_RUN: list[dict[str, Any]] = []
EARLIER: list[dict[str, Any]] = []


@pytest.fixture(scope="module")
def forged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One home: tk-risk --paper approves c1 and blocks c-blocked; other lines come from
    tk-risk in another home, in dry-run and ten minutes ago. Every forgery goes through
    one tk-exec --paper run, then the genuine c1 line through another."""
    root = tmp_path_factory.mktemp("forged")
    home, other = root / "home", root / "other"
    for path in (home, other):
        init_home(path)  # the commands that trade refuse a home tk init did not make
        with_candles(path)
    env = {"TK_HOME": str(home), "TK_NOW": MARKET_NOW}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        # first: the paper account's prices move forward only
        EARLIER[:] = risked("--paper", "--now", TEN_MINUTES_EARLIER, stdin=lines(plan("c-old")))
        blocked = plan("c-blocked", stopLoss=70000)  # above the entry of a long
        genuine, refused = risked("--paper", stdin=lines(plan("c1"), blocked))
        assert genuine["risk"]["approved"] and not refused["risk"]["approved"]
        GENUINE[:], BLOCKED[:] = [genuine], [refused]
        OTHER_HOME[:] = risked("--paper", "--home", str(other), stdin=lines(plan("c-home")))
        DRY_RUN[:] = risked("--equity", "1000", stdin=lines(plan("c-dry")))
        for made in (OTHER_HOME, DRY_RUN, EARLIER):
            assert made[0]["risk"]["approved"], made[0]
        recorded = approvals(home)
        records = []
        for _name, forge, _reason in FORGERIES:
            record = copy.deepcopy(genuine)
            forge(record)
            records.append(record)
        result = exec_unapproved("--paper", stdin=lines(*records))
        assert result.returncode == 0, result.stderr
        after = {
            "intents": intents(home),
            "orders": orders_log(home),
            "positions": paper_account(home).positions(),
            "approvals": approvals(home),
        }
        real = exec_unapproved("--paper", stdin=lines(genuine))
        return {
            "executions": executions(result),
            "recorded": recorded,
            "after": after,
            "genuine": executions(real),
            "home": home,
        }
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.mark.parametrize(
    ("index", "reason"),
    [(i, reason) for i, (_n, _f, reason) in enumerate(FORGERIES)],
    ids=[name for name, _f, _r in FORGERIES],
)
def test_a_forged_altered_replayed_or_foreign_block_is_rejected_naming_why(
    forged: dict[str, Any], index: int, reason: str
) -> None:
    execution = forged["executions"][index]
    assert execution["status"] == "rejected", execution
    assert execution["orders"] == []
    assert "idempotencyKey" not in execution  # never claimed
    assert any(reason in why for why in execution["reasons"]), execution["reasons"]


def test_forgeries_send_nothing_and_leave_the_ledger_as_it_was(forged: dict[str, Any]) -> None:
    assert len(forged["executions"]) == len(FORGERIES) >= 20
    after = forged["after"]
    assert after["intents"] == [] and after["orders"] == [] and after["positions"] == []
    assert after["approvals"] == forged["recorded"]  # nothing recorded or used up
    # tk-risk recorded exactly its approvals: c1 and the one of ten minutes ago (paper)
    # and the dry-run one; neither the blocked plan nor the other home's
    assert [(cycle, mode) for cycle, mode, _ms in forged["recorded"]] == [
        ("c-dry", "dry-run"),
        ("c-old", "paper"),
        ("c1", "paper"),
    ]


def test_the_genuine_plan_still_goes_through_after_its_forgeries(forged: dict[str, Any]) -> None:
    [execution] = forged["genuine"]
    assert execution["status"] == "placed", execution
    assert intents(forged["home"]) == [("c1", "placed")]


# -- the genuine path ------------------------------------------------------------------------


def test_an_approval_is_used_once_and_numbers_may_be_respelled(home: Path) -> None:
    with_candles(home)
    [record] = risked("--paper", stdin=lines(plan("c1")))
    # the same values spelled differently and the keys in another order: the same approval
    text = json.dumps(record, sort_keys=True)
    quantity = f'"quantity": {record["risk"]["quantity"]},'
    plan_stop = '"stopLoss": 65000, "symbol"'
    assert quantity in text and plan_stop in text
    respelled = text.replace(quantity, quantity.replace(",", "000,"))
    respelled = respelled.replace(plan_stop, '"stopLoss": 6.5e4, "symbol"')
    first = executions(exec_unapproved("--paper", stdin=respelled + "\n"))
    assert first[0]["status"] == "placed", first
    again = executions(exec_unapproved("--paper", stdin=lines(record)))
    assert again[0]["status"] == "duplicate"
    assert again[0]["reasons"] == [
        "already handled (placed) under this idempotency key",
        "nothing sent",
    ]
    assert len(paper_account(home).positions()) == 1


def test_dry_run_checks_approvals_too(home: Path) -> None:
    with_candles(home)
    [record] = risked("--equity", "1000", stdin=lines(plan("c1")))
    assert approvals(home) == [("c1", "dry-run", NOW_MS)]
    forged = copy.deepcopy(record)
    forged["risk"]["quantity"] = 1
    result = exec_unapproved(stdin=lines(forged, record))
    assert result.returncode == 0, result.stderr
    bad, good = executions(result)
    assert bad["status"] == "rejected" and ALTERED in bad["reasons"][0]
    assert good["status"] == "dry_run" and good["mode"] == "dry-run"


def test_the_approval_age_is_configurable(home: Path) -> None:
    with_candles(home)
    [record] = risked("--paper", "--now", TEN_MINUTES_EARLIER, stdin=lines(plan("c1")))
    (home / "config.toml").write_text("[execution]\nmax_approval_age_seconds = 900\n")
    [execution] = executions(exec_unapproved("--paper", stdin=lines(record)))
    assert execution["status"] == "placed", execution


# -- the hard limits, checked again whatever the approval says --------------------------------


def test_a_config_lowered_between_tk_risk_and_tk_exec_is_obeyed(home: Path) -> None:
    with_candles(home)
    (home / "config.toml").write_text("[risk]\nmax_leverage = 20\n")
    [record] = risked("--paper", stdin=lines(plan("c1", leverage=20)))
    assert record["risk"]["approved"] and record["risk"]["leverage"] == 20
    assert (record["risk"]["quantity"], record["risk"]["notional"]) == (0.0001, 6.63361)
    (home / "config.toml").write_text(
        "[risk]\nmax_leverage = 10\n[risk.sizing]\nmax_notional = 6\n"
    )
    [execution] = executions(exec_unapproved("--paper", stdin=lines(record)))
    assert execution["status"] == "rejected"
    assert execution["reasons"] == [
        "risk.leverage: 20x is above [risk] max_leverage 10x",
        "risk.quantity: 0.0001 is 6.63 USDT, above [risk.sizing] max_notional 6",
    ]
    assert intents(home) == [] and paper_account(home).positions() == []


def approved_block(cycle: str, **risk: Any) -> dict[str, Any]:
    body = {"approved": True, "reasons": [], "warnings": [], "quantity": 0.001,
            "leverage": 5, "entryPrice": 66336.1, "stopLoss": 65000}  # fmt: skip
    body.update(risk)
    return {**plan(cycle), "risk": body}


@pytest.mark.parametrize(
    ("risk", "reasons"),
    [
        (
            {"leverage": 50, "stopLoss": 60000},
            # 66336.1 - 66336.1 / 50 + 0.4 % (maintenance margin) x 66336.1 = 65274.72
            [
                "risk.stopLoss: stop-loss 60000 is past the liquidation price of about "
                "65274.7 at 50x"
            ],
        ),
        (
            {"leverage": 20, "stopLoss": 70000},
            ["risk.stopLoss is on the winning side of risk.entryPrice"],
        ),
        (
            {"leverage": 150, "stopLoss": 66300},
            [
                "risk.leverage: 150x is above [risk] max_leverage 125x",
                "risk.leverage: 150x is above the BTCUSDT maximum 125x",
            ],
        ),
        (
            {"quantity": 0.01},
            ["risk.quantity: 0.01 is 663.36 USDT, above [risk.sizing] max_notional 200"],
        ),
    ],
    ids=["stop past liquidation", "stop on the winning side", "above the market", "notional"],
)
def test_hard_limits_reject_even_a_recorded_approval(
    home: Path, risk: dict[str, Any], reasons: list[str]
) -> None:
    with_candles(home)
    (home / "config.toml").write_text("[risk]\nmax_leverage = 125\n")
    record = approved_block("c1", **risk)
    assert record_approvals(home, lines(record), "paper") == 1  # as tk-risk records them
    [execution] = executions(exec_unapproved("--paper", stdin=lines(record)))
    assert (execution["status"], execution["reasons"]) == ("rejected", reasons)
    assert intents(home) == [] and orders_log(home) == []
    assert paper_account(home).positions() == []


def test_tk_risk_blocks_a_stop_past_the_liquidation_price(home: Path) -> None:
    with_candles(home)
    (home / "config.toml").write_text("[risk]\nmax_leverage = 50\n")
    [record] = risked("--paper", stdin=lines(plan("c1", leverage=50, stopLoss=60000)))
    assert record["risk"]["approved"] is False
    assert (
        "stop-loss 60000 is past the liquidation price of about 65274.7 at 50x"
        in record["risk"]["reasons"]
    )
    assert approvals(home) == []


def test_an_approval_is_committed_before_tk_risk_writes_its_line(home: Path) -> None:
    """On a pipe, tk-exec may read the line the moment it is written: the approval must be
    in the database by then, not when tk-risk ends."""
    with_candles(home)
    risk = subprocess.Popen(
        [script("tk-risk"), "--equity", "1000"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert risk.stdin is not None and risk.stdout is not None
    try:
        risk.stdin.write(lines(plan("c1")))
        risk.stdin.flush()  # and kept open: tk-risk is still running
        record = json.loads(risk.stdout.readline())
        assert record["risk"]["approved"] is True
        assert approvals(home) == [("c1", "dry-run", NOW_MS)]
    finally:
        risk.stdin.close()
        risk.wait(timeout=60)
    assert risk.returncode == 0
