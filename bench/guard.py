"""tk-guard: how fast --watch closes on a price, and what a one-shot run costs.

    .venv/bin/python bench/guard.py [--closes N] [--runs R]

1. --watch reaction time (target <= 200 ms): the Bitget emulator with its websocket
   ticker, the real ccxt.pro client, the watch loop of tk-guard --watch (in a thread, as in
   the command). A position is opened by tk-exec's own service, a price arms its trailing
   stop, then the clock starts as the emulator's price moves through the trail, and stops
   when the reduce-only close order reaches the emulator. Includes the emulator's push
   cadence (it looks for changes every 20 ms; Bitget pushes about every 100-200 ms), the
   ccxt.pro parse, the decision and the signed REST order. N closes; median, p95 and max.
2. One-shot wall time: `tk-guard --paper` with one open position (start-up, lock, SQLite,
   the paper account, reconcile, stop-loss check, exits), median of R runs.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import statistics
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

from common import approve, record_approvals, timed_run

from tradekit import jsonio
from tradekit.emulator.server import TEST_CREDENTIALS, Emulator
from tradekit.emulator.ws import WsServer
from tradekit.exchange.adapters import BitgetAdapter
from tradekit.exchange.bitget import ExchangeSettings, client, ws_client
from tradekit.exchange.model import Prices
from tradekit.execution.ledger import Ledger
from tradekit.execution.locks import IntentLocks
from tradekit.execution.service import ExecutionService
from tradekit.execution.settings import ExecutionSettings
from tradekit.guard.book import Book
from tradekit.guard.engine import Guard
from tradekit.guard.feed import WsTickerFeed, wall_ms
from tradekit.guard.settings import GuardSettings
from tradekit.guard.watch import Watcher
from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore
from tradekit.records import TradePlan
from tradekit.risk.settings import RiskSettings
from tradekit.store import Store

ROOT = Path(__file__).resolve().parent.parent


def plan(i: int, price: str) -> dict:
    return {
        "tradePlanVersion": 1,
        "cycleId": f"bench:{i}",
        "plan": {"symbol": "BTCUSDT", "side": "long", "level": "strong", "reason": "bench"},
        "risk": {
            "approved": True, "quantity": Decimal("0.003"), "leverage": 5,
            "entryPrice": Decimal(price), "stopLoss": Decimal(price) * Decimal("0.97"),
        },
    }  # fmt: skip


def watch_reaction(closes: int) -> list[float]:

    work = Path(tempfile.mkdtemp(prefix="tk-bench-guard-"))
    candles = CandleStore(work / "data")
    candles.merge(read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "BTCUSDT", "1h"))
    emulator = Emulator(candles)
    key, (secret, passphrase) = next(iter(TEST_CREDENTIALS.items()))
    settings = GuardSettings.model_validate(
        {
            "trailing": {"enabled": True, "mode": "percent", "activation_pct": Decimal("0.005"),
                         "trail_pct": Decimal("0.003")},
            "break_even": {"enabled": False},
            "watch": {"reconcile_seconds": 5, "max_stale_seconds": 3},
        }
    )  # fmt: skip
    execution = ExecutionSettings(retry_delays=[0.05])
    store = Store(work / "tradekit.db")
    timings: list[float] = []
    with emulator.serve() as server, WsServer(emulator, push_ms=20) as ws:
        rest = ExchangeSettings(url=server.url, rate_limit=False, timeout_ms=3000)
        credentials = {"apiKey": key, "secret": secret, "password": passphrase}
        exchange = BitgetAdapter(client(rest, credentials))

        def set_price(price: str) -> None:
            with emulator._lock:
                now = emulator.market_now()
                emulator.engine.update_price("BTCUSDT", Prices(Decimal(price), Decimal(price)), now)
                emulator.engine.state.synced["BTCUSDT"] = now

        prices: queue.Queue = queue.Queue()
        feed = WsTickerFeed(lambda: ws_client(rest, ws.url), prices, reconnect_seconds=0.2)
        feed.start()
        service = ExecutionService(
            mode="live", ledger=Ledger(store), locks=IntentLocks(work / "exec.lock"),
            settings=execution, risk=RiskSettings(), now_ms=wall_ms, journal=lambda *_a: None,
            connect=lambda: exchange,
        )  # fmt: skip
        book = Book(store, "live")
        stop = threading.Event()
        shared: dict = {}

        def watch_loop() -> None:  # as tk-guard --watch: its own connection to the database
            guard = Guard(
                exchange=BitgetAdapter(client(rest, credentials)), store=Store(store.path),
                mode="live", settings=settings, execution=execution, now_ms=wall_ms,
                emit=lambda _e: None, act=True, home=work,
            )  # fmt: skip
            watcher = shared["watcher"] = Watcher(guard, settings, prices=prices, feed=feed)
            while not stop.is_set():
                watcher.step(0.05)

        loop = threading.Thread(target=watch_loop, daemon=True)
        try:
            for i in range(closes):
                base = 60000 + i * 10
                set_price(str(base))
                record = TradePlan.model_validate(plan(i, str(base)))
                approve(store, [record], "live", wall_ms())
                service.execute(record)
                if i == 0:
                    loop.start()
                    wait(lambda: "watcher" in shared)
                timings.append(
                    one_close(
                        shared["watcher"], feed, book, emulator, set_price=set_price, base=base
                    )
                )
        finally:
            stop.set()
            feed.stop()
            store.close()
    shutil.rmtree(work, ignore_errors=True)
    return timings


def one_close(watcher, feed, book, emulator, *, set_price, base: int) -> float:
    """Arm the open position's trail, then time a price through it to the close order."""
    watcher.next_pass_ms = 0  # the next turn takes the position up (as a pass would)
    wait(lambda: watcher.watched == {"BTCUSDT"} and feed.is_up("BTCUSDT"))
    high = base * 1.008  # arms the trail at high x 0.997
    set_price(f"{high:.1f}")
    armed = Decimal(f"{high:.1f}")
    wait(lambda: (_best(book) or 0) >= armed)
    sent = len(emulator.received)
    start = time.perf_counter()
    set_price(f"{high * 0.995:.1f}")  # through the trail
    while not _close_sent(emulator, sent):
        if time.perf_counter() - start > 10:
            raise SystemExit("no close within 10 s")
        time.sleep(0.0005)
    elapsed = (time.perf_counter() - start) * 1000
    wait(lambda: not book.open_positions())
    return elapsed


