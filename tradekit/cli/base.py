"""What every command shares: building the Typer app, the run context, exit statuses."""

from __future__ import annotations

import errno
import gc
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn

import typer

from tradekit.clock import Clock
from tradekit.config import Config, load_config
from tradekit.errors import ConfigError, TradekitError
from tradekit.exitstatus import ExitStatus
from tradekit.home import Home
from tradekit.interrupts import terminate_as_interrupt
from tradekit.modes import ModeChoice, resolve_mode
from tradekit.records import Mode
from tradekit.redact import Redactor
from tradekit.reporter import Reporter
from tradekit.stream import silence_stdout_after_broken_pipe

from .options import CommonOptions


def new_app(help_text: str) -> typer.Typer:
    return typer.Typer(
        help=help_text,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


#: How a command uses TK_HOME. "state": it trades or reads the state kept there, so a home
#: `tk init` did not make is refused (exit 78) rather than started from zero; "optional": it
#: needs no state, uses an initialised home and writes nothing into any other (nor creates
#: it); "init": tk init, the one command that makes a home.
HomeUse = Literal["state", "optional", "init"]


def uninitialised_home(home: Home) -> ConfigError:
    if home.root.exists() and not home.root.is_dir():
        return ConfigError(f"TK_HOME {home.root}: cannot use it as a directory: it is a file")
    return ConfigError(
        f"TK_HOME {home.root} was not made by `tk init`: nothing done (run `tk init "
        f"--home {home.root}` to make it, or point --home / TK_HOME at your home)"
    )


@dataclass(frozen=True)
class Session:
    """Everything a command needs from its options, built once per run."""

    prog: str
    home: Home
    config: Config
    clock: Clock
    mode: ModeChoice
    redactor: Redactor
    reporter: Reporter
    #: The home is one `tk init` made (False only for an "optional" command: write nothing).
    home_ready: bool = True

    @classmethod
    def open(
        cls,
        prog: str,
        common: CommonOptions,
        *,
        default_mode: Mode = "dry-run",
        environ: dict[str, str] | None = None,
        home_use: HomeUse = "state",
    ) -> Session:
        """Refuses (ConfigError, exit 78) before anything is created or written: a home
        `tk init` did not make for a "state" command, and an explicit --live that cannot
        be used (naming each missing condition)."""
        env = dict(os.environ) if environ is None else environ
        redactor = Redactor.from_env(env)
        reporter = Reporter(sys.stderr, prog, verbosity=common.verbosity, redactor=redactor)
        home = Home(common.home)
        ready = home_use == "init" or home.is_initialised()
        if home_use == "state" and not ready:
            raise uninitialised_home(home)
        if common.config_file is not None:
            config = load_config(common.config_file, required=True)
        else:
            config = load_config(home.config_file)
        mode = resolve_mode(common.requested_mode, config, env, default_mode)
        if ready and home_use != "init":
            try:
                home.ensure()  # the layout, should a folder have been removed since
            except OSError as exc:
                raise ConfigError(f"TK_HOME {home.root}: cannot use it: {exc.strerror}") from None
        return cls(prog, home, config, Clock(common.now), mode, redactor, reporter, ready)


def guarded(prog: str, verbosity: int, body: Callable[[], ExitStatus | int | None]) -> NoReturn:
    """Run a command body; turn every outcome into a documented exit status, no traceback."""
    terminate_as_interrupt()
    redactor = Redactor.from_env()
    reporter = Reporter(sys.stderr, prog, verbosity=verbosity, redactor=redactor)
    try:
        status = body()
    except TradekitError as exc:
        reporter.error(str(exc))
        status = exc.status
    except BrokenPipeError:
        silence_stdout_after_broken_pipe()
        status = ExitStatus.BROKEN_PIPE
    except KeyboardInterrupt:
        reporter.error("interrupted")
        status = ExitStatus.INTERRUPTED
    except (typer.Exit, typer.Abort, typer.BadParameter):
        raise
    except Exception as exc:  # a bug: one line, the traceback only when asked for
        reporter.error(f"internal error: {type(exc).__name__}: {exc}")
        if verbosity >= 1:
            reporter.stream.write(redactor.text(traceback.format_exc()))
        else:
            reporter.error("run again with -v for the traceback")
        status = ExitStatus.ERROR
    raise typer.Exit(int(status or 0))


@contextmanager
def broken_pipe_exits() -> Iterator[None]:
    """A reader that went away (`tk-signal --help | head -1`) ends the command with 141 and
    no traceback, wherever the write was: help, a table, records, the final flush."""
    try:
        try:
            yield
        except SystemExit:
            # typer catches EPIPE itself, wraps stdout so the last flush is quiet, and
            # exits 1: that exit is a closed pipe, not an error
            if type(sys.stdout).__name__ == "PacifyFlushWrapper":
                sys.stdout = sys.__stdout__
                raise BrokenPipeError from None
            raise
        finally:  # what is still buffered is written now, while we can still catch EPIPE
            sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout_after_broken_pipe()
        raise SystemExit(ExitStatus.BROKEN_PIPE) from None
    except OSError as exc:  # click reports EPIPE as OSError on some paths
        if exc.errno != errno.EPIPE:
            raise
        silence_stdout_after_broken_pipe()
        raise SystemExit(ExitStatus.BROKEN_PIPE) from None


def run_app(
    app: typer.Typer, argv: list[str] | None = None, prog_name: str | None = None, **extra: Any
) -> NoReturn:
    """Entry point of a console script (`tk-risk`) or of `tk risk`."""
    with broken_pipe_exits():
        app(args=argv, prog_name=prog_name, **extra)
    raise SystemExit(0)  # pragma: no cover - typer always exits


def run_stream_stage(
    prog: str,
    common: CommonOptions,
    stream: Any,
    stage: Any,
    *,
    default_mode: Mode = "dry-run",
    finish: Callable[[Session, Any], ExitStatus | None] | None = None,
    start: Callable[[Session, Any], None] | None = None,
    home_use: HomeUse = "state",
) -> NoReturn:
    """Run a JSON-lines stage: the same reading, journaling and exit statuses everywhere."""
    from tradekit.audit import AuditLog
    from tradekit.runner import StageRun
    from tradekit.store import Store
    from tradekit.stream import Inputs, JsonlWriter

    def body() -> ExitStatus:
        with ExitStack() as cleanup:
            # Inputs first: a usage error must not leave anything behind.
            inputs = cleanup.enter_context(Inputs(stream.inputs, sys.stdin.buffer))
            session = Session.open(prog, common, default_mode=default_mode, home_use=home_use)
            home, reporter = session.home, session.reporter
            trail, errors = None, None
            if session.home_ready:
                if stage.audit_trail is not None:
                    trail = cleanup.enter_context(
                        AuditLog(home.log(stage.audit_trail), session.redactor)
                    )
                errors = cleanup.enter_context(AuditLog(home.log("errors"), session.redactor))
                store = cleanup.enter_context(Store(home.db_file, session.redactor))
            else:  # a home `tk init` did not make is left as it is: nothing journaled
                reporter.detail(f"{home.root} is not an initialised TK_HOME: nothing journaled")
                store = cleanup.enter_context(Store(Path(":memory:"), session.redactor))
            if start is not None:  # what the stage needs once per run (an account snapshot)
                start(session, store)
            if not stream.inputs and _stdin_is_terminal():
                reporter.note("reading records from stdin; end with Ctrl-D")
            run = StageRun(
                stage=stage,
                clock=session.clock,
                mode=session.mode,
                reporter=reporter,
                writer=JsonlWriter(sys.stdout.buffer, session.redactor, pretty=stream.pretty),
                trail=trail,
                errors=errors,
                store=store,
                on_error=stream.on_error,
            )
            # What start-up built (modules, schemas, the config) lives for the whole run:
            # the collector need not look through it again for every few hundred records.
            gc.freeze()
            status, tally = run.run(inputs)
        reporter.detail(
            f"{tally.read} read, {tally.written} written, {tally.invalid} bad line(s); "
            f"mode {session.mode.mode}"
        )
        if finish is not None and status in (ExitStatus.OK, ExitStatus.BAD_INPUT):
            # a stage may end an otherwise clean run with its own status (exchange trouble)
            override = finish(session, tally)
            if override is not None and status == ExitStatus.OK:
                status = override
        return status

    guarded(prog, common.verbosity, body)


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
