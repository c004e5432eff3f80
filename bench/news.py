"""tk-news-gate with a warm cache: the time each plan adds beyond start-up.

    .venv/bin/python bench/news.py [--items N] [--plans P] [--runs R]

A TK_HOME whose cache holds N items published over the last two hours (`tk news fetch`
from a JSONL source, so the gate reads only SQLite) and a calendar file. The gate is run
on 1 plan and on P plans (median of R runs each); (t(P) - t(1)) / (P - 1) is what a plan
costs beyond start-up (target <= 50 ms).
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

NOW_MS = 1771524000000  # 2026-02-19T18:00:00Z
TITLES = [
    "Bitcoin rebounds above $66K as ETF inflows return",
    "比特币现货ETF单日净流入5亿美元，贝莱德增持",
    "Major exchange hacked: $200M in ETH stolen",
    "Fed's Powell: inflation progress uneven, crypto markets watch rate path",
    "以太坊主网升级提案通过",
    "Solana validators ship client upgrade",
]


def plan(i: int) -> str:
    side = "long" if i % 2 else "short"
    symbol = "BTCUSDT" if i % 3 else "ETHUSDT"
    body = {"symbol": symbol, "side": side, "level": "strong", "reason": "bench"}
    return json.dumps({"tradePlanVersion": 1, "cycleId": f"b{i}", "plan": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="tk-bench-news-"))
    env = {**os.environ, "TK_HOME": str(home), "TK_NOW": "2026-02-19T18:00:00Z"}
    env.pop("TK_CONFIG", None)
    with (home / "news.jsonl").open("w") as out:
        for i in range(args.items):
            published = NOW_MS - (i * 7_200_000) // args.items
            title = f"{TITLES[i % len(TITLES)]} #{i}"
            out.write(json.dumps({"id": i, "title": title, "publishedAt": published}) + "\n")
    (home / "calendar.csv").write_text(
        "time_utc,event,importance\n2026-02-19T20:00:00Z,FOMC,high\n2026-02-18T13:30:00Z,CPI,high\n"
    )
    (home / "config.toml").write_text(
        '[news]\nsources = [{ name = "desk", kind = "jsonl", url = "news.jsonl" }]\n'
        '[news.calendar]\nfile = "calendar.csv"\n'
    )
    timed_run(["tk", "news", "fetch"], env)
    gate = ["tk-news-gate"]
    one = (plan(1) + "\n").encode()
    many = "".join(plan(i) + "\n" for i in range(args.plans)).encode()
    t_one = statistics.median(timed_run(gate, env, one) for _ in range(args.runs))
    t_many = statistics.median(timed_run(gate, env, many) for _ in range(args.runs))
    per_plan = (t_many - t_one) / (args.plans - 1) * 1000
    print(
        f"tk-news-gate, warm cache of {args.items} items: one plan {t_one * 1000:.0f} ms "
        f"(start-up), {args.plans} plans {t_many * 1000:.0f} ms -> {per_plan:.2f} ms per plan "
        f"beyond start-up (target <= 50 ms)"
    )
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
