"""tk backtest as a trader runs it: the run folder, --json, bad input, and the metrics."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from conftest import OHLCV, init_home
from typer.testing import CliRunner

from tradekit.backtest import metrics
from tradekit.backtest.trades import Trade
from tradekit.cli import backtest as cli
from tradekit.clock import parse_time
from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore

DATA = OHLCV / "BTCUSDT-1h-bybitfutures-mohsenjfar_trade.csv"
WINDOW = ["--from", "2025-01-01T00:00:00Z", "--to", "2025-01-08T00:00:00Z"]


@pytest.fixture
def bt_home(tmp_path: Path) -> Path:
    home = init_home(tmp_path / "home")
    CandleStore(home / "data").merge(read_csv(DATA, "BTCUSDT", "1h"))
    return home


def run(home: Path, *args: str):
    return CliRunner().invoke(
        cli.app, list(args), env={"TK_HOME": str(home), "TZ": "UTC"}, prog_name=cli.PROG
    )


def folders(home: Path) -> list[str]:
    runs = home / "backtests"
    return sorted(p.name for p in runs.iterdir()) if runs.exists() else []


def test_run_folder_holds_every_file_and_json_prints_the_summary(bt_home: Path) -> None:
    result = run(bt_home, "v5", *WINDOW, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    folder = bt_home / "backtests" / summary["runId"]
    assert folders(bt_home) == [summary["runId"]]
    names = {"decisions.jsonl", "guard.jsonl", "trades.jsonl", "equity.jsonl"}
    assert names | {"summary.json", "run.json", "home"} <= {p.name for p in folder.iterdir()}
    assert json.loads((folder / "summary.json").read_text()) == summary
    trades = [json.loads(line) for line in (folder / "trades.jsonl").read_text().splitlines()]
    assert summary["trades"] == len(trades) > 0
    assert Decimal(str(summary["pnl"])) == sum(Decimal(str(t["pnl"])) for t in trades).quantize(
        Decimal("0.0001")
    )
    equity = (folder / "equity.jsonl").read_text().splitlines()
    assert len(equity) == summary["bars"] == 7 * 24 + 1
    first = json.loads(equity[0])
    assert (set(first), first["ts"]) == ({"ts", "equity"}, "2025-01-01T00:00:00Z")
    decisions = [json.loads(line) for line in (folder / "decisions.jsonl").open()]
    assert all(d["tradePlanVersion"] == 1 and "execution" in d for d in decisions)
    run_json = json.loads((folder / "run.json").read_text())
    assert run_json["request"]["strategy"] == "v5"
    assert set(run_json["data"]) == {"1h.npy"}


def test_funding_is_charged_at_the_funding_times_a_position_spans(bt_home: Path) -> None:
    summary = json.loads(run(bt_home, "v5", *WINDOW, "--json").stdout)
    assert summary["fundingSource"].startswith("configured: [backtest] funding_rate 0.0001")
    folder = bt_home / "backtests" / summary["runId"]
    trades = [json.loads(line) for line in (folder / "trades.jsonl").read_text().splitlines()]
    eight_hours = 8 * 3600
    spanning = 0
    for t in trades:
        entry, exit_ = (int(parse_time(t[k]).timestamp()) for k in ("entryTime", "exitTime"))
        inside = (exit_ - 1) // eight_hours - entry // eight_hours  # times in (entry, exit)
        funding = Decimal(str(t["funding"]))
        if inside == 0:
            assert funding == 0
            continue
        spanning += 1
        assert (funding > 0) == (t["side"] == "long")
        assert (
            Decimal(str(t["pnl"]))
            == Decimal(str(t["grossPnl"])) - Decimal(str(t["fees"])) - funding
        )
    assert spanning > 0
    paid = sum(Decimal(str(t["funding"])) for t in trades)
    assert Decimal(str(summary["funding"])) == paid.quantize(Decimal("0.0001"))


def test_the_same_run_is_read_back_not_run_again(bt_home: Path) -> None:
    first = run(bt_home, "v5", *WINDOW, "--json")
    again = run(bt_home, "v5", *WINDOW, "--json")
    assert again.exit_code == 0
    assert again.stdout == first.stdout
    assert "already run" in again.stderr
    assert len(folders(bt_home)) == 1


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["v9", *WINDOW], 2, "no strategy 'v9'"),
        (["v5", "--from", "2025-01-08", "--to", "2025-01-01"], 2, "--to must be after --from"),
        (["v5", "--from", "yesterday", "--to", "2025-01-01"], 2, "--from: 'yesterday'"),
        (["v5", "--from", "2030-01-01", "--to", "2030-02-01"], 65, "does not cover the window"),
        (["v5", "--from", "2023-01-01", "--to", "2024-01-01"], 65, "does not cover the window"),
    ],
)
def test_bad_requests_are_named_and_leave_nothing(
    bt_home: Path, args: list[str], status: int, message: str
) -> None:
    result = run(bt_home, *args)
    assert result.exit_code == status
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert folders(bt_home) == []


def test_an_unknown_strategy_parameter_is_a_config_error(bt_home: Path) -> None:
    (bt_home / "config.toml").write_text("[strategies.v5]\nadx_minn = 15\n")
    result = run(bt_home, "v5", *WINDOW)
    assert result.exit_code == 78
    assert "strategies.v5.adx_minn: unknown parameter" in result.stderr
    assert folders(bt_home) == []


def test_a_gap_in_the_candles_is_refused(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    candles = read_csv(DATA, "BTCUSDT", "1h")
    cut = int(np.searchsorted(candles.ts, 1736000000000))  # 2025-01-04 15:00 and 16:00 go
    store = CandleStore(home / "data")
    store.merge(type(candles)("BTCUSDT", "1h", np.delete(candles.rows, [cut, cut + 1])))
    result = run(home, "v5", *WINDOW)
    assert result.exit_code == 65
    assert "a gap in the BTCUSDT 1h candles: 2 bar(s) missing after 2025-01-04T14:00:00Z" in (
        result.stderr
    )
    assert folders(home) == []


def _trade(pnl: str, side: str = "long", hours: int = 2, reason: str = "stop_loss") -> Trade:
    return Trade(
        "BTCUSDT", side, None, 0, hours * 3600_000, Decimal(100), Decimal(101), Decimal(1),
        Decimal("0.1"), Decimal(0), Decimal(pnl) + Decimal("0.1"), reason,
    )  # fmt: skip


def test_trade_figures() -> None:
    trades = [_trade("3"), _trade("-1", "short", 4), _trade("-2", hours=6), _trade("5", hours=8)]
    got = metrics.trade_figures(trades)
    assert got["trades"] == 4
    assert got["winRate"] == 0.5
    assert got["profitFactor"] == round(8 / 3, 4)
    assert got["expectancy"] == Decimal("1.2500")
    assert (got["longs"], got["shorts"]) == (3, 1)
    assert (got["bestTrade"], got["worstTrade"]) == (Decimal("5.0000"), Decimal("-2.0000"))
    assert (got["maxConsecutiveWins"], got["maxConsecutiveLosses"]) == (1, 2)
    assert (got["avgHoldHoursWinners"], got["avgHoldHoursLosers"]) == (5.0, 5.0)
    assert got["fees"] == Decimal("0.4000")
    pnl = np.array([3, -1, -2, 5.0])
    assert got["sqn"] == round(2 * pnl.mean() / pnl.std(ddof=1), 4)


def test_equity_figures() -> None:
    day = 24 * 3600_000
    ts = np.arange(4) * day
    equity = np.array([100.0, 110.0, 99.0, 120.0])
    got = metrics.equity_figures(ts, equity, day, np.array([False, True, True, False]))
    assert got["totalReturnPct"] == 20.0
    assert got["maxDrawdownPct"] == 10.0
    assert got["maxDrawdown"] == 11.0
    assert got["maxDrawdownHours"] == 24.0
    assert got["exposurePct"] == 50.0
    assert got["cagrPct"] == round((1.2 ** (365 / 4) - 1) * 100, 4)
