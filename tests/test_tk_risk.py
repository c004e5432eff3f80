"""tk-risk as a command: the account from the paper exchange and from Bitget (ccxt -> the
emulator), what the ledger and the database remember between runs, and option errors."""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from conftest import ROOT, script
from test_tk_exec import approved, lines, live  # noqa: F401 - the `live` fixture

from tradekit.execution.ledger import record_close
from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore
from tradekit.store import Store

#: the last close of the bundled candles: their prices are fresh then (TK_NOW of these runs)
MARKET_NOW = "2026-02-19T18:00:00Z"
NOW_MS = 1771524000000


def plan(cycle: str = "c1", **changes: Any) -> dict[str, Any]:
    body = {"symbol": "BTCUSDT", "side": "long", "level": "strong", "stopLoss": 65000}
    body.update(changes)
    return {"tradePlanVersion": 1, "cycleId": cycle, "plan": body}


def run(command: str, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [script(command), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TK_NOW": MARKET_NOW, **(env or {})},
        timeout=120,
    )


def risk_of(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line)["risk"] for line in result.stdout.splitlines()]


def with_candles(home: Path) -> Path:
    CandleStore(home / "data").merge(
        read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "BTCUSDT", "1h")
    )
    return home


def test_paper_account_positions_and_ledger_entries_block_the_next_plan(home: Path) -> None:
    with_candles(home)
    first = run("tk-risk", "--paper", stdin=lines(plan()))
    [risk] = risk_of(first)
    assert risk["approved"] is True
    placed = run("tk-exec", "--paper", stdin=first.stdout)
    assert json.loads(placed.stdout)["execution"]["status"] == "placed", placed.stdout
    [again] = risk_of(run("tk-risk", "--paper", stdin=lines(plan("c2"))))
    assert again["reasons"] == [
        "last entry 0 min ago: the minimum interval is 3 min",  # the ledger's entry
        "a BTCUSDT position is already open",  # the paper account's position
        "BTCUSDT long cooldown: last entry 0 min ago (cooldown 5 min)",
    ]


def test_risk_sizing_uses_the_paper_equity(home: Path) -> None:
    with_candles(home)
    (home / "config.toml").write_text(
        '[risk.sizing]\nmode = "risk"\nrisk_per_trade = 0.01\nmax_notional = 10000\n'
    )
    subprocess.run(
        [script("tk"), "paper", "reset", "--balance", "5000"], check=True, capture_output=True
    )
    [risk] = risk_of(run("tk-risk", "--paper", stdin=lines(plan())))
    # 5000 x 1 % = 50 USDT at risk over |66336.1 - 65000| -> 0.0374 BTC
    assert (risk["riskAmount"], risk["quantity"]) == (49.97014, 0.0374)


def test_the_live_account_comes_from_bitget_through_ccxt(
    home: Path,
    emulator: Any,
    live: dict[str, str],  # noqa: F811 - a fixture
) -> None:
    with_candles(home)
    config = home / "config.toml"  # the fixture's [risk.sizing], for risk-based sizing
    sizing = 'mode = "risk"\nrisk_per_trade = 0.01\nmax_notional = 10000\n'
    config.write_text(config.read_text().replace("max_notional = 1000\n", sizing))
    emulator.emulator.engine.state.balance = D(2000)
    risked = run("tk-risk", "--live", stdin=lines(plan()), env=live)
    [risk] = risk_of(risked)
    assert risk["approved"] is True, risk
    assert risk["quantity"] == 0.0149  # 2000 x 1 % / 1336.1
    placed = run("tk-exec", "--live", stdin=risked.stdout, env=live)
    assert json.loads(placed.stdout)["execution"]["status"] == "placed"
    [blocked] = risk_of(run("tk-risk", "--live", stdin=lines(plan("c2")), env=live))
    assert "a BTCUSDT position is already open" in blocked["reasons"]


def test_stop_losses_recorded_by_the_guard_pause_entries(home: Path) -> None:
    with_candles(home)
    with Store(home / "tradekit.db") as store:
        for minutes_ago in (30, 20, 10):
            record_close(
                store, mode="dry-run", symbol="BTCUSDT", side="long", reason="stop_loss",
                pnl=D("-3.2"), closed_ms=NOW_MS - minutes_ago * 60_000,
            )  # fmt: skip
    [risk] = risk_of(run("tk-risk", "--equity", "1000", stdin=lines(plan())))
    assert risk["reasons"] == ["3 stop-losses in a row: no entries for 50 more min"]


