"""One guard pass over an account: reconcile, breakers, kill switch, then each position's
stop-loss invariant and exits. The one-shot command runs it once; --watch runs it on a
timer and on every price tick. Every action, and every decision not to act, is an event.

Nothing is closed on bad data: an exchange error stops the pass (the positions stay as they
are, the next run looks again), and a stale price holds every exit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from tradekit.exchange.base import Exchange, OrderInfo, PositionInfo, Ticker
from tradekit.exchange.errors import ExchangeError, NoPosition, Rejected, TemporaryError
from tradekit.execution.bundle import Planned
from tradekit.execution.executor import Executor
from tradekit.execution.ledger import record_close
from tradekit.execution.settings import ExecutionSettings
from tradekit.guard import breakers
from tradekit.guard.book import Book, decimal_or_none
from tradekit.guard.exits import CLOSE_REASONS, Close, decide
from tradekit.guard.settings import GuardSettings
from tradekit.guard.tracked import Tracked, crossed, reached
from tradekit.interrupts import deferred_interrupts
from tradekit.killswitch import FLAG, kill_state
from tradekit.store import Store

#: how long "the exchange takes stop orders" is cached (exchange_cache key per mode)
CAPABILITY_KEY = "plan_orders:{mode}"
#: the answers that mean "no plan orders here" (the endpoint does not exist); any other
#: refusal of the listing is an error of this pass, not a capability
NOT_SUPPORTED_CODES = ("40404",)

Emit = Callable[[dict[str, Any]], None]
#: (tracked, now_ms) -> (bar close ms, side or None) of the opening strategy's latest plan
ReverseSignal = Callable[[Tracked, int], tuple[int, str | None] | None]


@dataclass
class PassResult:
    """How a pass went: what the command's exit status reports."""

    positions: int = 0
    closed: int = 0
    stale: list[str] = field(default_factory=list)
    without_stop: list[str] = field(default_factory=list)
    error: ExchangeError | None = None
    safe_reasons: list[str] = field(default_factory=list)
    equity: Decimal | None = None
    #: positions watched by the guard itself (the exchange takes no stop orders)
    local_guard: list[str] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)
    kill: str = "off"
    #: (symbol, side) of positions whose guard record could not be read
    corrupt: list[tuple[str, str]] = field(default_factory=list)

    def held_on_bad_data(self) -> str | None:
        """One line for people (cron mails stderr) when the pass could not decide on
        everything because of bad data; None when it could."""
        problems = []
        if self.error is not None:
            problems.append(f"the exchange could not be read ({self.error})")
        if self.stale:
            problems.append("stale price for " + ", ".join(sorted(set(self.stale))))
        if self.without_stop:
            problems.append("no stop-loss on " + ", ".join(sorted(set(self.without_stop))))
        if self.corrupt:
            named = ", ".join(f"{symbol} {side}" for symbol, side in sorted(self.corrupt))
            problems.append(f"unreadable guard record for {named}")
        if not problems:
            return None
        return "pass held, nothing decided on bad data: " + "; ".join(problems)


