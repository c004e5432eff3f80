"""tk-parse-tg throughput after start-up.

    .venv/bin/python bench/parse_tg.py [--posts N] [--runs R]

N posts (the dev set's, each copy tagged with its own `SIGNAL ID: #n` line, which the parser
reads as a comment) go through `tk-parse-tg --text` into a file, with the decisions audit
on; one post goes through the same way. Throughput = (N - 1) / (time(N) - time(1)), best
of R runs each, in wall time and in CPU time (user + system of the child): the VM is
shared, so the CPU figure is the steadier one. Target: >= 5,000 posts/s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEV_SET = ROOT / "tests" / "data" / "telegram" / "dev-set.jsonl"


def make_posts(path: Path, count: int) -> None:
    texts = [json.loads(line)["text"] for line in DEV_SET.read_text("utf-8").splitlines()]
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            post = texts[n % len(texts)] + f"\nSIGNAL ID: #{n}"
            out.write(post.replace("\n", "\\n") + "\n")


def timed(posts: Path, home: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with posts.open("rb") as stdin, (home / "out.jsonl").open("wb") as stdout:
        subprocess.run(
            [str(BIN / "tk-parse-tg"), "--text", "--channel", "bench", "-q"],
            stdin=stdin,
            stdout=stdout,
            check=True,
            env={**os.environ, "TK_HOME": str(home), "TK_NOW": "2026-11-20T10:00:00Z"},
        )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        one, many = root / "one.txt", root / "many.txt"
        make_posts(one, 1)
        make_posts(many, args.posts)
        best: dict[str, list[float]] = {"one": [9e9, 9e9], "many": [9e9, 9e9]}
        for run in range(args.runs):
            for name, posts in (("one", one), ("many", many)):
                home = root / f"home-{name}-{run}"
                home.mkdir()
                wall, cpu = timed(posts, home)
                best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    count = args.posts - 1
    wall_rate = count / max(best["many"][0] - best["one"][0], 1e-9)
    cpu_rate = count / max(best["many"][1] - best["one"][1], 1e-9)
    print(
        f"start-up (one post): {best['one'][0] * 1000:.0f} ms wall, "
        f"{best['one'][1] * 1000:.0f} ms CPU"
    )
    print(f"{args.posts} posts: {best['many'][0]:.2f} s wall, {best['many'][1]:.2f} s CPU")
    print(
        f"after start-up: {wall_rate:,.0f} posts/s wall, {cpu_rate:,.0f} posts/s CPU (target 5,000)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
