"""tk-report html: how fast the page is written, how big it is, how fast chromium draws it.

    .venv/bin/python bench/report.py [--runs R] [--no-browser]

1. A month of 1h decisions: the bundled BTCUSDT 1h candles, v5 replayed over 30 days
   through tk-news-gate, tk-risk and a dry-run tk-exec (~720 audit records, 4 lines each).
   Target: `tk-report html` (the whole command, start-up included) writes the page in <= 1 s.
2. A year of 5m candles (105,120 bars, a random walk) with 5,000 decisions (no plan,
   blocked by risk, executed with orders, in turn). Targets: the page <= 10 MB, and drawn
   in headless chromium (/usr/bin/chromium, through playwright) in <= 2 s: from the
   navigation to the frame after the page's script ran.
Best of R runs each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NOW = "2026-02-19T18:00:00Z"


def env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TK_HOME": str(home),
        "TK_NOW": NOW,
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }


def sh(command: str, home: Path) -> None:
    subprocess.run(["bash", "-o", "pipefail", "-c", command], env=env(home), cwd=ROOT, check=True)


def best(runs: int, command: list[str], home: Path) -> tuple[float, float]:
    """The best wall time and the best CPU time (user + system) of R runs: on a shared
    machine the CPU time says what the command costs, the wall time what the load adds."""
    import resource

    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, env=env(home), check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def month(work: Path, runs: int) -> None:
    home = work / "month"
    sh("tk init >/dev/null && tk data import examples/BTCUSDT-1h.csv >/dev/null", home)
    sh(
        "tk-signal v5 --replay 2026-01-20 2026-02-19T18:00:00Z | tk-news-gate "
        "| tk-risk --equity 1000 | tk-exec --dry-run >/dev/null",
        home,
    )
    out = work / "month.html"
    lines = sum(1 for _ in (home / "logs/decisions.jsonl").open())
    wall, cpu = best(runs, [str(BIN / "tk-report"), "html", "--out", str(out)], home)
    verdict = "ok" if wall <= 1 else "OVER"
    print(f"month of 1h: {lines} audit lines, page {out.stat().st_size / 1e6:.2f} MB, "
          f"written in {wall:.3f} s, CPU {cpu:.3f} s (target <= 1 s: {verdict}; "
          f"load average {os.getloadavg()[0]:.1f})")  # fmt: skip


def year_home(home: Path) -> None:
    import numpy as np

    from tradekit.market.candles import DTYPE, Candles
    from tradekit.market.store import CandleStore

    bars, step = 105_120, 300_000
    start = 1735689600000  # 2025-01-01
    rng = np.random.default_rng(18)
    close = 60000 * np.exp(np.cumsum(rng.normal(0, 0.0015, bars)))
    rows = np.zeros(bars, dtype=DTYPE)
    rows["ts"] = start + step * np.arange(bars)
    rows["open"] = np.r_[close[0], close[:-1]].round(1)
    rows["close"] = close.round(1)
    spread = np.abs(rng.normal(0, 0.001, bars)) * close
    rows["high"] = (np.maximum(rows["open"], rows["close"]) + spread).round(1)
    rows["low"] = (np.minimum(rows["open"], rows["close"]) - spread).round(1)
    rows["volume"] = rng.gamma(2, 50, bars).round(3)
    CandleStore(home / "data").merge(Candles("BTCUSDT", "5m", rows))
    every = bars // 5000
    with (home / "logs").joinpath("decisions.jsonl").open("w") as audit:
        for i in range(5000):
            bar_ms = int(rows["ts"][i * every])
            audit.write(json.dumps(_entry(i, bar_ms, float(rows["close"][i * every]))) + "\n")


def _entry(i: int, bar_ms: int, price: float) -> dict:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(bar_ms / 1000 + 300))
    record: dict = {"tradePlanVersion": 1, "cycleId": f"bench:BTCUSDT:5m:{stamp}"}
    kind = i % 3
    if kind == 0:
        record |= {"plan": None, "context": {"note": "no_setup", "adx": 14.2}}
    else:
        record["plan"] = {
            "symbol": "BTCUSDT", "side": "long", "action": "open", "reason": "bench entry",
            "stopLoss": round(price * 0.99, 1), "takeProfits": [round(price * 1.02, 1)],
            "context": {"atr": 120.5, "ema20": price, "adx": 24.1},
        }  # fmt: skip
        record["risk"] = {"approved": kind == 2, "reasons": [] if kind == 2 else
                          ["daily loss limit reached: -31.2 of -30 USDT"]}  # fmt: skip
        if kind == 2:
            key = f"{i:032x}"
            record["execution"] = {
                "mode": "paper", "status": "placed", "idempotencyKey": key,
                "orders": [{"role": role, "clientOid": f"tk{key[:16]}-{role}", "size": 0.01}
                           for role in ("entry", "sl", "tp1")],
            }  # fmt: skip
    return {"ts": stamp, "stage": "exec", "input": f"<stdin>:{i + 1}", "record": record}


def year(work: Path, runs: int, browser: bool) -> None:
    home = work / "year"
    sh("tk init >/dev/null", home)
    year_home(home)
    out = work / "year.html"
    seconds, cpu = best(runs, [str(BIN / "tk-report"), "html", "--out", str(out)], home)
    size = out.stat().st_size / 1e6
    verdict = "ok" if size <= 10 else "OVER"
    print(f"year of 5m: 105120 bars, 5000 decisions: page {size:.2f} MB "
          f"(target <= 10 MB: {verdict}), written in {seconds:.3f} s, CPU {cpu:.3f} s")  # fmt: skip
    if browser:
        drawn = min(draw_time(out) for _ in range(runs))
        print(f"year of 5m: drawn in headless chromium in {drawn:.3f} s "
              f"(target <= 2 s: {'ok' if drawn <= 2 else 'OVER'})")  # fmt: skip


def draw_time(page_file: Path) -> float:
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = chromium.new_page(viewport={"width": 1500, "height": 1000})
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort()
        )
        start = time.perf_counter()
        page.goto(page_file.as_uri(), wait_until="commit")
        page.wait_for_function("() => window.tkReport !== undefined", polling="raf", timeout=60_000)
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        seconds = time.perf_counter() - start
        markers = page.evaluate("tkReport.markerCount()")
        chromium.close()
    assert markers > 0, "no marker drawn"
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true", help="skip the chromium timing")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tk-bench-report-") as tmp:
        month(Path(tmp), options.runs)
        year(Path(tmp), options.runs, not options.no_browser)


if __name__ == "__main__":
    main()
