"""Live versus backtest: the commands cron runs, bar by bar in a fresh home, and
`tk backtest` over the same window and config must make the same trades, field for field.

The cron side runs each command's real Typer app in-process (what bin/tk-cycle pipes:
tk-signal | tk-news-gate | tk-risk | tk-exec, then tk-guard, each with --paper and TK_NOW
at the bar's close), so two weeks of hourly bars fit in CI; `test_tk_cycle_is_that_pipe`
checks that bin/tk-cycle as a process gives the same records, and bench/parity.py runs
the whole window through bin/tk-cycle itself."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import OHLCV, ROOT, init_home, script
from typer.testing import CliRunner

from tradekit import jsonio
from tradekit.backtest.trades import paper_trades
from tradekit.clock import format_time
from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore
from tradekit.store import Store

DATA = OHLCV / "BTCUSDT-1h-bybitfutures-mohsenjfar_trade.csv"
START = datetime(2025, 1, 1, tzinfo=UTC)
END = START + timedelta(days=14)


def fresh_home(path: Path) -> Path:
    init_home(path)
    # the paper exchange charges no funding; the backtest would, at its default rate
    (path / "config.toml").write_text("[backtest]\nfunding_rate = 0\n")
    CandleStore(path / "data").merge(read_csv(DATA, "BTCUSDT", "1h"))
    return path


def bar_closes(start: datetime, end: datetime) -> list[str]:
    hours = int((end - start).total_seconds() // 3600)
    return [format_time(start + timedelta(hours=h)) for h in range(hours + 1)]


def invoke(module: str, args: list[str], stdin: bytes, env: dict[str, str]) -> bytes:
    import importlib

    cli = importlib.import_module(f"tradekit.cli.{module}")
    result = CliRunner().invoke(cli.app, args, input=stdin, env=env, prog_name=cli.PROG)
    assert result.exit_code == 0, (module, args, result.stderr_bytes.decode())
    return result.stdout_bytes


def cron_bar(home: Path, strategy_args: list[str], now: str) -> bytes:
    """One cron minute at `now`: bin/tk-cycle --paper ARGS, then tk-guard --paper."""
    env = {"TK_HOME": str(home), "TK_NOW": now, "TZ": "UTC"}
    records = invoke("signal", strategy_args, b"", env)
    records = invoke("news_gate", [], records, env)
    records = invoke("risk", ["--paper"], records, env)
    records = invoke("exec", ["--paper"], records, env)
    invoke("guard", ["--paper"], b"", env)
    return records


def cron_trades(home: Path) -> list[dict]:
    with Store(home / "tradekit.db") as store:
        return [json.loads(jsonio.dumps(t.to_json())) for t in paper_trades(store)]


def executed_plans(home: Path) -> list[dict]:
    """tk-exec's records of the bars that had a plan, from the cron home's audit trail."""
    entries = [json.loads(line) for line in (home / "logs" / "decisions.jsonl").open()]
    return [e["record"] for e in entries if e["stage"] == "exec" and e["record"]["plan"]]


def run_backtest(home: Path, strategy_args: list[str], start: str, end: str) -> Path:
    env = {"TK_HOME": str(home), "TZ": "UTC"}
    args = [*strategy_args, "--from", start, "--to", end, "--json"]
    summary = json.loads(invoke("backtest", args, b"", env))
    return home / "backtests" / summary["runId"]


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    "strategy_args",
    [["v5"], ["dsl", "--spec", str(ROOT / "examples" / "dsl-ema-adx.json")]],
    ids=["v5", "dsl"],
)
def test_backtest_trades_equal_cron_runs(tmp_path: Path, strategy_args: list[str]) -> None:
    cron = fresh_home(tmp_path / "cron")
    for now in bar_closes(START, END):
        cron_bar(cron, strategy_args, now)
    live = cron_trades(cron)

    folder = run_backtest(
        fresh_home(tmp_path / "bt"), strategy_args, format_time(START), format_time(END)
    )
    backtest = lines(folder / "trades.jsonl")

    assert len(live) >= 3, "the window must trade for the comparison to mean anything"
    assert backtest == live
    assert lines(folder / "decisions.jsonl") == executed_plans(cron)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["trades"] == len(live)
    assert summary["bars"] == len(bar_closes(START, END))


def test_tk_cycle_is_that_pipe(tmp_path: Path) -> None:
    """bin/tk-cycle and tk-guard as processes give the records the in-process chain gives."""
    by_process, in_process = fresh_home(tmp_path / "p"), fresh_home(tmp_path / "i")
    env = {**os.environ, "TK_HOME": str(by_process), "TZ": "UTC"}
    env["PATH"] = f"{Path(script('tk')).parent}:{env['PATH']}"
    for now in bar_closes(START, START + timedelta(hours=2)):
        env["TK_NOW"] = now
        piped = subprocess.run(
            [str(ROOT / "bin" / "tk-cycle"), "--paper", "v5"],
            check=False,
            env=env,
            capture_output=True,
        )
        guard = subprocess.run(
            [script("tk-guard"), "--paper"], check=False, env=env, capture_output=True
        )
        assert (piped.returncode, guard.returncode) == (0, 0), piped.stderr + guard.stderr
        assert piped.stdout == cron_bar(in_process, ["v5"], now)
