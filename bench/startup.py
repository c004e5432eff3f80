"""Start-up benchmark for the tradekit stage commands.

Measures wall time (median and min over N runs, in milliseconds) of:

1. `CMD --help` for every stage command (tk-signal ... tk-report);
2. pushing ONE valid record of the stage's input kind through it (stdin -> stdout);
3. the pipe `tk-signal v5 --data examples/BTCUSDT-1h.csv | tk-news-gate | tk-risk | tk-exec`
   and `tk-signal v5 --replay` over the bundled candles (bars per second, start-up included)
   run through `bash -c`, next to `python -c pass` as the interpreter floor;
4. whether `ccxt` is imported by tk-risk handling one record (`python -X importtime`);
   it must not be, and the script exits 1 if it is.

Every command runs with TK_HOME set to a temporary directory (made fresh for each
benchmark run) and TK_NOW=2026-11-20T10:00:00Z; a failing command has its stderr
printed and the script exits 1.

Run:  make bench   or   .venv/bin/python bench/startup.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "examples" / "plans.jsonl"
PLAN = PLANS.read_text(encoding="utf-8").splitlines()[1] + "\n"  # a record with a plan
TELEGRAM = (
    '{"record":"telegram_message","channel":"IvanCryptotalk","messageId":48213,'
    '"date":"2026-11-20T09:00:00Z","text":"ETH 多 3120-3150 止损 3060 目标 3250/3380"}\n'
)
GUARD = '{"record":"guard_event","ts":"2026-11-20T09:00:00Z","kind":"hold","symbol":"BTCUSDT"}\n'
#: stage command -> one valid line of its input kind
STAGES = {
    "tk-signal": "",
    "tk-news-gate": PLAN,
    "tk-parse-tg": TELEGRAM,
    "tk-risk": PLAN,
    "tk-exec": PLAN,
    "tk-guard": GUARD,
    "tk-report": PLAN,
}
SIGNAL_ARGS = ["v5", "--data", "examples/BTCUSDT-1h.csv"]
PIPE = "tk-signal v5 --data examples/BTCUSDT-1h.csv | tk-news-gate | tk-risk | tk-exec --dry-run"
REPLAY = ["v5", "--data", "examples/BTCUSDT-1h.csv", "--replay", "2025-01-01", "2027-01-01"]


def find_script(name: str) -> str:
    """The console script next to the running interpreter, else the one on PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        sys.exit(f"startup.py: cannot find {name} next to {sys.executable} or on PATH")
    return found


def run(argv: list[str], env: dict[str, str], stdin: str = "") -> tuple[float, str]:
    """Run once; return (wall time in ms, stderr). Exit 1 if the command fails."""
    start = time.perf_counter()
    proc = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    elapsed = (time.perf_counter() - start) * 1000
    if proc.returncode != 0:
        sys.stderr.write(f"startup.py: {argv} exited {proc.returncode}:\n{proc.stderr}")
        sys.exit(1)
    if not proc.stdout.strip() and "--help" not in argv and "pass" not in argv:
        sys.exit(f"startup.py: {argv} wrote nothing on stdout")
    return elapsed, proc.stderr


def timed(argv: list[str], env: dict[str, str], runs: int, stdin: str = "") -> dict[str, float]:
    times = [run(argv, env, stdin)[0] for _ in range(runs)]
    return {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1)}


def measure(runs: int, home: str) -> dict:
    env = {**os.environ, "TK_HOME": home, "TK_NOW": "2026-02-19T18:00:00Z"}
    bindir = str(Path(find_script("tk-risk")).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")  # the pipe uses these scripts
    scripts = {name: find_script(name) for name in STAGES}
    venv_python = Path(bindir) / "python"  # the interpreter the scripts run under
    python = str(venv_python) if venv_python.exists() else sys.executable
    exec_args = {"tk-exec": ["--dry-run"], "tk-signal": SIGNAL_ARGS}
    result: dict = {"runs": runs, "help": {}, "one_record": {}}
    for name, script in scripts.items():
        result["help"][name] = timed([script, "--help"], env, runs)
    for name, line in STAGES.items():
        argv = [scripts[name], *exec_args.get(name, [])]
        result["one_record"][name] = timed(argv, env, runs, stdin=line)
    result["pipe"] = timed(["bash", "-o", "pipefail", "-c", PIPE], env, runs)
    result["python_floor"] = timed([python, "-c", "pass"], env, runs)
    replay = timed([scripts["tk-signal"], *REPLAY], env, runs)
    bars = sum(1 for _ in (ROOT / "examples" / "BTCUSDT-1h.csv").open()) - 1
    result["replay"] = {**replay, "bars": bars}
    _, trace = run([python, "-X", "importtime", scripts["tk-risk"]], env, PLAN)
    modules = [ln.rsplit("|", 1)[-1].strip() for ln in trace.splitlines() if "|" in ln]
    result["imported_modules"] = len(modules)
    result["ccxt_imported"] = any(m.split(".")[0] == "ccxt" for m in modules)
    return result


def table(result: dict) -> str:
    rows = [("--help", "", "")]
    for name, t in result["help"].items():
        rows.append((f"  {name} --help", f"{t['median_ms']:.1f}", f"{t['min_ms']:.1f}"))
    rows.append(("one record (stdin -> stdout; tk-signal: one evaluation)", "", ""))
    for name, t in result["one_record"].items():
        rows.append((f"  {name}", f"{t['median_ms']:.1f}", f"{t['min_ms']:.1f}"))
    rows.append(("pipeline", "", ""))
    for label, key in ((f"  {PIPE}", "pipe"), ("  python -c pass (floor)", "python_floor")):
        rows.append((label, f"{result[key]['median_ms']:.1f}", f"{result[key]['min_ms']:.1f}"))
    width = max(len(r[0]) for r in rows)
    lines = [f"{'command (' + str(result['runs']) + ' runs)':<{width}}  median ms    min ms"]
    lines.append("-" * len(lines[0]))
    lines += [f"{a:<{width}}  {b:>9}  {c:>8}".rstrip() for a, b, c in rows]
    replay = result["replay"]
    lines.append(
        f"tk-signal v5 --replay, {replay['bars']} bars: {replay['median_ms']:.0f} ms median "
        f"incl. start-up = {replay['bars'] / replay['median_ms'] * 1000:,.0f} bars/s"
    )
    ccxt = "YES (must not!)" if result["ccxt_imported"] else "no"
    lines.append("")
    lines.append(f"tk-risk, one record: {result['imported_modules']} modules imported")
    lines.append(f"ccxt imported: {ccxt}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per command (default 10)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="tk-bench-") as home:
        result = measure(args.runs, home)
    sys.stdout.write(json.dumps(result) + "\n" if args.json else table(result))
    if result["ccxt_imported"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
