"""The exchange interface (base.Exchange) over the paper engine and over ccxt's Bitget.

Both speak in trade directions: `side` is buy or sell, `reduce_only` marks a close. Bitget's
hedge mode names the *position* instead (closing a long is buy + close); the translation is
done here, once, for both.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from tradekit.exchange.base import (
    BalanceInfo,
    FillInfo,
    OrderInfo,
    PositionInfo,
    StopKind,
    Ticker,
)
from tradekit.exchange.engine import Engine
from tradekit.exchange.errors import (
    DUPLICATE_CODES,
    AuthError,
    DuplicateClientOid,
    ExchangeError,
    InsufficientFunds,
    NoPosition,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from tradekit.exchange.model import (
    MarginMode,
    MarketSpec,
    Order,
    OrderSide,
    PositionMode,
    PositionSide,
    Rejection,
    TriggerType,
)
from tradekit.exchange.paper import PaperExchange, price_time

T = TypeVar("T")
_INSUFFICIENT = {"40762", "43012", "40711", "40712", "40754"}


def _opposite(side: OrderSide) -> OrderSide:
    return "sell" if side == "buy" else "buy"


def _raise_rejection(rejection: Rejection) -> None:
    if rejection.code == "22002":
        raise NoPosition(rejection.message, rejection.code)
    if rejection.code in _INSUFFICIENT:
        raise InsufficientFunds(rejection.message, rejection.code)
    if rejection.code in DUPLICATE_CODES:
        raise DuplicateClientOid(f"{rejection.code}: {rejection.message}", rejection.code)
    raise Rejected(f"{rejection.code}: {rejection.message}", rejection.code)


# -- paper -------------------------------------------------------------------------------------


def _info(order: Order, hedge: bool) -> OrderInfo:
    side = order.side
    if hedge and order.reduce_only and order.plan_type == "normal":
        side = _opposite(order.side)  # Bitget's hedge close names the position
    state = {
        "live": "open",
        "partially_filled": "open",
        "filled": "closed",
        "triggered": "closed",
        "canceled": "canceled",
        "rejected": "canceled",
    }[order.status]
    kind = {"normal": "order", "plan": "plan", "pos_loss": "sl", "pos_profit": "tp"}[
        order.plan_type
    ]
    return OrderInfo(
        order.id,
        order.client_oid,
        order.symbol,
        side,
        state,  # type: ignore[arg-type]
        order.size,
        order.filled,
        order.average,
        order.reduce_only,
        order.trigger_price,
        kind,
    )  # type: ignore[arg-type]


class PaperAdapter:
    name = "paper"

    def __init__(self, paper: PaperExchange):
        self.paper = paper
        #: tests: the next order fills only this fraction (the emulator's partial_fill fault)
        self.next_fill_ratio = Decimal(1)

    def _with(self, symbol: str | None, action: Callable[[Engine, int], T]) -> T:
        now_ms = int(self.paper.clock.now().timestamp() * 1000)
        symbols = (symbol,) if symbol else ()
        with self.paper.session(*symbols) as engine:
            return action(engine, now_ms)

    def market(self, symbol: str) -> MarketSpec:
        try:
            return self.paper.markets[symbol]
        except KeyError:
            raise Rejected(f"{symbol or 'no symbol'} is not a paper market") from None

    def last_price(self, symbol: str) -> tuple[Decimal, Decimal]:
        self.market(symbol)  # an unknown symbol is refused as Bitget refuses it
        prices = self._with(symbol, lambda e, _n: e.state.prices[symbol])
        return prices.last, prices.mark

    def ticker(self, symbol: str) -> Ticker:
        """The last bar's close as last and mark; as fresh as the stored candles: `now` while
        the latest stored bar is the one that has just closed, its close time after that."""
        self.market(symbol)  # an unknown symbol is refused as Bitget refuses it

        def read(e: Engine, now: int) -> Ticker:
            prices = e.state.prices[symbol]
            return Ticker(prices.last, prices.mark, price_time(e, self.paper.candles, symbol, now))

        return self._with(symbol, read)

    def balance(self) -> BalanceInfo:
        return self._with(None, lambda e, _n: BalanceInfo(e.equity(), e.available()))

    def positions(self, symbol: str | None = None) -> list[PositionInfo]:
        def read(e: Engine, _now: int) -> list[PositionInfo]:
            out = []
            for p in e.state.positions.values():
                if symbol in (None, p.symbol):
                    mark = e.state.prices[p.symbol].mark
                    liq = e.markets[p.symbol].price(p.liquidation_price(e.markets[p.symbol]))
                    out.append(
                        PositionInfo(
                            p.symbol,
                            p.side,
                            p.size,
                            p.entry_price,
                            p.leverage,
                            p.margin_mode,
                            liq,
                            p.unrealized(mark),
                        )
                    )
            return out

        return self._with(symbol, read)

    def configure(
        self, symbol: str, *, leverage: int, margin_mode: MarginMode, position_mode: PositionMode
    ) -> None:
        def apply(e: Engine, _now: int) -> None:
            for refused in (
                e.set_position_mode(position_mode),
                e.set_margin_mode(symbol, margin_mode),
                e.set_leverage(symbol, leverage),
            ):
                if refused:
                    _raise_rejection(refused)

        self._with(symbol, apply)

    def place(
        self,
        symbol: str,
        side: OrderSide,
        size: Decimal,
        *,
        client_oid: str,
        price: Decimal | None = None,
        reduce_only: bool = False,
        stop_loss: Decimal | None = None,
    ) -> OrderInfo:
        def act(e: Engine, now: int) -> OrderInfo:
            hedge = e.state.position_mode == "hedge_mode"
            kwargs: dict[str, Any] = {
                "type": "limit" if price is not None else "market",
                "price": price,
                "client_oid": client_oid,
                "preset_sl": stop_loss,
            }
            bitget_side = side
            if hedge:
                kwargs["trade_side"] = "close" if reduce_only else "open"
                if reduce_only:
                    bitget_side = _opposite(side)
            else:
                kwargs["reduce_only"] = reduce_only
            kwargs["fill_ratio"], self.next_fill_ratio = self.next_fill_ratio, Decimal(1)
            result = e.place(symbol, bitget_side, size, now, **kwargs)
            if isinstance(result, Rejection):
                _raise_rejection(result)
            return _info(result, hedge)  # type: ignore[arg-type]

        return self._with(symbol, act)

    def place_stop(
        self,
        symbol: str,
        position_side: PositionSide,
        kind: StopKind,
        trigger_price: Decimal,
        *,
        client_oid: str,
        size: Decimal | None = None,
        trigger_type: TriggerType = "mark_price",
    ) -> OrderInfo:
        def act(e: Engine, now: int) -> OrderInfo:
            held = e.state.positions.get((symbol, position_side))
            if held is None:
                raise NoPosition(f"no {position_side} {symbol} position to protect", "22002")
            result = e.place(
                symbol,
                "sell" if position_side == "long" else "buy",
                size if size is not None else held.size,
                now,
                plan_type="pos_loss" if kind == "sl" else "pos_profit",
                trigger_price=trigger_price,
                trigger_type=trigger_type,
                hold_side=position_side,
                client_oid=client_oid,
            )
            if isinstance(result, Rejection):
                _raise_rejection(result)
            return _info(result, False)  # type: ignore[arg-type]

        return self._with(symbol, act)

    def order(
        self, symbol: str, *, order_id: str | None = None, client_oid: str | None = None
    ) -> OrderInfo | None:
        def read(e: Engine, _now: int) -> OrderInfo | None:
            found = e.find(order_id, client_oid)
            if found is None or found.plan_type != "normal":
                return None
            return _info(found, e.state.position_mode == "hedge_mode")

        return self._with(symbol, read)

    def _orders(self, symbol: str, stops: bool) -> list[OrderInfo]:
        def read(e: Engine, _now: int) -> list[OrderInfo]:
            hedge = e.state.position_mode == "hedge_mode"
            return [
                _info(o, hedge)
                for o in e.state.orders.values()
                if o.open
                and o.symbol == symbol
                and (o.plan_type in ("pos_loss", "pos_profit")) == stops
                and o.plan_type != "plan"
            ]

        return self._with(symbol, read)

    def stops(self, symbol: str) -> list[OrderInfo]:
        return self._orders(symbol, True)

    def open_orders(self, symbol: str) -> list[OrderInfo]:
        return self._orders(symbol, False)

    def cancel(
        self,
        symbol: str,
        *,
        order_id: str | None = None,
        client_oid: str | None = None,
        stop: bool = False,
    ) -> None:
        def act(e: Engine, now: int) -> None:
            result = e.cancel(order_id, client_oid, now)
            if isinstance(result, Rejection):
                _raise_rejection(result)

        del stop
        self._with(symbol, act)

    def close_position(self, symbol: str, side: PositionSide | None = None) -> list[str]:
        def act(e: Engine, now: int) -> list[str]:
            result = e.close_position(symbol, now, side)
            if isinstance(result, Rejection):
                return [] if result.code == "22002" else _raise_rejection(result)  # type: ignore[func-returns-value]
            return [order.id for order in result]

        return self._with(symbol, act)

    def fills(self, symbol: str, since_ms: int = 0) -> list[FillInfo]:
        def read(e: Engine, _now: int) -> list[FillInfo]:
            return [  # the engine records trade directions already
                FillInfo(f.order_id, f.symbol, f.side, f.price, f.size, f.fee, f.profit, f.ts)
                for f in e.state.fills
                if f.symbol == symbol and f.ts >= since_ms
            ]

        return self._with(None, read)  # past fills need no price for `symbol`


# -- Bitget through ccxt -------------------------------------------------------------------------


def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class MarketCache:
    """ccxt's market list kept in the store for `max_age_ms`, so that a run every minute
    does not reload every contract (six requests) each time."""

    KEY = "bitget:markets"

    def __init__(self, store: Any, now_ms: Callable[[], int], max_age_ms: int = 3_600_000):
        self.store, self.now_ms, self.max_age_ms = store, now_ms, max_age_ms

    def load(self) -> list[dict[str, Any]] | None:
        import json

        text = self.store.cached(self.KEY, self.max_age_ms, self.now_ms())
        return None if text is None else json.loads(text)

    def save(self, markets: list[dict[str, Any]]) -> None:
        import json

        self.store.cache(self.KEY, json.dumps(markets, default=str), self.now_ms())


class BitgetAdapter:
    name = "bitget"
    READ_RETRIES = (0.2, 0.5)

    def __init__(
        self,
        exchange: Any,
        *,
        position_mode: PositionMode = "one_way_mode",
        sleep: Callable[[float], None] = time.sleep,
        market_cache: MarketCache | None = None,
    ):
        self.exchange = exchange
        self.position_mode: PositionMode = position_mode
        self._sleep = sleep
        self._cache = market_cache

    # errors

    def _translate(  # noqa: PLR0911 - one return per error class
        self, exc: Exception, what: str, *, write: bool, client_oid: str | None = None
    ) -> Exception:
        import ccxt

        text = f"{what}: {type(exc).__name__}: {str(exc)[:300]}"
        if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
            return RateLimited(text)
        if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied):
            return AuthError(text)
        if isinstance(exc, ccxt.InsufficientFunds):
            return InsufficientFunds(text)
        if isinstance(exc, ccxt.NetworkError):
            if write:
                return OutcomeUnknown(f"{text}; the request may have been acted on", client_oid)
            return TemporaryError(text)
        if isinstance(exc, ccxt.ExchangeError):
            if "22002" in str(exc):
                return NoPosition(text, "22002")
            for code in DUPLICATE_CODES:
                if code in str(exc):
                    return DuplicateClientOid(text, code)
            return Rejected(text)
        return exc

    def _read(self, what: str, call: Callable[[], T]) -> T:
        for attempt, delay in enumerate((*self.READ_RETRIES, None)):
            try:
                return call()
            except Exception as exc:
                error = self._translate(exc, what, write=False)
                if (
                    not isinstance(error, TemporaryError)
                    or isinstance(error, RateLimited)
                    or delay is None
                ):
                    raise error from None
                del attempt
                self._sleep(delay)
        raise AssertionError("unreachable")

    def _write(self, what: str, client_oid: str | None, call: Callable[[], T]) -> T:
        try:
            return call()
        except Exception as exc:
            raise self._translate(exc, what, write=True, client_oid=client_oid) from None

    # markets

    def _markets(self) -> dict[str, Any]:
        if self.exchange.markets:
            return self.exchange.markets
        if self._cache is not None:
            cached = self._cache.load()
            if cached is not None:
                self.exchange.set_markets(cached)
                return self.exchange.markets
        markets = self._read("loading markets", self.exchange.load_markets)
        if self._cache is not None:
            self._cache.save(list(markets.values()))
        return markets

    def pair(self, symbol: str) -> str:
        markets = self._markets()
        for market in markets.values():
            if market.get("id") == symbol and market.get("swap") and market.get("settle") == "USDT":
                return market["symbol"]
        raise Rejected(f"{symbol} is not a USDT-margined perpetual on Bitget")

    def market(self, symbol: str) -> MarketSpec:
        m = self.exchange.market(self.pair(symbol))
        return MarketSpec(
            symbol=symbol, base=m["base"],
            price_tick=Decimal(str(m["precision"]["price"])),
            size_step=Decimal(str(m["precision"]["amount"])),
            min_size=Decimal(str(m["limits"]["amount"]["min"] or m["precision"]["amount"])),
            min_notional=Decimal(str(m["limits"]["cost"]["min"] or 0)),
            max_leverage=int(m["limits"]["leverage"]["max"] or 125),
            taker_fee=Decimal(str(m.get("taker") or "0.0006")),
            maker_fee=Decimal(str(m.get("maker") or "0.0002")),
        )  # fmt: skip

    # reads

    def ticker(self, symbol: str) -> Ticker:
        raw = self._read("ticker", lambda: self.exchange.fetch_ticker(self.pair(symbol)))
        last, mark = self._prices(raw)
        return Ticker(last, mark, int(raw.get("timestamp") or time.time() * 1000))

    @staticmethod
    def _prices(ticker: dict[str, Any]) -> tuple[Decimal, Decimal]:
        last = Decimal(str(ticker["last"]))
        return last, _d(ticker.get("info", {}).get("markPrice")) or last

    def last_price(self, symbol: str) -> tuple[Decimal, Decimal]:
        return self._prices(
            self._read("ticker", lambda: self.exchange.fetch_ticker(self.pair(symbol)))
        )

    def balance(self) -> BalanceInfo:
        usdt = self._read("balance", self.exchange.fetch_balance).get("USDT", {})
        return BalanceInfo(
            Decimal(str(usdt.get("total") or 0)), Decimal(str(usdt.get("free") or 0))
        )

    def positions(self, symbol: str | None = None) -> list[PositionInfo]:
        pairs = [self.pair(symbol)] if symbol else None
        rows = self._read("positions", lambda: self.exchange.fetch_positions(pairs))
        out = []
        for row in rows:
            if not row.get("contracts"):
                continue
            info = row.get("info", {})
            out.append(PositionInfo(
                symbol=info.get("symbol") or row["symbol"], side=row["side"],
                size=Decimal(str(info.get("total") or row["contracts"])),
                entry_price=Decimal(str(info.get("openPriceAvg") or row["entryPrice"])),
                leverage=int(Decimal(str(row.get("leverage") or 1))),
                margin_mode=info.get("marginMode", row.get("marginMode") or "isolated"),
                liquidation_price=_d(info.get("liquidationPrice")),
                unrealized=Decimal(str(info.get("unrealizedPL") or 0)),
            ))  # fmt: skip
        return out

    def _order(self, raw: dict[str, Any], kind: str = "order") -> OrderInfo:
        info = raw.get("info", {})
        symbol = info.get("symbol") or raw["symbol"]
        state = {"open": "open", "closed": "closed"}.get(raw.get("status") or "", "canceled")
        return OrderInfo(
            id=str(raw["id"]), client_oid=str(raw.get("clientOrderId") or info.get("clientOid")),
            symbol=symbol, side=raw["side"], state=state,  # type: ignore[arg-type]
            size=Decimal(str(info.get("size") or raw.get("amount") or 0)),
            filled=Decimal(str(info.get("baseVolume") or raw.get("filled") or 0)),
            average=_d(info.get("priceAvg") or None),
            reduce_only=str(info.get("reduceOnly", "NO")).upper() == "YES"
            or bool(raw.get("reduceOnly")),
            trigger_price=_d(info.get("triggerPrice") or None), kind=kind,  # type: ignore[arg-type]
        )  # fmt: skip

    def order(
        self, symbol: str, *, order_id: str | None = None, client_oid: str | None = None
    ) -> OrderInfo | None:
        import ccxt

        pair = self.pair(symbol)
        params = {"clientOrderId": client_oid} if client_oid and not order_id else {}

        def fetch() -> dict[str, Any] | None:
            try:
                return self.exchange.fetch_order(order_id, pair, params)
            except ccxt.OrderNotFound:  # only this means "no such order": not any refusal
                return None

        raw = self._read("order", fetch)
        return None if raw is None else self._order(raw)

    def stops(self, symbol: str) -> list[OrderInfo]:
        pair = self.pair(symbol)
        rows = self._read(
            "stops",
            lambda: self.exchange.fetch_open_orders(pair, params={"planType": "profit_loss"}),
        )
        kinds = {"pos_loss": "sl", "pos_profit": "tp"}
        return [self._order(r, kinds.get(r.get("info", {}).get("planType"), "sl")) for r in rows]

    def open_orders(self, symbol: str) -> list[OrderInfo]:
        pair = self.pair(symbol)
        return [
            self._order(r)
            for r in self._read("open orders", lambda: self.exchange.fetch_open_orders(pair))
        ]

    def fills(self, symbol: str, since_ms: int = 0) -> list[FillInfo]:
        pair = self.pair(symbol)
        rows = self._read("fills", lambda: self.exchange.fetch_my_trades(pair, since_ms or None))
        out = []
        for t in rows:
            info = t.get("info", {})
            side = t["side"]
            if info.get("posMode") == "hedge_mode" and info.get("tradeSide") == "close":
                side = _opposite(side)  # Bitget names the position; we report the trade
            out.append(FillInfo(
                order_id=str(t.get("order")), symbol=info.get("symbol", symbol), side=side,
                price=Decimal(str(info.get("price") or t["price"])),
                size=Decimal(str(info.get("baseVolume") or t["amount"])),
                fee=Decimal(str((t.get("fee") or {}).get("cost") or 0)),
                profit=Decimal(str(info.get("profit") or 0)), ts=int(t["timestamp"] or 0),
            ))  # fmt: skip
        return out

    # writes

    def configure(
        self, symbol: str, *, leverage: int, margin_mode: MarginMode, position_mode: PositionMode
    ) -> None:
        pair = self.pair(symbol)
        ex = self.exchange
        self._write(
            "position mode", None, lambda: ex.set_position_mode(position_mode == "hedge_mode", pair)
        )
        self._write("margin mode", None, lambda: ex.set_margin_mode(margin_mode, pair))
        self._write("leverage", None, lambda: ex.set_leverage(leverage, pair))
        self.position_mode = position_mode

    def _params(self, client_oid: str, reduce_only: bool) -> dict[str, Any]:
        params: dict[str, Any] = {"clientOrderId": client_oid}
        if self.position_mode == "hedge_mode":
            params["hedged"] = True
        if reduce_only:
            params["reduceOnly"] = True
        return params

    def check(
        self, symbol: str, size: Decimal, price: Decimal | None, reduce_only: bool
    ) -> MarketSpec:
        """Refuse here, before sending, what Bitget would refuse: sizes off the step or
        below the minimum, prices off the tick, an opening order under the minimum value."""
        spec = self.market(symbol)
        if size <= 0 or not spec.on_step(size):
            raise Rejected(f"size {size} is not a positive multiple of {spec.size_step}")
        if size < spec.min_size:
            raise Rejected(f"size {size} is below the minimum {spec.min_size} {spec.base}")
        if price is not None and (price <= 0 or not spec.on_tick(price)):
            raise Rejected(f"price {price} is not a positive multiple of {spec.price_tick}")
        if not reduce_only:
            reference = price if price is not None else self.last_price(symbol)[0]
            if size * reference < spec.min_notional:
                value = format((size * reference).normalize(), "f")
                minimum = format(spec.min_notional.normalize(), "f")
                raise Rejected(f"order value {value} USDT is below the minimum {minimum} USDT")
        return spec

    def place(
        self,
        symbol: str,
        side: OrderSide,
        size: Decimal,
        *,
        client_oid: str,
        price: Decimal | None = None,
        reduce_only: bool = False,
        stop_loss: Decimal | None = None,
    ) -> OrderInfo:
        spec = self.check(symbol, size, price, reduce_only)
        if stop_loss is not None and (stop_loss <= 0 or not spec.on_tick(stop_loss)):
            raise Rejected(f"stop-loss {stop_loss} is not a positive multiple of {spec.price_tick}")
        pair = self.pair(symbol)
        kind = "limit" if price is not None else "market"
        params = self._params(client_oid, reduce_only)
        if stop_loss is not None:  # Bitget's preset: armed on the position when it fills
            params["stopLoss"] = {"triggerPrice": float(stop_loss)}
        placed = self._write(
            "place order",
            client_oid,
            lambda: self.exchange.create_order(
                pair,
                kind,
                side,
                float(size),
                None if price is None else float(price),
                params,
            ),
        )
        if not placed.get("id"):
            raise OutcomeUnknown("place order: an empty answer", client_oid)
        try:
            found = self.order(symbol, order_id=str(placed["id"]))
        except ExchangeError as exc:  # it was accepted: its state is what is unknown
            raise OutcomeUnknown(f"place order: accepted, then {exc}", client_oid) from None
        if found is None:
            raise OutcomeUnknown("place order: accepted but not found", client_oid)
        return found

    def place_stop(
        self,
        symbol: str,
        position_side: PositionSide,
        kind: StopKind,
        trigger_price: Decimal,
        *,
        client_oid: str,
        size: Decimal | None = None,
        trigger_type: TriggerType = "mark_price",
    ) -> OrderInfo:
        pair = self.pair(symbol)
        if size is None:
            held = [p for p in self.positions(symbol) if p.side == position_side]
            if not held:
                raise NoPosition(f"no {position_side} {symbol} position to protect", "22002")
            size = held[0].size
        spec = self.check(symbol, size, None, True)
        if trigger_price <= 0 or not spec.on_tick(trigger_price):
            raise Rejected(
                f"trigger {trigger_price} is not a positive multiple of {spec.price_tick}"
            )
        params = self._params(client_oid, False)
        params["stopLossPrice" if kind == "sl" else "takeProfitPrice"] = float(trigger_price)
        params["triggerType"] = trigger_type
        side: OrderSide = "sell" if position_side == "long" else "buy"
        placed = self._write(
            "place stop",
            client_oid,
            lambda: self.exchange.create_order(pair, "market", side, float(size), None, params),
        )
        for stop in self.stops(symbol):
            if stop.id == str(placed.get("id")):
                return stop
        raise OutcomeUnknown("place stop: accepted but not listed", client_oid)

    def cancel(
        self,
        symbol: str,
        *,
        order_id: str | None = None,
        client_oid: str | None = None,
        stop: bool = False,
    ) -> None:
        pair = self.pair(symbol)
        params: dict[str, Any] = (
            {"clientOrderId": client_oid} if client_oid and not order_id else {}
        )
        if stop:
            params.update(trigger=True, planType="profit_loss")
        self._write(
            "cancel", client_oid, lambda: self.exchange.cancel_order(order_id, pair, params)
        )

    def close_position(self, symbol: str, side: PositionSide | None = None) -> list[str]:
        pair = self.pair(symbol)
        try:
            result = self._write(
                "close position", None, lambda: self.exchange.close_position(pair, side)
            )
        except NoPosition:
            return []
        ids = (
            [str(item["orderId"]) for item in result.get("info", {}).get("successList", [])]
            if isinstance(result.get("info"), dict)
            else []
        )
        return ids or ([str(result["id"])] if result.get("id") else [])