class Guard:
    def __init__(
        self,
        *,
        exchange: Exchange,
        store: Store,
        mode: str,
        settings: GuardSettings,
        execution: ExecutionSettings,
        now_ms: Callable[[], int],
        emit: Emit,
        act: bool,
        home: Any,
        atr: Callable[[str, int], Decimal | None] = lambda _s, _t: None,
        reverse: ReverseSignal | None = None,
        sleep: Callable[[float], None] | None = None,
    ):
        self.exchange = exchange
        self.store = store
        self.mode = mode
        self.settings = settings
        self.now_ms = now_ms
        self.emit = emit
        self.act = act
        self.home = home
        self.atr = atr
        self.reverse = reverse
        self.book = Book(store, mode)
        kwargs = {} if sleep is None else {"sleep": sleep}
        self.executor = Executor(exchange, execution, self._journal, **kwargs)  # type: ignore[arg-type]
        self._journaled: list[tuple[Planned, str]] = []

    # -- events ------------------------------------------------------------------------------

    def event(
        self,
        kind: str,
        tracked: Tracked | PositionInfo | None = None,
        reason: str | None = None,
        *,
        prices: dict[str, Decimal | None] | None = None,
        order_ids: list[str] | None = None,
        pnl: Decimal | None = None,
        **details: Any,
    ) -> None:
        from datetime import UTC, datetime

        from pydantic.alias_generators import to_camel

        from tradekit.records import GuardEvent

        event = GuardEvent(
            ts=datetime.fromtimestamp(self.now_ms() / 1000, UTC),
            kind=kind,
            symbol=tracked.symbol if tracked else None,
            side=tracked.side if tracked else None,  # type: ignore[arg-type]
            reason=reason,
            prices={k: v for k, v in (prices or {}).items() if v is not None} or None,
            order_ids=order_ids or None,
            pnl=pnl,
            details={
                "mode": self.mode,
                **({} if self.act else {"dryRun": True}),
                **{to_camel(key): value for key, value in details.items()},
            },
        )
        self.emit(event.to_json_dict())

    def _journal(self, order: Planned, event: str) -> None:
        self._journaled.append((order, event))

    # -- the pass ----------------------------------------------------------------------------

    def run_once(self, prices: dict[str, Ticker] | None = None) -> PassResult:
        """One pass. `prices` (from a live feed) are used where given; the rest come from
        the exchange's ticker."""
        result = PassResult()
        now = self.now_ms()
        try:
            balance = self.exchange.balance()
            positions = [p for p in self.exchange.positions() if p.size > 0]
        except ExchangeError as exc:
            return self._unavailable(result, exc, now)
        result.equity = balance.equity
        try:
            held = self._reconcile(positions, now, result)
            self._breakers(balance, positions, now, result)
            if self._kill() == "panic":
                with deferred_interrupts():
                    self._panic(held, now, result)
                return result
            for tracked, position in held:
                ticker = (prices or {}).get(tracked.symbol)
                with deferred_interrupts():  # an order sent is always recorded
                    if (tracked.symbol, tracked.side) in result.corrupt:
                        self._rebuilt(tracked, position, now, result)
                    else:
                        self._manage(tracked, position, ticker, now, result)
            if not held:
                self.event("hold", reason="no open positions", equity=str(balance.equity))
        except ExchangeError as exc:
            return self._unavailable(result, exc, now)
        result.positions = len(held)
        result.symbols = sorted({t.symbol for t, _ in held if not t.unmanaged})
        result.kill = self._kill()
        return result

    def on_price(self, symbol: str, ticker: Ticker) -> str | None:
        """The fast path of --watch, on every price: the exit rules on what the last pass
        left in the book, no request unless one fires. Returns the close reason, if any
        (the caller then runs a full pass). A stop that moves is kept in the book and the
        guard closes at it from now on; the exchange's copy is moved by the next pass."""
        now = self.now_ms()
        if self.settings.watch.is_stale(ticker.ts_ms, now):
            return None  # never an exit on an old price; the pass reports it
        for tracked in self.book.open_positions():
            if tracked.symbol != symbol or tracked.unmanaged:
                continue
            decision = decide(tracked, ticker.last, now, self.settings)
            if decision.close is not None and decision.close.fraction == 1:
                prices = {"last": ticker.last, "mark": ticker.mark, "stop": tracked.stop_loss}
                state, close = decision.state, decision.close
                with deferred_interrupts():  # the book's size: the pass after it reconciles
                    self._close(state, tracked.size, close, now, PassResult(), prices=prices)
                return decision.close.reason
            if decision.state != tracked:  # the best price, a trail armed or moved
                self.book.save(decision.state)
        return None

    def _unavailable(self, result: PassResult, exc: ExchangeError, now: int) -> PassResult:
        window = self.settings.breakers.api_error_window_seconds * 1000
        breakers.api_errors(self.store, self.mode, now, window, add=True)
        self.event("exchange_error", reason=str(exc), action="none: nothing is decided on it")
        result.error = exc
        return result

    # -- reconciliation ----------------------------------------------------------------------

    def _reconcile(
        self, positions: list[PositionInfo], now: int, result: PassResult
    ) -> list[tuple[Tracked, PositionInfo]]:
        readable, corrupt = self.book.read_open()
        for row in corrupt:
            self.book.quarantine(row.id, now)  # dry-run: in its private copy
            result.corrupt.append((row.symbol, row.side))
            self.event(
                "corrupt_record", reason=f"the guard's record of a position is unreadable: "
                f"{row.error}", symbol_side=f"{row.symbol} {row.side}", row=row.id,
                action="set aside (status 'corrupt'); the position is tracked again from its "
                "plan and no exit is decided on it this run",
            )  # fmt: skip
        book = {(t.symbol, t.side): t for t in readable}
        exchange = {(p.symbol, p.side): p for p in positions}
        for key, tracked in book.items():
            if key not in exchange:
                self._closed_elsewhere(tracked, now, result)
        held = []
        for key, position in exchange.items():
            tracked = book.get(key) or self._start_tracking(position, now, result)
            if tracked.size != position.size:
                tracked = self._resized(tracked, position)
            held.append((tracked, position))
        return held

    def _start_tracking(self, position: PositionInfo, now: int, result: PassResult) -> Tracked:
        intent = self.book.opening_intent(position.symbol, position.side, now)
        base = {
            "symbol": position.symbol,
            "side": position.side,
            "entry": position.entry_price,
            "initial_size": position.size,
            "size": position.size,
        }
        if intent is not None:
            tracked = Tracked(
                **base,
                opened_ms=intent["created_ms"],
                intent_key=intent["key"],
                origin=intent.get("origin"),
                stop_loss=decimal_or_none(intent.get("stopLoss")),
                take_profits=[Decimal(str(tp)) for tp in intent.get("takeProfits") or []],
                tp_weights=[Decimal(str(w)) for w in intent.get("tpWeights") or []],
            )
            self.book.save(tracked)
            self.event(
                "tracking", tracked, "opened by a plan", prices={"entry": tracked.entry},
                cycle_key=intent["key"], size=str(tracked.size),
            )  # fmt: skip
            return tracked
        adopt = self.settings.unknown_positions == "adopt"
        tracked = Tracked(**base, opened_ms=now, adopted=adopt, unmanaged=not adopt)
        self.book.save(tracked)
        self.event(
            "unknown_position", tracked,
            "adopted: guarded with a default stop-loss" if adopt else "flagged: not managed",
            prices={"entry": tracked.entry}, size=str(tracked.size),
        )  # fmt: skip
        self._safe_mode(f"a {position.symbol} {position.side} position no plan opened", result)
        return tracked

    def _resized(self, tracked: Tracked, position: PositionInfo) -> Tracked:
        """A partial fill grew it, or a take-profit shrank it: take the exchange's size."""
        before = tracked.size
        done = list(tracked.tps_done)
        if position.size < before and tracked.take_profits:
            weights = tracked.tp_weights or [Decimal(1) / len(tracked.take_profits)] * len(
                tracked.take_profits
            )
            reduced = tracked.initial_size - position.size
            taken = Decimal(0)
            for i, weight in enumerate(weights):
                taken += tracked.initial_size * weight
                if taken <= reduced * Decimal("1.001") and i not in done:
                    done.append(i)
        grown = position.size > tracked.initial_size
        tracked = replace(
            tracked,
            size=position.size,
            tps_done=sorted(done),
            initial_size=position.size if grown else tracked.initial_size,
            entry=position.entry_price,
        )
        self.book.save(tracked)
        self.event(
            "resized", tracked, "the position grew (a fill)" if grown else "partly closed",
            before=str(before), after=str(position.size), tps_done=tracked.tps_done,
        )  # fmt: skip
        return tracked

    def _closed_elsewhere(self, tracked: Tracked, now: int, result: PassResult) -> None:
        """Gone from the exchange: its stop or take-profit fired, it was liquidated or
        closed by hand. Recorded with the real fills, fees and profit."""
        fills = [
            f
            for f in self.exchange.fills(tracked.symbol, tracked.opened_ms)
            if f.ts >= tracked.opened_ms
        ]
        closing = [f for f in fills if f.side == tracked.close_side]
        pnl = sum((f.profit - f.fee for f in fills), Decimal(0))
        exit_price = closing[-1].price if closing else None
        reason = self._why_closed(tracked, exit_price)
        self._record_closed(tracked, reason, pnl, now, result)
        self.event(
            "closed_on_exchange", tracked, reason, pnl=pnl,
            prices={"entry": tracked.entry, "exit": exit_price, "stop": tracked.stop_loss},
            order_ids=sorted({f.order_id for f in closing}),
            fills=len(fills), **({} if closing else {"note": "no closing fill found"}),
        )  # fmt: skip

    @staticmethod
    def _why_closed(tracked: Tracked, price: Decimal | None) -> str:
        if price is None:
            return "closed_on_exchange"
        slack = price * Decimal("0.002")  # a market close fills a little past its trigger
        stop = tracked.stop_loss
        if stop is not None and crossed(tracked.side, price, stop + tracked.direction * slack):
            return CLOSE_REASONS[tracked.stop_kind]
        if tracked.take_profits and reached(
            tracked.side, price, tracked.take_profits[0] - tracked.direction * slack
        ):
            return "take_profit"
        return "closed_on_exchange"

    def _record_closed(
        self, tracked: Tracked, reason: str, pnl: Decimal, now: int, result: PassResult
    ) -> None:
        record_close(
            self.store, mode=self.mode, symbol=tracked.symbol, side=tracked.side,
            reason=reason, pnl=pnl, closed_ms=now,
        )  # fmt: skip
        self.book.close(tracked, reason, now)
        result.closed += 1

    # -- breakers and the kill switch --------------------------------------------------------

    def _breakers(
        self, balance: Any, positions: list[PositionInfo], now: int, result: PassResult
    ) -> None:
        from datetime import UTC, datetime

        moment = datetime.fromtimestamp(now / 1000, UTC)
        peak = breakers.peak_equity(self.store, self.mode, balance.equity, moment)
        window = self.settings.breakers.api_error_window_seconds * 1000
        errors = breakers.api_errors(self.store, self.mode, now, window, add=False)
        for reason in breakers.tripped(
            self.settings.breakers, balance=balance, peak=peak, positions=positions, errors=errors
        ):
            self._safe_mode(reason, result)

    def _kill(self) -> str:
        state, _source = kill_state(self.home, self.store.get_flag(FLAG))
        return state

    def _safe_mode(self, reason: str, result: PassResult) -> None:
        result.safe_reasons.append(reason)
        if self._kill() != "off":
            return  # already safe (or panic): said once, when it was set
        if self.act:
            from datetime import UTC, datetime

            self.store.set_flag(FLAG, "safe", datetime.fromtimestamp(self.now_ms() / 1000, UTC))
        self.event("safe_mode", reason=reason, action="new entries blocked until `tk kill off`")

    def _panic(
        self, held: list[tuple[Tracked, PositionInfo]], now: int, result: PassResult
    ) -> None:
        """Cancel every order and close every position, then stay in safe mode."""
        symbols = sorted({t.symbol for t, _ in held} | self.book.known_symbols())
        for symbol in symbols:
            orders = self.exchange.open_orders(symbol) + self._resting_stops(symbol)
            if not orders:
                continue
            for order in orders:
                if self.act:
                    with suppress(Rejected):
                        self.exchange.cancel(symbol, order_id=order.id, stop=order.kind != "order")
            self.event(
                "panic_cancel", reason="kill switch panic", order_ids=[o.id for o in orders],
                symbol=symbol,
            )  # fmt: skip
        for tracked, position in held:
            self._close(tracked, position.size, Close("panic"), now, result)
        after = "the switch stays at panic until cleared"
        if self.act and self.store.get_flag(FLAG) == "panic":
            from datetime import UTC, datetime

            self.store.set_flag(FLAG, "safe", datetime.fromtimestamp(now / 1000, UTC))
            after = "the switch is now safe (`tk kill off` to trade again)"
        if self._kill() == "panic":  # the file or the environment says so
            after = "the file or environment switch still says panic: clear it when ready"
        self.event("panic_done", reason=f"{len(held)} position(s) closed; {after}")

    # -- one position ------------------------------------------------------------------------

    def _manage(
        self,
        tracked: Tracked,
        position: PositionInfo,
        ticker: Ticker | None,
        now: int,
        result: PassResult,
    ) -> None:
        if tracked.unmanaged:
            self.event("hold", tracked, "unknown position: flagged, not managed")
            return
        ticker = ticker or self.exchange.ticker(tracked.symbol)
        stops = [s for s in self._resting_stops(tracked.symbol) if self._covers_side(s, tracked)]
        tracked = self._with_atr(tracked)
        prices = {
            "last": ticker.last, "mark": ticker.mark, "entry": tracked.entry,
            "stop": tracked.stop_loss,
        }  # fmt: skip
        if self.settings.watch.is_stale(ticker.ts_ms, now):
            age_s = (now - ticker.ts_ms) / 1000
            result.stale.append(tracked.symbol)
            self._ensure_stop(tracked, position, stops, now, result)
            self.event("hold", tracked, "stale_price", prices=prices, age_seconds=round(age_s, 1))
            self.book.save(tracked)
            return
        tracked = self._count_reverse(tracked, now)
        decision = decide(
            tracked,
            ticker.last,
            now,
            self.settings,
            exchange_holds_tps=any(s.kind == "tp" for s in stops),
            reverse_confirmed=bool(self.settings.reverse.confirmations)
            and tracked.reverse_count >= self.settings.reverse.confirmations,
        )
        tracked = decision.state
        if decision.move_stop is not None and tracked.stop_loss is not None:
            market = self.exchange.market(tracked.symbol)  # the stop as the exchange keeps it
            tracked.stop_loss = market.price(tracked.stop_loss)
        prices["stop"] = tracked.stop_loss
        if decision.close is not None:
            if decision.close.fraction < 1:
                self._take_partial(tracked, position, decision.close, prices)
                return
            self._close(tracked, position.size, decision.close, now, result, prices=prices)
            return
        if decision.move_stop is not None:
            self.event("move_stop", tracked, decision.move_stop.reason, prices=prices)
        if not self._ensure_stop(tracked, position, stops, now, result):
            return  # closed: it could not be protected
        self._liquidation(tracked, position, ticker)
        self._repair_take_profits(tracked, position, stops)
        self.event("hold", tracked, decision.hold, prices=prices, **decision.notes)
        self.book.save(tracked)

    def _rebuilt(
        self, tracked: Tracked, position: PositionInfo, now: int, result: PassResult
    ) -> None:
        """A position whose record was unreadable: protected (its stop-loss checked), not
        traded on this run; what it remembered (best price, trail) starts again."""
        stops = [s for s in self._resting_stops(tracked.symbol) if self._covers_side(s, tracked)]
        if self._ensure_stop(tracked, position, stops, now, result):
            self.event("hold", tracked, "record_rebuilt: exits resume next run")
            self.book.save(tracked)

    @staticmethod
    def _covers_side(stop: OrderInfo, tracked: Tracked) -> bool:
        return stop.side == tracked.close_side

    def _with_atr(self, tracked: Tracked) -> Tracked:
        trailing = self.settings.trailing
        if trailing.enabled and trailing.mode == "atr" and tracked.atr_at_entry is None:
            atr = self.atr(tracked.symbol, tracked.opened_ms)
            if atr is not None:
                return replace(tracked, atr_at_entry=atr)
        return tracked

    def _count_reverse(self, tracked: Tracked, now: int) -> Tracked:
        if not self.settings.reverse.confirmations or self.reverse is None or not tracked.origin:
            return tracked
        seen = self.reverse(tracked, now)
        if seen is None:
            return tracked  # no fresh evaluation: the count stands
        bar_ms, side = seen
        if bar_ms == tracked.reverse_bar_ms:
            return tracked  # the same bar again: one bar counts once
        opposite = side is not None and side != tracked.side
        count = tracked.reverse_count + 1 if opposite else 0
        return replace(tracked, reverse_count=count, reverse_bar_ms=bar_ms)

    # -- orders ------------------------------------------------------------------------------

    def _oid(self, tracked: Tracked, role: str) -> str:
        key = f"{self.mode}:{tracked.symbol}:{tracked.side}:{tracked.opened_ms}"
        return f"tkg{hashlib.sha256(key.encode()).hexdigest()[:14]}-{role}"

    def _send(self, tracked: Tracked, order: Planned) -> list[str]:
        """Send (or, in dry-run, only report) one order; its exchange id."""
        if not self.act:
            return []
        self._journaled.clear()
        info = self.executor.send(tracked.symbol, order, tracked.side)
        return [info.id]

    def _close(
        self,
        tracked: Tracked,
        size: Decimal,
        close: Close,
        now: int,
        result: PassResult,
        *,
        prices: dict[str, Any] | None = None,
    ) -> None:
        order = Planned(
            "close", self._oid(tracked, "close"), "order", tracked.close_side, size,
            reduce_only=True,
        )  # fmt: skip
        try:
            ids = self._send(tracked, order)
        except NoPosition:  # already flat (its stop fired first): reconciled as such
            self._cancel_stops(tracked)
            self._closed_elsewhere(tracked, now, result)
            return
        if not self.act:
            self.event("would_close", tracked, close.reason, prices=prices)
            return
        self._cancel_stops(tracked)
        fills = [
            f
            for f in self.exchange.fills(tracked.symbol, tracked.opened_ms)
            if f.ts >= tracked.opened_ms
        ]
        pnl = sum((f.profit - f.fee for f in fills), Decimal(0))
        mine = [f for f in fills if f.order_id in ids]
        filled = sum((f.size for f in mine), Decimal(0))
        exit_price = sum((f.price * f.size for f in mine), Decimal(0)) / filled if filled else None
        self._record_closed(tracked, close.reason, pnl, now, result)
        self.event(
            "close", tracked, close.reason, order_ids=ids, pnl=pnl,
            prices={**(prices or {}), "exit": exit_price}, size=str(size),
        )  # fmt: skip

    def _cancel_stops(self, tracked: Tracked) -> None:
        for stop in self._resting_stops(tracked.symbol):
            if self._covers_side(stop, tracked):
                with suppress(Rejected):
                    self.exchange.cancel(tracked.symbol, order_id=stop.id, stop=True)

    def _take_partial(
        self, tracked: Tracked, position: PositionInfo, close: Close, prices: dict[str, Any]
    ) -> None:
        market = self.exchange.market(tracked.symbol)
        size = market.size(position.size * close.fraction)
        index = close.tp_index if close.tp_index is not None else 0
        if size < market.min_size:
            tracked.tps_done.append(index)
            self.event("hold", tracked, f"{close.reason}: size {size} below the minimum")
            self.book.save(tracked)
            return
        order = Planned(
            f"tp{index + 1}", self._oid(tracked, f"tp{index + 1}"), "order", tracked.close_side,
            size, reduce_only=True,
        )  # fmt: skip
        ids = self._send(tracked, order)
        tracked.tps_done.append(index)
        if self.act:
            tracked.size = position.size - size
        self.event(
            "partial_close" if self.act else "would_close", tracked, close.reason,
            order_ids=ids, prices=prices, size=str(size),
        )  # fmt: skip
        self.book.save(tracked)

    def _ensure_stop(
        self,
        tracked: Tracked,
        position: PositionInfo,
        stops: list[OrderInfo],
        now: int,
        result: PassResult,
    ) -> bool:
        """Every position has a resting stop-loss covering its size at the stop it should
        have. Missing or wrong: place it (then cancel the old). Still missing after
        max_time_without_sl_seconds: close the position and go to safe mode. Returns
        whether the position is still open."""
        settings = self.settings.stop_loss
        if not settings.must_exist:
            return True
        market = self.exchange.market(tracked.symbol)
        if tracked.stop_loss is None:
            default = tracked.entry * (1 - tracked.direction * settings.default_pct)
            tracked.stop_loss, tracked.stop_kind = market.price(default), "default"
        desired = market.price(tracked.stop_loss)
        losses = [s for s in stops if s.kind == "sl"]
        covering = sum((s.size for s in losses), Decimal(0))
        enough = covering >= position.size * (1 - settings.size_tolerance)
        at_desired = all(
            s.trigger_price is not None
            and (s.trigger_price == desired or crossed(tracked.side, desired, s.trigger_price))
            for s in losses
        )
        if losses and enough and at_desired:
            tracked.sl_missing_since_ms = None
            return True
        if not self._plan_orders_supported(tracked.symbol):
            result.local_guard.append(tracked.symbol)
            self.event(
                "local_guard", tracked, "the exchange takes no stop orders: the guard closes at "
                "the stop itself", prices={"stop": desired},
            )  # fmt: skip
            return True
        tracked.seq += 1
        self.book.save(tracked)  # the clientOid is spent before it is used
        order = Planned(
            "sl", self._oid(tracked, f"sl{tracked.seq}"), "sl", tracked.close_side, position.size,
            trigger=desired, reduce_only=True,
        )  # fmt: skip
        why = "missing" if not losses else ("too small" if not enough else "not at the stop")
        try:
            ids = self._send(tracked, order)
        except (Rejected, TemporaryError) as exc:
            return self._stop_failed(tracked, position, str(exc), now, result)
        for old in losses:
            if self.act:
                with suppress(Rejected):
                    self.exchange.cancel(tracked.symbol, order_id=old.id, stop=True)
        tracked.sl_missing_since_ms = None
        self.event(
            "repair_sl" if self.act else "would_repair_sl", tracked, f"stop-loss {why}",
            prices={"stop": desired}, order_ids=ids, replaced=[s.id for s in losses],
            size=str(position.size),
        )  # fmt: skip
        return True

    def _stop_failed(
        self, tracked: Tracked, position: PositionInfo, why: str, now: int, result: PassResult
    ) -> bool:
        settings = self.settings.stop_loss
        since = tracked.sl_missing_since_ms or now
        tracked.sl_missing_since_ms = since
        result.without_stop.append(tracked.symbol)
        waited = (now - since) / 1000
        if settings.emergency_close and waited >= settings.max_time_without_sl_seconds:
            self.event(
                "sl_missing", tracked, f"stop-loss still not placed after {waited:.0f} s: {why}"
            )
            self._close(tracked, position.size, Close("protective_close"), now, result)
            self._safe_mode(f"{tracked.symbol} could not be protected by a stop-loss", result)
            return False
        self.event(
            "sl_missing", tracked, f"stop-loss not placed: {why}",
            retry="next run", close_after_seconds=settings.max_time_without_sl_seconds,
        )  # fmt: skip
        self.book.save(tracked)
        return True

    def _resting_stops(self, symbol: str) -> list[OrderInfo]:
        """The stop and take-profit orders resting for `symbol` (none where the exchange
        takes no plan orders: the local guard stands in for them)."""
        if not self._plan_orders_supported(symbol):
            return []
        return self.exchange.stops(symbol)

    def _plan_orders_supported(self, symbol: str) -> bool:
        """Whether the exchange takes stop (plan) orders; asked again after the TTL."""
        key = CAPABILITY_KEY.format(mode=self.mode)
        ttl = self.settings.stop_loss.capability_ttl_seconds * 1000
        cached = self.store.cached(key, ttl, self.now_ms())
        if cached is not None:
            return cached == "yes"
        try:
            self.exchange.stops(symbol)
        except Rejected as exc:
            if not any(code in str(exc) for code in NOT_SUPPORTED_CODES):
                raise  # a refusal that says nothing about support: the pass reports it
            self.store.cache(key, "no", self.now_ms())
            return False
        except TemporaryError:
            return True  # unknown: try to place it; a failure is handled as any other
        self.store.cache(key, "yes", self.now_ms())
        return True

    def _liquidation(self, tracked: Tracked, position: PositionInfo, ticker: Ticker) -> None:
        settings = self.settings.liquidation
        liq = position.liquidation_price
        if not settings.max_distance or liq is None or liq <= 0:
            return
        distance = abs(liq - ticker.mark) / ticker.mark
        if distance > settings.max_distance:
            return
        market = self.exchange.market(tracked.symbol)
        size = market.size(position.size * settings.reduce_pct / 100)
        if size < market.min_size:
            size = position.size
        tracked.seq += 1
        self.book.save(tracked)
        order = Planned(
            "reduce", self._oid(tracked, f"reduce{tracked.seq}"), "order", tracked.close_side,
            size, reduce_only=True,
        )  # fmt: skip
        ids = self._send(tracked, order)
        self.event(
            "reduce" if self.act else "would_reduce", tracked, "liquidation too close",
            prices={"mark": ticker.mark, "liquidation": liq}, order_ids=ids, size=str(size),
            distance=str(round(distance, 5)),
        )  # fmt: skip

    def _repair_take_profits(
        self, tracked: Tracked, position: PositionInfo, stops: list[OrderInfo]
    ) -> None:
        """Take-profits of the plan that rest nowhere (a limit entry filled after tk-exec
        ran, or they were canceled): placed for what is left."""
        remaining = [i for i in range(len(tracked.take_profits)) if i not in tracked.tps_done]
        if not remaining or any(s.kind == "tp" for s in stops) or tracked.adopted:
            return
        if not self._plan_orders_supported(tracked.symbol):
            return  # the guard takes them itself, at the price (fixed exits)
        weights = tracked.tp_weights or [Decimal(1)] * len(tracked.take_profits)
        total = sum((weights[i] for i in remaining), Decimal(0))
        market = self.exchange.market(tracked.symbol)
        left, ids = position.size, []
        for n, i in enumerate(remaining):
            size = (
                left if n == len(remaining) - 1 else market.size(position.size * weights[i] / total)
            )
            left -= size
            if size < market.min_size:
                continue
            order = Planned(
                f"tp{i + 1}", self._oid(tracked, f"tp{i + 1}-rest"), "tp", tracked.close_side,
                size, trigger=tracked.take_profits[i], reduce_only=True,
            )  # fmt: skip
            try:
                ids += self._send(tracked, order)
            except Rejected as exc:
                self.event("hold", tracked, f"take-profit {i + 1} not placed: {exc}")
        self.event(
            "repair_tp" if self.act else "would_repair_tp", tracked, "take-profits missing",
            order_ids=ids, targets=[str(tracked.take_profits[i]) for i in remaining],
        )  # fmt: skip