def test_the_peak_equity_is_remembered_between_runs(home: Path) -> None:
    with_candles(home)
    assert risk_of(run("tk-risk", "--equity", "1000", stdin=lines(plan())))[0]["approved"]
    [risk] = risk_of(run("tk-risk", "--equity", "800", stdin=lines(plan("c2"))))
    assert risk["reasons"] == ["drawdown 20 % from the peak 1000 (max 15 %)"]


def test_a_bad_equity_is_a_usage_error(home: Path) -> None:
    result = run("tk-risk", "--equity", "lots", stdin=lines(plan()))
    assert result.returncode == 2
    assert result.stderr.strip().endswith("--equity 'lots' is not an amount")
    assert result.stdout == ""


def test_a_bad_line_among_a_block_of_plans_keeps_its_place(home: Path) -> None:
    """tk-risk works through a read's lines together: the error record still comes out
    where the bad line was, and --on-error fail still journals and writes what came first."""
    text = lines(plan("c1"), plan("c2", side="short")).replace("\n", '\n{"broken\n', 1)
    emitted = run("tk-risk", "--on-error", "emit", "--equity", "1000", stdin=text)
    assert emitted.returncode == 65
    records = [json.loads(line) for line in emitted.stdout.splitlines()]
    assert [r.get("cycleId") or r.get("error")[:12] for r in records] == [
        "c1",
        "invalid JSON",
        "c2",
    ]
    assert records[1]["line"] == 2
    failed = run("tk-risk", "--equity", "1000", stdin=text)
    assert failed.returncode == 65
    assert [json.loads(line)["cycleId"] for line in failed.stdout.splitlines()] == ["c1"]
    journal = (home / "logs" / "decisions.jsonl").read_text().splitlines()
    assert [(json.loads(e)["input"], json.loads(e)["record"]["cycleId"]) for e in journal] == [
        ("<stdin>:1", "c1"),
        ("<stdin>:3", "c2"),
        ("<stdin>:1", "c1"),
    ]


def test_a_plan_for_no_or_an_unknown_paper_market_is_blocked_not_a_crash(home: Path) -> None:
    with_candles(home)
    result = run("tk-risk", "--paper", stdin=lines(plan(symbol=None), plan("c2", symbol="SOLUSDT")))
    no_symbol, unknown = risk_of(result)
    assert "plan.symbol: required to open a position" in no_symbol["reasons"]
    assert "SOLUSDT is not tradable on the exchange" in unknown["reasons"]


def _stale(age: str) -> str:
    return (
        f"price: BTCUSDT last price is {age} old (from 2026-02-19T18:00:00Z; "
        "[guard.watch] max_stale_seconds is 5)"
    )


def test_a_stale_price_blocks_the_entry_and_names_its_age(home: Path) -> None:
    """The bundled candles' last bar closed at 18:00: its close is the price until the next
    bar should have closed (19:00); after that it is as old as its close, and stale."""
    with_candles(home)

    def risk_at(now: str, mode: str = "--equity=1000") -> dict[str, Any]:
        [risk] = risk_of(run("tk-risk", mode, stdin=lines(plan()), env={"TK_NOW": now}))
        return risk

    assert risk_at("2026-02-19T18:59:59Z")["approved"] is True
    hour = risk_at("2026-02-19T19:00:10Z")
    assert (hour["approved"], hour["reasons"]) == (False, [_stale("60 min")])
    assert "quantity" not in hour  # nothing is sized on it
    for mode in ("--equity=1000", "--paper"):  # the candles, and the paper exchange's ticker
        assert risk_at("2026-11-20T10:00:00Z", mode)["reasons"] == [_stale("8 months")], mode


def test_a_stale_bitget_ticker_blocks_the_entry(home: Path, tmp_path: Path) -> None:
    """Live, through ccxt: the emulator's market is two hours past the last stored bar, so
    its ticker's timestamp is that bar's close, and tk-risk at the same time refuses it."""
    from tradekit.emulator.server import TEST_CREDENTIALS, Emulator

    store = CandleStore(tmp_path / "emulator-data")
    store.merge(read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "BTCUSDT", "1h"))
    two_hours_on = NOW_MS + 2 * 3_600_000
    with Emulator(store, market_clock=lambda: two_hours_on).serve() as server:
        (home / "config.toml").write_text(
            f'[live]\nenabled = true\n[exchange]\nurl = "{server.url}"\nrate_limit = false\n'
        )
        key, (secret, passphrase) = next(iter(TEST_CREDENTIALS.items()))
        env = {"BITGET_API_KEY": key, "BITGET_API_SECRET": secret,
               "BITGET_API_PASSPHRASE": passphrase, "TK_NOW": "2026-02-19T20:00:00Z"}  # fmt: skip
        [risk] = risk_of(run("tk-risk", "--live", stdin=lines(plan()), env=env))
    assert risk["reasons"] == [_stale("2 hours")]
