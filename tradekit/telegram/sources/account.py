"""A Telegram account as a source (Telethon user client), read-only: new and edited messages
live, and, because Telegram does not deliver every channel update, a history read every
interval (`min_id` = the last id seen) as the source of truth. FLOOD_WAIT is waited out.

The api id and hash come from the environment; the session file (the account's login) is
TK_HOME/telegram.session, readable by its owner only."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from tradekit.errors import ConfigError, TryAgainLaterError
from tradekit.telegram.sources.post import Post

SESSION_NAME = "telegram"
T = TypeVar("T")

#: what the listener may ask of the client: reading only. Anything else (send_message,
#: forward_messages, delete_messages, ...) is refused before it reaches Telegram.
READ_ONLY_METHODS = frozenset({
    "connect", "disconnect", "is_user_authorized", "start", "get_entity", "get_messages",
    "iter_messages", "iter_dialogs", "add_event_handler", "download_media",
    "run_until_disconnected", "is_connected", "loop", "disconnected", "flood_sleep_threshold",
})  # fmt: skip


class ReadOnlyClient:
    """A Telethon client of which only the reading methods can be reached."""

    def __init__(self, client: Any):
        object.__setattr__(self, "_client", client)

    def __getattr__(self, name: str) -> Any:
        if name not in READ_ONLY_METHODS:
            raise PermissionError(f"tk tg listen is read-only: {name} is not allowed")
        return getattr(object.__getattribute__(self, "_client"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name != "flood_sleep_threshold":
            raise PermissionError(f"tk tg listen is read-only: cannot set {name}")
        setattr(object.__getattribute__(self, "_client"), name, value)


def credentials(environ: Mapping[str, str], id_env: str, hash_env: str) -> tuple[int, str]:
    """The api id and hash from the environment; errors name the variable, never its value."""
    api_id, api_hash = environ.get(id_env, "").strip(), environ.get(hash_env, "").strip()
    missing = [name for name, value in ((id_env, api_id), (hash_env, api_hash)) if not value]
    if missing:
        raise ConfigError(
            f"tk tg listen needs {' and '.join(missing)} in the environment "
            "(the account's api id and hash, from my.telegram.org)"
        )
    if not api_id.isdigit():
        raise ConfigError(f"{id_env}: must be the numeric api id")
    return int(api_id), api_hash


def session_file(home: Path) -> Path:
    """TK_HOME/telegram.session, created (or tightened) to mode 0600 before Telethon opens
    it: it is the account's login."""
    path = home / f"{SESSION_NAME}.session"
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(descriptor)
    path.chmod(0o600)
    return path


def post_from_message(message: Any) -> Post | None:
    """A Telethon Message as a Post; None for what is not a post (a service message: a pin,
    a title change)."""
    from telethon.tl.types import Message

    if not isinstance(message, Message) or getattr(message, "action", None) is not None:
        return None
    photo = getattr(message, "photo", None)
    return Post(
        message_id=message.id,
        date=message.date,
        text=(message.message or "").strip(),
        reply_to=message.reply_to.reply_to_msg_id if message.reply_to is not None else None,
        edited=message.edit_date is not None and not message.edit_hide,
        forwarded_from=_forwarded_from(message.fwd_from),
        photo_id=photo.id if photo is not None else None,
    )


def _forwarded_from(header: Any) -> str | None:
    if header is None:
        return None
    if header.from_name:
        return str(header.from_name)
    peer = header.from_id
    for attribute in ("channel_id", "user_id", "chat_id"):
        if getattr(peer, attribute, None) is not None:
            return f"{attribute.removesuffix('_id')}:{getattr(peer, attribute)}"
    return "unknown"


def channel_name(entity: Any) -> str:
    """The name records carry: the @username when there is one (as the web preview's), else
    the numeric id."""
    username = getattr(entity, "username", None)
    return str(username) if username else str(entity.id)


async def flood_safe(
    call: Callable[[], Awaitable[T]],
    sleep: Callable[[float], Awaitable[Any]],
    report: Callable[[str], None],
    *,
    attempts: int = 3,
    max_wait: float = 3600,
) -> T:
    """`call()`, waiting out FLOOD_WAIT (the seconds Telegram asks for) up to `attempts`
    times; a wait longer than `max_wait`, or one too many, is TryAgainLaterError (75)."""
    from telethon.errors import FloodWaitError

    for attempt in range(attempts):
        try:
            return await call()
        except FloodWaitError as exc:
            if attempt == attempts - 1 or exc.seconds > max_wait:
                raise TryAgainLaterError(
                    f"Telegram FLOOD_WAIT of {exc.seconds} s (attempt {attempt + 1}); "
                    "try again later"
                ) from None
            report(f"FLOOD_WAIT: Telegram asks to wait {exc.seconds} s; waiting")
            await sleep(exc.seconds)
    raise AssertionError("unreachable")  # pragma: no cover


async def resolve(client: Any, spec: str) -> Any:
    """A channel by @username, numeric id or exact title (among the account's dialogs)."""
    text = spec.strip()
    if text.lstrip("-").isdigit():
        return await client.get_entity(int(text))
    if text.startswith("@") or " " not in text:
        try:
            return await client.get_entity(text)
        except ValueError:
            pass  # not a username: maybe a one-word title
    async for dialog in client.iter_dialogs():
        if dialog.is_channel and dialog.title == text:
            return dialog.entity
    raise ConfigError(f"channel {spec!r}: no such @username, id or title for this account")


async def read_history(client: Any, entity: Any, last_id: int | None) -> list[Any]:
    """Every message after `last_id`, oldest first; on the first read, only the newest."""
    if last_id is None:
        return list(await client.get_messages(entity, limit=1))
    return [m async for m in client.iter_messages(entity, min_id=last_id, reverse=True)]
