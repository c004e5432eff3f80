"""The exit rules: one position, one price, the time, a few facts in; what to do out.

Pure, so the same code decides in a one-shot cron run, in --watch on every tick, and in the
tests on a scripted price path. The returned state replaces the old one; nothing is sent
here. Order of precedence: a stop crossed, the last take-profit, a partial take-profit, a
reverse signal, the timeout; otherwise the stop may move (break-even, trailing), never away
from the price.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from tradekit.guard.settings import GuardSettings
from tradekit.guard.tracked import Tracked, better, crossed, reached

MINUTE = 60_000
CLOSE_REASONS = {
    "plan": "stop_loss",
    "default": "stop_loss",
    "break_even": "break_even_stop",
    "trailing": "trailing_stop",
}


@dataclass(frozen=True)
class Close:
    reason: str
    #: the share of the position to close (1 = all of it)
    fraction: Decimal = Decimal(1)
    #: for a partial take-profit: which one
    tp_index: int | None = None


@dataclass(frozen=True)
class MoveStop:
    price: Decimal
    reason: str


@dataclass(frozen=True)
class Decision:
    state: Tracked
    close: Close | None = None
    move_stop: MoveStop | None = None
    #: why nothing was closed (the event of a run that did not act)
    hold: str = "in_range"
    notes: dict[str, object] = field(default_factory=dict)


def decide(
    tracked: Tracked,
    price: Decimal,
    now_ms: int,
    settings: GuardSettings,
    *,
    exchange_holds_tps: bool = True,
    reverse_confirmed: bool = False,
) -> Decision:
    """What to do with `tracked` at `price`. `exchange_holds_tps`: its take-profits rest
    on the exchange (the guard then takes partial ones only if those are missing);
    `reverse_confirmed`: the opening strategy has signalled the other side often enough."""
    side = tracked.side
    state = replace(tracked, best=better_price(side, tracked.best, price))
    profit = tracked.direction * (price - state.entry) / state.entry

    if state.stop_loss is not None and crossed(side, price, state.stop_loss):
        return Decision(state, close=Close(CLOSE_REASONS[state.stop_kind]))
    if state.trail_stop is not None and crossed(side, price, state.trail_stop):
        return Decision(state, close=Close("trailing_stop"))
    if settings.fixed_exits and state.take_profits:
        close = _take_profit(state, price, exchange_holds_tps)
        if close is not None:
            return Decision(state, close=close)
    if reverse_confirmed:
        return Decision(state, close=Close("reverse_signal"))

    held_minutes = (now_ms - state.opened_ms) // MINUTE
    timeout = settings.timeout
    hold = "in_range"
    if timeout.max_hold_minutes and held_minutes >= timeout.max_hold_minutes:
        if profit > 0 and timeout.tighten_pct > 0:
            if state.tightened_pct is None:
                state = replace(state, tightened_pct=timeout.tighten_pct, trail_active=True)
            hold = "timeout_in_profit_trailing_tight"
        else:
            return Decision(state, close=Close("timeout"))

    state, moves = _stops(state, price, profit, settings)
    move = None
    if moves:
        reason, stop = moves[-1]  # the tightest of this run's candidates
        if state.stop_loss is None or _improves(side, stop, state.stop_loss, settings):
            move = MoveStop(stop, reason)
            state = replace(state, stop_loss=stop, stop_kind=reason)  # type: ignore[arg-type]
    return Decision(state, move_stop=move, hold=hold, notes={"profit": round(profit, 6)})


def better_price(side: str, best: Decimal | None, price: Decimal) -> Decimal:
    if best is None:
        return price
    return max(best, price) if side == "long" else min(best, price)


def _take_profit(state: Tracked, price: Decimal, exchange_holds_tps: bool) -> Close | None:
    last = len(state.take_profits) - 1
    if reached(state.side, price, state.take_profits[last]) and last not in state.tps_done:
        return Close("take_profit")
    if exchange_holds_tps:
        return None
    remaining = [i for i in range(len(state.take_profits)) if i not in state.tps_done]
    weights = state.tp_weights or [Decimal(1) / len(state.take_profits)] * len(state.take_profits)
    left = sum((weights[i] for i in remaining), Decimal(0)) or Decimal(1)
    for i in remaining:
        if i != last and reached(state.side, price, state.take_profits[i]):
            return Close(f"take_profit_{i + 1}", fraction=weights[i] / left, tp_index=i)
    return None


def _stops(
    state: Tracked, price: Decimal, profit: Decimal, settings: GuardSettings
) -> tuple[Tracked, list[tuple[str, Decimal]]]:
    """Candidate stops from break-even and trailing, tightest last."""
    side, moves = state.side, []
    be = settings.break_even
    if be.enabled and not state.be_done:
        by_profit = be.after_profit_pct > 0 and profit >= be.after_profit_pct
        by_tp1 = be.after_tp1 and 0 in state.tps_done
        if by_profit or by_tp1:
            state = replace(state, be_done=True)
            moves.append(("break_even", state.entry * (1 + state.direction * be.buffer)))
    trailing = settings.trailing
    if trailing.enabled or state.tightened_pct is not None:
        state = _trail(state, price, profit, settings)
        if state.trail_active and state.trail_stop is not None:
            moves.append(("trailing", state.trail_stop))
    moves.sort(key=lambda move: move[1], reverse=side == "short")  # tightest last
    return state, moves


def _trail(state: Tracked, price: Decimal, profit: Decimal, settings: GuardSettings) -> Tracked:
    trailing, best = settings.trailing, state.best
    assert best is not None
    use_atr = trailing.mode == "atr" and state.atr_at_entry and state.atr_at_entry > 0
    active = state.trail_active
    if not active and trailing.enabled:
        if use_atr:
            gain = state.direction * (best - state.entry)
            active = gain >= state.atr_at_entry * trailing.activate_atr  # type: ignore[operator]
        else:
            active = profit >= trailing.activation_pct
    if not active:
        return state
    distance = (
        state.atr_at_entry * trailing.trail_atr  # type: ignore[operator]
        if use_atr and trailing.enabled
        else best * trailing.trail_pct
    )
    if state.tightened_pct is not None:
        distance = (
            min(distance, best * state.tightened_pct)
            if trailing.enabled
            else (best * state.tightened_pct)
        )
    candidate = best - state.direction * distance
    return replace(
        state, trail_active=True, trail_stop=better(state.side, state.trail_stop, candidate)
    )


def _improves(side: str, new: Decimal, old: Decimal, settings: GuardSettings) -> bool:
    """Whether moving the stop from `old` to `new` tightens it by at least the minimum step
    (a stop never moves away from the price)."""
    step = old * settings.trailing.min_step
    return new - old >= step and new > old if side == "long" else old - new >= step and new < old
