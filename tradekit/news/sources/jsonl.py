"""A local file of news items, one JSON object per line: {"id", "title", "publishedAt"
(ISO 8601 with a zone, or epoch ms), "url"?} (the news_item record's fields)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from tradekit.news.model import Fetched, Item, SourceError
from tradekit.news.settings import SourceSettings
from tradekit.news.sources.jsonapi import parse_time


def read_jsonl(source: SourceSettings, _environ: Mapping[str, str]) -> Fetched:
    path = Path(source.url).expanduser()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SourceError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"cannot read {path.name}: not UTF-8 text ({exc.reason})") from None
    out = Fetched()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path.name}:{n}"
        try:
            raw = json.loads(line)
        except ValueError as exc:
            out.problems.append(f"{where}: invalid JSON: {exc}; skipped")
            continue
        if not isinstance(raw, dict):
            out.problems.append(f"{where}: not an object; skipped")
            continue
        title, native = " ".join(str(raw.get("title") or "").split()), raw.get("id")
        if not title or native is None:
            out.problems.append(f"{where}: no title or id; skipped")
            continue
        try:
            published = parse_time(raw.get("publishedAt", raw.get("published_at")))
        except ValueError as exc:
            out.problems.append(f"{where}: publishedAt: {exc}; skipped")
            continue
        url = raw.get("url")
        out.items.append(
            Item(
                f"{source.name}:{native}", source.name, title, published, str(url) if url else None
            )
        )
    return out
