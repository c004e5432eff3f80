"""Option bundles shared by every command, each defined once (like sqlite-utils).

`@common_options` adds --home, --config, --now, --dry-run/--paper/--live, -v/-q and
--version to a command and hands it a `CommonOptions`; `@modeless_options` adds the same
without the mode flags, for a command that acts in no mode (`requested_mode` is None).
`@stream_options(...)` adds the input FILES, --on-error and --pretty and hands it a
`StreamOptions`. The same flag means the same thing in every command; only --on-error's
default differs, and each command's help shows it.
"""

from __future__ import annotations

import functools
import inspect
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from tradekit import __version__
from tradekit.clock import parse_time
from tradekit.home import DEFAULT_HOME
from tradekit.records import Mode
from tradekit.stream import OnError

COMMON_PANEL = "Common options"
STREAM_PANEL = "Input and output"


@dataclass(frozen=True)
class CommonOptions:
    home: Path
    config_file: Path | None
    now: datetime | None
    requested_mode: Mode | None
    verbosity: int


@dataclass(frozen=True)
class StreamOptions:
    inputs: list[str]
    on_error: OnError
    pretty: bool


def _keyword(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )


def option_bundle(
    target: str, params: list[inspect.Parameter], build: Callable[..., Any]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: add `params` to a command's options and pass `build(**their values)` to the
    command as its `target` argument."""
    names = [param.name for param in params]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(command, include_extras=True)
        signature = inspect.signature(command)
        kept = [
            param.replace(annotation=hints.get(name, param.annotation))
            for name, param in signature.parameters.items()
            if name != target
        ]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in names}
            kwargs[target] = build(**values)
            return command(*args, **kwargs)

        merged = kept + params
        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=merged, return_annotation=inspect.Signature.empty
        )
        wrapper.__annotations__ = {param.name: param.annotation for param in merged}
        return wrapper

    return decorate


def _print_version(value: bool) -> None:
    if value:
        prog = Path(sys.argv[0]).name or "tk"
        typer.echo(f"{prog} (tradekit) {__version__}")
        raise typer.Exit


def _check_now(value: str | None) -> str | None:
    if value is not None:
        try:
            parse_time(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


def _build_modeless(
    *, home: Path, config: Path | None, now: str | None, verbose: int, quiet: int, version: bool
) -> CommonOptions:
    return _build_common(
        home=home,
        config=config,
        now=now,
        dry_run=False,
        paper=False,
        live=False,
        verbose=verbose,
        quiet=quiet,
        version=version,
    )


def _build_common(
    *,
    home: Path,
    config: Path | None,
    now: str | None,
    dry_run: bool,
    paper: bool,
    live: bool,
    verbose: int,
    quiet: int,
    version: bool,
) -> CommonOptions:
    del version  # handled eagerly by its callback
    chosen: list[Mode] = [
        mode for mode, flag in (("dry-run", dry_run), ("paper", paper), ("live", live)) if flag
    ]
    if len(chosen) > 1:
        raise typer.BadParameter(
            "choose one of --dry-run, --paper, --live", param_hint="'--dry-run/--paper/--live'"
        )
    return CommonOptions(
        home=home,
        config_file=config,
        now=parse_time(now) if now else None,
        requested_mode=chosen[0] if chosen else None,
        verbosity=verbose - quiet,
    )


_LOCATION = [
    _keyword(
        "home",
        Annotated[
            Path,
            typer.Option(
                "--home",
                envvar="TK_HOME",
                metavar="DIR",
                rich_help_panel=COMMON_PANEL,
                help="Where state, logs and data live (config.toml, tradekit.db, logs/).",
            ),
        ],
        DEFAULT_HOME,
    ),
    _keyword(
        "config",
        Annotated[
            Path | None,
            typer.Option(
                "--config",
                envvar="TK_CONFIG",
                metavar="FILE",
                rich_help_panel=COMMON_PANEL,
                help="Config file to use instead of HOME/config.toml.",
            ),
        ],
        None,
    ),
    _keyword(
        "now",
        Annotated[
            str | None,
            typer.Option(
                "--now",
                envvar="TK_NOW",
                metavar="TIME",
                callback=_check_now,
                rich_help_panel=COMMON_PANEL,
                help="Fixed clock for replays and tests: ISO 8601 "
                "(2026-11-20T10:00:00Z) or epoch ms.",
            ),
        ],
        None,
    ),
]
_MODE = [
    _keyword(
        "dry_run",
        Annotated[
            bool,
            typer.Option(
                "--dry-run",
                rich_help_panel=COMMON_PANEL,
                help="Decide and log what would be done; touch nothing.",
            ),
        ],
        False,
    ),
    _keyword(
        "paper",
        Annotated[
            bool,
            typer.Option(
                "--paper",
                rich_help_panel=COMMON_PANEL,
                help="Act on the simulated exchange kept in HOME.",
            ),
        ],
        False,
    ),
    _keyword(
        "live",
        Annotated[
            bool,
            typer.Option(
                "--live",
                rich_help_panel=COMMON_PANEL,
                help="Real orders; also needs [live] enabled = true and BITGET_API_* "
                "credentials, else refused with exit 78 (nothing done).",
            ),
        ],
        False,
    ),
]
_VERBOSITY = [
    _keyword(
        "verbose",
        Annotated[
            int,
            typer.Option(
                "--verbose",
                "-v",
                count=True,
                rich_help_panel=COMMON_PANEL,
                help="More detail on stderr (repeat for more).",
            ),
        ],
        0,
    ),
    _keyword(
        "quiet",
        Annotated[
            int,
            typer.Option(
                "--quiet",
                "-q",
                count=True,
                rich_help_panel=COMMON_PANEL,
                help="Only errors on stderr.",
            ),
        ],
        0,
    ),
    _keyword(
        "version",
        Annotated[
            bool,
            typer.Option(
                "--version",
                is_eager=True,
                callback=_print_version,
                rich_help_panel=COMMON_PANEL,
                help="Show the version and exit.",
            ),
        ],
        False,
    ),
]

#: For a command that acts in a mode (tk-risk, tk-exec, ...): --dry-run/--paper/--live too.
common_options = option_bundle("common", _LOCATION + _MODE + _VERBOSITY, _build_common)
#: For a command that acts in no mode (tk-report, tk init, tk data, ...): no mode flags.
modeless_options = option_bundle("common", _LOCATION + _VERBOSITY, _build_modeless)


def stream_options(on_error_default: OnError) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Input FILES (`-` = stdin), --on-error and --pretty, with this command's default."""

    def build(*, files: list[str] | None, on_error: OnError, pretty: bool) -> StreamOptions:
        return StreamOptions(inputs=list(files or []), on_error=on_error, pretty=pretty)

    return option_bundle(
        "stream",
        [
            _keyword(
                "files",
                Annotated[
                    list[str] | None,
                    typer.Argument(
                        metavar="FILE",
                        show_default=False,
                        help="JSON-lines files to read; none or - reads stdin.",
                    ),
                ],
                None,
            ),
            _keyword(
                "on_error",
                Annotated[
                    OnError,
                    typer.Option(
                        "--on-error",
                        case_sensitive=False,
                        rich_help_panel=STREAM_PANEL,
                        help="A line that is not a valid record: fail = report it and stop; "
                        "skip = report it and go on; emit = also write an error record in its "
                        "place on stdout. "
                        "Any bad line makes the exit status 65.",
                    ),
                ],
                on_error_default,
            ),
            _keyword(
                "pretty",
                Annotated[
                    bool,
                    typer.Option(
                        "--pretty",
                        rich_help_panel=STREAM_PANEL,
                        help="Indent each output record for reading (no longer one line each).",
                    ),
                ],
                False,
            ),
        ],
        build,
    )
