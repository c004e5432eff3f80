"""What tk-exec does with one plan: skip it, say what it would send, or claim it in the ledger
and carry it out — and, at start, finish the bundles an earlier run left half done.

Order of events for a plan carried out (paper or live):
    lock its key -> claim it in the ledger (or report `duplicate`) -> send, saving the
    bundle after every step -> mark the intent finished.
A crash anywhere leaves a `pending` intent holding the clientOids; the next run looks
each order up by clientOid and finishes the bundle before it reads anything new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradekit.exchange.base import Exchange
from tradekit.exchange.errors import ExchangeError, Rejected
from tradekit.exchange.model import MarketSpec
from tradekit.execution.bundle import (
    Planned,
    plan_manage,
    plan_open,
    size_protection,
    tp_weights,
)
from tradekit.execution.executor import Executor, NotSent, Outcome, order_refs
from tradekit.execution.ledger import PENDING, Intent, Ledger, identity_key
from tradekit.execution.locks import IntentLocks
from tradekit.execution.settings import ExecutionSettings
from tradekit.exitstatus import ExitStatus
from tradekit.records import Source, TradePlan
from tradekit.risk.approvals import ApprovalBook, approval_problems
from tradekit.risk.limits import hard_limit_problems
from tradekit.risk.settings import RiskSettings

#: intent statuses that count as carried out (risk counts these as entries)
FINISHED = ("placed", "rejected", "failed", "dry_run")


@dataclass
class Execution:
    """The execution block of one record."""

    mode: str
    status: str  # placed | skipped | duplicate | rejected | failed | dry_run
    reasons: list[str] = field(default_factory=list)
    key: str | None = None
    orders: list[Planned] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        block: dict[str, Any] = {"mode": self.mode, "status": self.status}
        block["reasons"] = self.reasons
        if self.key is not None:
            block["idempotencyKey"] = self.key
        block["orders"] = order_refs(self.orders)
        return block


@dataclass
class Recovered:
    """An earlier run's unfinished bundle, and what this run made of it."""

    intent: Intent
    status: str
    reasons: list[str]


def problems(record: TradePlan) -> list[str]:
    """What makes an approved plan impossible to carry out, naming the fields. tk-risk
    blocks these already; this guards against a hand-edited or foreign risk block."""
    plan = record.plan
    assert plan is not None
    found = [] if plan.symbol else ["plan.symbol is missing"]
    action = plan.effective_action
    if action == "open":
        found += _open_problems(record)
    elif action == "reduce" and (plan.reduce_pct is None or not 0 < plan.reduce_pct <= 100):
        found.append("plan.reducePct must be in (0, 100]")
    elif action == "set_tp" and (not plan.take_profits or any(tp <= 0 for tp in plan.take_profits)):
        found.append("plan.takeProfits must be positive prices")
    return found


def _open_problems(record: TradePlan) -> list[str]:
    plan, risk = record.plan, record.risk
    assert plan is not None and risk is not None
    found = []
    if plan.side not in ("long", "short"):
        found.append("plan.side must be long or short to open")
    if risk.quantity is None or risk.quantity <= 0:
        found.append("risk.quantity must be a positive size")
    if not risk.entry_price:
        found.append("risk.entryPrice is missing (the price tk-risk sized the order at)")
    if risk.stop_loss is None or risk.stop_loss <= 0:
        found.append("risk.stopLoss is missing: no trade without a stop-loss")
        return found
    if risk.entry_price is None or plan.side not in ("long", "short"):
        return found
    sign = 1 if plan.side == "long" else -1  # > 0: the winning side of the entry
    if sign * (risk.stop_loss - risk.entry_price) >= 0:
        found.append("risk.stopLoss is on the winning side of risk.entryPrice")
    for i, tp in enumerate(risk.take_profits or []):
        if sign * (tp - risk.entry_price) <= 0:
            found.append(f"risk.takeProfits[{i}] is on the losing side of risk.entryPrice")
    return found


