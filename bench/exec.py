"""tk-exec dry-run latency per plan.

    .venv/bin/python bench/exec.py [--plans N] [--runs R]

Two figures: the wall time of one `tk-exec --dry-run` run handling one approved plan
(start-up, config, ledger claim, orders journal: what a cron cycle pays), median of R
runs; and the time per plan when N approved plans stream through one run (each one's
approval looked up, its limits checked, claimed in the SQLite ledger and its orders
journaled, as live does before sending). The approvals are recorded beforehand with
tk-risk's own code, so only tk-exec is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from common import record_approvals, timed_run

NOW = "2026-02-19T18:00:00Z"


def approved(i: int) -> dict:
    return {
        "tradePlanVersion": 1,
        "cycleId": f"bench:{i}",
        "plan": {"symbol": "BTCUSDT", "side": "long", "level": "strong", "reason": "bench"},
        "risk": {
            "approved": True,
            "quantity": 0.003,
            "leverage": 5,
            "entryPrice": 66336.1,
            "stopLoss": 65345.3,
            "takeProfits": [67000, 68000, 69000],
        },
    }


def line(record: dict) -> str:
    return json.dumps(record, separators=(",", ":")) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tk-bench-exec-"))
    env = {**os.environ, "TK_HOME": str(work / "home"), "TK_NOW": NOW}
    plans = [approved(-i) for i in range(1, args.runs + 1)]
    batched = [approved(i) for i in range(args.plans)]
    record_approvals(work / "home" / "tradekit.db", plans + batched, "dry-run", NOW)
    single = [timed_run(["tk-exec", "--dry-run"], env, line(plan).encode()) for plan in plans]
    print(
        f"one plan per run: median {statistics.median(single) * 1000:.0f} ms "
        f"(min {min(single) * 1000:.0f} ms) over {args.runs} runs"
    )
    batch = "".join(line(plan) for plan in batched).encode()
    elapsed = timed_run(["tk-exec", "--dry-run"], env, batch)
    print(
        f"{args.plans} plans in one run: {elapsed:.2f} s, "
        f"{elapsed / args.plans * 1e6:.0f} us per plan ({args.plans / elapsed:,.0f} plans/s)"
    )
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
