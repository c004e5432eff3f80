"""The execution ledger: one row per plan identity and mode, claimed before anything is sent.

The key is a hash of (mode, cycleId, symbol, side, level, action); SQLite's primary key makes
the claim atomic, so of twenty processes with the same plan exactly one gets to act and the
others see `duplicate`. The row keeps the planned orders and what became of them, so a run
that died half-way is finished by the next one, looking orders up by clientOid first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from tradekit.records import TradePlan
from tradekit.store import Store

#: the status of an intent whose bundle is not finished (a crash, an unknown outcome)
PENDING = "pending"


def identity_key(record: TradePlan, mode: str) -> str:
    plan = record.plan
    assert plan is not None
    identity = {
        "mode": mode,
        "cycleId": record.cycle_id,
        "symbol": plan.symbol,
        "side": plan.side,
        "level": plan.level,
        "action": plan.effective_action,
    }
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def client_oid(key: str, role: str) -> str:
    """What the exchange knows the order by: the same on every run of the same plan."""
    return f"tk{key[:16]}-{role}"


@dataclass
class Intent:
    key: str
    cycle_id: str
    symbol: str | None
    side: str | None
    level: str | None
    action: str
    mode: str
    status: str
    created_ms: int
    orders: list[dict[str, Any]]
    result: dict[str, Any] | None


class Ledger:
    def __init__(self, store: Store):
        self.store = store

    def claim(self, intent: Intent) -> Intent | None:
        """Record the intent; None if this plan was already claimed (the existing one is
        returned instead, to report it)."""
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM intents WHERE key=?", (intent.key,)).fetchone()
            if row is not None:
                return _intent(row)
            db.execute(
                "INSERT INTO intents (key, cycle_id, symbol, side, level, action, mode, status, "
                "created_ms, updated_ms, orders, result) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    intent.key,
                    intent.cycle_id,
                    intent.symbol,
                    intent.side,
                    intent.level,
                    intent.action,
                    intent.mode,
                    intent.status,
                    intent.created_ms,
                    intent.created_ms,
                    self.store.to_json(intent.orders),
                    None,
                ),
            )
        return None

    def update(
        self,
        key: str,
        *,
        status: str,
        orders: list[dict[str, Any]],
        now_ms: int,
        result: dict[str, Any] | None = None,
    ) -> None:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE intents SET status=?, orders=?, result=?, updated_ms=? WHERE key=?",
                (
                    status,
                    self.store.to_json(orders),
                    None if result is None else self.store.to_json(result),
                    now_ms,
                    key,
                ),
            )

    def unfinished(self, mode: str) -> list[Intent]:
        rows = self.store.db.execute(
            "SELECT * FROM intents WHERE mode=? AND status=? ORDER BY created_ms",
            (mode, PENDING),
        ).fetchall()
        return [_intent(row) for row in rows]

    def get(self, key: str) -> Intent | None:
        row = self.store.db.execute("SELECT * FROM intents WHERE key=?", (key,)).fetchone()
        return None if row is None else _intent(row)


def _intent(row: tuple) -> Intent:
    from tradekit import jsonio

    key, cycle, symbol, side, level, action, mode, status, created, _updated, orders, result = row
    return Intent(
        key,
        cycle,
        symbol,
        side,
        level,
        action,
        mode,
        status,
        int(created),
        jsonio.loads(orders),
        None if result is None else jsonio.loads(result),
    )


def record_close(
    store: Store, *, mode: str, symbol: str, side: str, reason: str, pnl: Any, closed_ms: int
) -> None:
    """A position closed (by its stop-loss, a take-profit, the guard, a manage plan): what
    tk-risk's stop-loss streak and loss-streak sizing read."""
    with store.transaction() as db:
        db.execute(
            "INSERT INTO closes (mode, symbol, side, reason, pnl, closed_ms) VALUES (?,?,?,?,?,?)",
            (mode, symbol, side, reason, str(pnl), closed_ms),
        )
