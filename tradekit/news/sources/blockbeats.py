"""The seed's newsflash page (theblockbeats.info/newsflash), seed000-spec §3: every anchor
to /flash/<id> whose text starts "HH:MM title" is an item, dated by the last YYYY-MM-DD in
the 20,000 characters before it, its time in the page's time zone (configured, not
assumed)."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from tradekit.news.model import Fetched, Item, SourceError
from tradekit.news.settings import SourceSettings
from tradekit.news.sources.http import get

ANCHOR = re.compile(r'<a\b[^>]*href="(/flash/(\d+))"[^>]*>(.*?)</a>', re.S | re.I)
TAG = re.compile(r"<[^>]+>")
HEADLINE = re.compile(r"^(\d{1,2}):(\d{2})\s*(.+)$", re.S)
DATE = re.compile(r"20\d\d-\d\d-\d\d")
LOOKBACK = 20_000


def fetch_newsflash(source: SourceSettings, _environ: Mapping[str, str]) -> Fetched:
    page = get(source.url, timeout=source.timeout_seconds).decode("utf-8", "replace")
    return parse_newsflash(page, source.name, source.url, ZoneInfo(source.time_zone))


def parse_newsflash(page: str, name: str, base_url: str, zone: ZoneInfo) -> Fetched:
    out = Fetched()
    anchors = 0
    for match in ANCHOR.finditer(page):
        href, flash_id, inner = match.groups()
        text = " ".join(html.unescape(TAG.sub(" ", inner)).split())
        headline = HEADLINE.match(text)
        if headline is None:
            continue  # a link to a flash that is not a headline (a "more" button, ...)
        anchors += 1
        hour, minute, title = int(headline[1]), int(headline[2]), headline[3].strip()
        dates = DATE.findall(page, max(0, match.start() - LOOKBACK), match.start())
        if not dates:
            out.problems.append(f"flash {flash_id} {title[:60]!r}: no date before it; skipped")
            continue
        try:
            local = datetime.fromisoformat(dates[-1]).replace(hour=hour, minute=minute, tzinfo=zone)
        except ValueError as exc:
            out.problems.append(f"flash {flash_id}: bad date or time ({exc}); skipped")
            continue
        out.items.append(
            Item(
                id=f"{name}:{flash_id}",
                source=name,
                title=title,
                published_ms=int(local.timestamp() * 1000),
                url=urljoin(base_url, href),
            )
        )
    if anchors == 0:
        raise SourceError(
            "no newsflash items found (no /flash/<id> link reading 'HH:MM title'): "
            "the page layout may have changed"
        )
    return out
