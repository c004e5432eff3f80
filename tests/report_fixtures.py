"""A home with a real audit for tk-report html: ten days of v5 replayed through the gate,
risk and a dry-run exec; one plan executed on the paper account, tracked by the guard and
closed by the kill switch; and a hand-made backtest run folder.

Built once per test session by running the commands themselves (no record is written by
hand into the audit: the audit is what the stages wrote)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import BIN, ROOT

NOW = "2026-02-19T18:00:00Z"
#: executed on the paper account: long at the last bar, its stop under it, targets above
EXECUTED_ID = "test:BTCUSDT:1h:2026-02-19T18:00:00Z"
EXECUTED_PLAN = {
    "tradePlanVersion": 1,
    "cycleId": EXECUTED_ID,
    "plan": {
        "symbol": "BTCUSDT",
        "side": "long",
        "reason": "test entry",
        "action": "open",
        "source": {"kind": "strategy", "strategy": "v5", "timeframe": "1h",
                   "barTime": "2026-02-19T17:00:00Z"},
        "stopLoss": 65345.3,
        "takeProfits": [69638.7],
        "leverage": 5,
        "context": {"1H_ATR": 512.5},
    },
}  # fmt: skip


@dataclass(frozen=True)
class ReportHome:
    root: Path
    decisions: Path
    guard: Path
    backtest: Path

    def env(self) -> dict[str, str]:
        path = f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}"
        return {**os.environ, "TK_HOME": str(self.root), "TK_NOW": NOW, "PATH": path}

    def run(self, command: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
            env=self.env(),
            cwd=ROOT,
        )

    def must(self, command: str, stdin: str = "") -> str:
        result = self.run(command, stdin)
        assert result.returncode == 0, f"{command}: {result.returncode}\n{result.stderr}"
        return result.stdout

    def audit_records(self) -> list[tuple[int, dict]]:
        """(line number, record) of every TradePlan entry in decisions.jsonl."""
        lines = self.decisions.read_text().splitlines()
        return [(n, json.loads(line)["record"]) for n, line in enumerate(lines, 1)]

    def guard_events(self) -> list[dict]:
        return [json.loads(line) for line in self.guard.read_text().splitlines()]


def _build(root: Path) -> ReportHome:
    home = ReportHome(
        root, root / "logs/decisions.jsonl", root / "logs/guard.jsonl", root.parent / "backtest"
    )
    home.must("tk init >/dev/null && tk data import examples/BTCUSDT-1h.csv >/dev/null")
    home.must(
        "tk-signal v5 --replay 2026-02-10 2026-02-19T18:00:00Z | tk-news-gate "
        "| tk-risk --equity 1000 | tk-exec --dry-run >/dev/null"
    )
    home.must("tk paper reset --balance 1000 >/dev/null")
    home.must("tk-risk --paper | tk-exec --paper >/dev/null", json.dumps(EXECUTED_PLAN) + "\n")
    home.must("tk-guard --paper >/dev/null")
    home.must("tk kill panic >/dev/null && tk-guard --paper >/dev/null && tk kill off >/dev/null")
    _backtest(home)
    return home


def _backtest(home: ReportHome) -> None:
    """A run folder as the backtest writes it (TK_HOME/backtests/<id>/): decisions, trades,
    an equity curve and summary.json."""
    folder = home.backtest
    folder.mkdir()
    lines = home.decisions.read_text().splitlines()
    (folder / "decisions.jsonl").write_text("\n".join(lines[:120]) + "\n")
    trades = [
        {"symbol": "BTCUSDT", "side": "short", "entryTime": "2026-02-11T03:00:00Z",
         "exitTime": "2026-02-11T09:00:00Z", "entryPrice": 68000.0, "exitPrice": 67100.0,
         "pnl": 12.5, "fees": 0.8, "exitReason": "take_profit"},
        {"symbol": "BTCUSDT", "side": "short", "entryTime": "2026-02-12T14:00:00Z",
         "exitTime": "2026-02-12T20:00:00Z", "entryPrice": 67000.0, "exitPrice": 67600.0,
         "pnl": -7.25, "fees": 0.7, "exitReason": "stop_loss"},
    ]  # fmt: skip
    (folder / "trades.jsonl").write_text("".join(json.dumps(t) + "\n" for t in trades))
    equity = [
        {"ts": "2026-02-10T00:00:00Z", "equity": 1000.0},
        {"ts": "2026-02-11T09:00:00Z", "equity": 1012.5},
        {"ts": "2026-02-12T20:00:00Z", "equity": 1005.25},
    ]
    (folder / "equity.jsonl").write_text("".join(json.dumps(p) + "\n" for p in equity))
    summary = {"trades": 2, "winRatePct": 50.0, "netPnl": 5.25, "maxDrawdownPct": -0.72}
    (folder / "summary.json").write_text(json.dumps(summary))


@pytest.fixture(scope="session")
def report_home(tmp_path_factory: pytest.TempPathFactory) -> ReportHome:
    return _build(tmp_path_factory.mktemp("report") / "home")
