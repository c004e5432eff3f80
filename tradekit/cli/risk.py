"""tk-risk: Check each plan against the risk rules and size it (adds the `risk` block)."""

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from tradekit.cli.base import Session, new_app, run_app, run_stream_stage
from tradekit.cli.options import CommonOptions, StreamOptions, common_options, stream_options
from tradekit.errors import UsageError
from tradekit.records import TradePlan
from tradekit.runner import Stage
from tradekit.stream import Extended, OnError, Parsed

PROG = "tk-risk"
SUMMARY = "Check each plan against the risk rules and size it (adds the `risk` block)."
HELP = f"""{SUMMARY}

Every rule of [risk] in the config is checked and every reason that applies is listed;
a plan is approved only when none does. An approved open gets its quantity, notional,
leverage, entry price, stop-loss, take-profits and money at risk. `plan: null` lines
pass through untouched; nothing is ever dropped, and a bad plan (no side, a stop on the
wrong side, ...) is blocked with a reason naming the field. A plan.symbol that is no
symbol (../x, BTC/USDT: spot) is a bad line; btcusdt and BTC/USDT:USDT are read, and
written on, as BTCUSDT.

The account (equity, positions, today's fills) comes from the paper exchange (--paper)
or Bitget (--live: refused with exit 78 without `[live] enabled = true` and the
credentials); in dry-run, prices come from HOME/data and --equity gives the equity for
risk-based sizing. Entries, cooldowns and stop-loss streaks come from the
ledger tk-exec and tk-guard keep.

No entry is sized on a price older than [guard.watch] max_stale_seconds (tk-guard's
rule; a stored bar's close ages once the next bar should have closed), nor on a signal
whose bar closed more than max_signal_age_seconds ago. The daily trade cap, the daily
loss cap and the signal age are on by default; 0 turns each off.

Every approval is recorded in HOME's database (a sha256 over the plan and the risk
block, with the mode and the time): tk-exec acts on no risk block it does not find there,
so a line edited after tk-risk, or approved in another mode or home, is never sent.
Every record written is also appended to HOME/logs/decisions.jsonl.
"""

app = new_app(HELP)


def _equity(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise UsageError(f"--equity {value!r} is not an amount") from None
    if not amount.is_finite() or amount <= 0:
        raise UsageError("--equity must be a positive amount")
    return amount


@app.command(help=HELP)
@common_options
@stream_options(OnError.FAIL)
def risk(
    common: CommonOptions,
    stream: StreamOptions,
    equity: Annotated[
        str | None,
        typer.Option("--equity", metavar="USDT", help="Account equity for offline runs."),
    ] = None,
) -> None:
    checker = RiskChecker(equity)
    stage = Stage(
        "risk", TradePlan, checker.process, pure=True, before_delivery=checker.record_approvals
    )
    run_stream_stage(PROG, common, stream, stage, start=checker.start)


class RiskChecker:
    """Holds the run's account snapshot; approvals in this run count as entries for the
    plans after them (one per symbol, daily caps, cooldowns). Every approval is recorded
    in the store (tk-exec acts on no other), one transaction per read of input."""

    def __init__(self, equity: str | None):
        self.equity_text = equity
        self.snap: Any = None
        self.settings: Any = None
        self.now_ms = 0
        self.mode = "dry-run"
        self.assess: Any = None
        self.digest: Any = None
        self.approval: Any = None
        self.book: Any = None
        self.approvals: list[Any] = []

    def start(self, session: Session, store: Any) -> None:
        from tradekit.exchange.connect import bitget_exchange, paper_exchange
        from tradekit.risk.approvals import Approval, ApprovalBook, approval_digest
        from tradekit.risk.gather import gather
        from tradekit.risk.rules import assess

        self.assess, self.digest, self.approval = assess, approval_digest, Approval
        mode = self.mode = session.mode.mode
        exchange = None
        if mode == "paper":
            exchange = paper_exchange(session, store)
        elif mode == "live":
            exchange = bitget_exchange(session, store)
        self.settings = session.config.risk
        self.now_ms = int(session.clock.now().timestamp() * 1000)
        self.snap = gather(
            session=session,
            store=store,
            exchange=exchange,
            settings=self.settings,
            now_ms=self.now_ms,
            max_price_age_seconds=session.config.guard.watch.max_stale_seconds,
            equity=_equity(self.equity_text),
        )
        self.book = ApprovalBook(store)
        self.book.prune(self.now_ms)

    def record_approvals(self) -> None:
        if self.approvals:
            approvals, self.approvals = self.approvals, []
            self.book.record(approvals)

    def process(self, parsed: Parsed[TradePlan]) -> Extended:
        block = self.assess(parsed.record, self.snap, self.settings, self.now_ms)
        if block is None:
            return Extended(parsed, {})
        plan = parsed.record.plan
        if block.approved and plan is not None:
            self._approved(parsed.record.cycle_id, plan, block)
        if block.approved and plan is not None and plan.effective_action == "open":
            from tradekit.risk.account import Entry

            entry = Entry(plan.symbol or "", plan.side or "", self.now_ms)
            self.snap = replace(
                self.snap,
                entries_today=(*self.snap.entries_today, entry),
                last_entry={**self.snap.last_entry, (entry.symbol, entry.side): entry.ms},
                positions=self.snap.positions | {(entry.symbol, entry.side)},
            )
        return Extended(parsed, {"risk": block.to_json_dict()})

    def _approved(self, cycle_id: str, plan: Any, block: Any) -> None:
        digest = self.digest(cycle_id, plan, block)
        self.approvals.append(self.approval(cycle_id, digest, self.mode, self.now_ms))


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
