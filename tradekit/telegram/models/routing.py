"""Which reader a post goes to (seed002 §5.4): the rules first; the vision model for an
image post (a photo, or text under 20 characters beside one); the text model (optional, off
by default) only when the rules gave an incomplete parse. An image post is never traded on
a rules fallback: if the vision model cannot read it, it is needs-manual."""

from __future__ import annotations

from typing import Literal

from tradekit.records import TelegramMessage

Route = Literal["rules", "vision", "text", "manual"]
SHORT_TEXT = 20


def is_image_post(record: TelegramMessage) -> bool:
    return record.image_url is not None or record.image_sha256 is not None


def route(
    record: TelegramMessage, *, rules_complete: bool, vision_enabled: bool, text_enabled: bool
) -> Route:
    if is_image_post(record) and (len(record.text.strip()) < SHORT_TEXT or not rules_complete):
        return "vision" if vision_enabled else "manual"
    if rules_complete:
        return "rules"
    return "text" if text_enabled else "rules"
