"""The matching engine behind the paper exchange and the Bitget emulator.

Bitget's USDT-M semantics, simplified where it does not change what a trading system sees:
- one-way mode holds one net position per symbol (a buy reduces a short first); in hedge
  mode a long and a short can coexist, and an order says which one it opens or closes
  (Bitget: the side names the position, so closing a long is buy + close);
- market orders fill at the last price plus slippage, as taker; limit orders that cross fill
  at once, the others rest and fill at their price when the market trades through it, as
  maker; a partial-fill ratio leaves the rest to fill on the next price update;
- trigger orders (conditional entries, and stop-loss / take-profit orders on a position)
  fire when the mark (or last) price reaches the trigger and then fill like market orders;
  a position's stop-loss and take-profit orders go away with the position;
- margin is notional / leverage, fees are charged on the notional, isolated positions are
  liquidated when the mark reaches their liquidation price.
The engine is pure: no I/O, no clock of its own; `now` is passed in (epoch ms).
"""

from __future__ import annotations

from decimal import Decimal

from tradekit.exchange.model import (
    ZERO,
    AccountState,
    Fill,
    MarketSpec,
    Order,
    OrderSide,
    OrderType,
    PlanType,
    Position,
    PositionMode,
    PositionSide,
    Prices,
    Rejection,
    SymbolSettings,
    TriggerType,
)

INSUFFICIENT = Rejection("40762", "The order size is greater than the max open size")
NO_POSITION = Rejection("22002", "No position to close")
DUPLICATE = Rejection("40786", "Duplicate clientOid")
NOT_FOUND = Rejection("40768", "Order does not exist")
MODE_MISMATCH = Rejection(
    "40774", "The order type for unilateral position must also be the unilateral position type."
)


def _other(side: PositionSide) -> PositionSide:
    return "short" if side == "long" else "long"


