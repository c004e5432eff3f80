"""tk-guard as a command: exit statuses (0, 2, 69, 75, 130), dry-run touching nothing, the
--watch process with its health endpoints, live through ccxt to the emulator."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from conftest import record_approvals, script
from test_tk_exec import approved, lines, live  # noqa: F401 - the `live` fixture
from test_tk_risk import with_candles

from tradekit.emulator.trading import Fault

AT_18 = "2026-02-19T18:00:00Z"  # the bundled candles' last close


def tk(command: str, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [script(command), *args], input=stdin, capture_output=True, text=True, check=False,
        env={**os.environ, **(env or {})}, timeout=120,
    )  # fmt: skip


def events(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def kinds(result: Any) -> list[tuple[str, str | None]]:
    return [(e["kind"], e.get("reason")) for e in events(result)]


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return list(connection.iterdump())


def test_watch_with_now_is_a_usage_error(home: Path) -> None:
    result = tk("tk-guard", "--watch", "--paper")  # the tests' TK_NOW is set
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "tk-guard: error: --watch follows the real clock: it cannot be combined with --now\n"
    )


def test_a_second_guard_exits_75_and_does_nothing(home: Path) -> None:
    with_candles(home)
    with (home / "guard.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = tk("tk-guard", "--paper", "--now", AT_18)
    assert result.returncode == 75 and result.stdout == ""
    assert f"another tk-guard is running (lock {home}/guard.lock)" in result.stderr


def test_dry_run_says_what_it_would_do_and_changes_nothing(home: Path) -> None:
    with_candles(home)
    (home / "config.toml").write_text(
        "[guard.timeout]\nmax_hold_minutes = 60\ntighten_pct = 0\n"
        "[guard.watch]\nmax_stale_seconds = 100000\n[risk.sizing]\nmax_notional = 1000\n"
    )
    record_approvals(home, lines(approved()), "paper", AT_18)
    opened = tk("tk-exec", "--paper", "--now", AT_18, stdin=lines(approved()))
    assert json.loads(opened.stdout)["execution"]["status"] == "placed", opened.stderr
    first = tk("tk-guard", "--paper", "--now", AT_18)
    assert first.returncode == 0 and kinds(first) == [
        ("tracking", "opened by a plan"),
        ("hold", "in_range"),
    ]
    before = dump(home / "tradekit.db")
    later = "2026-02-19T19:30:00Z"  # held 90 minutes: past the timeout
    dry = tk("tk-guard", "--now", later)
    assert dry.returncode == 0, dry.stderr
    [would] = events(dry)
    assert (would["kind"], would["reason"], would["details"]) == (
        "would_close", "timeout", {"mode": "paper", "dryRun": True},
    )  # fmt: skip
    assert dump(home / "tradekit.db") == before  # not a row changed
    done = tk("tk-guard", "--paper", "--now", later)
    assert [k for k, _ in kinds(done)] == ["close"] and events(done)[0]["reason"] == "timeout"
    logged = (home / "logs" / "guard.jsonl").read_text().splitlines()
    assert [json.loads(line)["kind"] for line in logged] == [
        "tracking", "hold", "would_close", "close",
    ]  # fmt: skip


def test_an_unreachable_exchange_exits_69_closes_nothing_then_recovers(
    emulator: Any,
    live: dict[str, str],  # noqa: F811 - a fixture
    home: Path,
) -> None:
    record_approvals(home, lines(approved()), "live", AT_18)
    opened = tk("tk-exec", "--live", "--now", AT_18, stdin=lines(approved()), env=live)
    assert json.loads(opened.stdout)["execution"]["status"] == "placed", opened.stderr
    emulator.emulator.faults.arm(Fault("http", status=503, msg="down", text=True, times=1000))
    down = tk("tk-guard", "--live", "--now", AT_18, env=live)
    assert down.returncode == 69
    [error] = events(down)
    assert error["kind"] == "exchange_error" and "503" in error["reason"]
    # one line on stderr, so that cron mail shows it (stdout goes to /dev/null there)
    assert down.stderr == (
        "tk-guard: error: pass held, nothing decided on bad data: the exchange could not be "
        f"read ({error['reason']})\n"
    )
    emulator.emulator.faults.clear()
    assert [p for p in emulator.emulator.engine.state.positions.values() if p.size > 0]
    up = tk("tk-guard", "--live", "--now", AT_18, env=live)
    assert up.returncode == 0, up.stderr
    assert kinds(up) == [("tracking", "opened by a plan"), ("hold", "in_range")]
    assert up.stderr == ""
    for secret in live.values():
        assert secret not in down.stdout + down.stderr + up.stdout + up.stderr


def test_a_stale_price_holds_the_pass_and_says_so_on_stderr(home: Path) -> None:
    with_candles(home)
    (home / "config.toml").write_text("[risk.sizing]\nmax_notional = 1000\n")
    record_approvals(home, lines(approved()), "paper", AT_18)
    opened = tk("tk-exec", "--paper", "--now", AT_18, stdin=lines(approved()))
    assert json.loads(opened.stdout)["execution"]["status"] == "placed", opened.stderr
    fresh = tk("tk-guard", "--paper", "--now", AT_18)
    assert (fresh.returncode, fresh.stderr) == (0, "")
    # the last bar closed at 18:00 and no newer one came: by 19:30 its price is stale
    stale = tk("tk-guard", "--paper", "--now", "2026-02-19T19:30:00Z")
    assert stale.returncode == 69
    assert [e["kind"] for e in events(stale)] == ["hold"]
    assert stale.stderr == (
        "tk-guard: error: pass held, nothing decided on bad data: stale price for BTCUSDT\n"
    )
    quiet = tk("tk-guard", "--paper", "-q", "--now", "2026-02-19T19:30:00Z")
    assert quiet.stderr == stale.stderr  # an error: shown even with -q


def ready_within(url: str, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            assert exc.code == 503, exc
            assert time.monotonic() < deadline, json.loads(exc.read())
            time.sleep(0.05)


def test_watch_serves_health_until_sigterm(home: Path) -> None:
    with_candles(home)
    (home / "config.toml").write_text("[guard.health]\nport = 0\n")
    env = {k: v for k, v in os.environ.items() if k != "TK_NOW"}
    process = subprocess.Popen(
        [script("tk-guard"), "--watch", "--paper"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        started = json.loads(process.stdout.readline())
        assert started["kind"] == "watch_started"
        url = started["details"]["health"]
        assert url.startswith("http://127.0.0.1:") and started["details"]["priceFeed"] == "rest"
        held = json.loads(process.stdout.readline())
        assert (held["kind"], held["reason"]) == ("hold", "no open positions")
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            assert response.status == 200
        body = ready_within(url + "/readyz", seconds=10)  # once the pass is recorded
        assert body["ready"] is True and body["priceFeedMode"] == "rest"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 130 and err == "tk-guard: error: interrupted\n"
    assert out == ""  # nothing after the first pass: the next one is 10 s away


def test_live_that_cannot_be_used_is_refused_not_run_dry(home: Path) -> None:
    with_candles(home)
    (home / "config.toml").write_text("[live]\nenabled = true\n")
    result = tk("tk-guard", "--live", "--now", AT_18)  # no BITGET_API_* in the environment
    assert result.returncode == 78 and result.stdout == ""
    assert result.stderr.startswith("tk-guard: error: --live refused: ")
    assert result.stderr == (
        "tk-guard: error: --live refused: missing or unusable BITGET_API_KEY, "
        "BITGET_API_SECRET, BITGET_API_PASSPHRASE in the environment\n"
    )


def test_watch_settings_must_be_finite(home: Path) -> None:
    (home / "config.toml").write_text("[guard.watch]\ninterval_seconds = inf\n")
    result = tk("tk-guard", "--paper", "--now", AT_18)
    assert result.returncode == 78
    assert "guard.watch.interval_seconds: Input should be less than or equal to 3600" in (
        result.stderr
    )


def test_an_unreadable_kill_switch_file_means_safe(home: Path) -> None:
    with_candles(home)
    (home / "KILL_SWITCH").mkdir()
    status = tk("tk", "kill", "status")
    assert status.returncode == 0 and status.stdout.startswith("kill switch: safe")
