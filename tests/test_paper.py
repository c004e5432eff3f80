"""The paper exchange: one account across runs, prices replayed from the candle store,
concurrent runs serialised, and `tk paper`."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from decimal import Decimal as D
from pathlib import Path

import pytest
from conftest import ROOT, script

from tradekit.clock import Clock
from tradekit.errors import BadInputError, UsageError
from tradekit.exchange.model import Order
from tradekit.exchange.paper import PaperExchange
from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore
from tradekit.store import Store

CANDLES = read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "BTCUSDT", "1h")


def at(hour: int, day: int = 17) -> Clock:
    return Clock(datetime(2026, 2, day, hour, tzinfo=UTC))


def paper(home: Path, clock: Clock) -> PaperExchange:
    candles = CandleStore(home / "data")
    if candles.load("BTCUSDT", "1h") is None:
        candles.merge(CANDLES)
    return PaperExchange(Store(home / "tradekit.db"), candles, clock)


def bar(hour: int, day: int = 17) -> tuple:
    ts = int(datetime(2026, 2, day, hour, tzinfo=UTC).timestamp() * 1000)
    return CANDLES.rows[CANDLES.ts == ts][0].tolist()


def test_the_account_carries_over_and_stops_fire_on_the_path(tmp_path: Path) -> None:
    with paper(tmp_path, at(10)).session("BTCUSDT") as engine:
        close_9h = D(repr(bar(9)[4]))  # the 09:00 bar closed at 10:00
        assert engine.state.prices["BTCUSDT"].last == close_9h
        engine.set_leverage("BTCUSDT", 5)
        entry = engine.place("BTCUSDT", "buy", D("0.01"), 0, client_oid="e")
        assert isinstance(entry, Order) and entry.status == "filled"
        stop = engine.spec("BTCUSDT").price(close_9h * D("0.995"))
        engine.place(
            "BTCUSDT",
            "sell",
            D("0.01"),
            0,
            plan_type="pos_loss",
            trigger_price=stop,
            trigger_type="fill_price",
            client_oid="sl",
        )
    lows = [bar(h)[3] for h in range(10, 16)]
    first_hit = next(h for h, low in zip(range(10, 16), lows, strict=True) if low <= float(stop))
    with paper(tmp_path, at(first_hit)).session() as engine:  # that bar has not closed yet
        assert ("BTCUSDT", "long") in engine.state.positions
    with paper(tmp_path, at(first_hit + 1)).session() as engine:
        assert ("BTCUSDT", "long") not in engine.state.positions
        assert engine.find(client_oid="sl").status == "triggered"
        assert engine.state.fills[-1].ts == int(at(first_hit + 1).now().timestamp() * 1000)


def _place(home: str, oid: str) -> None:
    with paper(Path(home), at(10)).session("BTCUSDT") as engine:
        engine.place("BTCUSDT", "buy", D("0.001"), 0, client_oid=oid)


def test_concurrent_runs_lose_nothing(tmp_path: Path) -> None:
    paper(tmp_path, at(10)).reset(D(1000))
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_place, args=(str(tmp_path), f"o{i}")) for i in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    with paper(tmp_path, at(10)).session() as engine:
        assert engine.state.positions[("BTCUSDT", "long")].size == D("0.006")
        assert sorted(o.client_oid for o in engine.state.orders.values()) == [
            f"o{i}" for i in range(6)
        ]


def test_an_unreadable_account_is_a_clear_error(tmp_path: Path) -> None:
    paper(tmp_path, at(10)).reset(D(1000))
    db = sqlite3.connect(tmp_path / "tradekit.db")
    db.execute("UPDATE paper_accounts SET state = '{\"version\": 99}'")
    db.commit()
    with (
        pytest.raises(BadInputError, match=r"unreadable .* `tk paper reset`"),
        paper(tmp_path, at(10)).session(),
    ):
        pass


def test_tk_paper_commands(home: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [script("tk"), "paper", *args, "--now", "2026-02-19T18:00:00Z"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    empty = run("status")  # an account with nothing open needs no prices
    assert empty.returncode == 0
    assert empty.stdout == (
        "account       USDT\nequity     1000.00\nbalance    1000.00\navailable  1000.00\n"
        "fills: 0 (tk paper fills lists them all)\n"
    )
    subprocess.run(
        [script("tk"), "data", "import", str(ROOT / "examples" / "BTCUSDT-1h.csv")],
        check=True,
        capture_output=True,
    )
    assert run("reset", "--balance", "250").stdout == "paper account reset: 250 USDT\n"
    assert run("deposit", "50").stdout == "balance 300 USDT\n"
    status = run("status")
    assert status.returncode == 0 and "equity     300.00\n" in status.stdout
    assert run("deposit", "-5").returncode == 2


def test_trading_a_symbol_without_candles_says_so(tmp_path: Path) -> None:
    exchange = PaperExchange(Store(tmp_path / "db"), CandleStore(tmp_path / "data"), at(10))
    with (
        pytest.raises(UsageError, match=r"no BTCUSDT candles .* `tk data import`"),
        exchange.session("BTCUSDT"),
    ):
        pass


def tk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [script("tk"), *args], capture_output=True, text=True, check=False, timeout=60
    )


def test_tk_paper_trade_then_a_stop_fires_on_a_later_bar(home: Path) -> None:
    tk("data", "import", str(ROOT / "examples" / "BTCUSDT-1h.csv"))
    placed = tk(
        "paper",
        "trade",
        "buy",
        "0.01",
        "--sl",
        "67000",
        "--tp",
        "69000",
        "--now",
        "2026-02-17T10:00:00Z",
    )
    assert placed.returncode == 0, placed.stderr
    assert placed.stdout.splitlines() == [
        "closed buy 0.01 BTCUSDT @ 68107.5",  # the 09:00 close 68086.1 + 3 bps
        "sl at 67000 for 0.01 BTCUSDT",
        "tp at 69000 for 0.01 BTCUSDT",
    ]
    later = json.loads(tk("paper", "status", "--json", "--now", "2026-02-19T18:00:00Z").stdout)
    assert later["positions"] == [] and later["openOrders"] == [] and later["fills"] == 2
    assert Decimal(str(later["equity"])) < 1000  # it was the stop-loss
    assert tk("paper", "trade", "hold", "1").returncode == 2


def test_tk_paper_trade_refuses_a_price_the_guard_would_call_stale(home: Path) -> None:
    """The last bar closed at 18:00; at 20:00 its close is two hours old, as tk-guard and
    tk-risk see it: nothing is filled at it."""
    tk("data", "import", str(ROOT / "examples" / "BTCUSDT-1h.csv"))
    refused = tk("paper", "trade", "buy", "0.01", "--now", "2026-02-19T20:00:00Z")
    assert (refused.returncode, refused.stdout) == (69, "")
    assert refused.stderr == (
        "tk paper: error: price: BTCUSDT last price is 2 hours old (from "
        "2026-02-19T18:00:00Z; [guard.watch] max_stale_seconds is 5): not trading on it\n"
    )
    status = json.loads(tk("paper", "status", "--json", "--now", "2026-02-19T20:00:00Z").stdout)
    assert status["positions"] == [] and status["fills"] == 0
    (home / "config.toml").write_text("[guard.watch]\nmax_stale_seconds = 7200\n")
    placed = tk("paper", "trade", "buy", "0.01", "--now", "2026-02-19T20:00:00Z")
    assert placed.returncode == 0, placed.stderr  # the guard's limit, raised to two hours


def test_a_run_cannot_go_back_in_time(tmp_path: Path) -> None:
    with paper(tmp_path, at(15)).session("BTCUSDT"):
        pass
    with (
        pytest.raises(UsageError, match=r"already at 2026-02-17T15:00Z"),
        paper(tmp_path, at(12)).session("BTCUSDT"),
    ):
        pass


def test_hand_trades_fills_and_which_order_filled(home: Path) -> None:
    def tk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [script("tk"), "paper", *args], capture_output=True, text=True, check=False,
            timeout=60,
        )  # fmt: skip

    subprocess.run([script("tk"), "init"], check=True, capture_output=True)
    subprocess.run(
        [script("tk"), "data", "import", str(ROOT / "examples" / "BTCUSDT-1h.csv")],
        check=True, capture_output=True,
    )  # fmt: skip
    at = ["--now", "2026-02-19T16:59:59Z"]  # the 16:00 bar's close, still fresh
    first = tk("trade", "buy", "0.01", "--sl", "60000", *at)
    second = tk("trade", "buy", "0.01", "--tp", "66400", *at)  # the same second: no collision
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    tiny = tk("trade", "buy", "0.00001", *at)
    assert (tiny.returncode, tiny.stdout) == (2, "")  # the order asked for, not the exchange
    assert tiny.stderr.startswith("tk paper: error: the paper exchange refused the order: 40808")
    later = ["--now", "2026-02-19T18:00:00Z"]  # the 17:00 bar reaches 66400: the target fires
    rows = [json.loads(line) for line in tk("fills", "--json", *later).stdout.splitlines()]
    assert [(r["side"], r["tradeSide"], r["size"], r["order"]) for r in rows] == [
        ("buy", "open", 0.01, "manual"),
        ("buy", "open", 0.01, "manual"),
        ("sell", "close", 0.02, "take-profit"),
    ]
    assert rows[0]["clientOid"] != rows[1]["clientOid"]
    listed = tk("fills", *later).stdout.splitlines()
    assert listed[0].split() == [
        "time", "(UTC)", "symbol", "side", "open/close", "size", "price", "fee", "profit", "order",
    ]  # fmt: skip
    assert listed[-1].endswith("take-profit") and len(listed) == 4
    status = tk("status", *later).stdout
    assert "last fills\n" in status and status.endswith(
        "fills: 3 (tk paper fills lists them all)\n"
    )
