"""tk-report html: the page's data against the audit the stages wrote, bad input, and
tk-report's text summary of the guard's trades. (The page in a browser:
test_report_browser.py.)"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

from report_fixtures import EXECUTED_ID, ReportHome, report_home

__all__ = ["report_home"]  # the session fixture, used by the tests below

DATA = re.compile(r'<script id="tk-data" type="application/json">(.*?)</script>', re.S)


def page_data(path: Path) -> dict:
    match = DATA.search(path.read_text())
    assert match, f"{path}: no inlined data"
    return json.loads(match.group(1))


def bar_times(columns: dict) -> list[int]:
    """The bars' open times (s) from the page's runs of consecutive bars."""
    return [first + i * columns["step"] for first, count in columns["runs"] for i in range(count)]


def write_page(home: ReportHome, tmp_path: Path, args: str = "") -> tuple[dict, object]:
    out = tmp_path / "page.html"
    result = home.run(f"tk-report html {args} --out {out}")
    return page_data(out), result


def btc_cycle_ids(home: ReportHome) -> set[str]:
    return {
        record["cycleId"]
        for _, record in home.audit_records()
        if record.get("tradePlanVersion") == 1 and ":ETHUSDT:" not in record["cycleId"]
    }


def test_every_decision_of_the_audit_is_on_the_page_once(report_home: ReportHome, tmp_path):
    data, result = write_page(report_home, tmp_path)
    assert result.returncode == 0, result.stderr
    assert {d["cycleId"] for d in data["decisions"]} == btc_cycle_ids(report_home)
    assert len(data["decisions"]) == len(btc_cycle_ids(report_home))
    assert f"wrote {tmp_path / 'page.html'}: {len(data['decisions'])} decisions" in result.stderr
    kinds = {d["kind"] for d in data["decisions"]}
    assert {"executed", "risk", "noplan"} <= kinds


def test_a_decision_knows_its_audit_lines_and_the_guards_events(report_home, tmp_path):
    data, _ = write_page(report_home, tmp_path)
    executed = next(d for d in data["decisions"] if d["cycleId"] == EXECUTED_ID)
    lines = [n for n, r in report_home.audit_records() if r.get("cycleId") == EXECUTED_ID]
    assert [line for _, line, _ in executed["where"]] == lines
    assert [stage for _, _, stage in executed["where"]] == ["risk", "exec"]
    assert {data["files"][file] for file, _, _ in executed["where"]} == {str(report_home.decisions)}
    assert executed["kind"] == "executed"
    assert executed["record"]["execution"]["status"] == "placed"
    closes = [e for e in report_home.guard_events() if e["kind"] == "close"]
    linked = [e for e in executed["guard"] if e["kind"] == "close"]
    assert [e["pnl"] for e in linked] == [c["pnl"] for c in closes]
    assert executed["guard"][0]["kind"] == "tracking"
    # the bar is the plan's source bar
    assert executed["t"] == 1771520400000  # 2026-02-19T17:00:00Z


def test_risk_blocked_label_is_the_first_reason(report_home, tmp_path):
    data, _ = write_page(report_home, tmp_path)
    blocked = [d for d in data["decisions"] if d["kind"] == "risk"]
    assert blocked
    for decision in blocked:
        first = decision["record"]["risk"]["reasons"][0]
        assert decision["label"].endswith(f"blocked: {first}")


def test_the_page_is_one_file_that_loads_nothing(report_home, tmp_path):
    _, result = write_page(report_home, tmp_path)
    html = (tmp_path / "page.html").read_text()
    assert result.returncode == 0
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert "TradingView Lightweight Charts™ v5.2.1" in html  # the library, inlined
    assert 'href="https://www.tradingview.com/"' in html  # the attribution it asks for
    assert "default-src 'none'" in html  # and the browser is told to fetch nothing


def test_trades_come_from_the_guards_close_events(report_home, tmp_path):
    data, _ = write_page(report_home, tmp_path)
    closes = [e for e in report_home.guard_events() if e["kind"] == "close"]
    assert [(t["pnl"], t["reason"], t["cycleId"]) for t in data["trades"]] == [
        (c["pnl"], c["reason"], EXECUTED_ID) for c in closes
    ]


def test_candles_for_each_timeframe_resampled_from_the_stored_1h(report_home, tmp_path):
    data, _ = write_page(report_home, tmp_path)
    assert list(data["candles"]) == ["1h", "4h", "1d"]
    hourly, four = data["candles"]["1h"], data["candles"]["4h"]
    first = bar_times(hourly).index(bar_times(four)[1])
    assert four["h"][1] == max(hourly["h"][first : first + 4])
    assert four["v"][1] == round(sum(hourly["v"][first : first + 4]), 3)
    assert len(bar_times(hourly)) == len(hourly["c"])
    assert data["timeframe"] == "1h"


def test_from_and_to_keep_the_decisions_between(report_home, tmp_path):
    data, result = write_page(
        report_home, tmp_path, "--from 2026-02-15T00:00:00Z --to 2026-02-16T00:00:00Z"
    )
    assert result.returncode == 0, result.stderr
    times = [d["t"] for d in data["decisions"]]
    assert times and all(1771113600000 <= t < 1771200000000 for t in times)
    assert bar_times(data["candles"]["1h"])[0] == 1771113600000 // 1000


def test_a_bad_time_option_is_a_usage_error(report_home, tmp_path):
    result = report_home.run(f"tk-report html --from yesterday --out {tmp_path / 'x.html'}")
    assert result.returncode == 2
    assert "--from: 'yesterday' is not a time" in result.stderr
    assert not (tmp_path / "x.html").exists()


def test_bad_lines_and_missing_candles_still_write_the_page(report_home, tmp_path):
    audit = tmp_path / "audit.jsonl"
    good = report_home.decisions.read_text().splitlines()[:3]
    eth = {"tradePlanVersion": 1, "cycleId": "tg:chan:1", "plan": {"symbol": "ETHUSDT"}}
    audit.write_text("\n".join([*good, "not json", json.dumps(eth)]) + "\n")
    out = tmp_path / "eth.html"
    result = report_home.run(f"tk-report html {audit} --symbol ETHUSDT --out {out}")
    assert result.returncode == 65
    assert f"{audit}:4: invalid JSON" in result.stderr
    assert "no ETHUSDT candles in" in result.stderr
    data = page_data(out)
    assert [d["cycleId"] for d in data["decisions"]] == ["tg:chan:1"]
    assert any(p.startswith(f"{audit}:4: invalid JSON") for p in data["problems"])
    assert any("no ETHUSDT candles" in p for p in data["problems"])
    assert data["candles"] == {}


def test_an_empty_audit_writes_a_page_that_says_so(report_home, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    out = tmp_path / "empty.html"
    result = report_home.run(f"tk-report html {empty} --out {out}")
    assert result.returncode == 65
    assert "the input is empty" in result.stderr
    assert page_data(out)["problems"] == ["the input is empty: no records to show"]


def test_a_pipe_of_records_is_read_from_stdin(report_home, tmp_path):
    records = [json.dumps(r) for _, r in report_home.audit_records()[:40]]
    out = tmp_path / "pipe.html"
    result = report_home.run(f"tk-report html - --out {out}", "\n".join(records) + "\n")
    assert result.returncode == 0, result.stderr
    data = page_data(out)
    assert {d["cycleId"] for d in data["decisions"]} == {json.loads(r)["cycleId"] for r in records}
    assert data["files"] == ["<stdin>"]


def test_a_backtest_folder_gives_its_trades_equity_and_summary(report_home, tmp_path):
    data, result = write_page(report_home, tmp_path, str(report_home.backtest))
    assert result.returncode == 0, result.stderr
    trades = [json.loads(line) for line in (report_home.backtest / "trades.jsonl").open()]
    assert [(t["pnl"], t["reason"]) for t in data["trades"]] == [
        (t["pnl"], t["exitReason"]) for t in trades
    ]
    assert [p["equity"] for p in data["equity"]] == [1000.0, 1012.5, 1005.25]
    assert data["equity"][-1]["drawdownPct"] == round((1005.25 / 1012.5 - 1) * 100, 4)
    assert data["summary"]["netPnl"] == 5.25
    assert len(data["decisions"]) == len(
        {
            json.loads(line)["record"]["cycleId"]
            for line in (report_home.backtest / "decisions.jsonl").open()
        }
    )


def test_text_summary_counts_the_trades_pnl_and_win_rate(report_home):
    closes = [e for e in report_home.guard_events() if e["kind"] in ("close", "closed_on_exchange")]
    pnl = sum(Decimal(str(e["pnl"])) for e in closes)
    wins = sum(1 for e in closes if Decimal(str(e["pnl"])) > 0)
    out = report_home.must(f"tk-report {report_home.decisions} {report_home.guard}")
    assert f"trades closed    {len(closes)}\n" in out
    assert f"realised PnL     {pnl:f} USDT\n" in out
    assert (
        f"win rate         {Decimal(wins * 100) / len(closes):.1f} % ({wins} of {len(closes)})"
        in out
    )
    summary = json.loads(report_home.must(f"tk-report --json {report_home.guard}"))
    assert summary["trades"]["trades"] == len(closes)
    assert Decimal(str(summary["trades"]["realisedPnl"])) == pnl
    assert summary["records"] == 0  # guard events are not records