class Engine:
    def __init__(
        self,
        markets: dict[str, MarketSpec],
        state: AccountState | None = None,
        *,
        slippage: Decimal = Decimal("0.0003"),
    ):
        self.markets = markets
        self.state = state or AccountState()
        self.slippage = slippage

    # -- settings ----------------------------------------------------------------------

    def spec(self, symbol: str) -> MarketSpec | Rejection:
        spec = self.markets.get(symbol)
        return spec if spec else Rejection("40034", f"Parameter {symbol} does not exist")

    def settings(self, symbol: str) -> SymbolSettings:
        return self.state.settings.setdefault(symbol, SymbolSettings())

    def set_leverage(self, symbol: str, leverage: int) -> Rejection | None:
        spec = self.spec(symbol)
        if isinstance(spec, Rejection):
            return spec
        if not 1 <= leverage <= spec.max_leverage:
            return Rejection("40797", f"Exceeded the maximum settable leverage {spec.max_leverage}")
        self.settings(symbol).leverage = leverage
        return None

    def set_margin_mode(self, symbol: str, mode: str) -> Rejection | None:
        if mode not in ("isolated", "crossed"):
            return Rejection("40020", f"Parameter marginMode {mode} error")
        if self._busy(symbol):
            return Rejection(
                "45117", "Currently holding positions or orders, cannot change margin mode"
            )
        self.settings(symbol).margin_mode = mode  # type: ignore[assignment]
        return None

    def set_position_mode(self, mode: PositionMode) -> Rejection | None:
        if mode not in ("one_way_mode", "hedge_mode"):
            return Rejection("40020", f"Parameter posMode {mode} error")
        if mode != self.state.position_mode and self._busy(None):
            return Rejection("40920", "Position or order exists, cannot switch position mode")
        self.state.position_mode = mode
        return None

    def _busy(self, symbol: str | None) -> bool:
        positions = any(symbol in (None, key[0]) for key in self.state.positions)
        orders = any(o.open and symbol in (None, o.symbol) for o in self.state.orders.values())
        return positions or orders

    # -- money -------------------------------------------------------------------------

    def used_margin(self) -> Decimal:
        held = sum((p.margin for p in self.state.positions.values()), ZERO)
        resting = sum(
            (
                o.remaining * (o.price or ZERO) / self.settings(o.symbol).leverage
                for o in self.state.orders.values()
                if o.open and not o.reduce_only and o.plan_type == "normal" and o.type == "limit"
            ),
            ZERO,
        )
        return held + resting

    def unrealized(self) -> Decimal:
        return sum(
            (p.unrealized(self._mark(p.symbol)) for p in self.state.positions.values()), ZERO
        )

    def equity(self) -> Decimal:
        return self.state.balance + self.unrealized()

    def available(self) -> Decimal:
        return self.state.balance - self.used_margin() + min(ZERO, self.unrealized())

    def _mark(self, symbol: str) -> Decimal:
        prices = self.state.prices.get(symbol)
        return prices.mark if prices else ZERO

    def _last(self, symbol: str) -> Decimal | None:
        prices = self.state.prices.get(symbol)
        return prices.last if prices else None

    # -- orders ------------------------------------------------------------------------

    def _new_id(self) -> str:
        self.state.next_id += 1
        return str(1_100_000_000_000_000_000 + self.state.next_id)

    def find(self, order_id: str | None = None, client_oid: str | None = None) -> Order | None:
        if order_id:
            return self.state.orders.get(order_id)
        for order in self.state.orders.values():
            if client_oid and order.client_oid == client_oid:
                return order
        return None

    def place(  # noqa: PLR0911, PLR0912 - one rule per refusal, as Bitget checks them
        self,
        symbol: str,
        side: OrderSide,
        size: Decimal,
        now: int,
        *,
        type: OrderType = "market",
        price: Decimal | None = None,
        reduce_only: bool = False,
        client_oid: str | None = None,
        trade_side: str | None = None,
        plan_type: PlanType = "normal",
        trigger_price: Decimal | None = None,
        trigger_type: TriggerType = "mark_price",
        hold_side: PositionSide | None = None,
        fill_ratio: Decimal = Decimal(1),
        preset_sl: Decimal | None = None,
        preset_tp: Decimal | None = None,
    ) -> Order | Rejection:
        spec = self.spec(symbol)
        if isinstance(spec, Rejection):
            return spec
        if side not in ("buy", "sell"):
            return Rejection("40020", f"Parameter side {side} error")
        if type not in ("market", "limit"):
            return Rejection("40020", f"Parameter orderType {type} error")
        if trigger_type not in ("mark_price", "fill_price"):
            return Rejection("40020", f"Parameter triggerType {trigger_type} error")
        if client_oid and self.find(client_oid=client_oid):
            return DUPLICATE
        hedge = self.state.position_mode == "hedge_mode"
        tpsl = plan_type in ("pos_loss", "pos_profit")
        if tpsl:
            position_side: PositionSide = hold_side or ("long" if side == "sell" else "short")
            reduce_only = True
        elif hedge:
            if trade_side not in ("open", "close"):
                return MODE_MISMATCH
            position_side = "long" if side == "buy" else "short"
            reduce_only = trade_side == "close"
        else:
            if trade_side is not None:
                return MODE_MISMATCH
            # one-way: the side it opens; what it does is decided when it fills
            position_side = "long" if side == "buy" else "short"
            if reduce_only:
                position_side = _other(position_side)  # the position it reduces
        whole = tpsl and size <= 0
        if not whole:
            if size <= 0 or not spec.on_step(size):
                return Rejection("40808", f"Parameter verification exception size {size}")
            if size < spec.min_size:
                return Rejection("45111", f"less than the minimum order quantity {spec.min_size}")
        for value in (price, trigger_price, preset_sl, preset_tp):
            if value is not None and (value <= 0 or not spec.on_tick(value)):
                return Rejection("41103", f"param price scale error {value}")
        if type == "limit" and price is None:
            return Rejection("40019", "Parameter price cannot be empty")
        if plan_type != "normal" and trigger_price is None:
            return Rejection("40019", "Parameter triggerPrice cannot be empty")
        prices = self.state.prices.get(symbol)
        if prices is None:
            return Rejection("40015", "System is abnormal: no price for the symbol")
        held = (symbol, position_side) in self.state.positions
        if (reduce_only or tpsl) and not held:
            return NO_POSITION
        if not reduce_only:
            refused = self._margin_check(
                symbol,
                size,
                price if type == "limit" else prices.last,
                reserve=plan_type == "normal",
            )
            if refused:
                return refused
        trigger_above = None
        if plan_type == "plan":
            ref = prices.mark if trigger_type == "mark_price" else prices.last
            trigger_above = trigger_price > ref  # type: ignore[operator]
        order = Order(
            id=self._new_id(), client_oid=client_oid or f"tk-auto-{self.state.next_id}",
            symbol=symbol, side=side, type=type, size=size, position_side=position_side,
            reduce_only=reduce_only, created=now, updated=now, price=price,
            plan_type=plan_type, trigger_price=trigger_price, trigger_type=trigger_type,
            whole_position=whole, trigger_above=trigger_above, preset_sl=preset_sl,
            preset_tp=preset_tp,
        )  # fmt: skip
        self.state.orders[order.id] = order
        if plan_type == "normal":
            self._try_fill(order.id, now, fill_ratio=fill_ratio, at_placement=True)
        return self.state.orders[order.id]

    def _margin_check(
        self, symbol: str, size: Decimal, reference: Decimal | None, *, reserve: bool
    ) -> Rejection | None:
        spec = self.markets[symbol]
        notional = size * (reference or ZERO)
        if notional < spec.min_notional:
            return Rejection("45110", f"less than the minimum amount {spec.min_notional} USDT")
        needed = notional / self.settings(symbol).leverage + notional * spec.taker_fee
        if reserve and needed > self.available():
            return INSUFFICIENT
        return None

    def cancel(
        self, order_id: str | None = None, client_oid: str | None = None, now: int = 0
    ) -> Order | Rejection:
        order = self.find(order_id, client_oid)
        if order is None:
            return NOT_FOUND
        if not order.open:
            return Rejection("22001", "No order to cancel")
        canceled = order.with_(status="canceled", updated=now)
        self.state.orders[order.id] = canceled
        return canceled

    def close_position(
        self, symbol: str, now: int, hold_side: PositionSide | None = None
    ) -> list[Order] | Rejection:
        """Flatten at market (Bitget's close-positions): one reduce-only order per side."""
        sides = [hold_side] if hold_side else ["long", "short"]
        targets = [
            self.state.positions[(symbol, s)] for s in sides if (symbol, s) in self.state.positions
        ]
        if not targets:
            return NO_POSITION
        closed = []
        for position in targets:
            side: OrderSide = "sell" if position.side == "long" else "buy"
            if self.state.position_mode == "hedge_mode":
                side = "buy" if position.side == "long" else "sell"
                result = self.place(symbol, side, position.size, now, trade_side="close")
            else:
                result = self.place(symbol, side, position.size, now, reduce_only=True)
            if isinstance(result, Order):
                closed.append(result)
        return closed

    # -- market moves ------------------------------------------------------------------

    def update_price(self, symbol: str, prices: Prices, now: int) -> list[Fill]:
        """A new price (with the range traded since the last one, when known): stops first,
        then the other triggers and resting limits in the order they were placed, then
        liquidation. Returns the fills it caused."""
        self.state.prices[symbol] = prices
        before = len(self.state.fills)
        live = [o for o in self.state.orders.values() if o.symbol == symbol and o.open]
        live.sort(key=lambda o: (o.plan_type != "pos_loss", o.created))  # stops first
        for order in live:
            current = self.state.orders[order.id]
            if not current.open:
                continue  # cancelled by an earlier fill (a stop taking its position away)
            if current.plan_type != "normal":
                if self._triggered(current, prices):
                    self._fire(current, prices, now)
            else:
                self._try_fill(current.id, now)
        self._liquidate(symbol, now)
        return self.state.fills[before:]

    def _range(self, order: Order, prices: Prices) -> tuple[Decimal, Decimal, bool]:
        """(low, high) the trigger price could have met, and whether a range was known."""
        ref = prices.mark if order.trigger_type == "mark_price" else prices.last
        if prices.low is not None and prices.high is not None:
            return min(prices.low, ref), max(prices.high, ref), True
        return ref, ref, False

    def _triggered(self, order: Order, prices: Prices) -> bool:
        assert order.trigger_price is not None
        low, high, _ = self._range(order, prices)
        trigger = order.trigger_price
        long = order.position_side == "long"
        if order.plan_type == "pos_loss":
            return low <= trigger if long else high >= trigger
        if order.plan_type == "pos_profit":
            return high >= trigger if long else low <= trigger
        return high >= trigger if order.trigger_above else low <= trigger

    def _fire(self, order: Order, prices: Prices, now: int) -> None:
        """A trigger was reached: fill at the trigger (the price passed through it within the
        range) or at the last price, with slippage."""
        spec = self.markets[order.symbol]
        assert order.trigger_price is not None
        _, _, ranged = self._range(order, prices)
        base = order.trigger_price if ranged else prices.last
        if order.plan_type in ("pos_loss", "pos_profit"):
            position = self.state.positions.get((order.symbol, order.position_side))
            if position is None:
                self.state.orders[order.id] = order.with_(status="canceled", updated=now)
                return
            size = position.size if order.whole_position else min(order.size, position.size)
            order = order.with_(size=size)
            self.state.orders[order.id] = order
        else:  # a conditional entry: margin is checked now, as Bitget does when it fires
            refused = self._margin_check(
                order.symbol, order.size, order.price or base, reserve=True
            )
            if refused:
                self.state.orders[order.id] = order.with_(status="rejected", updated=now)
                return
            if order.type == "limit":  # it becomes a resting limit order at its price
                child = order.with_(
                    id=self._new_id(),
                    client_oid=f"{order.client_oid}-exec",
                    plan_type="normal",
                    trigger_price=None,
                    created=now,
                    updated=now,
                )
                self.state.orders[order.id] = order.with_(status="triggered", updated=now)
                self.state.orders[child.id] = child
                self._try_fill(child.id, now)
                return
        direction = 1 if self._buying(order) else -1
        price = spec.price(base * (1 + direction * self.slippage))
        self._execute(order, price, order.remaining, now, maker=False, as_trigger=True)

    def _try_fill(
        self,
        order_id: str,
        now: int,
        *,
        fill_ratio: Decimal = Decimal(1),
        at_placement: bool = False,
    ) -> None:
        order = self.state.orders[order_id]
        spec = self.markets[order.symbol]
        prices = self.state.prices[order.symbol]
        last = prices.last
        buying = self._buying(order)
        if order.type == "market":
            direction = 1 if buying else -1
            price = spec.price(last * (1 + direction * self.slippage))
            maker = False
        else:
            assert order.price is not None
            if at_placement or prices.low is None or prices.high is None:
                low = high = last  # at placement only the current price counts
            else:
                low, high = prices.low, prices.high
            crosses = low <= order.price if buying else high >= order.price
            if not crosses:
                return
            maker = not at_placement
            if maker:
                price = order.price
            else:
                price = min(order.price, last) if buying else max(order.price, last)
        quantity = order.remaining
        if fill_ratio < 1:
            quantity = max(spec.size(order.remaining * fill_ratio), spec.size_step)
        self._execute(order, price, quantity, now, maker=maker, as_trigger=False)

    def _buying(self, order: Order) -> bool:
        """Whether the order buys. Bitget's hedge mode names the position in `side`, so a
        close of a long (side buy, tradeSide close) is a sale."""
        hedge_close = (
            self.state.position_mode == "hedge_mode"
            and order.reduce_only
            and order.plan_type == "normal"
        )
        return (order.side == "buy") != hedge_close

    def _execute(
        self,
        order: Order,
        price: Decimal,
        quantity: Decimal,
        now: int,
        *,
        maker: bool,
        as_trigger: bool,
    ) -> None:
        """Fill `quantity` of an order at `price`. In one-way mode what a fill does is
        decided now: it first reduces an opposite position, then (unless reduce-only)
        opens or adds to its own side with the rest."""
        spec = self.markets[order.symbol]
        fee_rate = spec.maker_fee if maker else spec.taker_fee
        buying = self._buying(order)
        done, fees = ZERO, ZERO
        if self.state.position_mode == "hedge_mode" or order.plan_type in (
            "pos_loss",
            "pos_profit",
        ):
            key = (order.symbol, order.position_side)
            closes = order.reduce_only
            opposite = self.state.positions.get(key) if closes else None
            opening = None if closes else order.position_side
        else:
            opening_side: PositionSide = "long" if buying else "short"
            opposite = self.state.positions.get((order.symbol, _other(opening_side)))
            opening = None if order.reduce_only else opening_side
        if opposite is not None:
            close_qty = min(quantity, opposite.size)
            profit = opposite.unrealized(price) * close_qty / opposite.size
            fee = close_qty * price * fee_rate
            self._fill(
                order,
                trade_side="close",
                buying=buying,
                price=price,
                quantity=close_qty,
                fee=fee,
                profit=profit,
                now=now,
                maker=maker,
                side=opposite.side,
            )
            self._reduce(opposite, close_qty, profit - fee, now)
            done, fees, quantity = close_qty, fee, quantity - close_qty
        if opening is not None and quantity > 0:
            fee = quantity * price * fee_rate
            self._open(
                order,
                side=opening,
                price=price,
                quantity=quantity,
                fee=fee,
                now=now,
                maker=maker,
                buying=buying,
            )
            done, fees = done + quantity, fees + fee
        filled = order.filled + done
        average = (
            ((order.average or ZERO) * order.filled + price * done) / filled if filled else None
        )
        if as_trigger:
            status = "triggered"
        elif filled >= order.size:
            status = "filled"
        elif order.reduce_only and opposite is None:
            status = "filled" if filled > 0 else "canceled"  # nothing (left) to reduce
        else:
            status = "partially_filled"
        self.state.orders[order.id] = order.with_(
            filled=filled, average=average, fee=order.fee + fees, status=status, updated=now
        )
        if opening is not None and done > 0:
            self._attach_presets(self.state.orders[order.id], opening, now)

    def _attach_presets(self, order: Order, side: PositionSide, now: int) -> None:
        """Bitget presets: the entry's stop-loss / take-profit go on the position once it
        has filled (each once, for the whole position)."""
        for plan, trigger in (("pos_loss", order.preset_sl), ("pos_profit", order.preset_tp)):
            oid = f"{order.client_oid}-{'sl' if plan == 'pos_loss' else 'tp'}"
            if trigger is None or self.find(client_oid=oid):
                continue
            self.place(
                order.symbol,
                "sell" if side == "long" else "buy",
                ZERO,
                now,
                plan_type=plan,
                trigger_price=trigger,
                hold_side=side,  # type: ignore[arg-type]
                client_oid=oid,
            )

    def _open(
        self,
        order: Order,
        *,
        side: PositionSide,
        price: Decimal,
        quantity: Decimal,
        fee: Decimal,
        now: int,
        maker: bool,
        buying: bool,
    ) -> None:
        settings = self.settings(order.symbol)
        key = (order.symbol, side)
        margin = quantity * price / settings.leverage
        held = self.state.positions.get(key)
        if held is None:
            position = Position(
                order.symbol,
                side,
                quantity,
                price,
                settings.leverage,
                settings.margin_mode,
                margin,
                now,
            )
        else:
            size = held.size + quantity
            entry = (held.entry_price * held.size + price * quantity) / size
            position = Position(
                order.symbol,
                side,
                size,
                entry,
                held.leverage,
                held.margin_mode,
                held.margin + margin,
                held.opened,
                held.realized,
            )
        self.state.positions[key] = position
        self.state.balance -= fee
        self._fill(
            order,
            trade_side="open",
            buying=buying,
            price=price,
            quantity=quantity,
            fee=fee,
            profit=ZERO,
            now=now,
            maker=maker,
            side=side,
        )

    def _reduce(self, position: Position, quantity: Decimal, net: Decimal, now: int) -> None:
        key = (position.symbol, position.side)
        self.state.balance += net
        remaining = position.size - quantity
        if remaining <= 0:
            del self.state.positions[key]
            for order in list(self.state.orders.values()):  # its SL/TP go with it
                if (
                    order.open
                    and order.symbol == position.symbol
                    and order.position_side == position.side
                    and order.plan_type in ("pos_loss", "pos_profit")
                ):
                    self.state.orders[order.id] = order.with_(status="canceled", updated=now)
        else:
            self.state.positions[key] = Position(
                position.symbol,
                position.side,
                remaining,
                position.entry_price,
                position.leverage,
                position.margin_mode,
                position.margin * remaining / position.size,
                position.opened,
                position.realized + net,
            )

    def _fill(
        self,
        order: Order,
        *,
        trade_side: str,
        buying: bool,
        price: Decimal,
        quantity: Decimal,
        fee: Decimal,
        profit: Decimal,
        now: int,
        maker: bool,
        side: PositionSide,
    ) -> None:
        """Record a fill; its `side` is always the trade direction (buy or sell)."""
        self.state.fills.append(Fill(
            trade_id=str(len(self.state.fills) + 1), order_id=order.id,
            client_oid=order.client_oid, symbol=order.symbol,
            side="buy" if buying else "sell", trade_side=trade_side,  # type: ignore[arg-type]
            position_side=side, price=price, size=quantity, fee=fee, profit=profit, ts=now,
            maker=maker,
        ))  # fmt: skip

    def _liquidate(self, symbol: str, now: int) -> None:
        """Isolated positions at their liquidation price lose their margin; crossed positions
        are all closed at the mark when equity falls to their maintenance margin."""
        spec = self.markets[symbol]
        mark = self._mark(symbol)
        for key, position in list(self.state.positions.items()):
            if key[0] != symbol or position.margin_mode != "isolated":
                continue
            liq = position.liquidation_price(spec)
            if mark <= liq if position.side == "long" else mark >= liq:
                self._force_close(position, spec.price(liq), -position.margin, now)
        crossed = [p for p in self.state.positions.values() if p.margin_mode == "crossed"]
        if crossed:
            maintenance = sum(
                (
                    self.markets[p.symbol].maintenance_margin * p.size * self._mark(p.symbol)
                    for p in crossed
                ),
                ZERO,
            )
            if self.equity() <= maintenance:
                for position in crossed:
                    mark_p = self._mark(position.symbol)
                    self._force_close(position, mark_p, position.unrealized(mark_p), now)

    def _force_close(self, position: Position, price: Decimal, pnl: Decimal, now: int) -> None:
        hedge = self.state.position_mode == "hedge_mode"
        trade: OrderSide = "sell" if position.side == "long" else "buy"
        named: OrderSide = ("buy" if position.side == "long" else "sell") if hedge else trade
        order = Order(
            id=self._new_id(),
            client_oid=f"tk-liq-{self.state.next_id}",
            symbol=position.symbol,
            side=named,
            type="market",
            size=position.size,
            position_side=position.side,
            reduce_only=True,
            created=now,
            updated=now,
        )
        self._fill(
            order,
            trade_side="close",
            buying=trade == "buy",
            price=price,
            quantity=position.size,
            fee=ZERO,
            profit=pnl,
            now=now,
            maker=False,
            side=position.side,
        )
        self._reduce(position, position.size, pnl, now)
        self.state.orders[order.id] = order.with_(
            status="filled", filled=position.size, average=price
        )
