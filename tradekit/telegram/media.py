"""Photos of posts: downloaded once (a size cap, the fetcher's retries), stored under
TK_HOME/media/<sha[:2]>/<sha>.<ext>, deduplicated by sha256 in SQLite and linked to the
message version that showed them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

from tradekit.records import TelegramMessage
from tradekit.store import Store
from tradekit.telegram.sources.http import Fetcher

#: the first bytes of each image format we keep, and its file extension
MAGIC = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif"))
KNOWN_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "gif", "webp"})


def extension(body: bytes, url: str) -> str:
    for magic, ext in MAGIC:
        if body.startswith(magic):
            return ext
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "webp"
    suffix = Path(urlsplit(url).path).suffix.lower().lstrip(".")
    return suffix if suffix in KNOWN_EXTENSIONS else "bin"


class MediaStore:
    def __init__(self, store: Store, home: Path, fetcher: Fetcher | None = None, *, max_bytes: int):
        self.store, self.home, self.fetcher, self.max_bytes = store, home, fetcher, max_bytes

    def attach(self, record: TelegramMessage, now_ms: int) -> TelegramMessage:
        """The record with its photo (fetched from its URL) linked; raises what the fetcher
        raises."""
        if record.image_url is None or record.event == "delete" or self.fetcher is None:
            return record
        sha = self._known(record.image_url)
        if sha is None:
            body = self.fetcher.get(record.image_url, max_bytes=self.max_bytes)
            sha = self._keep(body, record.image_url, now_ms)
        return self._link(record, sha)

    def attach_bytes(
        self, record: TelegramMessage, body: bytes, key: str, now_ms: int
    ) -> TelegramMessage:
        """The record with a photo already downloaded (the account source); `key` names it
        (there is no URL)."""
        if len(body) > self.max_bytes:
            raise ValueError(f"{len(body)} bytes, more than the cap of {self.max_bytes}")
        return self._link(record, self._keep(body, key, now_ms))

    def link_known(self, record: TelegramMessage, key: str) -> TelegramMessage | None:
        """The record with the photo stored under `key` before, or None if there is none."""
        sha = self._known(key)
        return None if sha is None else self._link(record, sha)

    def _link(self, record: TelegramMessage, sha: str) -> TelegramMessage:
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO tg_message_media (channel, message_id, version, sha256) "
                "VALUES (?, ?, ?, ?)",
                (record.channel, record.message_id, record.version, sha),
            )
        path = self.store.db.execute("SELECT path FROM tg_media WHERE sha256=?", (sha,)).fetchone()
        return record.model_copy(update={"image_path": path[0], "image_sha256": sha})

    def _known(self, url: str) -> str | None:
        row = self.store.db.execute(
            "SELECT sha256, path FROM tg_media WHERE url=? ORDER BY fetched_ms DESC LIMIT 1",
            (url,),
        ).fetchone()
        return row[0] if row is not None and (self.home / row[1]).is_file() else None

    def _keep(self, body: bytes, url: str, now_ms: int) -> str:
        sha = hashlib.sha256(body).hexdigest()
        relative = Path("media") / sha[:2] / f"{sha}.{extension(body, url)}"
        target = self.home / relative
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(target.suffix + f".{os.getpid()}.part")
            partial.write_bytes(body)
            partial.replace(target)  # never a half-written photo under its final name
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO tg_media (sha256, path, bytes, url, fetched_ms) VALUES "
                "(?, ?, ?, ?, ?) ON CONFLICT(sha256) DO UPDATE SET url=excluded.url, "
                "fetched_ms=excluded.fetched_ms",
                (sha, str(relative), len(body), url, now_ms),
            )
        return sha
