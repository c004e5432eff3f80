"""The paper exchange: the matching engine with its account kept in the SQLite store and
prices taken from the local candle store, so consecutive cron runs continue one account.

Every operation runs in one write transaction: load the account, bring prices up to `now`
(replaying each closed bar since the last update, so stops and limits see the path: its
high and low, not just the close), act, save. Two runs at once are serialised by SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

from tradekit.clock import Clock
from tradekit.errors import BadInputError, UsageError
from tradekit.exchange import state as state_json
from tradekit.exchange.engine import Engine
from tradekit.exchange.markets import DEFAULT_MARKETS
from tradekit.exchange.model import AccountState, MarketSpec, Prices
from tradekit.market.candles import Candles
from tradekit.market.freshness import bar_price_ms
from tradekit.market.store import CandleStore
from tradekit.store import Store

ACCOUNT = "default"
#: the finest stored timeframe is used for prices; these are tried in order
PRICE_TIMEFRAMES = ("1m", "5m", "15m", "1h", "4h", "1d")


def price_series(candles: CandleStore, symbol: str) -> Candles:
    """The finest stored timeframe of a symbol: the paper prices' source."""
    for timeframe in PRICE_TIMEFRAMES:
        series = candles.load(symbol, timeframe)
        if series is not None and len(series):
            return series
    raise UsageError(
        f"no {symbol} candles in {candles.root} for paper prices: `tk data import` some"
    )


def price_time(engine: Engine, candles: CandleStore, symbol: str, now_ms: int) -> int:
    """When the engine's price of `symbol` was true (market.freshness.bar_price_ms over the
    last bar replayed); a price set by hand, with no bars stored, as of when it was set."""
    synced = engine.state.synced.get(symbol, 0)
    try:
        step = price_series(candles, symbol).step
    except UsageError:
        return synced
    return bar_price_ms(synced, step, now_ms)


def advance_prices(engine: Engine, candles: CandleStore, symbol: str, now_ms: int) -> None:
    """Replay every bar closed since the engine's last update, in order (close as last and
    mark, high and low as the range traded); a new account starts at the latest close."""
    series = price_series(candles, symbol).closed_at(now_ms)
    if len(series) == 0:
        raise UsageError(f"no {symbol} bar closed before now in {candles.root}")
    synced = engine.state.synced.get(symbol)
    if synced is not None and now_ms < synced:
        raise UsageError(
            f"the paper account's {symbol} prices are already at "
            f"{datetime.fromtimestamp(synced / 1000, UTC):%Y-%m-%dT%H:%MZ}; a run at an "
            "earlier time would trade in its future (`tk paper reset` to start over)"
        )
    rows = series.rows[-1:] if synced is None else series.rows[series.ts + series.step > synced]
    step = series.step
    for row in rows.tolist():
        ts, _open, high, low, close = row[:5]
        prices = Prices(
            Decimal(repr(close)),
            Decimal(repr(close)),
            high=Decimal(repr(high)),
            low=Decimal(repr(low)),
        )
        engine.update_price(symbol, prices, int(ts) + step)
        engine.state.synced[symbol] = int(ts) + step


class PaperExchange:
    def __init__(
        self,
        store: Store,
        candles: CandleStore,
        clock: Clock,
        *,
        markets: dict[str, MarketSpec] | None = None,
        slippage: Decimal = Decimal("0.0003"),
        starting_balance: Decimal = Decimal(1000),
        account: str = ACCOUNT,
    ):
        self.store, self.candles, self.clock = store, candles, clock
        self.markets = markets or DEFAULT_MARKETS
        self.slippage = slippage
        self.starting_balance = starting_balance
        self.account = account

    def _now(self) -> tuple[datetime, int]:
        now = self.clock.now()
        return now, int(now.timestamp() * 1000)

    @contextmanager
    def session(self, *symbols: str) -> Iterator[Engine]:
        """The engine with prices for `symbols` (and every symbol held) brought up to now."""
        now, now_ms = self._now()
        with self.store.paper_account(self.account, now) as slot:
            if slot.data is None:
                account = AccountState(balance=self.starting_balance)
            else:
                try:
                    account = state_json.load(slot.data)
                except (KeyError, TypeError, ValueError) as exc:
                    raise BadInputError(
                        f"the paper account in {self.store.path} is unreadable ({exc}); "
                        "`tk paper reset` starts a new one"
                    ) from None
            engine = Engine(self.markets, account, slippage=self.slippage)
            held = {symbol for symbol, _side in account.positions}
            held |= {order.symbol for order in account.orders.values() if order.open}
            for symbol in sorted(held | set(symbols)):
                self._advance(engine, symbol, now_ms)
            yield engine
            slot.replace(state_json.dump(engine.state))

    def _advance(self, engine: Engine, symbol: str, now_ms: int) -> None:
        if symbol not in self.markets:
            raise UsageError(f"{symbol} is not a market of the paper exchange")
        advance_prices(engine, self.candles, symbol, now_ms)

    def reset(self, balance: Decimal) -> None:
        now, _ = self._now()
        with self.store.paper_account(self.account, now) as slot:
            slot.replace(state_json.dump(AccountState(balance=balance)))

    def deposit(self, amount: Decimal) -> Decimal:
        with self.session() as engine:
            engine.state.balance += amount
            return engine.state.balance
