"""The news cache in SQLite: items (with when each was consumed) and each source's health."""

from __future__ import annotations

from dataclasses import dataclass

from tradekit.news.model import Item
from tradekit.store import Store


@dataclass(frozen=True)
class SourceState:
    name: str
    last_attempt_ms: int
    last_ok_ms: int | None
    last_error: str | None
    items: int


class NewsCache:
    def __init__(self, store: Store):
        self.store = store

    def add(self, items: list[Item], fetched_ms: int) -> int:
        """Store new items (an item seen before keeps its first sighting); how many were new."""
        with self.store.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO news_items (id, source, title, url, published_ms, "
                "fetched_ms) VALUES (?, ?, ?, ?, ?, ?)",
                [(i.id, i.source, i.title, i.url, i.published_ms, fetched_ms) for i in items],
            )
            return db.total_changes - before

    def recent(self, since_ms: int, until_ms: int) -> list[tuple[Item, frozenset[str]]]:
        """Items published in [since, until], each with the symbols it was consumed for."""
        rows = self.store.db.execute(
            "SELECT i.id, i.source, i.title, i.url, i.published_ms, "
            "group_concat(c.symbol, ' ') FROM news_items i "
            "LEFT JOIN news_consumed c ON c.item_id = i.id "
            "WHERE i.published_ms >= ? AND i.published_ms <= ? "
            "GROUP BY i.id ORDER BY i.published_ms DESC, i.id",
            (since_ms, until_ms),
        ).fetchall()
        return [(Item(r[0], r[1], r[2], r[4], r[3]), frozenset((r[5] or "").split())) for r in rows]

    def consume(self, pairs: list[tuple[str, str]], now_ms: int) -> None:
        """Mark (item id, symbol) pairs used up (consume = "once")."""
        if not pairs:
            return
        with self.store.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO news_consumed (item_id, symbol, consumed_ms) "
                "VALUES (?, ?, ?)",
                [(item_id, symbol, now_ms) for item_id, symbol in pairs],
            )

    def record_fetch(
        self, name: str, now_ms: int, *, error: str | None = None, items: int = 0
    ) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO news_sources (name, last_attempt_ms, last_ok_ms, last_error, items) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "last_attempt_ms=excluded.last_attempt_ms, last_error=excluded.last_error, "
                "last_ok_ms=COALESCE(excluded.last_ok_ms, news_sources.last_ok_ms), "
                "items=CASE WHEN excluded.last_error IS NULL THEN excluded.items "
                "ELSE news_sources.items END",
                (name, now_ms, None if error else now_ms, error, items),
            )

    def sources(self) -> dict[str, SourceState]:
        rows = self.store.db.execute(
            "SELECT name, last_attempt_ms, last_ok_ms, last_error, items FROM news_sources"
        ).fetchall()
        return {row[0]: SourceState(*row) for row in rows}

    def prune(self, before_ms: int) -> int:
        with self.store.transaction() as db:
            db.execute(
                "DELETE FROM news_consumed WHERE item_id IN "
                "(SELECT id FROM news_items WHERE published_ms < ?)",
                (before_ms,),
            )
            return db.execute(
                "DELETE FROM news_items WHERE published_ms < ?", (before_ms,)
            ).rowcount
