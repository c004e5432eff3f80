"""The public web preview of a channel (https://t.me/s/CHANNEL), read with a real HTML
parser (selectolax, its lexbor engine): each `div.tgme_widget_message[data-post="CHANNEL/ID"]`
is one post. Older posts are behind the page's `before` cursor (ids are not contiguous)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tradekit.telegram.sources.post import LayoutChangedError, Post

BACKGROUND_URL = re.compile(r"""url\(['"]?([^'")]+)['"]?\)""")
TRAILING_ID = re.compile(r"/(\d+)/?$")


@dataclass
class Page:
    posts: list[Post] = field(default_factory=list)
    #: the cursor to the posts older than these (`?before=ID`), if the page offers one
    before: int | None = None
    #: posts on the page that could not be read (the rest are kept)
    problems: list[str] = field(default_factory=list)


def parse_page(html: str, channel: str) -> Page:
    """Every post of one page, oldest first. A page with no post and no sign of being a
    channel page raises LayoutChangedError naming what was missing."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    page = Page(before=_before_cursor(tree))
    nodes = tree.css("div.tgme_widget_message[data-post]")
    for node in nodes:
        try:
            page.posts.append(_post(node))
        except ValueError as exc:
            page.problems.append(f"post {node.attributes.get('data-post')}: {exc}; skipped")
    if not nodes:
        if tree.css_first("section.tgme_channel_history") is None:
            raise LayoutChangedError(
                f"{channel}: no div.tgme_widget_message[data-post] and no "
                "section.tgme_channel_history: the page layout may have changed"
            )
        if tree.css_first(".tgme_channel_info") is None:
            raise LayoutChangedError(f"{channel}: an empty history and no channel info")
    if nodes and not page.posts:
        raise LayoutChangedError(f"{channel}: no post could be read: {page.problems[0]}")
    page.posts.sort(key=lambda post: post.message_id)
    return page


def _before_cursor(tree: Any) -> int | None:
    more = tree.css_first("a.tme_messages_more[data-before]")
    value = more.attributes.get("data-before") if more is not None else None
    return int(value) if value and value.isdigit() else None


def _post(node: Any) -> Post:
    _, _, number = (node.attributes.get("data-post") or "").rpartition("/")
    if not number.isdigit():
        raise ValueError("data-post has no numeric message id")
    when = node.css_first(".tgme_widget_message_date time[datetime]")
    if when is None:
        raise ValueError("no time[datetime] in .tgme_widget_message_date")
    meta = node.css_first(".tgme_widget_message_meta")
    return Post(
        message_id=int(number),
        date=datetime.fromisoformat(when.attributes["datetime"] or ""),
        text=_text(node.css_first(".tgme_widget_message_text.js-message_text")),
        image_url=_photo(node),
        reply_to=_reply_to(node),
        edited=meta is not None and "edited" in meta.text(),
        forwarded_from=_forwarded_from(node),
    )


def _text(node: Any) -> str:
    if node is None:
        return ""
    for br in node.css("br"):
        br.replace_with("\n")
    return node.text(deep=True).strip()


def _photo(node: Any) -> str | None:
    wrap = node.css_first(".tgme_widget_message_photo_wrap")
    if wrap is None:
        return None
    found = BACKGROUND_URL.search(wrap.attributes.get("style") or "")
    if found:
        return found[1]
    image = wrap.css_first("img[src]")
    return image.attributes.get("src") if image is not None else None


def _reply_to(node: Any) -> int | None:
    reply = node.css_first("a.tgme_widget_message_reply[href]")
    found = TRAILING_ID.search(reply.attributes.get("href") or "") if reply is not None else None
    return int(found[1]) if found else None


def _forwarded_from(node: Any) -> str | None:
    name = node.css_first(".tgme_widget_message_forwarded_from_name")
    if name is None:
        name = node.css_first(".tgme_widget_message_forwarded_from")
        return name.text().removeprefix("Forwarded from").strip() or None if name else None
    return name.text().strip() or None
