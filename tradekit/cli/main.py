"""tk: the umbrella command. `tk risk ...` is exactly `tk-risk ...`.

Subcommands are dispatched by name before anything else is imported, so `tk risk` starts
as fast as `tk-risk` (each command module imports only what it needs).
"""

from __future__ import annotations

import difflib
import importlib
import sys
from typing import NoReturn

from tradekit import __version__
from tradekit.exitstatus import ExitStatus

#: subcommand -> module under tradekit.cli. Pipeline stages first, then utilities.
COMMANDS: dict[str, str] = {
    "signal": "signal",
    "news-gate": "news_gate",
    "parse-tg": "parse_tg",
    "risk": "risk",
    "exec": "exec",
    "guard": "guard",
    "report": "report",
    "backtest": "backtest",
    "data": "data",
    "emulator": "emulator",
    "init": "init",
    "kill": "kill",
    "news": "news",
    "paper": "paper",
    "schema": "schema",
    "status": "status",
    "tg": "tg",
}


def _module(name: str):
    return importlib.import_module(f"tradekit.cli.{COMMANDS[name]}")


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        "Usage: tk COMMAND [OPTIONS] [ARGS]...",
        "",
        "  tradekit: small commands for automated trading of Bitget USDT-M perpetuals.",
        "  Each pipeline stage reads and writes TradePlan v1 JSON lines:",
        "",
        "      tk signal v5 | tk news-gate | tk risk | tk exec --dry-run",
        "",
        "  Every stage is also installed as tk-NAME (tk-risk, tk-exec, ...).",
        "  `tk COMMAND --help` shows a command's options.",
        "",
        "Commands:",
    ]
    for name in COMMANDS:
        lines.append(f"  {name:<{width}}  {_module(name).SUMMARY}")
    lines += [
        "",
        "Options:",
        "  --version   Show the version and exit.",
        "  -h, --help  Show this message and exit.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> NoReturn:
    from tradekit.cli.base import broken_pipe_exits

    with broken_pipe_exits():
        _dispatch(sys.argv[1:] if argv is None else argv)
    raise SystemExit(ExitStatus.OK)  # pragma: no cover - _dispatch always exits


def _dispatch(args: list[str]) -> NoReturn:
    if args and args[0] in COMMANDS:
        _module(args[0]).main(args[1:], prog_name=f"tk {args[0]}")
    if not args:
        sys.stderr.write(usage())
        raise SystemExit(ExitStatus.USAGE)
    if args[0] in ("-h", "--help", "help"):
        sys.stdout.write(usage())
        raise SystemExit(ExitStatus.OK)
    if args[0] == "--version":
        sys.stdout.write(f"tk (tradekit) {__version__}\n")
        raise SystemExit(ExitStatus.OK)
    if args[0].startswith("-") and any(arg in COMMANDS for arg in args):
        sys.stderr.write(
            f"tk: error: options go after the command: tk COMMAND {args[0]} ... "
            "(see `tk COMMAND --help`)\n"
        )
        raise SystemExit(ExitStatus.USAGE)
    close = difflib.get_close_matches(args[0], COMMANDS, n=1)
    hint = f" Did you mean `tk {close[0]}`?" if close else ""
    sys.stderr.write(f"tk: error: no such command {args[0]!r}.{hint} See `tk --help`.\n")
    raise SystemExit(ExitStatus.USAGE)
