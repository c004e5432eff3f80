"""`tk tg listen`: a Telegram account's view of the channels, as telegram_message records.
Live updates (new and edited messages) and a history read every interval go through the
same follower as the web preview, so a post both deliver, or that both sources saw, is
written once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tradekit.records import TelegramMessage
from tradekit.telegram.follow import Follower, channel_key
from tradekit.telegram.media import MediaStore
from tradekit.telegram.sources.account import (
    channel_name,
    flood_safe,
    post_from_message,
    read_history,
    resolve,
)


@dataclass
class Listener:
    client: Any  # a ReadOnlyClient
    follower: Follower
    write: Callable[[TelegramMessage], None]
    report: Callable[[str], None]
    now_ms: Callable[[], int]
    polling_seconds: float
    max_flood_wait: float = 3600
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    #: photos are downloaded through the client into it (None: not downloaded)
    media: MediaStore | None = None
    #: chat id -> channel key, for the live updates
    channels: dict[int, str] = field(default_factory=dict)

    async def run(self, specs: Sequence[str], *, once: bool) -> None:
        entities = [await resolve(self.client, spec) for spec in specs]
        for entity in entities:
            self.channels[_chat_id(entity)] = channel_key(channel_name(entity))
        if not once:
            self._subscribe(entities)
        while True:
            for entity in entities:
                await self.sync(entity)
            if once:
                return
            await self.sleep(self.polling_seconds)

    async def sync(self, entity: Any) -> None:
        """The history after the last id seen: what the live updates missed."""
        key = channel_key(channel_name(entity))
        row = self.follower.channel(key)
        last_id = row.last_id if row is not None else None
        messages = await self._flood_safe(lambda: read_history(self.client, entity, last_id))
        await self.emit(key, messages)

    async def emit(self, key: str, messages: Sequence[Any]) -> list[TelegramMessage]:
        by_id = {m.id: m for m in messages}
        posts = [post for post in map(post_from_message, messages) if post is not None]
        if not posts:
            return []
        # a history read or an update is not a whole page: no deletes are inferred from it
        records = self.follower.observe(
            key, [posts], self.now_ms(), source="telegram", detect_deletes=False
        )
        written = []
        for record in records:
            with_photo = await self._with_photo(record, by_id[record.message_id])
            self.write(with_photo)
            written.append(with_photo)
        return written

    async def _with_photo(self, record: TelegramMessage, message: Any) -> TelegramMessage:
        photo = getattr(message, "photo", None)
        if self.media is None or photo is None:
            return record
        key = f"tg://photo/{photo.id}"
        linked = self.media.link_known(record, key)  # an edit keeps its photo: no download
        if linked is not None:
            return linked
        try:
            body = await self._flood_safe(lambda: self.client.download_media(message, file=bytes))
            return self.media.attach_bytes(record, body, key, self.now_ms())
        except Exception as exc:  # the post goes on without its photo, reported
            self.report(f"post {record.message_id}: photo not downloaded: {exc}")
            return record

    async def _flood_safe(self, call: Callable[[], Awaitable[Any]]) -> Any:
        return await flood_safe(call, self.sleep, self.report, max_wait=self.max_flood_wait)

    def _subscribe(self, entities: Sequence[Any]) -> None:
        from telethon import events

        async def on_update(event: Any) -> None:
            key = self.channels.get(event.chat_id)
            if key is not None:
                await self.emit(key, [event.message])

        self.client.add_event_handler(on_update, events.NewMessage(chats=list(entities)))
        self.client.add_event_handler(on_update, events.MessageEdited(chats=list(entities)))


def _chat_id(entity: Any) -> int:
    from telethon.utils import get_peer_id

    return int(get_peer_id(entity))
