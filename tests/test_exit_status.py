"""One test per exit status (README: "Exit statuses"). Real code paths wherever one exists."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from conftest import SEED_PLAN, script

from tradekit.cli.base import guarded
from tradekit.errors import ExchangeUnavailableError, TryAgainLaterError
from tradekit.exitstatus import ExitStatus
from tradekit.store import Store


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_documented_statuses_are_exactly_the_enum() -> None:
    assert {status.name: int(status) for status in ExitStatus} == {
        "OK": 0,
        "ERROR": 1,
        "USAGE": 2,
        "BAD_INPUT": 65,
        "EXCHANGE_UNAVAILABLE": 69,
        "TRY_AGAIN_LATER": 75,
        "CONFIG": 78,
        "INTERRUPTED": 130,
        "BROKEN_PIPE": 141,
    }


def test_ok(home: Path) -> None:
    result = run(script("tk-news-gate"), stdin=SEED_PLAN + "\n")
    assert result.returncode == ExitStatus.OK
    assert result.stdout == SEED_PLAN + "\n"


def test_usage(home: Path) -> None:
    result = run(script("tk-risk"), "--no-such-option")
    assert result.returncode == ExitStatus.USAGE
    assert "No such option: --no-such-option" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_for_a_missing_input_file(home: Path, tmp_path: Path) -> None:
    result = run(script("tk-risk"), str(tmp_path / "nope.jsonl"))
    assert result.returncode == ExitStatus.USAGE
    assert result.stderr == (
        f"tk-risk: error: cannot read {tmp_path / 'nope.jsonl'}: No such file or directory\n"
    )


def test_bad_input(home: Path) -> None:
    result = run(script("tk-news-gate"), "--on-error", "skip", stdin=f"{SEED_PLAN}\nnot json\n")
    assert result.returncode == ExitStatus.BAD_INPUT
    assert result.stdout == SEED_PLAN + "\n"
    assert "<stdin>:2: invalid JSON" in result.stderr


def test_config(home: Path) -> None:
    (home / "config.toml").write_text("mode = 'paper'\n[live]\nenabeld = true\n")
    result = run(script("tk-risk"), stdin=SEED_PLAN + "\n")
    assert result.returncode == ExitStatus.CONFIG
    assert result.stderr == f"tk-risk: error: {home / 'config.toml'}: live.enabeld: unknown key\n"
    assert result.stdout == ""


def test_config_when_home_is_not_a_directory(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    result = run(script("tk-risk"), "--home", str(not_a_dir), stdin=SEED_PLAN + "\n")
    assert result.returncode == ExitStatus.CONFIG
    assert result.stderr.startswith(f"tk-risk: error: TK_HOME {not_a_dir}: cannot use it as")
    assert result.stdout == ""


def _raises(error: Exception):
    def body() -> ExitStatus:
        raise error

    return body


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ExchangeUnavailableError("bitget: 503 Service Unavailable"), 69),
        (TryAgainLaterError("lock held by pid 4242"), 75),
    ],
)
def test_exchange_unavailable_and_try_again_later(
    error: Exception, status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # No stage talks to an exchange or takes a lock yet; the mapping itself is what is tested.
    with pytest.raises(typer.Exit) as exit_info:
        guarded("tk-exec", 0, _raises(error))
    assert exit_info.value.exit_code == status
    assert capsys.readouterr().err == f"tk-exec: error: {error}\n"


def test_try_again_later_when_the_database_is_locked(home: Path) -> None:
    Store(home / "tradekit.db").close()
    holder = sqlite3.connect(home / "tradekit.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing

    def start_a_run() -> ExitStatus:
        with Store(home / "tradekit.db", busy_timeout=0.1) as store:
            store.start_run("risk", "dry-run", datetime.now(UTC))
        return ExitStatus.OK

    try:
        with pytest.raises(typer.Exit) as exit_info:
            guarded("tk-risk", 0, start_a_run)
        assert exit_info.value.exit_code == ExitStatus.TRY_AGAIN_LATER
    finally:
        holder.execute("ROLLBACK")


def test_internal_error_is_one_line_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as exit_info:
        guarded("tk-risk", 0, _raises(ZeroDivisionError("division by zero")))
    assert exit_info.value.exit_code == ExitStatus.ERROR
    err = capsys.readouterr().err
    assert err == (
        "tk-risk: error: internal error: ZeroDivisionError: division by zero\n"
        "tk-risk: error: run again with -v for the traceback\n"
    )


def test_internal_error_shows_traceback_with_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit):
        guarded("tk-risk", 1, _raises(ZeroDivisionError("division by zero")))
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_interrupted(home: Path) -> None:
    proc = subprocess.Popen(
        [script("tk-news-gate")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(SEED_PLAN + "\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == SEED_PLAN + "\n"  # the first record went through
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == ExitStatus.INTERRUPTED
    assert "interrupted" in proc.stderr.read()
    # The record that was processed is in the audit: nothing acted on is unjournaled.
    assert (home / "logs" / "decisions.jsonl").read_text().count("\n") == 1


def test_terminated_by_sigterm_like_an_interrupt(home: Path) -> None:
    proc = subprocess.Popen(
        [script("tk-news-gate")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(SEED_PLAN.encode() + b"\n")
    proc.stdin.flush()
    proc.stdout.readline()
    proc.terminate()
    assert proc.wait(timeout=30) == ExitStatus.INTERRUPTED


def test_broken_pipe(home: Path) -> None:
    many = "\n".join([SEED_PLAN] * 20000)
    result = subprocess.run(
        [
            "bash",
            "-c",
            f'"{script("tk-news-gate")}" | head -n 1; echo "status=${{PIPESTATUS[0]}}" >&2',
        ],
        input=many,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout == SEED_PLAN + "\n"
    assert "status=141" in result.stderr
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
