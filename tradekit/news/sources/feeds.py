"""RSS and Atom feeds, read by feedparser (which copes with the dialects and the broken
ones better than anything written here would)."""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Mapping
from typing import Any

from tradekit.news.model import Fetched, Item, SourceError
from tradekit.news.settings import SourceSettings
from tradekit.news.sources.http import get


def fetch_feed(source: SourceSettings, _environ: Mapping[str, str]) -> Fetched:
    return parse_feed(get(source.url, timeout=source.timeout_seconds), source.name)


def parse_feed(body: bytes, name: str) -> Fetched:
    import feedparser

    feed: Any = feedparser.parse(body)
    if not feed.entries:
        why = str(feed.get("bozo_exception") or "no entries") if feed.get("bozo") else "no entries"
        raise SourceError(f"not a usable RSS/Atom feed: {why[:200]}")
    out = Fetched()
    if feed.get("bozo"):
        out.problems.append(f"the feed is not well-formed ({feed.bozo_exception}); read anyway")
    for n, entry in enumerate(feed.entries, 1):
        title = " ".join(str(entry.get("title") or "").split())
        if not title:
            out.problems.append(f"entry {n}: no title; skipped")
            continue
        moment = entry.get("published_parsed") or entry.get("updated_parsed")
        if moment is None:
            out.problems.append(f"entry {n} {title[:60]!r}: no time; skipped")
            continue
        native = entry.get("id") or entry.get("link") or hashlib.sha1(title.encode()).hexdigest()
        out.items.append(
            Item(
                id=f"{name}:{native}",
                source=name,
                title=title,
                published_ms=calendar.timegm(moment) * 1000,
                url=entry.get("link"),
            )
        )
    return out
