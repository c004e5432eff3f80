"""`tk news fetch`: every enabled source into the cache, each source's outcome recorded
(its health is what the gate's failure policy reads)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tradekit.news.cache import NewsCache
from tradekit.news.model import Fetched, SourceError
from tradekit.news.settings import NewsSettings, SourceSettings
from tradekit.news.sources import fetch

#: items older than this are dropped from the cache at each fetch
KEEP_DAYS = 7


@dataclass
class SourceReport:
    name: str
    ok: bool
    items: int = 0
    new: int = 0
    error: str | None = None
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.name, "ok": self.ok, "items": self.items, "new": self.new,
            "error": self.error, "problems": self.problems,
        }  # fmt: skip


def fetch_all(
    settings: NewsSettings,
    cache: NewsCache,
    now_ms: int,
    environ: Mapping[str, str],
    *,
    only: set[str] | None = None,
    home: Path | None = None,
    fetcher: Callable[[SourceSettings, Mapping[str, str]], Fetched] = fetch,
) -> list[SourceReport]:
    """`home`: where relative jsonl paths start (TK_HOME)."""
    reports = []
    for configured in settings.sources:
        if not configured.enabled or (only and configured.name not in only):
            continue
        source = configured
        if source.kind == "jsonl" and home is not None:
            source = source.model_copy(update={"url": str(home / Path(source.url).expanduser())})
        token = environ.get(source.token_env or "", "").strip()
        try:
            fetched = fetcher(source, environ)
        except Exception as exc:  # one source never stops the others
            error = str(exc) if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
            if token:
                error = error.replace(token, "[redacted]")
            cache.record_fetch(source.name, now_ms, error=error)
            reports.append(SourceReport(source.name, ok=False, error=error))
            continue
        new = cache.add(fetched.items, now_ms)
        cache.record_fetch(source.name, now_ms, items=len(fetched.items))
        reports.append(
            SourceReport(source.name, True, len(fetched.items), new, problems=fetched.problems)
        )
    cache.prune(now_ms - KEEP_DAYS * 86_400_000)
    return reports