def _best(book) -> Decimal | None:
    held = book.open_positions()
    return held[0].best if held else None


def _close_sent(emulator, since: int) -> bool:
    for request in emulator.received[since:]:
        if request.path.endswith("/order/place-order") and b"-close" in request.body:
            return True
    return False


def wait(done, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.005)


def one_shot(runs: int) -> list[float]:
    home = Path(tempfile.mkdtemp(prefix="tk-bench-guard-home-"))
    env = {**os.environ, "TK_HOME": str(home), "TK_NOW": "2026-02-19T18:00:00Z"}
    env.pop("TK_CONFIG", None)

    timed_run(["tk", "data", "import", str(ROOT / "examples" / "BTCUSDT-1h.csv")], env)
    record_approvals(home / "tradekit.db", [plan(0, "66336.1")], "paper", env["TK_NOW"])
    timed_run(["tk-exec", "--paper"], env, jsonio.dumps(plan(0, "66336.1")) + b"\n")
    timed_run(["tk-guard", "--paper"], env)  # starts tracking it
    timings = [timed_run(["tk-guard", "--paper"], env) * 1000 for _ in range(runs)]
    shutil.rmtree(home, ignore_errors=True)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--closes", type=int, default=20)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    reaction = sorted(watch_reaction(args.closes))
    p95 = reaction[max(0, round(len(reaction) * 0.95) - 1)]
    print(
        f"tk-guard --watch, price through the trailing stop -> close order at the emulator "
        f"({len(reaction)} closes): median {statistics.median(reaction):.1f} ms, "
        f"p95 {p95:.1f} ms, max {reaction[-1]:.1f} ms (target <= 200 ms)"
    )
    shot = one_shot(args.runs)
    print(
        f"tk-guard --paper one-shot with one open position ({len(shot)} runs): "
        f"median {statistics.median(shot):.0f} ms, min {min(shot):.0f} ms"
    )


if __name__ == "__main__":
    main()
