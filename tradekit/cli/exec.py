"""tk-exec: Execute approved plans idempotently (adds the `execution` block)."""

from typing import Annotated, Any

import typer

from tradekit.cli.base import Session, new_app, run_app, run_stream_stage
from tradekit.cli.options import CommonOptions, StreamOptions, common_options, stream_options
from tradekit.errors import UsageError
from tradekit.exitstatus import ExitStatus
from tradekit.records import TradePlan
from tradekit.runner import Stage
from tradekit.stream import Extended, OnError, Parsed

PROG = "tk-exec"
SUMMARY = "Execute approved plans idempotently (adds the `execution` block)."
HELP = f"""{SUMMARY}

One line out per line in, with `execution`: mode, status (placed, skipped, duplicate,
rejected, failed, dry_run), the reasons, the plan's idempotency key and its orders (role,
clientOid, exchange id, side, size, price, state).

Only plans tk-risk approved are carried out; the others are marked skipped. A risk block
is acted on only if tk-risk recorded that very approval in HOME's database, in the same
mode, at most [execution] max_approval_age_seconds ago; a block not found there, altered
(any plan or risk field the orders are made of), from another mode or expired is
`rejected` with the reason, and nothing is sent. The hard limits are checked again before
sending: leverage within [risk] max_leverage and the market's maximum, the stop-loss on
the losing side and inside the estimated liquidation price, the notional within [risk.sizing]
max_notional. Modes:
dry-run (the default) records the exact orders it would send and sends nothing; --paper
trades the paper account in HOME; --live trades Bitget, and needs `[live] enabled = true`
in the config and BITGET_API_KEY/_SECRET/_PASSPHRASE in the environment, else it is
refused with exit 78 and does nothing. A record with "dryRun": true is never sent.

An open sets margin mode, leverage and position mode ([execution] in the config), sends
the entry (market, or limit for a limit plan), then the exchange stop-loss for the filled
size and the take-profits split by `tp_weights`. If the stop-loss cannot be placed, the
position is closed. Manage plans reduce, close, move the stop to break-even or set
take-profits.

Each plan is claimed in the ledger (HOME/tradekit.db) before anything is sent and every
order carries a clientOid derived from the plan's identity, so a re-run of the same plan
reports `duplicate` and sends nothing. A run that died half-way is finished by the next
one, which looks its orders up by clientOid before it reads any new plan.

Exit status: 0 when every line was handled (whatever its status), 65 for bad lines, 69
when the exchange was unavailable and 75 when it rate-limited us (some plan then failed
and its bundle is left for the next run). Every record written is also appended to
HOME/logs/decisions.jsonl, and every order event to HOME/logs/orders.jsonl.
"""

app = new_app(HELP)


@app.command(help=HELP)
@common_options
@stream_options(OnError.FAIL)
def exec(
    common: CommonOptions,
    stream: StreamOptions,
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt",
            help="With --live: trade on from this home although its ledger has no live plan "
            "while the account shows positions or orders of ours (without it: exit 78, to "
            "catch a wrong TK_HOME). Asked once; recorded in the home.",
        ),
    ] = False,
) -> None:
    stage = ExecStage(adopt=adopt)
    run_stream_stage(
        PROG,
        common,
        stream,
        Stage("exec", TradePlan, stage.process),
        start=stage.start,
        finish=stage.finish,
    )


class ExecStage:
    """The run's execution service, built once the session and store are open."""

    def __init__(self, *, adopt: bool = False) -> None:
        self.service: Any = None
        self.adopt = adopt

    def start(self, session: Session, store: Any) -> None:
        from tradekit.audit import AuditLog
        from tradekit.execution.ledger import Ledger
        from tradekit.execution.locks import IntentLocks
        from tradekit.execution.service import ExecutionService

        mode = session.mode.mode
        if self.adopt and mode != "live":
            raise UsageError(f"--adopt is for --live (this run is {mode})")
        # what was sent to an exchange must survive a power cut; a dry run's plan need
        # not, nor a backtest's (its session brings its own paper exchange)
        simulated = getattr(session, "held_paper", None) is not None
        orders_log = AuditLog(
            session.home.log("orders"),
            session.redactor,
            durable=mode != "dry-run" and not simulated,
        )

        def now_ms() -> int:
            return int(session.clock.now().timestamp() * 1000)

        def journal(intent: Any, order: Any, event: str) -> None:
            from tradekit.execution.executor import order_refs

            orders_log.append(
                session.clock.now(),
                "exec",
                order_refs([order])[0],
                event=event,
                mode=intent.mode,
                key=intent.key,
                cycleId=intent.cycle_id,
                symbol=intent.symbol,
            )

        self.service = ExecutionService(
            mode=mode,
            ledger=Ledger(store),
            locks=IntentLocks(session.home.root / "exec.lock"),
            settings=session.config.execution,
            risk=session.config.risk,
            now_ms=now_ms,
            journal=journal,
            connect=_connector(session, store, adopt=self.adopt),
        )
        for done in self.service.recover():
            intent = done.intent
            session.reporter.warning(
                f"unfinished order bundle {intent.cycle_id} ({intent.symbol} {intent.side} "
                f"{intent.action}) from an earlier run: {done.status}; " + "; ".join(done.reasons)
            )

    def process(self, parsed: Parsed[TradePlan]) -> Extended:
        execution = self.service.execute(parsed.record)
        return Extended(parsed, {"execution": execution.to_json()})

    def finish(self, _session: Session, _tally: Any) -> ExitStatus | None:
        status = self.service.exit_status if self.service else ExitStatus.OK
        return status if status != ExitStatus.OK else None


def _connector(session: Session, store: Any, *, adopt: bool) -> Any:
    """How to reach the run's exchange, connecting only when a plan needs it; live connects
    at once the first time a home trades live (see execution.adopt)."""
    from tradekit.exchange.connect import bitget_exchange, paper_exchange

    mode = session.mode.mode
    if mode == "paper":
        return lambda: paper_exchange(session, store)
    if mode == "live":
        from tradekit.execution.adopt import check_session, has_live_history

        if has_live_history(store):
            return lambda: bitget_exchange(session, store)
        exchange = bitget_exchange(session, store)
        check_session(session, store, exchange, adopt=adopt)
        return lambda: exchange
    return None


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
