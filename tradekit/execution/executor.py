"""Carrying out an order bundle on an exchange, so that a crash or a lost answer at any step
can be finished by the next run without a second order.

Every order is looked up by its clientOid before it is sent, so every step can be repeated:
a write that got no answer is looked up (a few times) and only then sent again, with the same
clientOid, which the exchange refuses to accept twice. The caller saves the bundle to the
ledger after every step (`save`). A filled entry always gets its stop-loss; if none can be
placed, the position is closed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradekit.exchange.base import Exchange, OrderInfo
from tradekit.exchange.errors import (
    DuplicateClientOid,
    ExchangeError,
    NoPosition,
    OutcomeUnknown,
    Rejected,
    TemporaryError,
)
from tradekit.execution.bundle import Planned, size_protection
from tradekit.execution.crash import crash_point
from tradekit.execution.settings import ExecutionSettings

Save = Callable[[], None]
#: (order, event) -> one line of logs/orders.jsonl
Journal = Callable[[Planned, str], None]


@dataclass
class Outcome:
    status: str  # placed | rejected | failed
    reasons: list[str]


class NotSent(Exception):
    """A step was not sent because its intent is too old to act on now."""


class Executor:
    def __init__(
        self,
        exchange: Exchange,
        settings: ExecutionSettings,
        journal: Journal,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.exchange = exchange
        self.settings = settings
        self.journal = journal
        self.sleep = sleep

    # -- one order ---------------------------------------------------------------------------

    def find(self, symbol: str, order: Planned) -> OrderInfo | None:
        """The order as the exchange knows it (by id once known, else by clientOid)."""
        if order.kind == "order":
            return self.exchange.order(
                symbol, order_id=order.exchange_id, client_oid=order.client_oid
            )
        for stop in self.exchange.stops(symbol):  # open stops only: a fired one is gone
            if stop.client_oid == order.client_oid or stop.id == order.exchange_id:
                return stop
        return None

    def _find_after_silence(self, symbol: str, order: Planned) -> OrderInfo | None:
        """Look an order up after a write got no answer: it may take a moment to show."""
        for delay in (0, *self.settings.retry_delays[:2]):
            if delay:
                self.sleep(delay)
            try:
                found = self.find(symbol, order)
            except TemporaryError:
                continue
            if found is not None:
                return found
        return None

    def _adopt(self, order: Planned, info: OrderInfo, event: str) -> None:
        order.exchange_id, order.state = info.id, info.state
        order.filled, order.average = info.filled, info.average
        if order.size is None or order.kind != "order":
            order.size = info.size
        self.journal(order, event)

    def _place(self, symbol: str, order: Planned, position_side: str) -> OrderInfo:
        if order.kind == "order":
            assert order.size is not None
            return self.exchange.place(
                symbol,
                order.side,  # type: ignore[arg-type]
                order.size,
                client_oid=order.client_oid,
                price=order.price,
                reduce_only=order.reduce_only,
                stop_loss=order.attached_stop,
            )
        assert order.trigger is not None
        return self.exchange.place_stop(
            symbol,
            position_side,  # type: ignore[arg-type]
            order.kind,  # type: ignore[arg-type]
            order.trigger,
            client_oid=order.client_oid,
            size=order.size,
            trigger_type=self.settings.trigger_type,
        )

    def send(
        self, symbol: str, order: Planned, position_side: str, *, looked_up: bool = False
    ) -> OrderInfo:
        """Place `order` unless the exchange has it already; returns it as the exchange
        knows it. Retries a request that got no usable answer (each time after looking the
        order up). Raises Rejected when refused (nothing happened) and ExchangeError when
        the exchange stayed unavailable (then the order may or may not exist: the next run
        looks it up again)."""
        delays = self.settings.retry_delays
        for attempt in range(len(delays) + 1):
            if not (looked_up and attempt == 0):
                existing = self.find(symbol, order)
                if existing is not None:
                    self._adopt(order, existing, "found")
                    return existing
            try:
                info = self._place(symbol, order, position_side)
            except DuplicateClientOid:  # another run (or our lost request) got there first
                info = self._find_after_silence(symbol, order)  # type: ignore[assignment]
                if info is None:
                    raise OutcomeUnknown(
                        f"{order.role}: the exchange has clientOid {order.client_oid} "
                        "but does not show it",
                        order.client_oid,
                    ) from None
            except (OutcomeUnknown, TemporaryError) as exc:
                found = (
                    self._find_after_silence(symbol, order)
                    if isinstance(exc, OutcomeUnknown)
                    else None
                )
                if found is None:
                    if attempt == len(delays):
                        raise
                    self.sleep(delays[attempt])
                    continue
                info = found
            crash_point(f"{order.role}-sent")
            self._adopt(order, info, "sent")
            return info
        raise AssertionError("unreachable")

    # -- opening a position ------------------------------------------------------------------

    def open_position(
        self,
        symbol: str,
        side: str,
        leverage: int,
        orders: list[Planned],
        save: Save,
        *,
        may_send_entry: bool = True,
    ) -> Outcome:
        """Entry, then the stop-loss and take-profits for what it filled. Resumable: run
        again on a half-done bundle, it finishes it without repeating a step."""
        entry, protection = orders[0], orders[1:]
        info = self.find(symbol, entry)
        if info is not None:
            self._adopt(entry, info, "found")
        else:
            if not may_send_entry:
                raise NotSent(entry.role)
            self._configure(symbol, leverage, entry)
            crash_point("configured")
            try:
                info = self.send(symbol, entry, side, looked_up=True)
            except Rejected as exc:
                entry.state, entry.note = "rejected", str(exc)
                save()
                return Outcome("rejected", [f"entry refused: {exc}"])
        save()
        crash_point("entry-recorded")
        info = self._settle_market_entry(symbol, entry, info, save)
        if info.filled <= 0:
            if info.state == "open":  # a limit entry waiting for its price
                return Outcome("placed", [self._resting_note(entry, protection)])
            entry.note = "entry ended without a fill"
            save()
            return Outcome("failed", [f"entry {info.state} without a fill"])
        if entry.attached_stop is not None:  # a limit entry: its preset stop is on the position
            for order in protection:
                if order.kind == "sl":
                    order.state, order.note = "attached", "preset on the entry order"
        return self.protect(symbol, side, info.filled, protection, save)

    def _configure(self, symbol: str, leverage: int, entry: Planned) -> None:
        try:
            self.exchange.configure(
                symbol,
                leverage=leverage,
                margin_mode=self.settings.margin_mode,
                position_mode=self.settings.position_mode,
            )
        except Rejected as exc:  # e.g. a mode switch refused while a position is open
            entry.note = f"account settings not changed: {exc}"

    def _settle_market_entry(
        self, symbol: str, entry: Planned, info: OrderInfo, save: Save
    ) -> OrderInfo:
        """A market entry left partly filled: cancel the rest, so the position is exactly
        what the stop-loss will cover."""
        if entry.price is not None or info.state != "open" or info.filled <= 0:
            return info
        with contextlib.suppress(Rejected):  # it filled meanwhile
            self.exchange.cancel(symbol, order_id=info.id)
        settled = self.exchange.order(symbol, order_id=info.id) or info
        self._adopt(entry, settled, "remainder-canceled")
        entry.note = f"filled {settled.filled} of {settled.size}; the rest canceled"
        save()
        return settled

    @staticmethod
    def _resting_note(entry: Planned, protection: list[Planned]) -> str:
        if entry.attached_stop is not None:
            for order in protection:
                if order.kind == "sl":
                    order.state, order.note = "attached", "preset on the entry order"
            return (
                f"limit entry resting at {entry.price}: its stop-loss {entry.attached_stop} is "
                "attached and arms on the fill; take-profits follow the fill (tk-guard)"
            )
        return f"limit entry resting at {entry.price}: protection follows the fill (tk-guard)"

    def protect(
        self,
        symbol: str,
        position_side: str,
        filled: Decimal,
        orders: list[Planned],
        save: Save,
    ) -> Outcome:
        """The stop-loss for the filled size, then the take-profits; close if the stop-loss
        cannot be placed. Steps already done (found on the exchange) are not repeated."""
        reasons: list[str] = []
        size_protection(orders, filled, self.exchange.market(symbol))
        for order in orders:
            if order.state == "skipped":
                reasons.append(f"{order.role} skipped: {order.note}")
                continue
            if order.exchange_id is not None or order.state in ("attached", "rejected"):
                continue  # done by an earlier run; whatever became of it is tk-guard's job
            try:
                self.send(symbol, order, position_side)
            except NoPosition:
                order.state, order.note = "skipped", "no position (already closed)"
                save()
                continue
            except Rejected as exc:
                order.state, order.note = "rejected", str(exc)
                save()
                if order.kind == "sl":
                    return self._flatten(symbol, position_side, reasons, f"refused: {exc}", save)
                reasons.append(f"{order.role} refused: {exc}")
                continue
            except ExchangeError as exc:
                order.note = str(exc)
                save()
                if order.kind == "sl":
                    return self._flatten(symbol, position_side, reasons, f"failed: {exc}", save)
                reasons.append(f"{order.role} not placed ({exc}); tk-guard re-arms it")
                continue
            save()
            crash_point(f"{order.role}-recorded")
        return Outcome("placed", reasons)

    def _flatten(
        self, symbol: str, position_side: str, reasons: list[str], why: str, save: Save
    ) -> Outcome:
        """A filled entry without a stop-loss: never leave it naked. If even the close
        fails, the error propagates and the intent stays pending for the next run."""
        closed = self.exchange.close_position(symbol, position_side)  # type: ignore[arg-type]
        for ref in closed:
            self.journal(Planned("flatten", "", "order", "", None, exchange_id=ref), "sent")
        save()
        return Outcome(
            "failed",
            [*reasons, f"stop-loss {why}: position closed ({len(closed)} order(s))"],
        )

    # -- managing a position -----------------------------------------------------------------

    def manage(
        self,
        symbol: str,
        side: str | None,
        action: str,
        orders: list[Planned],
        save: Save,
        *,
        may_send: bool = True,
    ) -> Outcome:
        held = [p for p in self.exchange.positions(symbol) if side in (None, p.side)]
        if not held:
            which = f"{side} " if side else ""
            return Outcome("rejected", [f"no open {which}{symbol} position"])
        if len(held) > 1:
            return Outcome("rejected", [f"both a long and a short {symbol}: say which side"])
        position = held[0]
        if action == "close":
            return self._close(symbol, position, orders[0], save, may_send=may_send)
        if action == "reduce":
            return self._reduce(symbol, position, orders[0], save, may_send=may_send)
        return self._replace_stops(symbol, position, action, orders, save, may_send=may_send)

    def _close(
        self, symbol: str, position: Any, order: Planned, save: Save, *, may_send: bool
    ) -> Outcome:
        if order.state == "planned" and not may_send:
            raise NotSent(order.role)
        ids = self.exchange.close_position(symbol, position.side)
        order.side = "sell" if position.side == "long" else "buy"
        order.size, order.reduce_only = position.size, True
        order.exchange_id, order.state = (ids[0] if ids else None), "closed"
        self.journal(order, "sent")
        save()
        return Outcome("placed", [])

    def _reduce(
        self, symbol: str, position: Any, order: Planned, save: Save, *, may_send: bool
    ) -> Outcome:
        market = self.exchange.market(symbol)
        order.side = "sell" if position.side == "long" else "buy"
        if order.size is None:
            order.size = market.size(position.size * (order.weight or Decimal(0)))
        if order.size < market.min_size:
            return Outcome(
                "rejected", [f"reduce size {order.size} is below the minimum {market.min_size}"]
            )
        if not may_send and self.find(symbol, order) is None:
            raise NotSent(order.role)
        try:
            self.send(symbol, order, position.side)
        except Rejected as exc:
            order.state, order.note = "rejected", str(exc)
            save()
            return Outcome("rejected", [f"reduce refused: {exc}"])
        save()
        return Outcome("placed", [])

    def _replace_stops(
        self,
        symbol: str,
        position: Any,
        action: str,
        orders: list[Planned],
        save: Save,
        *,
        may_send: bool,
    ) -> Outcome:
        """move_sl_to_be: the new stop first, then the old ones go (never unprotected).
        set_tp: the old take-profits go, then the new ones."""
        kind = "sl" if action == "move_sl_to_be" else "tp"
        ours = {o.client_oid for o in orders}
        old = [
            s for s in self.exchange.stops(symbol) if s.kind == kind and s.client_oid not in ours
        ]
        if not may_send and all(self.find(symbol, o) is None for o in orders):
            raise NotSent(orders[0].role)
        market = self.exchange.market(symbol)
        close_side = "sell" if position.side == "long" else "buy"
        if action == "move_sl_to_be":
            direction = 1 if position.side == "long" else -1
            buffer = self.settings.break_even_buffer
            orders[0].trigger = market.price(position.entry_price * (1 + direction * buffer))
        for order in orders:
            order.side = close_side
            if order.exchange_id is None:
                order.size = None
        if kind == "tp":
            self._cancel(symbol, old)
        outcome = self.protect(symbol, position.side, position.size, orders, save)
        if kind == "sl" and outcome.status == "placed":
            self._cancel(symbol, old)
        return outcome

    def _cancel(self, symbol: str, stops: list[OrderInfo]) -> None:
        for stop in stops:
            try:
                self.exchange.cancel(symbol, order_id=stop.id, stop=True)
            except Rejected:
                continue  # fired or canceled meanwhile


def order_refs(orders: list[Planned]) -> list[dict[str, Any]]:
    """The `orders` of the execution block."""
    refs = []
    for o in orders:
        ref: dict[str, Any] = {
            "role": o.role,
            "clientOid": o.client_oid,
            "side": o.side or None,
            "type": "limit" if o.price else "market",
            "size": o.size,
            "reduceOnly": o.reduce_only,
            "state": o.state,
        }
        for key, value in (
            ("exchangeId", o.exchange_id),
            ("price", o.price),
            ("triggerPrice", o.trigger),
            ("stopLoss", o.attached_stop),
            ("filled", o.filled),
            ("average", o.average),
            ("note", o.note),
        ):
            if value is not None:
                ref[key] = value
        refs.append(ref)
    return refs
