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
    def __init__(self, store: Store):
        self._store = store

    def record(self, outcome: PostOutcome) -> None:
        """Keep what a post produced; an older version never replaces a newer one."""
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO telegram_posts (channel, message_id, version, kind, action, symbol, "
                "side) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, message_id) DO UPDATE "
                "SET version=excluded.version, kind=excluded.kind, action=excluded.action, "
                "symbol=excluded.symbol, side=excluded.side WHERE excluded.version >= version",
                (
                    outcome.channel,
                    outcome.message_id,
                    outcome.version,
                    outcome.kind,
                    outcome.action,
                    outcome.symbol,
                    outcome.side,
                ),
            )

    def symbol_of(self, channel: str, message_id: int) -> str | None:
        row = self._store.db.execute(
            "SELECT symbol FROM telegram_posts WHERE channel=? AND message_id=?",
            (channel, message_id),
        ).fetchone()
        return None if row is None else row[0]

    def open_before(self, channel: str, message_id: int) -> list[str]:
        """The symbols of the channel's entries before `message_id` that no close (before
        it too) has ended, oldest first."""
        rows = self._store.db.execute(
            "SELECT p.symbol FROM telegram_posts p WHERE p.channel=? AND p.action='open' "
            "AND p.message_id<? AND NOT EXISTS (SELECT 1 FROM telegram_posts c "
            "WHERE c.channel=p.channel AND c.symbol=p.symbol AND c.action='close' "
            "AND c.message_id>p.message_id AND c.message_id<?) ORDER BY p.message_id",
            (channel, message_id, message_id),
        ).fetchall()
        return [row[0] for row in rows]
