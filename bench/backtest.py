"""tk backtest speed: cold processes over the bundled 1h file (and the bundled 5m file when
it is there), bars per second once started, memory peak.

    .venv/bin/python bench/backtest.py [--runs N]

Cases (each a fresh TK_HOME with the candles imported; the timed part is the process):
- v5 with examples/backtest-v5.toml over the whole 19,261-bar 1h file (target <= 1 s);
- a DSL EMA cross (12/26, stop 2 ATR: the DSL's stops are ATR-based, so the issue's
  "2 % stop" is approximated) over tests/data/ohlcv/BTCUSDT-5m-...csv (143,900
  bars; target <= 1.5 s), only if that file exists beside the checkout: it is not bundled.
For each: wall time of `tk backtest ... --json` (best of N), the bars stepped through
(bars where a position or an order lived, or a plan came), bars per second over the
run's own time (wall minus the start-up `tk backtest --help` takes), peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ONE_HOUR = ROOT / "tests/data/ohlcv/BTCUSDT-1h-bybitfutures-mohsenjfar_trade.csv"
FIVE_MIN = ROOT / "tests/data/ohlcv/BTCUSDT-5m-binancefutures-cyft_trader.csv"
EMA_CROSS = {
    "name": "ema-cross-2pct",
    "side": "both",
    "features": [
        {"name": "fast", "kind": "ema", "period": 12},
        {"name": "slow", "kind": "ema", "period": 26},
    ],
    "entryLong": "fast > slow",
    "entryShort": "fast < slow",
    "risk": {"stopAtr": 2.0, "tpAtr": 40, "maxHold": 3000, "cooldownBars": 0},
}
NO_CAPS = "[risk]\nmax_trades_per_day = 0\ndaily_loss_cap_usdt = 0\n"


def child_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def timed(args: list[str], env: dict[str, str]) -> tuple[float, bytes]:
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, check=True)
    return time.perf_counter() - start, done.stdout


def case(name: str, csv: Path, timeframe: str, args: list[str], *, config: str, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="tk-bench-backtest-") as tmp:
        home = Path(tmp) / "home"
        env = {**os.environ, "TK_HOME": str(home), "TZ": "UTC"}
        tk = str(BIN / "tk")
        subprocess.run([tk, "init", "-q"], env=env, check=True, capture_output=True)
        subprocess.run([tk, "data", "import", "-q", str(csv)], env=env, check=True)
        (home / "config.toml").write_text(config)
        spec = Path(tmp) / "spec.json"
        spec.write_text(json.dumps(EMA_CROSS))
        command = [tk, "backtest", *[a.replace("SPEC", str(spec)) for a in args], "--json"]
        startup = min(timed([tk, "backtest", "--help"], env)[0] for _ in range(runs))
        walls = []
        for _ in range(runs):
            shutil.rmtree(home / "backtests", ignore_errors=True)
            wall, out = timed(command, env)
            walls.append(wall)
        summary = json.loads(out)
        wall = min(walls)
        stepped = summary["barsStepped"]
        print(
            f"{name}: {summary['bars']} {timeframe} bars, {stepped} stepped, "
            f"{summary['trades']} trades; cold wall {wall:.2f} s (best of {runs}; "
            f"start-up {startup:.2f} s); {summary['bars'] / max(wall - startup, 1e-9):,.0f} "
            f"bars/s, {stepped / max(wall - startup, 1e-9):,.0f} stepped bars/s; "
            f"peak RSS {child_peak_rss_mb():.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    config = (ROOT / "examples/backtest-v5.toml").read_text()
    window = ["--from", "2024-01-01", "--to", "2026-02-08T13:00:00Z"]
    case("v5 1h (target 1 s)", ONE_HOUR, "1h", ["v5", *window], config=config, runs=options.runs)
    if FIVE_MIN.exists():
        five = ["dsl", "--spec", "SPEC", "--from", "2023-01-03", "--to", "2024-05-14"]
        name = "dsl ema-cross 5m (target 1.5 s)"
        case(name, FIVE_MIN, "5m", five, config=NO_CAPS, runs=options.runs)
    else:
        print(f"dsl ema-cross 5m: skipped, {FIVE_MIN} is not there (not bundled)")


if __name__ == "__main__":
    main()
