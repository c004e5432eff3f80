"""The gate: for one plan, the news and calendar events that concern it, and whether they
veto it. Built once per run from the cache (tk news fetch fills it), so each plan costs a
few comparisons.

- Direction-aware: bearish news blocks longs, bullish news blocks shorts (each switchable).
- An item counts for recency_minutes after it was published; items "published" after the
  run's time are not seen (replays at a fixed --now see only what existed then).
- consume = "once": an item that blocked a real cycle (not a dry-run, a plan present) is
  not used again; "window": it blocks every cycle inside its window.
- Failure policy: when a source's last good fetch is older than max_cache_age_minutes (or
  it never succeeded), or the calendar could not be read whole, "open" lets plans through
  and "closed" blocks new entries; the record's newsStatus says which happened and why (and
  names a source whose last fetch failed while its older items are still used).
- Only entries are gated: closes and other manage actions always pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tradekit.news.cache import NewsCache
from tradekit.news.calendar import Event, blocking
from tradekit.news.model import Scored
from tradekit.news.rules import Rules
from tradekit.news.settings import NewsSettings

#: items a little in the future (a source's clock ahead of ours) still count
CLOCK_SKEW_MS = 60_000
MAX_LISTED = 20


@dataclass
class GateVerdict:
    blocked: bool
    reasons: list[str]
    items: list[dict[str, Any]]
    events: list[dict[str, Any]]
    status: str
    consumed: list[tuple[str, str]] = field(default_factory=list)


class NewsGate:
    def __init__(
        self,
        settings: NewsSettings,
        cache: NewsCache,
        now_ms: int,
        *,
        events: list[Event] | None = None,
        calendar_problems: list[str] | None = None,
    ):
        self.settings = settings
        self.now_ms = now_ms
        self.zone = ZoneInfo(settings.display_time_zone)
        rules = Rules.from_settings(settings)
        since = now_ms - settings.recency_minutes * 60_000
        self.by_symbol: dict[str, list[Scored]] = {}
        #: (item id, symbol) used up (consume = "once"), from the cache and this run
        self.consumed: set[tuple[str, str]] = set()
        for item, consumed_for in cache.recent(since, now_ms + CLOCK_SKEW_MS):
            scored = rules.score(item)
            for symbol in scored.symbols:
                self.by_symbol.setdefault(symbol, []).append(scored)
            self.consumed |= {(item.id, symbol) for symbol in consumed_for}
        self.events = blocking(events or [], settings.calendar, now_ms)
        self.event_records = [
            {
                "time": _iso(e.at_ms), "event": e.name, "importance": e.importance,
                "country": e.country or None,
            }
            for e in self.events
        ]  # fmt: skip
        self.calendar_problems = list(calendar_problems or [])
        self.warnings: list[str] = []
        self.failure = self._failure(cache)

    def _failure(self, cache: NewsCache) -> str | None:
        """Why the news cannot be trusted now (None: it can)."""
        sources = [s for s in self.settings.sources if s.enabled]
        problems = []
        if self.calendar_problems:
            first = self.calendar_problems[0]
            more = len(self.calendar_problems) - 1
            problems.append(f"calendar: {first}" + (f" (and {more} more)" if more else ""))
        known = cache.sources()
        oldest_ok = self.now_ms - self.settings.max_cache_age_minutes * 60_000
        for source in sources:
            state = known.get(source.name)
            if state is None or state.last_ok_ms is None:
                why = f": {state.last_error}" if state and state.last_error else ""
                problems.append(f"{source.name} never fetched successfully{why}")
            elif state.last_ok_ms < oldest_ok:
                age = (self.now_ms - state.last_ok_ms) // 60_000
                why = f" (last error: {state.last_error})" if state.last_error else ""
                problems.append(f"{source.name} last fetched {age} min ago{why}")
            elif state.last_error:
                age = (self.now_ms - state.last_ok_ms) // 60_000
                self.warnings.append(
                    f"{source.name}: last fetch failed ({state.last_error}); its items of "
                    f"{age} min ago are used"
                )
        return "; ".join(problems) or None

    @property
    def status(self) -> str:
        if self.failure is not None:
            return f"fail-{self.settings.failure_policy}: {self.failure}"
        status = "ok" if self.settings.sources else "no sources configured"
        return "; ".join([status, *self.warnings])

    def judge(self, symbol: str, side: str, *, consume: bool) -> GateVerdict:
        settings = self.settings
        reasons: list[str] = []
        listed: list[dict[str, Any]] = []
        consumed: list[tuple[str, str]] = []
        symbol = symbol.upper()
        for scored in self.by_symbol.get(symbol, ()):
            item = scored.item
            used = (item.id, symbol) in self.consumed
            blocks = not (settings.consume == "once" and used) and (
                (side == "long" and scored.bearish and settings.block_longs_on_bearish)
                or (side == "short" and scored.bullish and settings.block_shorts_on_bullish)
            )
            if blocks:
                reasons.append(f"{self._hhmm(item.published_ms)} {item.title}")
                if settings.consume == "once" and consume:
                    consumed.append((item.id, symbol))
                    self.consumed.add((item.id, symbol))
            if len(listed) < MAX_LISTED:
                listed.append(_match(scored, blocks))
        for event in self.events:
            reasons.append(
                f"{self._hhmm(event.at_ms)} {event.name} ({event.importance}): no new entries "
                "around it"
            )
        if self.failure is not None and settings.failure_policy == "closed":
            reasons.append(f"news unavailable (fail-closed): {self.failure}")
        return GateVerdict(
            bool(reasons), reasons, listed, self.event_records, self.status, consumed
        )

    def _hhmm(self, ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, self.zone).strftime("%H:%M")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _match(scored: Scored, blocks: bool) -> dict[str, Any]:
    item = scored.item
    return {
        "title": item.title, "url": item.url, "time": _iso(item.published_ms),
        "source": item.source, "score": scored.score, "tags": list(scored.tags),
        "direction": scored.direction, "blocks": blocks,
    }  # fmt: skip
