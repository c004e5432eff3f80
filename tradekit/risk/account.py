"""What the risk rules know about the account, gathered once per run: equity and positions
from the exchange layer (or --equity offline), entries and closes from the ledger, the
kill switch, the peak equity. The rules themselves read only this value."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradekit.exchange.base import Ticker
from tradekit.exchange.model import MarketSpec
from tradekit.killswitch import KillState


@dataclass(frozen=True)
class Entry:
    symbol: str
    side: str
    ms: int


@dataclass(frozen=True)
class AccountSnapshot:
    mode: str
    equity: Decimal | None
    available: Decimal | None
    #: (symbol, side) of every open position
    positions: frozenset[tuple[str, str]]
    #: entries of this mode since the start of today (configured time zone)
    entries_today: tuple[Entry, ...]
    #: the latest entry per (symbol, side), any day
    last_entry: dict[tuple[str, str], int]
    realized_today: Decimal
    peak_equity: Decimal | None
    consecutive_stop_losses: int
    last_stop_loss_ms: int | None
    losses_in_a_row: int
    kill: KillState
    kill_source: str
    markets: Mapping[str, MarketSpec]
    #: the price of each symbol and when it was true
    tickers: Mapping[str, Ticker]
    #: an older price is stale: no new entry is sized on it (market.freshness)
    max_price_age_seconds: float
    atr: Callable[[str], Decimal | None] = field(default=lambda _symbol: None)
    #: what the rules make of the account for a symbol and side (risk.rules._facts), worked
    #: out once per symbol and side (a new snapshot, after an approval, starts empty)
    symbol_facts: dict[Any, Any] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )


class Lazy(Mapping[str, Any]):
    """A mapping filled on first use, per key (a price or a market fetched when a plan for
    that symbol arrives, once per run); a key whose fetch returns None is absent."""

    def __init__(self, fetch: Callable[[str], Any]):
        self._fetch = fetch
        self._cache: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        try:
            value = self._cache[key]
        except KeyError:
            value = self._cache[key] = self._fetch(key) if isinstance(key, str) else None
        return default if value is None else value

    def __getitem__(self, key: str) -> Any:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return (key for key, value in self._cache.items() if value is not None)

    def __len__(self) -> int:
        return sum(1 for value in self._cache.values() if value is not None)

    def __bool__(self) -> bool:
        return True  # there is a market list, even before anything was asked of it
