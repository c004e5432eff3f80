"""tk-guard: Watch open positions: exits, stop-loss invariant, reconciliation, kill switch."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from tradekit.cli.base import Session, guarded, new_app, run_app
from tradekit.cli.options import CommonOptions, common_options
from tradekit.errors import UsageError
from tradekit.exitstatus import ExitStatus

PROG = "tk-guard"
SUMMARY = "Watch open positions: exits, stop-loss invariant, reconciliation, kill switch."
HELP = f"""{SUMMARY}

One pass (from cron, every minute): reconcile the account with what the guard knows
(positions closed by their stop or take-profit are recorded with their real fills, fees
and profit; a position no plan opened is adopted or flagged, and the system goes to safe
mode), check the breakers (drawdown, margin in use, bursts of exchange errors), carry out
a panic kill switch, then for each position: make sure a stop-loss covering it rests on
the exchange (placed if missing; the position closed if it cannot be), and apply the exits
of [guard] (trailing stop, break-even, timeout, reverse signal, take-profits).

--paper manages the paper account, --live Bitget (with `[live] enabled = true` and the
credentials; without them --live is refused with exit 78, never run as a dry-run);
dry-run, the default, shows what it would do to the paper account and changes nothing.
With --watch it keeps running (see --help of the option).

Every action and every decision not to act is one JSON line (a guard_event) on stdout and
in HOME/logs/guard.jsonl. A pass held on bad data also says so in one line on stderr
(for cron's mail), even with -q. Exit status: 0; 65 when the guard's record of a position could
not be read (set aside; the position is protected and tracked again from its plan); 69
when the exchange could not be read, a price was stale or a position is left without a
stop-loss (nothing was closed on bad data); 75 when another tk-guard is running; 78
when --live cannot be used, or when this home has nothing live while the account holds
positions or orders of ours (a wrong TK_HOME? --adopt takes them over).
"""

app = new_app(HELP)


@app.command(help=HELP)
@common_options
def guard(
    common: CommonOptions,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Keep running until SIGINT/SIGTERM (exit 130): a full pass every [guard.watch] "
            "reconcile_seconds, and the exit rules on every price in between (Bitget's "
            "websocket ticker with --live, REST polling while it is down and in paper mode); "
            "/healthz /readyz /metrics on [guard.health] (127.0.0.1:8081). A position's hold "
            "is reported again only when its reason changes. Not with --now.",
        ),
    ] = False,
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt",
            help="With --live: take the account's positions and orders over although this "
            "home's ledger and book have nothing live (without it: exit 78, to catch a wrong "
            "TK_HOME). Asked once; recorded in the home.",
        ),
    ] = False,
) -> None:
    def body() -> ExitStatus:
        if watch and common.now is not None:
            raise UsageError("--watch follows the real clock: it cannot be combined with --now")
        session = Session.open(PROG, common)
        if adopt and session.mode.mode != "live":
            raise UsageError(f"--adopt is for --live (this run is {session.mode.mode})")
        with GuardRun(session, adopt=adopt) as run:
            if watch:
                from tradekit.guard.watch import watch_forever

                return watch_forever(run)
            return run.once()

    guarded(PROG, common.verbosity, body)


class GuardRun:
    """Everything one tk-guard process holds: the lock, the store, the exchange, the logs."""

    def __init__(self, session: Session, *, adopt: bool = False, out: Any = None):
        self.session = session
        self.adopt = adopt
        #: where events go besides the journal: stdout, or a backtest's own file
        self.out = out

    def __enter__(self) -> GuardRun:
        import fcntl

        from tradekit.audit import AuditLog
        from tradekit.errors import TryAgainLaterError
        from tradekit.store import Store

        session = self.session
        self._lock = (session.home.root / "guard.lock").open("a")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise TryAgainLaterError(
                f"another tk-guard is running (lock {session.home.root}/guard.lock)"
            ) from None
        self.file_store = Store(session.home.db_file, session.redactor)
        mode = session.mode.mode
        # dry-run: the paper account, in a private copy of the database (nothing written)
        self.store = self.file_store if mode != "dry-run" else self.file_store.in_memory_copy()
        self.log = AuditLog(session.home.log("guard"), session.redactor)
        try:
            self.guard = self._guard()
        except BaseException:  # refused (a wrong home), or the exchange is unreachable
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.log.close()
        self.file_store.close()
        self._lock.close()

    def _guard(self) -> Any:
        from tradekit.exchange.connect import bitget_exchange, paper_exchange
        from tradekit.guard.engine import Guard
        from tradekit.guard.market import atr_at, latest_signal
        from tradekit.market.store import CandleStore

        session, mode = self.session, self.session.mode.mode
        if mode == "live":
            from tradekit.execution.adopt import check_session, has_live_history

            exchange = bitget_exchange(session, self.store)
            if not has_live_history(self.store):
                check_session(session, self.store, exchange, adopt=self.adopt)
        else:
            exchange = paper_exchange(session, self.store)
        candles = CandleStore(session.home.data)
        risk = session.config.risk.stop_loss

        def now_ms() -> int:
            return int(session.clock.now().timestamp() * 1000)

        return Guard(
            exchange=exchange,
            store=self.store,
            mode="paper" if mode == "dry-run" else mode,
            settings=session.config.guard,
            execution=session.config.execution,
            now_ms=now_ms,
            emit=self.emit,
            act=mode != "dry-run",
            home=session.home.root,
            atr=lambda symbol, at: atr_at(candles, symbol, risk.atr_timeframe, risk.atr_period, at),
            reverse=lambda tracked, now: latest_signal(
                candles, session.config.strategies, tracked, now
            ),
        )

    def emit(self, event: dict[str, Any]) -> None:
        from tradekit import jsonio

        line = jsonio.dumps(event)
        self.log.append_line(line)  # journal first, then stdout
        out = self.out or sys.stdout.buffer
        out.write(self.session.redactor.bytes(line) + b"\n")
        out.flush()

    def once(self) -> ExitStatus:
        result = self.guard.run_once()
        held = result.held_on_bad_data()
        if held is not None:
            self.session.reporter.error(held)
        return exit_status(result)


def exit_status(result: Any) -> ExitStatus:
    if result.error is not None:
        return result.error.status
    if result.corrupt:
        return ExitStatus.BAD_INPUT
    if result.stale or result.without_stop:
        return ExitStatus.EXCHANGE_UNAVAILABLE
    return ExitStatus.OK


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
