"""tk tg listen's parts, fed real Telethon objects built here: the mapping to posts, the
follower shared with the web preview (one record per post whichever source saw it), the
history read from the last id seen, FLOOD_WAIT, the read-only client, the credentials and the
session file. A real-account test is opt-in (TK_TELEGRAM_TESTS=1) and skipped by default."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_DATA, script
from telethon import TelegramClient
from telethon.errors import FloodWaitError
from telethon.sessions import MemorySession
from telethon.tl.types import (
    Channel,
    ChatPhotoEmpty,
    Message,
    MessageActionPinMessage,
    MessageFwdHeader,
    MessageMediaPhoto,
    MessageReplyHeader,
    MessageService,
    PeerChannel,
    Photo,
)

from tradekit.errors import ConfigError, TryAgainLaterError
from tradekit.exitstatus import ExitStatus
from tradekit.records import TelegramMessage
from tradekit.redact import Redactor
from tradekit.store import Store
from tradekit.telegram.follow import Follower
from tradekit.telegram.listen import Listener
from tradekit.telegram.media import MediaStore
from tradekit.telegram.sources.account import (
    ReadOnlyClient,
    credentials,
    flood_safe,
    post_from_message,
    session_file,
)
from tradekit.telegram.sources.webpreview import parse_page

CHANNEL_ID = 1987654321
SIGNALDESK = Channel(id=CHANNEL_ID, title="SignalDesk", photo=ChatPhotoEmpty(), date=None,
                     username="SignalDesk", broadcast=True, access_hash=7)  # fmt: skip


def when(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def message(message_id: int, text: str, date: str = "2026-11-19T03:40:02+00:00", **extra: Any):
    return Message(id=message_id, peer_id=PeerChannel(CHANNEL_ID), date=when(date),
                   message=text, **extra)  # fmt: skip


def photo() -> MessageMediaPhoto:
    return MessageMediaPhoto(photo=Photo(id=5372981145618303877, access_hash=1,
                             file_reference=b"", date=when("2026-11-19T04:18:55+00:00"),
                             sizes=[], dc_id=2))  # fmt: skip


# -- mapping ------------------------------------------------------------------------------------


def test_a_message_maps_to_a_post_with_reply_forward_photo_and_edit() -> None:
    forwarded = message(
        1812, "#SOL/USDT 做空 10倍", reply_to=MessageReplyHeader(reply_to_msg_id=1806),
        fwd_from=MessageFwdHeader(date=when("2026-11-18T00:00:00+00:00"),
                                  from_name="Orchid Futures Lab"),
        edit_date=when("2026-11-19T07:00:00+00:00"), media=photo(),
    )  # fmt: skip
    post = post_from_message(forwarded)
    assert post is not None
    assert (post.message_id, post.text, post.reply_to, post.forwarded_from, post.edited) == (
        1812, "#SOL/USDT 做空 10倍", 1806, "Orchid Futures Lab", True
    )  # fmt: skip
    assert (post.photo_id, post.date) == (5372981145618303877, when("2026-11-19T03:40:02Z"))


def test_a_forward_from_a_channel_without_a_name_says_its_id() -> None:
    header = MessageFwdHeader(date=when("2026-11-18T00:00:00+00:00"), from_id=PeerChannel(42))
    post = post_from_message(message(1, "x", fwd_from=header))
    assert post is not None and post.forwarded_from == "channel:42"


def test_a_service_message_is_not_a_post() -> None:
    pin = MessageService(id=9, peer_id=PeerChannel(CHANNEL_ID), date=when("2026-11-19T00:00Z"),
                         action=MessageActionPinMessage())  # fmt: skip
    assert post_from_message(pin) is None


# -- one record per post, whichever source ------------------------------------------------------


def listener(store: Store, written: list[TelegramMessage], client: Any = None) -> Listener:
    return Listener(client, Follower(store), written.append, lambda _m: None,
                    lambda: 1_795_000_000_000, polling_seconds=0.01)  # fmt: skip


def test_a_post_the_web_preview_wrote_is_not_written_again_from_the_account(
    tmp_path: Path,
) -> None:
    page = parse_page((TEST_DATA / "telegram/web-preview/page-1.html").read_text(), "SignalDesk")
    with Store(tmp_path / "db") as store:
        Follower(store).observe("signaldesk", [page.posts], 1, source="web_preview")
        written: list[TelegramMessage] = []
        same = message(
            1807, "减仓30%，TP1看0.79", reply_to=MessageReplyHeader(reply_to_msg_id=1806)
        )
        photo_post = message(1809, "看图👇", media=photo())
        assert asyncio.run(listener(store, written).emit("signaldesk", [same, photo_post])) == []
        edited = message(1807, "减仓50%，TP1看0.79", edit_date=when("2026-11-19T04:00:00Z"),
                         reply_to=MessageReplyHeader(reply_to_msg_id=1806))  # fmt: skip
        newer = message(1837, "BTC 空", date="2026-11-20T03:00:00+00:00")
        asyncio.run(listener(store, written).emit("signaldesk", [edited, newer]))
    assert [(r.message_id, r.event, r.version, r.source) for r in written] == [
        (1807, "edit", 2, "telegram"), (1837, "new", 1, "telegram")
    ]  # fmt: skip


class History:
    """Telegram's side of a history read, as the client methods the listener calls: the
    channel's messages, and every call's arguments."""

    def __init__(self, messages: list[Message], flood_first: int = 0):
        self.messages, self.flood_first, self.calls = messages, flood_first, []
        self.photos: dict[int, bytes] = {}

    async def download_media(self, item: Message, *, file: type) -> bytes:
        assert file is bytes
        self.calls.append(("download_media", item.id))
        return self.photos[item.photo.id]

    async def get_entity(self, spec: Any) -> Channel:
        self.calls.append(("get_entity", spec))
        return SIGNALDESK

    async def get_messages(self, _entity: Any, *, limit: int) -> list[Message]:
        self.calls.append(("get_messages", limit))
        return sorted(self.messages, key=lambda m: -m.id)[:limit]

    async def iter_messages(self, _entity: Any, *, min_id: int, reverse: bool):
        self.calls.append(("iter_messages", min_id))
        if self.flood_first:
            self.flood_first -= 1
            raise FloodWaitError(request=None, capture=2)
        for item in sorted(self.messages, key=lambda m: m.id if reverse else -m.id):
            if item.id > min_id:
                yield item


def test_history_reads_start_after_the_last_id_seen_and_wait_out_flood_wait(
    tmp_path: Path,
) -> None:
    history = History([message(1, "first"), message(2, "second")])
    written: list[TelegramMessage] = []
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with Store(tmp_path / "db") as store:
        follow = listener(store, written, ReadOnlyClient(history))
        follow.sleep = sleep
        asyncio.run(follow.run(["@SignalDesk"], once=True))  # the first read: the newest only
        history.messages += [message(3, "missed by the live updates"), message(4, "fourth")]
        history.flood_first = 1
        asyncio.run(follow.run(["@SignalDesk"], once=True))
    assert [(r.channel, r.message_id) for r in written] == [
        ("signaldesk", 2), ("signaldesk", 3), ("signaldesk", 4)
    ]  # fmt: skip
    assert ("get_messages", 1) in history.calls
    assert history.calls.count(("iter_messages", 2)) == 2  # min_id = the last id; retried
    assert waits == [2]


def test_a_flood_wait_longer_than_allowed_is_try_again_later() -> None:
    async def flooded() -> None:
        raise FloodWaitError(request=None, capture=900)

    async def no_sleep(_seconds: float) -> None:
        raise AssertionError("must not wait 900 s")

    with pytest.raises(TryAgainLaterError, match="FLOOD_WAIT of 900 s"):
        asyncio.run(flood_safe(flooded, no_sleep, lambda _m: None, max_wait=120))


# -- read-only, credentials, the session file ---------------------------------------------------


def test_the_client_can_only_read() -> None:
    client = ReadOnlyClient(TelegramClient(MemorySession(), 1, "0123456789abcdef"))
    assert callable(client.get_messages) and callable(client.iter_messages)
    for method in ("send_message", "send_file", "forward_messages", "delete_messages",
                   "edit_message", "send_read_acknowledge"):  # fmt: skip
        with pytest.raises(PermissionError, match=f"read-only: {method} is not allowed"):
            getattr(client, method)


def test_credentials_come_from_the_environment_and_errors_never_show_them() -> None:
    env = {"TELEGRAM_API_ID": "123456", "TELEGRAM_API_HASH": "0123456789abcdef0123"}
    assert credentials(env, "TELEGRAM_API_ID", "TELEGRAM_API_HASH") == (
        123456,
        env["TELEGRAM_API_HASH"],
    )
    with pytest.raises(ConfigError, match="needs TELEGRAM_API_HASH in the environment"):
        credentials({"TELEGRAM_API_ID": "1"}, "TELEGRAM_API_ID", "TELEGRAM_API_HASH")
    with pytest.raises(ConfigError) as caught:
        credentials({**env, "TELEGRAM_API_ID": "my-id-x"}, "TELEGRAM_API_ID", "TELEGRAM_API_HASH")
    assert "TELEGRAM_API_ID: must be the numeric api id" in str(caught.value)
    assert "my-id-x" not in str(caught.value)
    assert Redactor.from_env(env).text(f"hash={env['TELEGRAM_API_HASH']}") == "hash=[redacted]"


def test_the_session_file_is_the_owners_only(tmp_path: Path) -> None:
    fresh = session_file(tmp_path)
    assert fresh == tmp_path / "telegram.session"
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    fresh.chmod(0o644)
    assert stat.S_IMODE(session_file(tmp_path).stat().st_mode) == 0o600


def test_listen_without_credentials_exits_78_naming_them(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_API")}
    result = subprocess.run([script("tk"), "tg", "listen", "--once", "@SignalDesk"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == ExitStatus.CONFIG
    assert "needs TELEGRAM_API_ID and TELEGRAM_API_HASH in the environment" in result.stderr
    assert "Traceback" not in result.stderr


REAL_ACCOUNT = (
    "a real Telegram account: opt-in with TK_TELEGRAM_TESTS=1, TELEGRAM_API_ID/HASH, a "
    "logged-in TK_HOME and TK_TELEGRAM_CHANNEL"
)


@pytest.mark.skipif(os.environ.get("TK_TELEGRAM_TESTS") != "1", reason=REAL_ACCOUNT)
def test_a_real_account_reads_a_channels_newest_post() -> None:
    channel = os.environ["TK_TELEGRAM_CHANNEL"]
    result = subprocess.run([script("tk"), "tg", "listen", "--once", channel],
                            capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == ExitStatus.OK, result.stderr
    assert all('"source":"telegram"' in line for line in result.stdout.splitlines())


def test_a_photo_is_downloaded_through_the_client_once_and_linked(tmp_path: Path) -> None:
    body = b"\xff\xd8\xff\xe0" + b"heatmap" * 40
    history = History([message(1780, "", media=photo())])
    history.photos = {5372981145618303877: body}
    written: list[TelegramMessage] = []
    with Store(tmp_path / "db") as store:
        follow = listener(store, written, ReadOnlyClient(history))
        follow.media = MediaStore(store, tmp_path, max_bytes=10_000)
        asyncio.run(follow.run(["SignalDesk"], once=True))
        edited = message(1780, "heatmap", media=photo(), edit_date=when("2026-11-19T05:00Z"))
        asyncio.run(follow.emit("signaldesk", [edited]))
        links = store.db.execute(
            "SELECT message_id, version, sha256 FROM tg_message_media ORDER BY version"
        )
        sha = hashlib.sha256(body).hexdigest()
        assert links.fetchall() == [(1780, 1, sha), (1780, 2, sha)]
    assert (written[0].image_path, written[0].image_sha256) == (f"media/{sha[:2]}/{sha}.jpg", sha)
    assert (tmp_path / written[0].image_path).read_bytes() == body
    assert history.calls.count(("download_media", 1780)) == 1