def skip_reasons(record: TradePlan) -> list[str]:
    """Why a record is not for execution (empty when it is)."""
    if record.plan is None:
        return ["no plan"]
    if record.risk is not None and not record.risk.approved:
        return [f"risk: {reason}" for reason in record.risk.reasons] or ["risk: not approved"]
    if record.decision is not None and record.decision.blocked_by_news:
        return ["blocked by news"]
    if record.risk is None:
        return ["not checked by tk-risk (no risk block): nothing is sent unchecked"]
    return []


def _intent_facts(record: TradePlan, settings: ExecutionSettings) -> dict[str, Any]:
    """What the ledger keeps of a plan besides its orders: the leverage to set, and what
    tk-guard manages the position by (its stop, take-profits and weights, and the strategy
    that opened it, for reverse signals)."""
    plan, risk = record.plan, record.risk
    assert plan is not None
    source = plan.source
    take_profits = (risk.take_profits if risk else None) or plan.take_profits or []
    return {
        "leverage": (risk.leverage if risk else None) or 1,
        "stopLoss": (risk.stop_loss if risk else None) or plan.stop_loss,
        "takeProfits": take_profits,
        "tpWeights": tp_weights(len(take_profits), settings),
        "origin": _origin(source),
    }


def _origin(source: Source | None) -> dict[str, Any] | None:
    if source is None or source.strategy is None:
        return None
    origin = {"strategy": source.strategy, "timeframe": source.timeframe}
    return origin if source.spec is None else {**origin, "spec": source.spec}


