"""News sources: each turns what it fetched into Items, collecting the problems it met.

fetch(settings, environ) -> Fetched      (raises SourceError when nothing can be read)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tradekit.news.model import Fetched
from tradekit.news.settings import SourceSettings


def fetch(source: SourceSettings, environ: Mapping[str, str]) -> Fetched:
    return _KINDS[source.kind]()(source, environ)


def _blockbeats() -> Callable[[SourceSettings, Mapping[str, str]], Fetched]:
    from tradekit.news.sources.blockbeats import fetch_newsflash

    return fetch_newsflash


def _rss() -> Callable[[SourceSettings, Mapping[str, str]], Fetched]:
    from tradekit.news.sources.feeds import fetch_feed

    return fetch_feed


def _json_api() -> Callable[[SourceSettings, Mapping[str, str]], Fetched]:
    from tradekit.news.sources.jsonapi import fetch_json_api

    return fetch_json_api


def _jsonl() -> Callable[[SourceSettings, Mapping[str, str]], Fetched]:
    from tradekit.news.sources.jsonl import read_jsonl

    return read_jsonl


_KINDS = {"blockbeats": _blockbeats, "rss": _rss, "json_api": _json_api, "jsonl": _jsonl}
