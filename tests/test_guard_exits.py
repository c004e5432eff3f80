"""The guard's exit rules on scripted price paths (pure: no exchange, no clock)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from tradekit.guard.exits import Decision, decide
from tradekit.guard.settings import GuardSettings
from tradekit.guard.tracked import Tracked

T0 = 1_771_524_000_000
MIN = 60_000


def position(**changes: Any) -> Tracked:
    values: dict[str, Any] = {
        "symbol": "BTCUSDT",
        "side": "long",
        "opened_ms": T0,
        "entry": D(100),
        "initial_size": D(1),
        "size": D(1),
        "stop_loss": D(95),
        "take_profits": [D(105), D(110)],
        "tp_weights": [D("0.5"), D("0.5")],
    }
    values.update(changes)
    return Tracked(**values)


def settings(**sections: dict[str, Any]) -> GuardSettings:
    """[guard] as a user writes it (numbers as text here, for exact decimals)."""
    base: dict[str, Any] = {"break_even": {"enabled": False}}
    base.update(sections)
    typed = {
        name: {key: D(value) if isinstance(value, str) and key != "mode" else value
               for key, value in table.items()}
        for name, table in base.items()
    }  # fmt: skip
    return GuardSettings.model_validate(typed)


def walk(
    tracked: Tracked, prices: list[str], config: GuardSettings, **kwargs: Any
) -> list[Decision]:
    """Each price one minute after the last; the state carries over, as between runs."""
    decisions = []
    for minute, price in enumerate(prices):
        decision = decide(tracked, D(price), T0 + minute * MIN, config, **kwargs)
        decisions.append(decision)
        tracked = decision.state
        if decision.close:
            break
    return decisions


def closes(decisions: list[Decision]) -> list[tuple[int, str]]:
    return [(i, d.close.reason) for i, d in enumerate(decisions) if d.close]


def stops(decisions: list[Decision]) -> list[tuple[int, str, D]]:
    return [
        (i, d.move_stop.reason, d.move_stop.price) for i, d in enumerate(decisions) if d.move_stop
    ]


def test_the_plan_stop_loss_closes_when_crossed() -> None:
    decisions = walk(position(), ["99", "96", "95.1", "94.9"], settings())
    assert closes(decisions) == [(3, "stop_loss")]
    assert [d.hold for d in decisions[:3]] == ["in_range"] * 3


def test_the_last_take_profit_closes_all() -> None:
    assert closes(walk(position(), ["104", "110"], settings())) == [(1, "take_profit")]


def test_partial_take_profits_only_when_the_exchange_does_not_hold_them() -> None:
    assert closes(walk(position(), ["105.5"], settings())) == []
    [decision] = walk(position(), ["105.5"], settings(), exchange_holds_tps=False)
    assert decision.close is not None
    assert (decision.close.reason, decision.close.fraction, decision.close.tp_index) == (
        "take_profit_1",
        D("0.5"),
        0,
    )
    taken = position(tps_done=[0], tp_weights=[D("0.35"), D("0.35"), D("0.3")])
    taken.take_profits = [D(105), D(107), D(110)]
    [second] = walk(taken, ["107"], settings(), exchange_holds_tps=False)
    assert second.close is not None and second.close.fraction == D("0.35") / D("0.65")


def test_break_even_after_a_profit_then_the_stop_at_entry_closes() -> None:
    config = settings(break_even={"after_profit_pct": "0.01", "buffer": "0.0005"})
    decisions = walk(position(), ["100.5", "101.2", "102", "100.05"], config)
    assert stops(decisions) == [(1, "break_even", D("100.0500"))]
    assert closes(decisions) == [(3, "break_even_stop")]


def test_break_even_after_the_first_take_profit() -> None:
    config = settings(break_even={"after_profit_pct": "0", "after_tp1": True})
    decisions = walk(position(tps_done=[0]), ["100.2"], config)
    assert stops(decisions) == [(0, "break_even", D("100.0500"))]


#: trailing by 0.5 % once 1 % in profit
PERCENT_TRAIL = {"enabled": True, "mode": "percent", "activation_pct": "0.01", "trail_pct": "0.005"}


def test_a_percent_trailing_stop_activates_follows_and_never_loosens() -> None:
    config = settings(trailing=PERCENT_TRAIL)
    decisions = walk(position(), ["100.5", "101", "102", "101.6", "101.48"], config)
    assert stops(decisions) == [(1, "trailing", D("100.495")), (2, "trailing", D("101.490"))]
    assert decisions[3].state.trail_stop == D("101.490")  # the price fell: the stop stays
    assert closes(decisions) == [(4, "trailing_stop")]


def test_an_atr_trailing_stop() -> None:
    config = settings(
        trailing={"enabled": True, "mode": "atr", "activate_atr": "1", "trail_atr": "1.5"}
    )
    decisions = walk(position(atr_at_entry=D(2)), ["101", "102", "104", "101.1", "100.9"], config)
    # active at 102 (2 = 1 ATR in profit): 102 - 1.5 x 2; then 104 - 3
    assert stops(decisions) == [(1, "trailing", D("99.0")), (2, "trailing", D("101.0"))]
    assert closes(decisions) == [(4, "trailing_stop")]


def test_the_trailing_stop_is_not_moved_for_less_than_the_minimum_step() -> None:
    config = settings(trailing={**PERCENT_TRAIL, "min_step": "0.01"})
    decisions = walk(position(), ["101", "101.5", "103"], config)
    assert stops(decisions) == [(0, "trailing", D("100.495")), (2, "trailing", D("102.485"))]


def test_a_losing_position_is_closed_at_its_timeout() -> None:
    config = settings(timeout={"max_hold_minutes": 3})
    assert closes(walk(position(), ["99", "99", "99", "99.5"], config)) == [(3, "timeout")]


def test_a_profitable_timeout_tightens_the_trail_and_it_really_takes_effect() -> None:
    config = settings(timeout={"max_hold_minutes": 2, "tighten_pct": "0.003"})
    decisions = walk(position(), ["101", "101", "101", "101.2", "100.8"], config)
    assert decisions[2].hold == "timeout_in_profit_trailing_tight"
    assert decisions[2].state.tightened_pct == D("0.003")
    # the seed recomputed the trail from its normal settings on the next run (defect 7)
    assert stops(decisions) == [(2, "trailing", D("100.697")), (3, "trailing", D("100.8964"))]
    assert closes(decisions) == [(4, "trailing_stop")]


def test_a_confirmed_reverse_signal_closes() -> None:
    [decision] = walk(position(), ["100.5"], settings(), reverse_confirmed=True)
    assert decision.close is not None and decision.close.reason == "reverse_signal"


def test_shorts_mirror_longs() -> None:
    short = position(side="short", stop_loss=D(105), take_profits=[D(95), D(90)])
    config = settings(trailing=PERCENT_TRAIL)
    decisions = walk(short, ["99.5", "99", "98", "98.4", "98.5"], config)
    assert stops(decisions) == [(1, "trailing", D("99.495")), (2, "trailing", D("98.490"))]
    assert closes(decisions) == [(4, "trailing_stop")]
    assert closes(walk(short, ["104", "105"], settings())) == [(1, "stop_loss")]
    assert closes(walk(short, ["90"], settings())) == [(0, "take_profit")]
