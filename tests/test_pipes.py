"""Real shell pipes, as a trader would type them (csvkit style)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import BIN, ROOT, SEED_PLAN

ENV_PATH = f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}"


def sh(command: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PATH": ENV_PATH},
        cwd=ROOT,
    )


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq not installed (.ci/run installs it)")
def test_seed_plan_keeps_every_field_through_risk_exec_and_jq(home: Path) -> None:
    result = sh(f"echo '{SEED_PLAN}' | tk-risk | tk-exec --dry-run | jq .")
    assert result.returncode == 0, result.stderr
    out, seed = json.loads(result.stdout), json.loads(SEED_PLAN)
    assert {key: out[key] for key in seed} == seed  # every seed field unchanged
    assert "risk" in out  # tk-risk added its block
    assert result.stdout.startswith("{\n  ")  # jq really parsed and pretty-printed it


def test_four_stage_pipe_passes_every_record_and_user_fields(home: Path) -> None:
    result = sh(
        "cat examples/plans.jsonl | tk-news-gate | jq -c '.mine = \"added\"' "
        "| tk-risk | tk-exec --paper"
        if shutil.which("jq")
        else "cat examples/plans.jsonl | tk-news-gate | tk-risk | tk-exec --paper"
    )
    assert result.returncode == 0, result.stderr
    expected = [json.loads(line) for line in (ROOT / "examples" / "plans.jsonl").open()]
    if shutil.which("jq"):
        expected = [{**record, "mine": "added"} for record in expected]
    got = [json.loads(line) for line in result.stdout.splitlines()]
    added = ("risk", "execution")
    assert [{k: v for k, v in record.items() if k not in added} for record in got] == expected
    assert [record["execution"]["mode"] for record in got] == ["paper"] * 4
    audit = [json.loads(line) for line in (home / "logs" / "decisions.jsonl").open()]
    stages = [entry["stage"] for entry in audit]
    assert stages.count("news-gate") == stages.count("risk") == stages.count("exec") == 4
    assert {entry["mode"] for entry in audit if entry["stage"] == "exec"} == {"paper"}


def test_acceptance_bad_line_with_skip(home: Path) -> None:
    result = sh(f"printf '%s\\nnot json\\n' '{SEED_PLAN}' | tk-risk --on-error skip")
    assert result.returncode == 65
    [line] = result.stdout.splitlines()
    assert {k: v for k, v in json.loads(line).items() if k != "risk"} == json.loads(SEED_PLAN)
    assert "<stdin>:2:" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_line_mid_pipe_fails_only_its_stage(home: Path) -> None:
    result = sh(
        f"printf '%s\\nnope\\n%s\\n' '{SEED_PLAN}' '{SEED_PLAN}' "
        '| tk-news-gate | tk-risk | tk-exec; echo "statuses ${PIPESTATUS[*]}" >&2'
    )
    assert "statuses 0 65 0 0" in result.stderr
    assert result.stdout.count("\n") == 2


@pytest.mark.parametrize("command", ["tk-news-gate", "tk-risk"])
def test_records_stream_line_by_line(home: Path, command: str) -> None:
    """A record comes out before the next one goes in (tail -F | tk-risk works): tk-risk
    works through what one read gives at once, which a line arriving alone is."""
    proc = subprocess.Popen(
        [str(BIN / command)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    for _ in range(3):
        proc.stdin.write(SEED_PLAN + "\n")
        proc.stdin.flush()
        out = json.loads(proc.stdout.readline())
        assert out == {**json.loads(SEED_PLAN), **out}
        assert ("risk" in out) == (command == "tk-risk")
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0


def test_tk_cycle_runs_a_cycle_and_refuses_to_overlap(home: Path) -> None:
    sh("tk data import examples/BTCUSDT-1h.csv")
    ok = sh("TK_NOW=2026-02-19T18:00:00Z bin/tk-cycle --paper v5")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.count("\n") == 1
    held = sh(f"flock {home}/cycle.lock bin/tk-cycle --paper v5")
    assert held.returncode == 75
    assert "another cycle is still running" in held.stderr


def test_demo_refuses_to_wipe_a_directory_it_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("x")
    result = sh(f"TK_DEMO_HOME={precious} bin/tk-demo")
    assert result.returncode == 2
    assert "was not made by the demo; refusing to wipe it" in result.stderr
    assert (precious / "keep.txt").read_text() == "x"


def test_report_reads_the_audit_log_one_stage_at_a_time(home: Path) -> None:
    piped = sh("cat examples/plans.jsonl | tk-risk | tk-exec --paper")
    assert piped.returncode == 0, piped.stderr
    log = home / "logs" / "decisions.jsonl"
    by_exec = sh(f"tk-report --json {log}")
    by_risk = sh(f"tk-report --json --stage risk {log}")
    assert by_exec.returncode == by_risk.returncode == 0
    exec_summary, risk_summary = json.loads(by_exec.stdout), json.loads(by_risk.stdout)
    assert exec_summary["records"] == 4  # not 12: one stage's entries
    # tk-risk (dry-run, no equity) blocked every plan, so tk-exec skipped them all
    assert exec_summary.pop("execution") == {"skipped": 4}
    assert risk_summary.pop("execution") == {"not executed": 4}
    assert risk_summary == exec_summary


def test_signal_without_candles_says_how_to_get_some(home: Path) -> None:
    result = sh("tk-signal v5")
    assert result.returncode == 2
    assert "no BTCUSDT 1h candles" in result.stderr and "tk data" in result.stderr


def test_the_headline_pipe_runs_on_stored_candles(home: Path) -> None:
    assert sh("tk data import examples/BTCUSDT-1h.csv").returncode == 0
    result = sh(
        "TK_NOW=2026-02-19T18:00:00Z tk-signal v5 | tk-news-gate | tk-risk | tk-exec --dry-run"
    )
    assert result.returncode == 0, result.stderr
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["cycleId"] == "v5:BTCUSDT:1h:2026-02-19T18:00:00Z"
    stale = sh("TK_NOW=2026-02-20T18:00:00Z tk-signal v5")
    assert stale.returncode == 65
    assert json.loads(stale.stdout)["context"]["note"] == "stale_ohlcv"
    assert "stale data: the last closed 1h bar closed at 2026-02-19T18:00:00Z" in stale.stderr
