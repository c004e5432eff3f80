"""tk-exec dry-run latency per plan.

    .venv/bin/python bench/exec.py [--plans N] [--runs R]

Two figures: the wall time of one `tk-exec --dry-run` run handling one approved plan
(start-up, config, ledger claim, orders journal: what a cron cycle pays), median of R
runs; and the time per plan when N approved plans stream through one run (each is
claimed in the SQLite ledger and its orders journaled, as live does before sending).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from common import timed_run


def approved(i: int) -> str:
    return json.dumps(
        {
            "tradePlanVersion": 1,
            "cycleId": f"bench:{i}",
            "plan": {"symbol": "BTCUSDT", "side": "long", "level": "strong", "reason": "bench"},
            "risk": {
                "approved": True,
                "quantity": 0.0153,
                "leverage": 5,
                "entryPrice": 66336.1,
                "stopLoss": 65345.3,
                "takeProfits": [67000, 68000, 69000],
            },
        },
        separators=(",", ":"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tk-bench-exec-"))
    env = {**os.environ, "TK_HOME": str(work / "home"), "TK_NOW": "2026-02-19T18:00:00Z"}
    single = [
        timed_run(["tk-exec", "--dry-run"], env, (approved(-i) + "\n").encode())
        for i in range(1, args.runs + 1)
    ]
    print(
        f"one plan per run: median {statistics.median(single) * 1000:.0f} ms "
        f"(min {min(single) * 1000:.0f} ms) over {args.runs} runs"
    )
    batch = "".join(approved(i) + "\n" for i in range(args.plans)).encode()
    elapsed = timed_run(["tk-exec", "--dry-run"], env, batch)
    print(
        f"{args.plans} plans in one run: {elapsed:.2f} s, "
        f"{elapsed / args.plans * 1e6:.0f} us per plan ({args.plans / elapsed:,.0f} plans/s)"
    )
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
