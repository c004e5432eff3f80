"""The matching engine on scripted price paths; expected money is worked out by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradekit.exchange.engine import Engine
from tradekit.exchange.model import AccountState, MarketSpec, Order, Prices, Rejection

BTC = MarketSpec(
    "BTCUSDT",
    "BTC",
    price_tick=D("0.1"),
    size_step=D("0.0001"),
    min_size=D("0.0001"),
    min_notional=D("5"),
)
T = 1_700_000_000_000


def engine(mode: str = "one_way_mode", balance: str = "1000") -> Engine:
    e = Engine({"BTCUSDT": BTC}, AccountState(balance=D(balance), position_mode=mode))
    e.update_price("BTCUSDT", Prices(last=D(60000), mark=D(60000)), T)
    return e


def move(e: Engine, price: str, minute: int) -> list:
    return e.update_price("BTCUSDT", Prices(last=D(price), mark=D(price)), T + minute * 60_000)


def test_market_entry_fills_with_slippage_and_taker_fee() -> None:
    e = engine()
    order = e.place("BTCUSDT", "buy", D("0.01"), T, client_oid="e1")
    assert isinstance(order, Order)
    assert (order.status, order.filled, order.average) == ("filled", D("0.01"), D("60018.0"))
    assert order.fee == D("0.01") * D("60018.0") * D("0.0006")  # 0.360108
    position = e.state.positions[("BTCUSDT", "long")]
    assert (position.size, position.entry_price, position.margin) == (
        D("0.01"),
        D("60018.0"),
        D("60.018"),
    )
    assert e.state.balance == D(1000) - D("0.360108")
    assert e.available() == e.state.balance - D("60.018") + min(D(0), e.unrealized())


def test_stop_loss_fires_on_the_mark_and_takes_the_take_profit_with_it() -> None:
    e = engine()
    e.place("BTCUSDT", "buy", D("0.01"), T)
    sl = e.place(
        "BTCUSDT",
        "sell",
        D("0.01"),
        T,
        plan_type="pos_loss",
        trigger_price=D("59000"),
        client_oid="sl",
    )
    tp = e.place(
        "BTCUSDT",
        "sell",
        D("0.01"),
        T,
        plan_type="pos_profit",
        trigger_price=D("62000"),
        client_oid="tp",
    )
    assert isinstance(sl, Order) and isinstance(tp, Order) and sl.status == tp.status == "live"
    assert move(e, "59500", 1) == []
    fills = move(e, "58990", 2)
    assert len(fills) == 1 and fills[0].price == D("58972.3")  # 58990 x (1 - 0.0003), tick 0.1
    profit = (D("58972.3") - D("60018.0")) * D("0.01")
    assert fills[0].profit == profit
    assert ("BTCUSDT", "long") not in e.state.positions
    assert e.find(client_oid="sl").status == "triggered"
    assert e.find(client_oid="tp").status == "canceled"
    entry_fee = D("0.01") * D("60018.0") * D("0.0006")
    exit_fee = D("0.01") * D("58972.3") * D("0.0006")
    assert e.state.balance == D(1000) - entry_fee + profit - exit_fee


def test_take_profit_and_partial_stop_sizes() -> None:
    e = engine()
    e.place("BTCUSDT", "buy", D("0.02"), T)
    e.place("BTCUSDT", "sell", D("0.01"), T, plan_type="pos_profit", trigger_price=D("61000"))
    move(e, "61000", 1)
    assert e.state.positions[("BTCUSDT", "long")].size == D("0.01")  # half taken
    whole = e.place("BTCUSDT", "sell", D(0), T, plan_type="pos_loss", trigger_price=D("60500"))
    assert isinstance(whole, Order) and whole.whole_position
    move(e, "60400", 2)
    assert ("BTCUSDT", "long") not in e.state.positions


def test_resting_limit_fills_when_traded_through_as_maker() -> None:
    e = engine()
    order = e.place("BTCUSDT", "buy", D("0.01"), T, type="limit", price=D("59000"))
    assert order.status == "live" and e.used_margin() == D("0.01") * D(59000) / 10
    move(e, "59100", 1)
    assert e.find(order.id).status == "live"
    fills = e.update_price(
        "BTCUSDT", Prices(D("59050"), D("59050"), high=D("59200"), low=D("58950")), T + 120_000
    )
    assert [(f.price, f.maker) for f in fills] == [(D("59000"), True)]
    assert fills[0].fee == D("0.01") * D(59000) * D("0.0002")


def test_partial_fill_leaves_the_rest_for_the_next_price() -> None:
    e = engine()
    order = e.place("BTCUSDT", "buy", D("0.01"), T, fill_ratio=D("0.4"))
    assert (order.status, order.filled) == ("partially_filled", D("0.004"))
    move(e, "60100", 1)
    done = e.find(order.id)
    assert (done.status, done.filled) == ("filled", D("0.01"))
    assert e.state.positions[("BTCUSDT", "long")].size == D("0.01")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"side": "sell", "size": D("0.01"), "reduce_only": True}, "22002"),
        ({"side": "buy", "size": D("1")}, "40762"),  # 60k notional on 1000 USDT at 10x
        ({"side": "buy", "size": D("0.00001")}, "40808"),
        ({"side": "buy", "size": D("0.0001")}, "45110"),  # at 40000 (below): 4 USDT < 5
        ({"side": "buy", "size": D("0.01"), "trade_side": "open"}, "40774"),
        ({"side": "buy", "size": D("0.01"), "type": "limit", "price": D("59000.05")}, "41103"),
    ],
)
def test_refusals_carry_bitgets_codes(kwargs: dict, code: str) -> None:
    e = engine()
    if code == "45110":
        kwargs["size"] = D("0.0001")
        e.update_price("BTCUSDT", Prices(D(40000), D(40000)), T)  # 4 USDT notional
    result = e.place("BTCUSDT", now=T, **kwargs)
    assert isinstance(result, Rejection) and result.code == code


def test_duplicate_client_oid_is_refused() -> None:
    e = engine()
    assert isinstance(e.place("BTCUSDT", "buy", D("0.01"), T, client_oid="x"), Order)
    assert e.place("BTCUSDT", "buy", D("0.01"), T, client_oid="x").code == "40786"
    assert len(e.state.fills) == 1


def test_one_way_net_position_flips() -> None:
    e = engine()
    e.place("BTCUSDT", "buy", D("0.01"), T)
    e.place("BTCUSDT", "sell", D("0.03"), T)
    assert list(e.state.positions) == [("BTCUSDT", "short")]
    assert e.state.positions[("BTCUSDT", "short")].size == D("0.02")


def test_hedge_mode_holds_both_sides_and_closes_with_buy_close() -> None:
    e = engine("hedge_mode")
    assert e.place("BTCUSDT", "buy", D("0.01"), T).code == "40774"  # hedge needs tradeSide
    e.place("BTCUSDT", "buy", D("0.01"), T, trade_side="open")
    e.place("BTCUSDT", "sell", D("0.02"), T, trade_side="open")
    assert {k[1]: p.size for k, p in e.state.positions.items()} == {
        "long": D("0.01"),
        "short": D("0.02"),
    }
    closed = e.place("BTCUSDT", "buy", D("0.01"), T, trade_side="close")  # closes the LONG
    assert isinstance(closed, Order) and closed.position_side == "long"
    assert list(e.state.positions) == [("BTCUSDT", "short")]
    assert e.close_position("BTCUSDT", T)[0].position_side == "short"
    assert e.state.positions == {}


def test_isolated_long_is_liquidated_at_its_liquidation_price() -> None:
    e = engine()
    e.place("BTCUSDT", "buy", D("0.01"), T)
    position = e.state.positions[("BTCUSDT", "long")]
    liq = position.liquidation_price(BTC)
    assert liq == D("60018.0") - D("6001.8") + D("0.004") * D("60018.0")
    move(e, str(liq + 10), 1)
    assert ("BTCUSDT", "long") in e.state.positions
    move(e, str(liq - 10), 2)
    assert ("BTCUSDT", "long") not in e.state.positions
    assert e.state.fills[-1].profit == -D("60.018")  # the whole isolated margin is lost


def test_modes_cannot_change_under_a_position() -> None:
    e = engine()
    e.place("BTCUSDT", "buy", D("0.01"), T)
    assert e.set_position_mode("hedge_mode").code == "40920"
    assert e.set_margin_mode("BTCUSDT", "crossed").code == "45117"
    assert e.set_leverage("BTCUSDT", 200).code == "40797"
    e.close_position("BTCUSDT", T)
    assert e.set_position_mode("hedge_mode") is None
    assert e.cancel(order_id="nope").code == "40768"


def test_a_hedge_close_of_a_long_is_a_sale_at_the_bid() -> None:
    e = engine("hedge_mode")
    e.place("BTCUSDT", "buy", D("0.01"), T, trade_side="open")  # at 60018.0 (ask)
    close = e.place("BTCUSDT", "buy", D("0.01"), T, trade_side="close")  # Bitget: buy+close
    assert isinstance(close, Order) and close.average == D("59982.0")  # 60000 x (1 - 0.0003)
    assert e.state.fills[-1].profit == (D("59982.0") - D("60018.0")) * D("0.01")


# -- regressions from the review of the engine (each was a confirmed defect) -------------------


def test_one_way_resting_orders_act_on_the_position_when_they_fill() -> None:
    e = engine()
    e.place("BTCUSDT", "buy", D("0.01"), T)  # long
    e.place("BTCUSDT", "sell", D("0.01"), T, type="limit", price=D("61000"))  # take profit
    e.close_position("BTCUSDT", T)
    fills = e.update_price("BTCUSDT", Prices(D(61100), D(61100)), T + 1)
    assert [k[1] for k in e.state.positions] == ["short"]  # the sell sold: it opened a short
    assert fills[0].side == "sell"
    e2 = engine()
    e2.place("BTCUSDT", "buy", D("0.01"), T, type="limit", price=D("59000"))
    e2.place("BTCUSDT", "sell", D("0.01"), T)  # now short
    e2.update_price("BTCUSDT", Prices(D(58900), D(58900)), T + 1)
    assert e2.state.positions == {}  # the buy closed the short; never both sides in one-way


def test_conditional_entries_fire_only_when_the_price_reaches_them() -> None:
    e = engine()
    dip = e.place("BTCUSDT", "buy", D("0.01"), T, plan_type="plan", trigger_price=D("59000"))
    move(e, "60000", 1)
    assert e.find(dip.id).status == "live"
    move(e, "58990", 2)
    assert e.find(dip.id).status == "triggered"
    assert e.state.positions[("BTCUSDT", "long")].size == D("0.01")


def test_a_limit_is_not_filled_at_placement_by_the_last_bars_range() -> None:
    e = engine()
    e.update_price("BTCUSDT", Prices(D(60000), D(60000), high=D(61000), low=D(58000)), T)
    order = e.place("BTCUSDT", "buy", D("0.01"), T, type="limit", price=D("59000"))
    assert order.status == "live"


def test_a_stop_fires_before_liquidation_and_at_its_trigger_within_a_bar() -> None:
    e = engine()
    e.place("BTCUSDT", "buy", D("0.01"), T)  # 10x isolated: liquidation near 54256
    e.place("BTCUSDT", "sell", D("0.01"), T, plan_type="pos_loss", trigger_price=D("59000"))
    fills = e.update_price(
        "BTCUSDT", Prices(D(53000), D(53000), high=D(60100), low=D(52900)), T + 60_000
    )
    assert len(fills) == 1 and fills[0].price == D("58982.3")  # 59000 - 3 bps, not 53000
    assert e.state.fills[-1].profit == (D("58982.3") - D("60018.0")) * D("0.01")


def test_a_conditional_entry_without_margin_is_rejected_when_it_fires() -> None:
    e = engine()
    big = e.place("BTCUSDT", "buy", D("1"), T, plan_type="plan", trigger_price=D("60100"))
    move(e, "60200", 1)
    assert e.find(big.id).status == "rejected" and e.state.positions == {}
    assert e.available() > 0


def test_crossed_positions_are_liquidated_when_equity_reaches_maintenance() -> None:
    e = engine()
    e.set_margin_mode("BTCUSDT", "crossed")
    e.set_leverage("BTCUSDT", 50)
    e.place("BTCUSDT", "buy", D("0.8"), T)  # 48014 notional on 1000 equity
    move(e, "59500", 1)  # equity ~571 > maintenance 0.4 % x 47600 = 190: held
    assert ("BTCUSDT", "long") in e.state.positions
    move(e, "59000", 2)  # equity ~157 < maintenance 189: liquidated at the mark
    assert e.state.positions == {}
    assert e.state.fills[-1].price == D(59000)


def test_unknown_order_types_and_sides_are_refused() -> None:
    e = engine()
    assert e.place("BTCUSDT", "buy", D("0.01"), T, type="stop").code == "40020"
    assert e.place("BTCUSDT", "hold", D("0.01"), T).code == "40020"


def test_a_partially_filled_flip_still_opens_the_rest() -> None:
    e = engine()
    e.place("BTCUSDT", "buy", D("0.01"), T)
    flip = e.place("BTCUSDT", "sell", D("0.02"), T, fill_ratio=D("0.5"))
    assert flip.status == "partially_filled" and e.state.positions == {}
    move(e, "60000", 1)
    assert e.state.positions[("BTCUSDT", "short")].size == D("0.01")


def test_presets_attach_when_a_resting_entry_fills_and_bad_ones_refuse_it() -> None:
    e = engine()
    entry = e.place(
        "BTCUSDT",
        "buy",
        D("0.01"),
        T,
        type="limit",
        price=D("59000"),
        preset_sl=D("58000"),
        preset_tp=D("62000"),
        client_oid="pe",
    )
    assert entry.status == "live" and e.find(client_oid="pe-sl") is None
    move(e, "58950", 1)
    assert e.find(client_oid="pe-sl").status == "live"
    assert e.find(client_oid="pe-tp").trigger_price == D("62000")
    off_tick = e.place("BTCUSDT", "buy", D("0.01"), T, preset_sl=D("58000.05"))
    assert off_tick.code == "41103"
