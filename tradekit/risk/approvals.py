"""The approvals tk-risk records and tk-exec checks: the trust boundary between the two.

A `risk` block in a record is only a claim; tk-exec acts on it only if tk-risk of the same
TK_HOME recorded that exact approval, in the same mode, recently. Each approval is kept as
a sha256 over a canonical form of what the orders are made of: the plan's identity
(cycleId, symbol, side, level, action), the plan's order fields (entry, stop-loss,
take-profits, leverage, reducePct, the strategy, timeframe and DSL spec tk-guard manages
the position by) and the whole risk block.
Canonical means the same digest whatever the key order or the spelling of a number
(60800.10, 60800.1 and 6.08001e4 are one number).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from hashlib import sha256
from typing import Any, NamedTuple, Protocol

import orjson

from tradekit.records import Plan
from tradekit.store import Store

#: exact for any number a record can hold (normalize() rounds to the context's precision)
_EXACT = Context(prec=1000, Emax=MAX_EMAX, Emin=MIN_EMIN)
#: approvals older than this are removed when tk-risk starts (they can no longer be used)
KEEP_MS = 2 * 86_400_000


class RiskFields(Protocol):
    """What a risk block holds: tk-risk's RiskResult and the record's RiskBlock alike."""

    approved: bool
    reasons: list[str]
    warnings: list[str]
    quantity: Decimal | None
    notional: Decimal | None
    leverage: int | None
    entry_price: Decimal | None
    stop_loss: Decimal | None
    take_profits: list[Decimal] | None
    risk_amount: Decimal | None


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value.normalize(_EXACT))


def _nums(values: list[Decimal] | None) -> list[str] | None:
    return None if values is None else [str(v.normalize(_EXACT)) for v in values]


def approval_digest(cycle_id: str, plan: Plan, risk: RiskFields) -> str:
    """The sha256 (hex) of the canonical form of a plan and its risk block."""
    entry, source, num = plan.entry, plan.source, _num
    form = (
        "tradekit-approval-1",
        cycle_id,
        plan.symbol,
        plan.side,
        plan.level,
        plan.action or "open",
        None if entry is None else (entry.type, num(entry.price), num(entry.low), num(entry.high)),
        num(plan.stop_loss),
        _nums(plan.take_profits),
        plan.leverage,
        num(plan.reduce_pct),
        None if source is None else (source.strategy, source.timeframe, source.spec),
        risk.approved,
        risk.reasons,
        risk.warnings,
        num(risk.quantity),
        num(risk.notional),
        risk.leverage,
        num(risk.entry_price),
        num(risk.stop_loss),
        _nums(risk.take_profits),
        num(risk.risk_amount),
    )
    return sha256(orjson.dumps(form)).hexdigest()


class Approval(NamedTuple):
    cycle_id: str
    digest: str
    mode: str
    approved_ms: int


class ApprovalBook:
    """The `approvals` table (store migration v8): one row per cycleId, digest and mode."""

    def __init__(self, store: Store):
        self.store = store

    def record(self, approvals: Iterable[Approval]) -> None:
        """Record a batch in one transaction; approving the same again renews its time."""
        rows = list(approvals)
        if not rows:
            return
        with self.store.transaction() as db:
            db.executemany(
                "INSERT INTO approvals (cycle_id, digest, mode, approved_ms) VALUES (?,?,?,?) "
                "ON CONFLICT DO UPDATE SET approved_ms=excluded.approved_ms",
                rows,
            )

    def prune(self, now_ms: int) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM approvals WHERE approved_ms < ?", (now_ms - KEEP_MS,))

    def find(self, cycle_id: str, digest: str) -> list[Approval]:
        rows = self.store.db.execute(
            "SELECT cycle_id, digest, mode, approved_ms FROM approvals "
            "WHERE cycle_id=? AND digest=?",
            (cycle_id, digest),
        ).fetchall()
        return [Approval(*row) for row in rows]

    def of_cycle(self, cycle_id: str, mode: str) -> bool:
        """Whether tk-risk approved anything under this cycleId in this mode."""
        row = self.store.db.execute(
            "SELECT 1 FROM approvals WHERE cycle_id=? AND mode=? LIMIT 1", (cycle_id, mode)
        ).fetchone()
        return row is not None


def approval_problems(
    book: ApprovalBook,
    *,
    cycle_id: str,
    plan: Plan,
    risk: Any,
    modes: tuple[str, ...],
    now_ms: int,
    max_age_seconds: int,
) -> list[str]:
    """Why tk-exec must not act on this approved risk block (empty: tk-risk recorded it, in
    one of `modes`, at most `max_age_seconds` ago)."""
    extra = sorted(set(risk.model_extra or {}))
    if extra:
        return [f"approval: risk.{extra[0]} is not written by tk-risk (the block was altered)"]
    found = book.find(cycle_id, approval_digest(cycle_id, plan, risk))
    usable = [a for a in found if a.mode in modes]
    if not usable:
        if found:
            other = ", ".join(sorted(a.mode for a in found))
            return [f"approval: recorded by tk-risk in {other}, not in {' or '.join(modes)}"]
        if any(book.of_cycle(cycle_id, mode) for mode in modes):
            return [
                "approval: the plan or its risk block differs from what tk-risk approved "
                f"for cycleId {cycle_id} (altered)"
            ]
        return [
            f"approval: tk-risk recorded no approval for cycleId {cycle_id} in this "
            f"home ({' or '.join(modes)}): not sent"
        ]
    age = (now_ms - max(a.approved_ms for a in usable)) // 1000
    if age > max_age_seconds:
        return [
            f"approval: expired, tk-risk approved it {age} s ago "
            f"([execution] max_approval_age_seconds = {max_age_seconds})"
        ]
    return []
