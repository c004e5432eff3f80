"""tk-risk over a table of plans x account states, against a reviewed golden file.

Every account state of test_risk_rules.RULES (each makes one rule fire), a clean account,
and one with all of them at once, crossed with plans of every kind: long, short, a limit
range, no stop-loss (the ATR default), risk sizing, bad fields, a manage action, and
`plan: null`. tests/golden/risk-table.jsonl holds one line per pair; `pytest
--update-golden` rewrites it (review the diff: each line is a decision).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from test_risk_rules import BASE_SNAP, NOW, RULES, SETTINGS, plan

from tradekit import jsonio
from tradekit.records import TradePlan
from tradekit.risk.rules import assess

GOLDEN = Path(__file__).parent / "golden" / "risk-table.jsonl"

PLANS: dict[str, TradePlan] = {
    "long": plan(),
    "short": plan(side="short", stopLoss=61000, takeProfits=[59000, 58000]),
    "limit range": plan(entry={"type": "limit", "low": 59900, "high": 60100}),
    "no stop-loss": plan(stopLoss=None, takeProfits=None),
    "very strong, 20x": plan(level="very-strong", leverage=20),
    "stop on the winning side": plan(stopLoss=61000),
    "no side": plan(side=None),
    "close": plan(action="close", side=None, stopLoss=None, takeProfits=None),
    "null": TradePlan.model_validate({"tradePlanVersion": 1, "cycleId": "c", "plan": None}),
}


def _states() -> dict[str, dict[str, dict[str, Any]]]:
    states: dict[str, dict[str, dict[str, Any]]] = {"clean": {}}
    everything: dict[str, dict[str, Any]] = {"settings": {}, "snap": {}}
    for name, plan_changes, state, _reason in RULES:
        if plan_changes or not state or name == "allow list":
            continue  # plan-side rules are the plans' job; the allow list hides the rest
        states[name] = state
        for part in ("settings", "snap"):
            everything[part].update(state.get(part, {}))
    states["everything at once"] = everything
    states["risk sizing"] = {"settings": {"sizing": {"mode": "risk"}}}
    return states


def table() -> bytes:
    lines = []
    for account, state in _states().items():
        settings = SETTINGS.model_validate({**SETTINGS.model_dump(), **state.get("settings", {})})
        snap = replace(BASE_SNAP, **state.get("snap", {}))
        for name, record in PLANS.items():
            block = assess(record, snap, settings, NOW)
            risk = None if block is None else block.to_json_dict()
            lines.append(jsonio.dumps({"account": account, "plan": name, "risk": risk}))
    return b"\n".join(lines) + b"\n"


def test_the_risk_table_matches_its_golden_file(request: pytest.FixtureRequest) -> None:
    got = table()
    if request.config.getoption("--update-golden"):
        GOLDEN.write_bytes(got)
    assert got.decode() == GOLDEN.read_text()


def test_the_table_covers_every_rule_alone_and_all_together() -> None:
    rows = [jsonio.loads(line) for line in GOLDEN.read_bytes().splitlines()]
    long = {row["account"]: row["risk"] for row in rows if row["plan"] == "long"}
    assert long["clean"]["approved"] is True
    alone = [name for name in long if name not in ("clean", "everything at once", "risk sizing")]
    for name in alone:
        assert len(long[name]["reasons"]) == 1, (name, long[name]["reasons"])
    # margin needs sizing, and with no price at all there is none to be stale
    assert len(long["everything at once"]["reasons"]) >= len(alone) - 2
    assert all(row["risk"] is None for row in rows if row["plan"] == "null")


def test_every_risk_result_is_a_valid_risk_block_written_the_same_way() -> None:
    from tradekit.records import RiskBlock

    for line in table().splitlines():
        risk = jsonio.loads(line)["risk"]
        if risk is not None:
            assert RiskBlock.model_validate(risk).to_json_dict() == risk
