"""The guard's book: the positions it manages, per mode, in SQLite (guard_positions).

A position is `open` from the run that first sees it on the exchange until the run that
sees it gone (or closes it); the day boundary has nothing to do with it (seed defect 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradekit import jsonio
from tradekit.guard.tracked import Tracked
from tradekit.store import Store


@dataclass(frozen=True)
class CorruptRecord:
    id: int
    symbol: str
    side: str
    error: str


def _why(exc: Exception) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Book:
    def __init__(self, store: Store, mode: str):
        self.store = store
        self.mode = mode

    def open_positions(self) -> list[Tracked]:
        return self.read_open()[0]

    def read_open(self) -> tuple[list[Tracked], list[CorruptRecord]]:
        """The open positions, and the rows among them that cannot be read."""
        rows = self.store.db.execute(
            "SELECT id, symbol, side, state FROM guard_positions WHERE mode=? "
            "AND status='open' ORDER BY id",
            (self.mode,),
        ).fetchall()
        readable, corrupt = [], []
        for row_id, symbol, side, state in rows:
            try:
                tracked = Tracked.from_json(jsonio.loads(state))
                if (tracked.symbol, tracked.side) != (symbol, side):
                    raise ValueError(f"it says {tracked.symbol} {tracked.side}")
            except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
                corrupt.append(CorruptRecord(int(row_id), symbol, side, _why(exc)))
                continue
            tracked.id = int(row_id)
            readable.append(tracked)
        return readable, corrupt

    def quarantine(self, row_id: int, now_ms: int) -> None:
        """Set an unreadable row aside (kept as it is, for a look by hand)."""
        with self.store.transaction() as db:
            db.execute(
                "UPDATE guard_positions SET status='corrupt', closed_ms=?, "
                "close_reason='unreadable record' WHERE id=?",
                (now_ms, row_id),
            )

    def save(self, tracked: Tracked) -> None:
        state = self.store.to_json(tracked.to_json())
        with self.store.transaction() as db:
            if tracked.id:
                db.execute("UPDATE guard_positions SET state=? WHERE id=?", (state, tracked.id))
                return
            cursor = db.execute(
                "INSERT INTO guard_positions (mode, symbol, side, status, opened_ms, state) "
                "VALUES (?, ?, ?, 'open', ?, ?)",
                (self.mode, tracked.symbol, tracked.side, tracked.opened_ms, state),
            )
            tracked.id = int(cursor.lastrowid or 0)

    def close(self, tracked: Tracked, reason: str, closed_ms: int) -> None:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE guard_positions SET status='closed', closed_ms=?, close_reason=?, "
                "state=? WHERE id=?",
                (closed_ms, reason, self.store.to_json(tracked.to_json()), tracked.id),
            )

    def known_symbols(self) -> set[str]:
        """Every symbol this mode has traded or guarded (where orders may rest)."""
        rows = self.store.db.execute(
            "SELECT symbol FROM intents WHERE mode=? AND symbol IS NOT NULL "
            "UNION SELECT symbol FROM guard_positions WHERE mode=?",
            (self.mode, self.mode),
        ).fetchall()
        return {row[0] for row in rows}

    def opening_intent(self, symbol: str, side: str, before_ms: int) -> dict[str, Any] | None:
        """The latest plan tk-exec carried out that opens this position: its stop,
        take-profits and origin (from the ledger)."""
        row = self.store.db.execute(
            "SELECT key, created_ms, result FROM intents WHERE mode=? AND action='open' "
            "AND symbol=? AND side=? AND status IN ('placed', 'pending') AND created_ms<=? "
            "ORDER BY created_ms DESC LIMIT 1",
            (self.mode, symbol, side, before_ms),
        ).fetchone()
        if row is None:
            return None
        facts = jsonio.loads(row[2]) if row[2] else {}
        return {"key": row[0], "created_ms": int(row[1]), **facts}


def decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
