"""A reader that goes away (`tk-signal v5 --help | head -1`): every command's help and output
end with exit 141 and no traceback. The pipe's read end is closed before the command writes,
so every write fails at once (no race with a buffer that happens to be large enough)."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT, script

from tradekit.cli.main import COMMANDS

SCRIPTS = sorted(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"])


def into_closed_pipe(argv: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: the first write gets EPIPE
    try:
        return subprocess.run(
            argv, input=stdin.decode(), stdout=write_end, stderr=subprocess.PIPE, text=True,
            timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)


def assert_closed_pipe(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 141, result.stderr
    assert "Traceback" not in result.stderr and "Error" not in result.stderr, result.stderr


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_help_of_every_console_script(name: str) -> None:
    assert_closed_pipe(into_closed_pipe([script(name), "--help"]))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_help_of_every_tk_subcommand(name: str) -> None:
    assert_closed_pipe(into_closed_pipe([script("tk"), name, "--help"]))


@pytest.mark.parametrize("strategy", ["v1", "v2", "v3", "v5", "dsl"])
def test_a_strategys_help(strategy: str) -> None:
    # its help is the command's help plus the strategy's parameters, written after it
    assert_closed_pipe(into_closed_pipe([script("tk-signal"), strategy, "--help"]))


def test_tk_help_and_version() -> None:
    assert_closed_pipe(into_closed_pipe([script("tk"), "--help"]))
    assert_closed_pipe(into_closed_pipe([script("tk"), "--version"]))
    assert_closed_pipe(into_closed_pipe([script("tk-risk"), "--version"]))


def test_the_output_of_commands(home: Path) -> None:
    init = subprocess.run([script("tk"), "init"], capture_output=True, text=True, check=False)
    assert init.returncode == 0, init.stderr
    plans = (ROOT / "examples" / "plans.jsonl").read_bytes()
    csv = str(ROOT / "examples" / "BTCUSDT-1h.csv")
    at = ["--now", "2026-02-19T18:00:00Z"]
    for argv, stdin in [
        ([script("tk"), "schema"], b""),
        ([script("tk"), "status"], b""),
        ([script("tk-signal"), "v5", "--data", csv, *at], b""),
        ([script("tk-signal"), "v5", "--data", csv, "--replay", "2026-02-01", "2026-02-19"], b""),
        ([script("tk-risk"), "--equity", "1000", *at], plans),
        ([script("tk-report")], plans),
    ]:
        assert_closed_pipe(into_closed_pipe(argv, stdin))
