"""tk-signal replay speed over 19,261 real BTCUSDT 1h bars (tests/data/ohlcv) and their 4h resample.

    .venv/bin/python bench/replay.py [--csv PATH] [--runs N]

Imports the candles into a temporary TK_HOME, then times, for v5:
- in-process: evaluation only, and evaluation + records + JSON lines (bars per second);
- the command `tk-signal v5 --replay ...`, minus the start-up measured by `tk-signal --list`.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore
from tradekit.redact import Redactor
from tradekit.signals import prepare, records
from tradekit.stream import JsonlWriter

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = ROOT / "tests/data/ohlcv/BTCUSDT-1h-bybitfutures-mohsenjfar_trade.csv"
FAR_PAST, FAR_FUTURE = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def best(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tk-replay-") as home:
        store = CandleStore(Path(home) / "data")
        store.merge(read_csv(args.csv, "BTCUSDT", "1h"))
        kwargs = {
            "table": {},
            "config_source": "-",
            "symbol": "BTCUSDT",
            "store": store,
            "data_file": None,
            "now": FAR_FUTURE,
            "replay": (FAR_PAST, FAR_FUTURE),
        }
        bars = len(prepare("v5", **kwargs).rows)

        def evaluate_only() -> None:
            prepare("v5", **kwargs)

        def with_json() -> None:
            writer = JsonlWriter(io.BytesIO(), Redactor())
            writer.write_many(records(prepare("v5", **kwargs), dry_run=False))

        t_eval, t_json = best(evaluate_only, args.runs), best(with_json, args.runs)
        tk_signal = str(Path(sys.executable).parent / "tk-signal")
        env = {**os.environ, "TK_HOME": home}
        cmd = [tk_signal, "v5", "--replay", "2000-01-01", "2100-01-01", "--now", "2100-01-01"]

        def command(argv: list[str]) -> float:
            samples = []
            for _ in range(args.runs):
                start = time.perf_counter()
                subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
                samples.append(time.perf_counter() - start)
            return statistics.median(samples)

        t_cmd, t_start = command(cmd), command([tk_signal, "--list"])
    print(f"{args.csv.name}: {bars:,} 1h bars (4h resampled)")
    print(f"  evaluation only              {t_eval * 1000:8.1f} ms  {bars / t_eval:>10,.0f} bars/s")
    print(f"  evaluation + JSON records    {t_json * 1000:8.1f} ms  {bars / t_json:>10,.0f} bars/s")
    after = max(t_cmd - t_start, 1e-9)
    print(
        f"  tk-signal v5 --replay        {t_cmd * 1000:8.1f} ms  (start-up {t_start * 1000:.0f} ms;"
        f" {bars / after:,.0f} bars/s after start-up)"
    )


if __name__ == "__main__":
    main()
