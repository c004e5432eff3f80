"""tk-news-gate and tk news as commands: recency windows and items not yet published, the
"once" policy (and that dry-runs and plan-less lines never consume), the cache age and
both failure policies, calendar windows per importance, upstream blocks kept."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from conftest import script

NOW = "2026-02-19T18:00:00Z"
PLAN = {"symbol": "BTCUSDT", "side": "long", "level": "strong", "reason": "t"}
LONG = {"tradePlanVersion": 1, "cycleId": "c1", "dryRun": False, "plan": PLAN}
SHORT = {**LONG, "cycleId": "c2", "plan": {**LONG["plan"], "side": "short"}}


def tk(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [script(args[0]), *args[1:]], input=stdin, capture_output=True, text=True,
        check=False, env=os.environ, timeout=120,
    )  # fmt: skip


def setup(home: Path, items: list[dict[str, Any]], config: str = "") -> None:
    (home / "news.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    (home / "config.toml").write_text(
        '[news]\nsources = [{ name = "desk", kind = "jsonl", url = "news.jsonl" }]\n' + config
    )


def gate(*records: dict[str, Any], args: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    result = tk(
        "tk-news-gate", "--now", NOW, *args, stdin="".join(json.dumps(r) + "\n" for r in records)
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line).get("decision") for line in result.stdout.splitlines()]


BEARISH = {"id": "h", "title": "Exchange hacked, BTC stolen", "publishedAt": "2026-02-19T17:30:00Z"}


def test_an_item_counts_inside_its_recency_window_only(home: Path) -> None:
    old = {**BEARISH, "id": "old", "publishedAt": "2026-02-19T15:59:00Z"}  # 121 min before
    future = {**BEARISH, "id": "later", "publishedAt": "2026-02-19T18:05:00Z"}  # not yet out
    setup(home, [old, future])
    assert tk("tk", "news", "fetch", "--now", NOW).returncode == 0
    [decision] = gate(LONG)
    assert decision["blockedByNews"] is False and decision["newsItems"] == []
    setup(home, [old, future], "recency_minutes = 180\n")
    [decision] = gate(LONG)
    assert decision["newsReason"] == ["15:59 Exchange hacked, BTC stolen"]


def test_window_policy_blocks_every_cycle_once_policy_only_the_first_real_one(home: Path) -> None:
    setup(home, [BEARISH])
    tk("tk", "news", "fetch", "--now", NOW)
    assert [d["blockedByNews"] for d in gate(LONG, LONG)] == [True, True]  # window (default)
    setup(home, [BEARISH], 'consume = "once"\n')
    # a dry-run run, and a dryRun record, consume nothing
    assert [d["blockedByNews"] for d in gate(LONG, LONG)] == [True, True]
    dry_record = {**LONG, "dryRun": True}
    assert [d["blockedByNews"] for d in gate(dry_record, dry_record, args=("--paper",))] == [
        True, True,
    ]  # fmt: skip
    # nor does a plan-less line
    assert gate({"tradePlanVersion": 1, "cycleId": "n", "plan": None}, args=("--paper",)) == [None]
    # the first real cycle does: the next plan, in the same run or the next, is not blocked
    first, second = gate(LONG, LONG, args=("--paper",))
    assert (first["blockedByNews"], second["blockedByNews"]) == (True, False)
    [later] = gate(LONG, args=("--paper",))
    assert later["blockedByNews"] is False
    assert later["newsItems"][0]["blocks"] is False  # still listed, no longer blocking


def test_an_old_cache_applies_the_failure_policy(home: Path) -> None:
    setup(home, [BEARISH], 'failure_policy = "closed"\nmax_cache_age_minutes = 30\n')
    assert tk("tk", "news", "fetch", "--now", "2026-02-19T17:20:00Z").returncode == 0
    [decision] = gate(SHORT)  # fetched 40 minutes before
    assert decision["blockedByNews"] is True
    assert decision["newsStatus"] == "fail-closed: desk last fetched 40 min ago"
    setup(home, [BEARISH], 'failure_policy = "open"\nmax_cache_age_minutes = 30\n')
    [decision] = gate(SHORT)
    assert (decision["blockedByNews"], decision["newsStatus"]) == (
        False, "fail-open: desk last fetched 40 min ago",
    )  # fmt: skip


def test_calendar_windows_per_importance(home: Path) -> None:
    (home / "cal.csv").write_text(
        "time_utc,event,importance\n"
        "2026-02-19T18:25:00Z,CPI,high\n"  # 25 min ahead: inside high's 30 before
        "2026-02-19T18:20:00Z,PMI,medium\n"  # 20 min ahead: outside medium's 15 before
        "2026-02-19T17:05:00Z,FOMC,high\n"  # 55 min ago: inside high's 60 after
    )
    (home / "config.toml").write_text('[news.calendar]\nfile = "cal.csv"\n')
    [decision] = gate(LONG)
    assert decision["newsReason"] == [
        "18:25 CPI (high): no new entries around it",
        "17:05 FOMC (high): no new entries around it",
    ]
    (home / "config.toml").write_text(
        '[news.calendar]\nfile = "cal.csv"\n[news.calendar.high]\nbefore_minutes = 10\n'
        "after_minutes = 10\n[news.calendar.medium]\nbefore_minutes = 30\n"
    )
    [decision] = gate(SHORT)
    assert decision["newsReason"] == ["18:20 PMI (medium): no new entries around it"]


def test_an_upstream_block_stays_and_closes_are_never_gated(home: Path) -> None:
    setup(home, [])
    tk("tk", "news", "fetch", "--now", NOW)
    blocked = {**LONG, "decision": {"blockedByNews": True, "newsReason": ["12:00 seed"], "x": 1}}
    close = {
        "tradePlanVersion": 1,
        "cycleId": "c",
        "plan": {"symbol": "BTCUSDT", "action": "close"},
    }
    first, second = gate(blocked, close)
    assert first == {
        "blockedByNews": True, "newsReason": ["12:00 seed"], "x": 1, "newsItems": [],
        "calendarEvents": [], "newsStatus": "ok",
    }  # fmt: skip
    assert second is None


def test_news_ls_shows_what_the_gate_will_use(home: Path) -> None:
    setup(home, [BEARISH, {"id": "b", "title": "BlackRock buys BTC", "publishedAt": 1771521000000}])
    tk("tk", "news", "fetch", "--now", NOW)
    listed = tk("tk", "news", "ls", "--now", NOW)
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == [  # piped: plain, aligned, the same every run
        "time (UTC)        direction  score  symbols  title",
        "2026-02-19 17:30  bearish       -3  BTCUSDT  Exchange hacked, BTC stolen",
        "2026-02-19 17:10  bullish       +2  BTCUSDT  BlackRock buys BTC",
    ]
    rows = [
        json.loads(line)
        for line in tk("tk", "news", "ls", "--json", "--now", NOW).stdout.splitlines()
    ]
    assert [(r["id"], r["tags"], r["consumedFor"]) for r in rows] == [
        ("desk:h", ["negative"], []), ("desk:b", ["flows"], []),
    ]  # fmt: skip


def test_news_config_mistakes_are_named(home: Path) -> None:
    cases = {
        'sources = [{ name = "a", kind = "rss", url = "ftp://x" }]':
            "news.sources.0: url: a rss source needs an http(s) URL",
        'sources = [{ name = "a", kind = "jsonl", url = "x" }, '
        '{ name = "a", kind = "jsonl", url = "y" }]':
            "news.sources: source names must be unique: a more than once",
        'display_time_zone = "Mars/Olympus"': "news.display_time_zone: unknown time zone",
        'consume = "twice"': "news.consume: Input should be 'window' or 'once'",
        'symbols = { BTCUSDT = [""] }': "news.symbols: BTCUSDT: give at least one word",
        "symbols = { ETHUSDT = [] }": "ETHUSDT: give at least one word, and no empty ones",
    }  # fmt: skip
    for line, message in cases.items():
        (home / "config.toml").write_text(f"[news]\n{line}\n")
        result = tk("tk-news-gate", stdin=json.dumps(LONG) + "\n")
        assert result.returncode == 78 and result.stdout == "", line
        assert message in result.stderr, result.stderr


def test_once_is_per_item_and_symbol(home: Path) -> None:
    macro = {"id": "m1", "title": "Fed hikes rates again, crypto plunges",
             "publishedAt": "2026-02-19T17:50:00Z"}  # fmt: skip
    setup(home, [macro], 'consume = "once"\n')
    tk("tk", "news", "fetch", "--now", NOW)
    eth = {**LONG, "cycleId": "e", "plan": {**PLAN, "symbol": "ETHUSDT"}}
    btc_first, eth_first, btc_again = gate(LONG, eth, LONG, args=("--paper",))
    assert (btc_first["blockedByNews"], eth_first["blockedByNews"]) == (True, True)
    assert btc_again["blockedByNews"] is False


def test_symbols_are_matched_whatever_their_case(home: Path) -> None:
    setup(home, [BEARISH])
    tk("tk", "news", "fetch", "--now", NOW)
    [decision] = gate({**LONG, "plan": {**PLAN, "symbol": "btcusdt"}})
    assert decision["blockedByNews"] is True


def test_a_failed_fetch_is_named_even_while_older_items_are_used(home: Path) -> None:
    setup(home, [BEARISH])
    quiet = tk("tk", "news", "fetch", "-q", "--now", "2026-02-19T17:50:00Z")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")  # cron mails nothing
    assert len((home / "logs" / "news.jsonl").read_text().splitlines()) == 1  # but it is kept
    (home / "news.jsonl").unlink()
    failed = tk("tk", "news", "fetch", "-q", "--now", NOW)
    assert (failed.returncode, failed.stdout) == (69, "")
    assert failed.stderr == (  # a failure is said even with -q
        "tk news: error: desk: cannot read news.jsonl: No such file or directory\n"
    )
    [decision] = gate(LONG)
    assert decision["blockedByNews"] is True  # the items of 17:50 still count
    assert decision["newsStatus"] == (
        "ok; desk: last fetch failed (cannot read news.jsonl: No such file or directory); "
        "its items of 10 min ago are used"
    )


def test_fetch_dry_run_keeps_nothing(home: Path) -> None:
    setup(home, [BEARISH])
    dry = tk("tk", "news", "fetch", "--dry-run", "--now", NOW)
    assert dry.returncode == 0 and json.loads(dry.stdout)["new"] == 1
    listed = tk("tk", "news", "ls", "--json", "--now", NOW)
    assert listed.stdout == ""


def test_calendar_byte_order_mark_and_date_only_lines(home: Path) -> None:
    text = "time_utc,event,importance\n2026-02-19T18:10:00Z,CPI,high\n2026-02-19,date only,high\n"
    (home / "cal.csv").write_bytes(text.encode("utf-8-sig"))
    (home / "config.toml").write_text('[news.calendar]\nfile = "cal.csv"\n')
    result = tk("tk-news-gate", "--now", NOW, stdin=json.dumps(LONG) + "\n")
    decision = json.loads(result.stdout)["decision"]
    assert decision["newsReason"] == ["18:10 CPI (high): no new entries around it"]
    assert decision["newsStatus"] == (
        "fail-open: calendar: cal.csv:3: time_utc '2026-02-19' has no time of day; skipped"
    )
    assert "cal.csv:3: time_utc '2026-02-19' has no time of day" in result.stderr
