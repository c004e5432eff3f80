"""A JSON news API: a list of items under `items_key` (a dotted path), each with an id, a
title, a URL and a time (ISO 8601, or epoch seconds or milliseconds). The token comes from
the environment variable `token_env`, sent as the query parameter `token_param` or else as
a Bearer header; it never appears in a message."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tradekit.news.model import Fetched, Item, SourceError
from tradekit.news.settings import SourceSettings
from tradekit.news.sources.http import get


def fetch_json_api(source: SourceSettings, environ: Mapping[str, str]) -> Fetched:
    url, headers = source.url, {"Accept": "application/json"}
    if source.token_env:
        token = environ.get(source.token_env, "").strip()
        if not token:
            raise SourceError(f"the environment variable {source.token_env} (its token) is not set")
        if source.token_param:
            url += ("&" if "?" in url else "?") + urlencode({source.token_param: token})
        else:
            headers["Authorization"] = f"Bearer {token}"
    return parse_json_api(get(url, timeout=source.timeout_seconds, headers=headers), source)


def parse_json_api(body: bytes, source: SourceSettings) -> Fetched:
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"the answer is not JSON: {exc}") from None
    for key in source.items_key.split("."):
        if not isinstance(data, dict) or key not in data:
            raise SourceError(f"no {source.items_key!r} list in the answer")
        data = data[key]
    if not isinstance(data, list):
        raise SourceError(f"{source.items_key!r} is not a list")
    out = Fetched()
    for n, raw in enumerate(data, 1):
        if not isinstance(raw, dict):
            out.problems.append(f"item {n}: not an object; skipped")
            continue
        title = " ".join(str(raw.get(source.title_field) or "").split())
        native = raw.get(source.id_field)
        if not title or native is None:
            out.problems.append(f"item {n}: no {source.title_field} or {source.id_field}; skipped")
            continue
        try:
            published = parse_time(raw.get(source.time_field))
        except ValueError as exc:
            out.problems.append(f"item {n} {title[:60]!r}: {source.time_field}: {exc}; skipped")
            continue
        url = raw.get(source.url_field)
        out.items.append(
            Item(
                f"{source.name}:{native}", source.name, title, published, str(url) if url else None
            )
        )
    return out


def parse_time(value: Any) -> int:
    """Epoch ms from ISO 8601 text (a zone is required) or epoch seconds/milliseconds."""
    if value is None or value == "":
        raise ValueError("no time")
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        if not EARLIEST_MS / 1000 <= value <= LATEST_MS:  # seconds or milliseconds
            raise ValueError(f"not a time: {str(value)[:40]!r}")
        return int(value if value > 1e11 else value * 1000)
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a time: {str(value)[:40]!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"no time zone in {value!r}")
    ms = int(moment.astimezone(UTC).timestamp() * 1000)
    if not EARLIEST_MS <= ms <= LATEST_MS:
        raise ValueError(f"not a time: {str(value)[:40]!r}")
    return ms


EARLIEST_MS = 946_684_800_000  # 2000-01-01: news from before is not news
LATEST_MS = 4_102_444_800_000  # 2100-01-01
