"""Following a channel: what a source saw, against what was seen before (SQLite), becomes
telegram_message records. A post is one record per (channel, message id, content hash),
whichever source saw it and however often; an edit is a new version; a post that vanished
from inside the span of ids a page covers is a delete."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from tradekit.records import TelegramMessage
from tradekit.store import Store
from tradekit.telegram.sources.post import Post


def channel_key(name: str) -> str:
    """One name per channel whichever way it was given: `@SignalDesk`, `SignalDesk`."""
    return name.strip().removeprefix("@").lower()


@dataclass(frozen=True)
class Selection:
    """Which posts a channel's first poll emits (the others are remembered silently)."""

    since_id: int | None = None
    since_time: datetime | None = None
    backfill: int | None = None

    def emits(self, posts: Sequence[Post]) -> set[int]:
        if self.since_id is not None:
            return {p.message_id for p in posts if p.message_id > self.since_id}
        if self.since_time is not None:
            return {p.message_id for p in posts if p.date >= self.since_time}
        count = self.backfill if self.backfill is not None else 1  # the seed: the newest only
        return {p.message_id for p in posts[-count:]} if count else set()

    @property
    def explicit(self) -> bool:
        return self.since_id is not None or self.since_time is not None or bool(self.backfill)


@dataclass(frozen=True)
class Known:
    version: int
    content_hash: str
    edited: bool
    date_ms: int
    text: str
    deleted: bool


@dataclass(frozen=True)
class ChannelRow:
    channel: str
    last_id: int | None
    last_poll_ms: int | None
    last_ok_ms: int | None
    last_error: str | None
    posts: int
    edits: int
    deletes: int
    errors: int


Event = Literal["new", "edit", "delete"]


