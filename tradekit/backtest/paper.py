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
from tradekit.exchange.model import AccountState
from tradekit.exchange.paper import PaperExchange
from tradekit.market.candles import Candles
from tradekit.market.store import CandleStore


class HeldPaperExchange(PaperExchange):
    account_state: AccountState | None = None

    @contextmanager
    def session(self, *symbols: str) -> Iterator[Engine]:
        _now, now_ms = self._now()
        if self.account_state is None:
            self.account_state = AccountState(balance=self.starting_balance)
        engine = Engine(self.markets, self.account_state, slippage=self.slippage)
        held = {symbol for symbol, _side in engine.state.positions}
        held |= {order.symbol for order in engine.state.orders.values() if order.open}
        for symbol in sorted(held | set(symbols)):
            self._advance(engine, symbol, now_ms)
        yield engine
        self.account_state = engine.state

    def save(self) -> None:
        if self.account_state is None:
            return
        with self.store.paper_account(self.account, self.clock.now()) as slot:
            slot.replace(state_json.dump(self.account_state))


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
