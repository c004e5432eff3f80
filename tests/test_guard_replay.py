"""A golden replay: one scripted day of hourly BTCUSDT bars on the paper account, a plan
opened by tk-exec at midnight, then tk-guard run once an hour at fixed --now times, as cron
would. Every event of the day is compared with tests/replays/guard-day.jsonl (reviewed by
hand; `pytest --update-golden` rewrites it: review the diff).

The day: up 1 % (the stop moves to break-even), through the first take-profit (the exchange
takes 35 %, the guard resizes the stop), up 2.7 % (the trailing stop takes over and moves
up with the price), back down through the trail (the exchange's stop fires: recorded with
its real fill and profit), then flat.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, record_approvals, script

GOLDEN = ROOT / "tests" / "replays" / "guard-day.jsonl"
DAY_MS = 1772409600000  # 2026-03-02T00:00:00Z
HOUR_MS = 3_600_000
#: hour (the bar's open, from midnight) -> open, high, low, close
BARS = {
    -3: (59900, 60050, 59850, 59950),
    -2: (59950, 60080, 59900, 60020),
    -1: (60020, 60060, 59960, 60000),  # closes at midnight: the entry's price
    0: (60000, 60320, 59950, 60300),
    1: (60300, 60720, 60280, 60700),  # +1.2 %: break-even
    2: (60700, 61300, 60650, 61250),  # through TP1 at 61200
    3: (61250, 61650, 61200, 61600),  # +2.6 %: the trail arms (61600 x 0.992)
    4: (61600, 62050, 61550, 62000),  # the trail follows (62000 x 0.992 = 61504)
    5: (62000, 62020, 61650, 61700),
    6: (61700, 61720, 61380, 61400),  # through the trail: the stop fires at 61504
    7: (61400, 61450, 61300, 61350),
}
PLAN = {
    "tradePlanVersion": 1, "cycleId": "replay:BTCUSDT:1h:2026-03-02T00:00:00Z", "dryRun": False,
    "plan": {"symbol": "BTCUSDT", "side": "long", "level": "strong", "reason": "replay"},
    "decision": {"blockedByNews": False, "newsReason": []},
    "risk": {
        "approved": True, "reasons": [], "warnings": [], "quantity": 0.01, "leverage": 5,
        "entryPrice": 60000, "stopLoss": 59000, "takeProfits": [61200, 62400, 63600],
    },
}  # fmt: skip
CONFIG = """\
[guard.trailing]
enabled = true
mode = "percent"
activation_pct = 0.025
trail_pct = 0.008
[guard.break_even]
after_profit_pct = 0.01
after_tp1 = false
[risk.sizing]
max_notional = 1000
"""


def at(hour: int) -> str:
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp((DAY_MS + hour * HOUR_MS) / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def tk(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [script(args[0]), *args[1:]], input=stdin, capture_output=True, text=True,
        check=False, env=os.environ, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, (args, result.stderr)
    return result


def test_a_scripted_day_of_one_shot_runs(
    home: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    csv = tmp_path / "day.csv"
    rows = [
        f"{DAY_MS + hour * HOUR_MS},{o},{h},{lo},{c},100" for hour, (o, h, lo, c) in BARS.items()
    ]
    csv.write_text("ts,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    tk("tk", "data", "import", str(csv), "--symbol", "BTCUSDT", "--timeframe", "1h")
    (home / "config.toml").write_text(CONFIG)
    record_approvals(home, json.dumps(PLAN), "paper", at(0))
    opened = tk("tk-exec", "--paper", "--now", at(0), stdin=json.dumps(PLAN) + "\n")
    assert json.loads(opened.stdout)["execution"]["status"] == "placed"
    day: list[dict[str, Any]] = []
    for hour in range(0, 9):
        day += [
            json.loads(line)
            for line in tk("tk-guard", "--paper", "--now", at(hour)).stdout.splitlines()
        ]
    text = "".join(json.dumps(event, sort_keys=True) + "\n" for event in day)
    if request.config.getoption("--update-golden"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
    # what the golden file must say, whatever it was regenerated from
    kinds = [(e["kind"], e.get("reason")) for e in day]
    assert ("move_stop", "break_even") in kinds
    assert ("resized", "partly closed") in kinds
    assert ("move_stop", "trailing") in kinds
    [closed] = [e for e in day if e["kind"] == "closed_on_exchange"]
    assert closed["reason"] == "trailing_stop" and float(closed["pnl"]) > 0
    assert kinds[-1] == ("hold", "no open positions")