class Follower:
    """The per-channel state of every source, in the tradekit database."""

    def __init__(self, store: Store, *, window_posts: int = 200):
        self.store = store
        self.window_posts = window_posts

    def channels(self) -> list[ChannelRow]:
        rows = self.store.db.execute(
            "SELECT channel, last_id, last_poll_ms, last_ok_ms, last_error, posts, edits, "
            "deletes, errors FROM tg_channels ORDER BY channel"
        ).fetchall()
        return [ChannelRow(*row) for row in rows]

    def channel(self, channel: str) -> ChannelRow | None:
        return next((row for row in self.channels() if row.channel == channel), None)

    def record_error(self, channel: str, now_ms: int, error: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO tg_channels (channel, last_poll_ms, last_error, errors) "
                "VALUES (?, ?, ?, 1) ON CONFLICT(channel) DO UPDATE SET "
                "last_poll_ms=excluded.last_poll_ms, last_error=excluded.last_error, "
                "errors=errors + 1",
                (channel, now_ms, error),
            )

    def observe(
        self,
        channel: str,
        spans: Iterable[Sequence[Post]],
        now_ms: int,
        *,
        source: str,
        selection: Selection | None = None,
        detect_deletes: bool = True,
    ) -> list[TelegramMessage]:
        """The records for what changed. `spans`: each page (or history read) as a list of
        posts in id order; a remembered post inside a span's ids but not in it was deleted."""
        selection = selection or Selection()
        spans = [sorted(span, key=lambda p: p.message_id) for span in spans]
        posts = sorted({p.message_id: p for span in spans for p in span}.values(),
                       key=lambda p: p.message_id)  # fmt: skip
        with self.store.transaction():
            row = self.channel(channel)
            first = row is None or row.last_id is None
            last_id = row.last_id if row is not None and row.last_id is not None else 0
            chosen = selection.emits(posts) if first or selection.explicit else set()
            known = self._known(channel)
            out: list[TelegramMessage] = []
            for post in posts:
                record = self._one(channel, post, known.get(post.message_id), now_ms)
                if record is None:
                    continue
                if record.event == "new" and not (
                    post.message_id in chosen or (not first and post.message_id > last_id)
                ):
                    continue  # remembered, not emitted: before where following starts
                out.append(record.model_copy(update={"source": source}))
            if detect_deletes:
                out += self._deletes(channel, spans, known, now_ms, source)
            out.sort(key=lambda r: (r.message_id, r.version))
            self._count(channel, out, posts, now_ms)
            self._prune(channel)
        return out

    def _known(self, channel: str) -> dict[int, Known]:
        rows = self.store.db.execute(
            "SELECT message_id, version, content_hash, edited, date_ms, text, deleted_ms "
            "FROM tg_posts WHERE channel=?",
            (channel,),
        ).fetchall()
        return {
            mid: Known(version, digest, bool(edited), date_ms, text, deleted is not None)
            for mid, version, digest, edited, date_ms, text, deleted in rows
        }

    def _one(
        self, channel: str, post: Post, known: Known | None, now_ms: int
    ) -> TelegramMessage | None:
        digest = post.content_hash()
        if known is None:
            version, event = 1, "new"
        elif known.content_hash != digest or (post.edited and not known.edited):
            version, event = known.version + 1, "edit"
        else:
            return None  # seen before, unchanged (either source)
        self.store.db.execute(
            "INSERT INTO tg_posts (channel, message_id, version, content_hash, edited, date_ms, "
            "text) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(channel, message_id) DO UPDATE SET "
            "version=excluded.version, content_hash=excluded.content_hash, "
            "edited=excluded.edited, text=excluded.text",
            (channel, post.message_id, version, digest, int(post.edited or event == "edit"),
             int(post.date.timestamp() * 1000), post.text),
        )  # fmt: skip
        return TelegramMessage(
            channel=channel,
            message_id=post.message_id,
            version=version,
            date=post.date,
            text=post.text,
            image_url=post.image_url,
            is_edit=event == "edit",
            event=event,
            reply_to=post.reply_to,
            forwarded_from=post.forwarded_from,
        )

    def _deletes(
        self,
        channel: str,
        spans: Sequence[Sequence[Post]],
        known: dict[int, Known],
        now_ms: int,
        source: str,
    ) -> list[TelegramMessage]:
        out = []
        for span in spans:
            if not span:
                continue
            low, high, present = (
                span[0].message_id,
                span[-1].message_id,
                {p.message_id for p in span},
            )
            for mid, seen in known.items():
                if low < mid < high and mid not in present and not seen.deleted:
                    self.store.db.execute(
                        "UPDATE tg_posts SET deleted_ms=? WHERE channel=? AND message_id=?",
                        (now_ms, channel, mid),
                    )
                    known[mid] = Known(seen.version, seen.content_hash, seen.edited,
                                       seen.date_ms, seen.text, True)  # fmt: skip
                    out.append(TelegramMessage(
                        channel=channel, message_id=mid, version=seen.version,
                        date=datetime.fromtimestamp(seen.date_ms / 1000, UTC), text=seen.text,
                        event="delete", source=source,
                    ))  # fmt: skip
        return out

    def _count(
        self, channel: str, out: Sequence[TelegramMessage], posts: Sequence[Post], now_ms: int
    ) -> None:
        counts = {event: sum(r.event == event for r in out) for event in ("new", "edit", "delete")}
        newest = max((p.message_id for p in posts), default=None)
        self.store.db.execute(
            "INSERT INTO tg_channels (channel, last_id, last_poll_ms, last_ok_ms, posts, edits, "
            "deletes) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(channel) DO UPDATE SET "
            "last_id=max(coalesce(last_id, 0), coalesce(excluded.last_id, 0)), "
            "last_poll_ms=excluded.last_poll_ms, last_ok_ms=excluded.last_ok_ms, "
            "last_error=NULL, posts=posts + excluded.posts, edits=edits + excluded.edits, "
            "deletes=deletes + excluded.deletes",
            (channel, newest, now_ms, now_ms, counts["new"], counts["edit"], counts["delete"]),
        )

    def _prune(self, channel: str) -> None:
        self.store.db.execute(
            "DELETE FROM tg_posts WHERE channel=? AND message_id NOT IN (SELECT message_id "
            "FROM tg_posts WHERE channel=? ORDER BY message_id DESC LIMIT ?)",
            (channel, channel, self.window_posts),
        )
