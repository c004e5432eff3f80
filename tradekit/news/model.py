"""A news item as the gate sees it, and what the rules make of it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Item:
    """One headline from one source. `id` is unique across sources (source:native id)."""

    id: str
    source: str
    title: str
    published_ms: int
    url: str | None = None


@dataclass(frozen=True)
class Scored:
    item: Item
    symbols: tuple[str, ...]
    tags: tuple[str, ...]
    score: int
    bullish: bool
    bearish: bool

    @property
    def direction(self) -> str:
        return "bearish" if self.bearish else "bullish" if self.bullish else "neutral"


@dataclass
class Fetched:
    """What one fetch of one source gave: the items, and every problem met on the way
    (an item without a time, a layout that changed); the rest are still used."""

    items: list[Item] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class SourceError(Exception):
    """A source could not be fetched or read at all."""
