"""The exchange domain as immutable values: markets, orders, positions, fills. Prices and
sizes are Decimal; every value is rounded to the market's precision before it is used."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Literal

OrderSide = Literal["buy", "sell"]
PositionSide = Literal["long", "short"]
OrderType = Literal["market", "limit"]
#: normal: an ordinary order; plan: a conditional entry; pos_loss / pos_profit: a stop-loss /
#: take-profit attached to a position (Bitget's TPSL orders)
PlanType = Literal["normal", "plan", "pos_loss", "pos_profit"]
TriggerType = Literal["mark_price", "fill_price"]
OrderStatus = Literal["live", "partially_filled", "filled", "canceled", "rejected", "triggered"]
PositionMode = Literal["one_way_mode", "hedge_mode"]
MarginMode = Literal["isolated", "crossed"]

ZERO = Decimal(0)
#: the share of a position's value below which its margin may not fall (Bitget's first tier)
DEFAULT_MAINTENANCE_MARGIN = Decimal("0.004")


@dataclass(frozen=True)
class MarketSpec:
    symbol: str
    base: str
    price_tick: Decimal
    size_step: Decimal
    min_size: Decimal
    min_notional: Decimal
    max_leverage: int = 125
    taker_fee: Decimal = Decimal("0.0006")
    maker_fee: Decimal = Decimal("0.0002")
    maintenance_margin: Decimal = DEFAULT_MAINTENANCE_MARGIN

    def price(self, value: Decimal) -> Decimal:
        """Rounded to the tick (half up, as Bitget and ccxt do for prices)."""
        return (value / self.price_tick).quantize(Decimal(1), ROUND_HALF_UP) * self.price_tick

    def size(self, value: Decimal) -> Decimal:
        """Truncated to the size step (never more than asked for)."""
        return (value / self.size_step).quantize(Decimal(1), ROUND_DOWN) * self.size_step

    def on_tick(self, value: Decimal) -> bool:
        return value % self.price_tick == 0

    def on_step(self, value: Decimal) -> bool:
        return value % self.size_step == 0


@dataclass(frozen=True)
class Order:
    id: str
    client_oid: str
    symbol: str
    side: OrderSide
    type: OrderType
    size: Decimal
    position_side: PositionSide  # the position this order opens or closes
    reduce_only: bool
    created: int
    price: Decimal | None = None
    plan_type: PlanType = "normal"
    trigger_price: Decimal | None = None
    trigger_type: TriggerType = "mark_price"
    status: OrderStatus = "live"
    filled: Decimal = ZERO
    average: Decimal | None = None
    fee: Decimal = ZERO
    updated: int = 0
    #: a TPSL without a size closes the whole position when it fires
    whole_position: bool = False
    #: a conditional entry fires when the price rises to (True) or falls to (False) it
    trigger_above: bool | None = None
    #: stop-loss / take-profit to attach to the position when this entry fills (Bitget presets)
    preset_sl: Decimal | None = None
    preset_tp: Decimal | None = None

    @property
    def open(self) -> bool:
        return self.status in ("live", "partially_filled")

    @property
    def remaining(self) -> Decimal:
        return self.size - self.filled

    def with_(self, **changes: object) -> Order:
        return replace(self, **changes)


@dataclass(frozen=True)
class Position:
    symbol: str
    side: PositionSide
    size: Decimal
    entry_price: Decimal
    leverage: int
    margin_mode: MarginMode
    margin: Decimal
    opened: int
    realized: Decimal = ZERO

    def unrealized(self, mark: Decimal) -> Decimal:
        direction = 1 if self.side == "long" else -1
        return (mark - self.entry_price) * self.size * direction

    def liquidation_price(self, spec: MarketSpec) -> Decimal:
        per_unit = self.margin / self.size if self.size else ZERO
        return liquidation_price(self.side, self.entry_price, per_unit, spec.maintenance_margin)


def liquidation_price(
    side: str, entry: Decimal, margin_per_unit: Decimal, maintenance_margin: Decimal
) -> Decimal:
    """Isolated: the mark at which margin minus loss reaches the maintenance margin (the
    engine liquidates there; tk-risk and tk-exec keep stops inside it)."""
    mmr = maintenance_margin * entry
    if side == "long":
        return max(ZERO, entry - margin_per_unit + mmr)
    return entry + margin_per_unit - mmr


@dataclass(frozen=True)
class Fill:
    trade_id: str
    order_id: str
    client_oid: str
    symbol: str
    side: OrderSide
    trade_side: Literal["open", "close"]
    position_side: PositionSide
    price: Decimal
    size: Decimal
    fee: Decimal
    profit: Decimal
    ts: int
    maker: bool = False


@dataclass(frozen=True)
class Rejection:
    """Why the exchange refused a request: Bitget's code and message."""

    code: str
    message: str


@dataclass
class SymbolSettings:
    leverage: int = 10
    margin_mode: MarginMode = "isolated"


@dataclass
class Prices:
    last: Decimal
    mark: Decimal
    high: Decimal | None = None  # the range traded since the previous update, if known
    low: Decimal | None = None


@dataclass
class AccountState:
    """Everything the engine knows; serialised as a whole for the paper account."""

    balance: Decimal = Decimal(1000)
    position_mode: PositionMode = "one_way_mode"
    settings: dict[str, SymbolSettings] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    positions: dict[tuple[str, PositionSide], Position] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    prices: dict[str, Prices] = field(default_factory=dict)
    #: per symbol, the close time (ms) of the last bar replayed into the prices
    synced: dict[str, int] = field(default_factory=dict)
    next_id: int = 1
