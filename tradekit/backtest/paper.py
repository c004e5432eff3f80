"""The paper exchange of a backtest: the same engine and price replay, with the account
held in memory between calls instead of read from and written to SQLite whole on every
one (which costs O(history) per call). One process owns it, so nothing else could see it;
`save` writes it to the store once, in the format cron's runs leave there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradekit.cli.base import Session
from tradekit.exchange import state as state_json
from tradekit.exchange.engine import Engine
from tradekit.exchange.model import AccountState, Order
from tradekit.exchange.paper import PaperExchange
from tradekit.market.candles import Candles
from tradekit.market.store import CandleStore


class ArchivingEngine(Engine):
    """The engine, with the orders that are done kept aside: every scan of the engine
    looks only at open orders, and walking thousands of finished ones on every call made
    a long backtest quadratic. Lookups by id or clientOid still find them."""

    def __init__(
        self, *args: Any, archive: dict[str, Order], by_oid: dict[str, str], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.archive, self.by_oid = archive, by_oid
        for order_id in [i for i, o in self.state.orders.items() if not o.open]:
            order = archive[order_id] = self.state.orders.pop(order_id)
            by_oid[order.client_oid] = order_id

    def find(self, order_id: str | None = None, client_oid: str | None = None) -> Order | None:
        found = super().find(order_id, client_oid)
        if found is not None:
            return found
        if order_id:
            return self.archive.get(order_id)
        return self.archive.get(self.by_oid.get(client_oid or "", ""))


class HeldPaperExchange(PaperExchange):
    account_state: AccountState | None = None
    archive: dict[str, Order]
    by_oid: dict[str, str]

    @contextmanager
    def session(self, *symbols: str) -> Iterator[Engine]:
        _now, now_ms = self._now()
        if self.account_state is None:
            self.account_state = AccountState(balance=self.starting_balance)
            self.archive, self.by_oid = {}, {}
        engine = ArchivingEngine(
            self.markets,
            self.account_state,
            slippage=self.slippage,
            archive=self.archive,
            by_oid=self.by_oid,
        )
        held = {symbol for symbol, _side in engine.state.positions}
        held |= {order.symbol for order in engine.state.orders.values() if order.open}
        for symbol in sorted(held | set(symbols)):
            self._advance(engine, symbol, now_ms)
        yield engine
        self.account_state = engine.state

    def save(self) -> None:
        if self.account_state is None:
            return
        state = self.account_state
        every = {**self.archive, **state.orders}
        state.orders = {i: every[i] for i in sorted(every, key=lambda i: (len(i), i))}
        self.archive, self.by_oid = {}, {}
        with self.store.paper_account(self.account, self.clock.now()) as slot:
            slot.replace(state_json.dump(state))


@dataclass(frozen=True)
class SimSession(Session):
    """A Session whose paper exchange is the backtest's (tradekit.exchange.connect)."""

    held_paper: Any = None


class CachedCandles(CandleStore):
    """The candle store read once per series: a backtest asks for the same prices at
    every bar, and nothing writes them while it runs."""

    def __init__(self, root: Path):
        super().__init__(root)
        self._loaded: dict[tuple[str, str], Candles | None] = {}

    def load(self, symbol: str, timeframe: str) -> Candles | None:
        key = (symbol, timeframe)
        if key not in self._loaded:
            self._loaded[key] = super().load(symbol, timeframe)
        return self._loaded[key]
