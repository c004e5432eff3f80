"""What each Telegram post produced, kept in SQLite (table telegram_posts).

A manage reply that names no symbol takes the symbol of the post it replies to; failing
that, the one plan of the channel still open before it, if there is exactly one. Both are
answered as of the post's own message id, so a re-run over the same posts gives the same
answers whatever an earlier run stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradekit.store import Store


@dataclass(frozen=True, slots=True)
class PostOutcome:
    channel: str
    message_id: int
    version: int
    kind: str
    action: str | None = None
    symbol: str | None = None
    side: str | None = None


class PlanBook:
    """Outcomes are kept in memory and written in one transaction by `flush` (the stage
    flushes before the records of a read go out); a lookup flushes first, so it sees them."""

    def __init__(self, store: Store):
        self._store = store
        self._pending: list[PostOutcome] = []

    def record(self, outcome: PostOutcome) -> None:
        self._pending.append(outcome)

    def flush(self) -> None:
        """Keep what the posts produced; an older version never replaces a newer one."""
        if not self._pending:
            return
        rows = [
            (o.channel, o.message_id, o.version, o.kind, o.action, o.symbol, o.side)
            for o in self._pending
        ]
        with self._store.transaction() as db:
            db.executemany(
                "INSERT INTO telegram_posts (channel, message_id, version, kind, action, symbol, "
                "side) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, message_id) DO UPDATE "
                "SET version=excluded.version, kind=excluded.kind, action=excluded.action, "
                "symbol=excluded.symbol, side=excluded.side WHERE excluded.version >= version",
                rows,
            )
        self._pending.clear()

    def symbol_of(self, channel: str, message_id: int) -> str | None:
        self.flush()
        row = self._store.db.execute(
            "SELECT symbol FROM telegram_posts WHERE channel=? AND message_id=?",
            (channel, message_id),
        ).fetchone()
        return None if row is None else row[0]

    def open_before(self, channel: str, message_id: int, limit: int = 2) -> list[str]:
        """The symbols of the channel's latest entries (at most `limit`) before
        `message_id` that no close before it has ended, newest first."""
        self.flush()
        rows = self._store.db.execute(
            "SELECT p.symbol FROM telegram_posts p WHERE p.channel=? AND p.action='open' "
            "AND p.message_id<? AND NOT EXISTS (SELECT 1 FROM telegram_posts c "
            "WHERE c.channel=p.channel AND c.symbol=p.symbol AND c.action='close' "
            "AND c.message_id>p.message_id AND c.message_id<?) ORDER BY p.message_id DESC LIMIT ?",
            (channel, message_id, message_id, limit),
        ).fetchall()
        return [row[0] for row in rows]
