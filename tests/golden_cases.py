"""Golden cases: tests/golden/<command>/<case>/ holds

    args      the command-line arguments, one shell-quoted line (optional)
    stdin     what is fed on standard input (optional)
    stdout    the expected standard output, byte for byte
    stderr    the expected standard error (optional: compared only when present)
    status    the expected exit status
    decisions the expected HOME/logs/decisions.jsonl (optional)
    home/     files copied into TK_HOME first: config.toml, KILL_SWITCH, ... (optional)
    import    candle CSVs (paths from the repository root) imported into TK_HOME (optional)
    approve   a mode: every approved stdin line is first recorded as tk-risk in that mode
              records its approvals (optional; tk-exec acts on no other risk block)

Cases run in-process through Typer's CliRunner with a fresh TK_HOME, TZ=UTC and
TK_NOW=2026-11-20T10:00:00Z. `pytest --update-golden` rewrites the expected files.
"""

from __future__ import annotations

import importlib
import shlex
from dataclasses import dataclass
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


@dataclass(frozen=True)
class Case:
    command: str
    path: Path

    @property
    def id(self) -> str:
        return f"{self.command}/{self.path.name}"

    @property
    def module(self):
        name = self.command.removeprefix("tk-").replace("-", "_")
        return importlib.import_module(f"tradekit.cli.{name}")

    def read(self, name: str) -> bytes | None:
        file = self.path / name
        return file.read_bytes() if file.exists() else None

    @property
    def args(self) -> list[str]:
        text = self.read("args")
        return shlex.split(text.decode()) if text else []


def discover() -> list[Case]:
    return [
        Case(command_dir.name, case_dir)
        for command_dir in sorted(GOLDEN.iterdir())
        if command_dir.is_dir()
        for case_dir in sorted(command_dir.iterdir())
        if case_dir.is_dir() and case_dir.name != "home"
    ]
