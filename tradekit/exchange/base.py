"""The exchange interface of tk-risk, tk-exec and tk-guard, and the values it returns.
Two implementations: PaperAdapter (the matching engine in SQLite) and BitgetAdapter (ccxt)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

from tradekit.exchange.model import (
    MarginMode,
    MarketSpec,
    OrderSide,
    PositionMode,
    PositionSide,
    TriggerType,
)

OrderState = Literal["open", "closed", "canceled"]
StopKind = Literal["sl", "tp"]


@dataclass(frozen=True)
class OrderInfo:
    id: str
    client_oid: str
    symbol: str
    side: OrderSide
    state: OrderState
    size: Decimal
    filled: Decimal
    average: Decimal | None
    reduce_only: bool
    trigger_price: Decimal | None = None
    kind: Literal["order", "sl", "tp", "plan"] = "order"


@dataclass(frozen=True)
class PositionInfo:
    symbol: str
    side: PositionSide
    size: Decimal
    entry_price: Decimal
    leverage: int
    margin_mode: MarginMode
    liquidation_price: Decimal | None
    unrealized: Decimal


@dataclass(frozen=True)
class Ticker:
    last: Decimal
    mark: Decimal
    ts_ms: int


@dataclass(frozen=True)
class BalanceInfo:
    equity: Decimal
    available: Decimal


@dataclass(frozen=True)
class FillInfo:
    order_id: str
    symbol: str
    side: OrderSide
    price: Decimal
    size: Decimal
    fee: Decimal
    profit: Decimal
    ts: int


class Exchange(Protocol):
    name: str

    def market(self, symbol: str) -> MarketSpec: ...

    def last_price(self, symbol: str) -> tuple[Decimal, Decimal]:
        """(last, mark)."""
        ...

    def ticker(self, symbol: str) -> Ticker:
        """(last, mark) and when they were true: a price older than the guard allows is
        stale, and no exit is decided on it."""
        ...

    def balance(self) -> BalanceInfo: ...

    def positions(self, symbol: str | None = None) -> list[PositionInfo]: ...

    def configure(
        self, symbol: str, *, leverage: int, margin_mode: MarginMode, position_mode: PositionMode
    ) -> None: ...

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
        """A market order (or a limit one with `price`). In hedge mode `side` is the trade
        direction (buy opens a long or closes a short) and reduce_only marks a close.
        `stop_loss` is attached to the order (Bitget's preset) and put on the position by
        the exchange itself when the order fills."""
        ...

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
        """A stop-loss or take-profit resting on the exchange for a position (all of it
        when size is None), closed at market when the trigger is reached."""
        ...

    def order(
        self, symbol: str, *, order_id: str | None = None, client_oid: str | None = None
    ) -> OrderInfo | None: ...

    def stops(self, symbol: str) -> list[OrderInfo]:
        """The open stop-loss and take-profit orders."""
        ...

    def open_orders(self, symbol: str) -> list[OrderInfo]: ...

    def cancel(
        self,
        symbol: str,
        *,
        order_id: str | None = None,
        client_oid: str | None = None,
        stop: bool = False,
    ) -> None: ...

    def close_position(self, symbol: str, side: PositionSide | None = None) -> list[str]:
        """Flatten at market; returns the ids of the closing orders."""
        ...

    def fills(self, symbol: str, since_ms: int = 0) -> list[FillInfo]: ...
