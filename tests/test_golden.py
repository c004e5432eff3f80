"""Byte-exact golden tests for every command (see tests/golden_cases.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXED_NOW, ROOT, init_home, record_approvals
from golden_cases import Case, discover
from typer.testing import CliRunner

from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore

CASES = discover()


def run_case(case: Case, home: Path) -> tuple[bytes, bytes, int, bytes | None]:
    init_home(home)  # as `tk init` makes it: every command accepts it
    seed = case.path / "home"  # files to start from: config.toml, KILL_SWITCH, ...
    if seed.is_dir():
        shutil.copytree(seed, home, dirs_exist_ok=True)
    for name in (case.read("import") or b"").decode().split():
        CandleStore(home / "data").merge(read_csv(ROOT / name, "BTCUSDT", None))
    if (mode := case.read("approve")) is not None:
        record_approvals(
            home, (case.read("stdin") or b"").decode(), mode.decode().strip(), FIXED_NOW
        )
    runner = CliRunner()
    result = runner.invoke(
        case.module.app,
        case.args,
        input=case.read("stdin") or b"",
        env={"TK_HOME": str(home), "TK_NOW": FIXED_NOW, "TZ": "UTC", "COLUMNS": "80"},
        prog_name=case.module.PROG,
    )
    decisions = home / "logs" / "decisions.jsonl"
    logged = decisions.read_bytes() if decisions.exists() else b""
    return result.stdout_bytes, result.stderr_bytes, result.exit_code, logged


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_golden(
    case: Case, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # args may name files under examples/
    stdout, stderr, status, decisions = run_case(case, tmp_path / "home")
    if request.config.getoption("--update-golden"):
        (case.path / "stdout").write_bytes(stdout)
        (case.path / "status").write_text(f"{status}\n")
        if (case.path / "stderr").exists() or stderr:
            (case.path / "stderr").write_bytes(stderr)
        if (case.path / "decisions").exists():
            (case.path / "decisions").write_bytes(decisions or b"")
        return
    assert stdout.decode() == case.read("stdout").decode()
    assert status == int(case.read("status"))
    if (expected := case.read("stderr")) is not None:
        assert stderr.decode() == expected.decode()
    if (expected := case.read("decisions")) is not None:
        assert (decisions or b"").decode() == expected.decode()


def test_every_command_has_golden_cases() -> None:
    from tradekit.cli.main import COMMANDS

    stages = {
        "tk-" + name
        for name in COMMANDS
        if name not in ("init", "schema", "status", "data", "emulator", "paper")
    }
    assert stages <= {case.command for case in CASES}