class ExecutionService:
    def __init__(
        self,
        *,
        mode: str,
        ledger: Ledger,
        locks: IntentLocks,
        settings: ExecutionSettings,
        risk: RiskSettings,
        now_ms: Callable[[], int],
        journal: Callable[[Intent, Planned, str], None],
        connect: Callable[[], Exchange] | None,
        sleep: Callable[[float], None] | None = None,
    ):
        self.mode = mode
        self.ledger = ledger
        self.locks = locks
        self.settings = settings
        self.risk = risk
        self.approvals = ApprovalBook(ledger.store)
        self.now_ms = now_ms
        self.journal = journal
        self.connect = connect
        self.sleep = sleep
        self._exchange: Exchange | None = None
        #: the exit status the run should end with (exchange trouble), worst first kept
        self.exit_status = ExitStatus.OK
        #: set when unfinished bundles could not be resolved: nothing new is sent
        self.blocked: str | None = None

    # -- plumbing ----------------------------------------------------------------------------

    def _connected(self) -> Exchange:
        if self._exchange is None:
            assert self.connect is not None
            self._exchange = self.connect()
        return self._exchange

    def _executor(self, intent: Intent) -> Executor:
        kwargs = {} if self.sleep is None else {"sleep": self.sleep}
        return Executor(
            self._connected(),
            self.settings,
            lambda order, event: self.journal(intent, order, event),
            **kwargs,  # type: ignore[arg-type]
        )

    def _note_error(self, exc: ExchangeError) -> None:
        if self.exit_status == ExitStatus.OK or exc.status == ExitStatus.EXCHANGE_UNAVAILABLE:
            self.exit_status = exc.status

    # -- start: finish what an earlier run left -----------------------------------------------

    def recover(self) -> list[Recovered]:
        """Finish every unfinished intent of this mode that no other process is working on.
        Steps are sent again only within `stale_intent_seconds` of the claim."""
        done = []
        for candidate in self.ledger.unfinished(self.mode):
            with self.locks.hold(candidate.key, wait=False) as mine:
                if not mine:
                    continue  # another tk-exec is carrying it out right now
                intent = self.ledger.get(candidate.key)
                if intent is None or intent.status != PENDING:
                    continue
                try:
                    status, reasons = self._carry_out(intent, recovering=True)
                except ExchangeError as exc:
                    self._note_error(exc)
                    self.blocked = (
                        f"an unfinished order bundle ({intent.cycle_id}) could not be "
                        f"resolved: {exc}"
                    )
                    done.append(Recovered(intent, PENDING, [str(exc)]))
                    break
                done.append(Recovered(intent, status, reasons))
        return done

    # -- one record ---------------------------------------------------------------------------

    def execute(self, record: TradePlan) -> Execution:
        mode = "dry-run" if record.dry_run else self.mode
        skipped = skip_reasons(record)
        if skipped:
            return Execution(mode, "skipped", skipped)
        # nothing is claimed before these pass: a rejected line never blocks the real plan
        found = self._approval_problems(record) + problems(record)
        if not found and record.plan is not None and record.plan.effective_action == "open":
            try:
                found = self._limit_problems(record, mode)
            except ExchangeError as exc:
                self._note_error(exc)
                return Execution(mode, "failed", [f"exchange: {exc}", "nothing sent"])
        if found:
            return Execution(mode, "rejected", found)
        key = identity_key(record, mode)
        orders = self._plan(record, key)
        if mode == "dry-run":
            return self._dry_run(record, key, orders)
        if self.blocked is not None:
            return Execution(mode, "failed", [f"not sent: {self.blocked}"], key, orders)
        return self._send(self._intent(record, key, mode, orders, PENDING))

    def _approval_problems(self, record: TradePlan) -> list[str]:
        """Unless tk-risk of this home recorded this very risk block, in this run's mode (or
        dry-run, for a record marked dryRun), recently: why not."""
        assert record.plan is not None and record.risk is not None
        modes = (
            (self.mode, "dry-run") if record.dry_run and self.mode != "dry-run" else (self.mode,)
        )
        return approval_problems(
            self.approvals,
            cycle_id=record.cycle_id,
            plan=record.plan,
            risk=record.risk,
            modes=modes,
            now_ms=self.now_ms(),
            max_age_seconds=self.settings.max_approval_age_seconds,
        )

    def _limit_problems(self, record: TradePlan, mode: str) -> list[str]:
        """The hard limits checked again here, whatever the approval says."""
        plan, risk = record.plan, record.risk
        assert plan is not None and risk is not None
        assert risk.quantity is not None and risk.entry_price is not None
        assert risk.stop_loss is not None
        try:
            market = self._market(plan.symbol or "", mode)
        except Rejected as exc:
            return [f"plan.symbol: {exc}"]
        return hard_limit_problems(
            side=plan.side or "",
            quantity=risk.quantity,
            entry=risk.entry_price,
            stop=risk.stop_loss,
            leverage=risk.leverage,
            market=market,
            settings=self.risk,
        )

    def _market(self, symbol: str, mode: str) -> MarketSpec | None:
        if mode == "dry-run" or self.connect is None:
            from tradekit.exchange.markets import DEFAULT_MARKETS

            return DEFAULT_MARKETS.get(symbol)
        return self._connected().market(symbol)

    def _send(self, intent: Intent) -> Execution:
        with self.locks.hold(intent.key):
            existing = self.ledger.claim(intent)
            if existing is not None:
                return self._duplicate(existing)
            try:
                status, reasons = self._carry_out(intent, recovering=False)
            except ExchangeError as exc:
                self._note_error(exc)
                unfinished = (
                    "the order bundle is unfinished: the next tk-exec run looks its orders "
                    "up by clientOid and finishes it"
                )
                return Execution(
                    intent.mode,
                    "failed",
                    [f"exchange: {exc}", unfinished],
                    intent.key,
                    self._orders_of(intent),
                )
        return Execution(
            intent.mode,
            status,
            reasons,
            intent.key,
            self._orders_of(intent),
        )

    def _plan(self, record: TradePlan, key: str) -> list[Planned]:
        plan = record.plan
        assert plan is not None
        if plan.effective_action == "open":
            return plan_open(record, key, self.settings)
        return plan_manage(record, key)

    def _intent(
        self, record: TradePlan, key: str, mode: str, orders: list[Planned], status: str
    ) -> Intent:
        plan = record.plan
        assert plan is not None
        return Intent(
            key=key,
            cycle_id=record.cycle_id,
            symbol=plan.symbol,
            side=plan.side,
            level=plan.level,
            action=plan.effective_action,
            mode=mode,
            status=status,
            created_ms=self.now_ms(),
            orders=[o.to_json() for o in orders],
            result=_intent_facts(record, self.settings),
        )

    @staticmethod
    def _orders_of(intent: Intent) -> list[Planned]:
        return [Planned.from_json(o) for o in intent.orders]

    def _dry_run(self, record: TradePlan, key: str, orders: list[Planned]) -> Execution:
        """The exact orders that would be sent, recorded (so a re-run is a duplicate, as
        live) but never sent. Protection is sized as if the entry filled completely."""
        from tradekit.exchange.markets import DEFAULT_MARKETS

        plan = record.plan
        assert plan is not None
        reasons = []
        if plan.effective_action == "open":
            market = DEFAULT_MARKETS.get(plan.symbol or "")
            size_protection(orders[1:], orders[0].size or Decimal(0), market)
            reasons.append("dry-run: nothing sent")
        else:
            reasons.append("dry-run: nothing sent; sizes come from the position when carried out")
        intent = self._intent(record, key, "dry-run", orders, "dry_run")
        with self.locks.hold(key):
            existing = self.ledger.claim(intent)
        if existing is not None:
            return self._duplicate(existing)
        for order in orders:
            self.journal(intent, order, "dry-run")
        return Execution("dry-run", "dry_run", reasons, key, orders)

    def _duplicate(self, existing: Intent) -> Execution:
        if existing.status == PENDING:
            why = (
                "already claimed by another run and not finished yet; tk-exec finishes it "
                "at its next start"
            )
        else:
            result = existing.result or {}
            status = result.get("status", existing.status)
            why = f"already handled ({status}) under this idempotency key"
        orders = self._orders_of(existing)
        return Execution(existing.mode, "duplicate", [why, "nothing sent"], existing.key, orders)

    # -- carrying an intent out ---------------------------------------------------------------

    def _carry_out(self, intent: Intent, *, recovering: bool) -> tuple[str, list[str]]:
        """Run (or resume) an intent's bundle and record how it ended. Exchange errors
        propagate with the intent still pending and every step done so far saved."""
        orders = self._orders_of(intent)
        executor = self._executor(intent)
        leverage = int((intent.result or {}).get("leverage") or 1)

        def save() -> None:
            intent.orders = [o.to_json() for o in orders]
            self.ledger.update(
                intent.key,
                status=PENDING,
                orders=intent.orders,
                now_ms=self.now_ms(),
                result=intent.result,
            )

        fresh = self.now_ms() - intent.created_ms <= self.settings.stale_intent_seconds * 1000
        may_send = not recovering or fresh
        symbol = intent.symbol or ""
        try:
            if intent.action == "open":
                outcome = executor.open_position(
                    symbol, intent.side or "", leverage, orders, save, may_send_entry=may_send
                )
            else:
                outcome = executor.manage(
                    symbol, intent.side, intent.action, orders, save, may_send=may_send
                )
        except NotSent as exc:
            age = (self.now_ms() - intent.created_ms) // 1000
            outcome = Outcome(
                "failed",
                [
                    f"{exc} never reached the exchange and the plan is {age} s old "
                    f"(stale_intent_seconds = {self.settings.stale_intent_seconds}): not sent"
                ],
            )
            for order in orders:
                if order.state == "planned":
                    order.state = "not_sent"
        if recovering:
            outcome.reasons.insert(0, "finished an order bundle an earlier run left unfinished")
        intent.orders = [o.to_json() for o in orders]
        result = {"status": outcome.status, "reasons": outcome.reasons}
        intent.result = {**(intent.result or {}), **result}
        intent.status = outcome.status
        self.ledger.update(
            intent.key,
            status=outcome.status,
            orders=intent.orders,
            now_ms=self.now_ms(),
            result=intent.result,
        )
        return outcome.status, outcome.reasons
