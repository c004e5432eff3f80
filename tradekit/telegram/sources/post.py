"""One channel post as a source saw it, before the follower versions it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime


class LayoutChangedError(Exception):
    """A page was fetched but does not read as a channel page: never a silent zero posts."""


@dataclass(frozen=True)
class Post:
    message_id: int
    date: datetime
    text: str
    image_url: str | None = None
    reply_to: int | None = None
    edited: bool = False
    forwarded_from: str | None = None
    #: the account source's photo (no URL there; downloaded through the client)
    photo_id: int | None = None

    def content_hash(self) -> str:
        """What an edit changes: the text, whether there is a photo, what it replies to. The
        date, the edited flag and the photo's URL (a CDN's, which the account source does not
        have) are left out, so the same post from either source hashes the same."""
        photo = self.image_url is not None or self.photo_id is not None
        parts = (self.text, "photo" if photo else "", str(self.reply_to or ""))
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
