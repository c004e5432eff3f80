"""The risk rules, one at a time and all together: a base plan and account that pass, then
one change per rule, which must add exactly that rule's reason."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from typing import Any

import pytest

from tradekit import jsonio
from tradekit.exchange.base import Ticker
from tradekit.exchange.markets import DEFAULT_MARKETS
from tradekit.guard.settings import WatchSettings
from tradekit.records import TradePlan
from tradekit.risk.account import AccountSnapshot, Entry
from tradekit.risk.rules import assess, day_start_ms
from tradekit.risk.settings import RiskSettings, SizingSettings, StopLossSettings

NOW = 1771524000000  # 2026-02-19T18:00:00Z
MIN = 60_000
BASE_SNAP = AccountSnapshot(
    mode="paper", equity=D(1000), available=D(1000), positions=frozenset(), entries_today=(),
    last_entry={}, realized_today=D(0), peak_equity=D(1000), consecutive_stop_losses=0,
    last_stop_loss_ms=None, losses_in_a_row=0, kill="off", kill_source="",
    markets=DEFAULT_MARKETS, tickers={"BTCUSDT": Ticker(D(60000), D(60000), NOW)},
    max_price_age_seconds=WatchSettings().max_stale_seconds, atr=lambda _s: D(500),
)  # fmt: skip
SETTINGS = RiskSettings()


def plan(**changes: Any) -> TradePlan:
    body: dict[str, Any] = {
        "symbol": "BTCUSDT",
        "side": "long",
        "level": "strong",
        "stopLoss": 59000,
        "takeProfits": [61000, 62000],
    }
    body.update(changes)
    return TradePlan.model_validate(
        jsonio.loads(jsonio.dumps({"tradePlanVersion": 1, "cycleId": "c", "plan": body}))
    )


def test_the_base_case_is_approved_and_sized() -> None:
    block = assess(plan(), BASE_SNAP, SETTINGS, NOW)
    assert block is not None and block.approved and block.reasons == []
    assert (block.quantity, block.entry_price, block.stop_loss, block.leverage) == (
        D("0.0001"),
        D(60000),
        D(59000),
        5,
    )  # fixed 8 USDT for "strong" / 60000 = 0.000133 -> 0.0001 BTC
    assert block.risk_amount == D("0.1")  # 0.0001 x (60000 - 59000)


RULES = [
    ("disabled", {}, {"settings": {"enabled": False}}, "trading is disabled"),
    (
        "kill switch",
        {},
        {"snap": {"kill": "safe", "kill_source": "file KILL_SWITCH"}},
        "kill switch is safe (file KILL_SWITCH)",
    ),
    (
        "blocked symbol",
        {},
        {"settings": {"blocked_symbols": ["BTCUSDT"]}},
        "BTCUSDT is in [risk] blocked_symbols",
    ),
    ("allow list", {}, {"settings": {"symbols": ["ETHUSDT"]}}, "BTCUSDT is not in [risk] symbols"),
    (
        "not tradable",
        {"symbol": "DOGEUSDT"},
        {"snap": {"tickers": {"DOGEUSDT": Ticker(D(60000), D(60000), NOW)}}},
        "DOGEUSDT is not tradable on the exchange",
    ),
    ("side", {}, {"settings": {"sides": ["short"]}}, "long entries are not allowed"),
    (
        "stale price",
        {},
        {"snap": {"tickers": {"BTCUSDT": Ticker(D(60000), D(60000), NOW - 10 * MIN)}}},
        "price: BTCUSDT last price is 10 min old (from 2026-02-19T17:50:00Z; "
        "[guard.watch] max_stale_seconds is 5)",
    ),
    (
        "trades per day",
        {},
        {
            "settings": {"max_trades_per_day": 2},
            "snap": {
                "entries_today": (
                    Entry("ETHUSDT", "long", NOW - 90 * MIN),
                    Entry("ETHUSDT", "long", NOW - 60 * MIN),
                )
            },
        },
        "2 entries today: the daily maximum is 2",
    ),
    (
        "min interval",
        {},
        {"snap": {"entries_today": (Entry("ETHUSDT", "long", NOW - MIN),)}},
        "last entry 1 min ago: the minimum interval is 3 min",
    ),
    (
        "daily loss cap",
        {},
        {"settings": {"daily_loss_cap_usdt": D(10)}, "snap": {"realized_today": D("-10.5")}},
        "daily loss cap reached: -10.5 USDT today (cap 10)",
    ),
    (
        "max positions",
        {},
        {
            "settings": {"max_open_positions": 1},
            "snap": {"positions": frozenset({("ETHUSDT", "long")})},
        },
        "1 positions open: the maximum is 1",
    ),
    (
        "one per symbol",
        {},
        {"snap": {"positions": frozenset({("BTCUSDT", "short")})}},
        "a BTCUSDT position is already open",
    ),
    (
        "cooldown",
        {},
        {"snap": {"last_entry": {("BTCUSDT", "long"): NOW - 4 * MIN}}},
        "BTCUSDT long cooldown: last entry 4 min ago (cooldown 5 min)",
    ),
    (
        "stop-loss streak",
        {},
        {"snap": {"consecutive_stop_losses": 3, "last_stop_loss_ms": NOW - 10 * MIN}},
        "3 stop-losses in a row: no entries for 50 more min",
    ),
    (
        "drawdown",
        {},
        {"snap": {"equity": D(800), "peak_equity": D(1000)}},
        "drawdown 20 % from the peak 1000 (max 15 %)",
    ),
    ("confidence", {"confidence": 0.5}, {}, "plan.confidence: 0.5 is below 0.8"),
    (
        "signal age",
        {"source": {"kind": "strategy", "timeframe": "1h", "barTime": "2026-02-19T16:00:00Z"}},
        {},  # on by default: its bar closed at 17:00, an hour before NOW
        "signal is 60 min old (from 2026-02-19T17:00:00Z; max 300 s)",
    ),
    (
        "leverage reject",
        {"leverage": 50},
        {"settings": {"leverage_policy": "reject"}},
        "leverage 50x is above the maximum 10x",
    ),
    (
        "limit slippage",
        {"entry": {"type": "limit", "price": 60500}},
        {},
        "limit entry 60500 is 0.833 % from the price 60000 (max 0.3 %)",
    ),
    ("no price", {}, {"snap": {"tickers": {}}}, "no current price for BTCUSDT"),
    (
        "margin",
        {"leverage": 1},
        {"snap": {"available": D(5)}},
        "needs 6 USDT margin at 1x, 5 available",
    ),
]


@pytest.mark.parametrize(
    ("name", "plan_changes", "state", "reason"), RULES, ids=[rule[0] for rule in RULES]
)
def test_each_rule_alone(name: str, plan_changes: dict, state: dict, reason: str) -> None:
    settings = SETTINGS.model_copy(update=state.get("settings", {}))
    snap = replace(BASE_SNAP, **state.get("snap", {}))
    block = assess(plan(**plan_changes), snap, settings, NOW)
    assert block is not None and not block.approved
    assert len(block.reasons) == 1, block.reasons
    assert block.reasons[0].startswith(reason), block.reasons


def test_every_reason_is_listed_together() -> None:
    settings = SETTINGS.model_copy(update={"enabled": False, "sides": ["short"]})
    snap = replace(
        BASE_SNAP,
        kill="panic",
        kill_source="$TK_KILL_SWITCH",
        positions=frozenset({("BTCUSDT", "long")}),
    )
    block = assess(plan(confidence=0.1), snap, settings, NOW)
    assert block is not None and len(block.reasons) == 5


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"side": None}, "plan.side: required to open a position"),
        ({"symbol": None}, "plan.symbol: required to open a position"),
        ({"stopLoss": -1}, "plan.stopLoss: -1 must be above 0"),
        ({"stopLoss": 61000}, "plan.stopLoss: 61000 must be below the entry 60000 for a long"),
        ({"takeProfits": [62000, 61000]}, "plan.takeProfits: must be rising for a long"),
        ({"takeProfits": [59500]}, "plan.takeProfits: 59500 must be above the entry 60000"),
        (
            {"entry": {"type": "limit", "low": 61000, "high": 60000}},
            "plan.entry: low is above high",
        ),
        (
            {"side": "short", "stopLoss": 10**40, "takeProfits": []},
            "plan: its prices are too large to size an order",
        ),
    ],
)
def test_bad_plans_are_blocked_naming_the_field(changes: dict, reason: str) -> None:
    block = assess(plan(**changes), BASE_SNAP, SETTINGS, NOW)
    assert block is not None and not block.approved
    assert any(r.startswith(reason) for r in block.reasons), block.reasons


def test_leverage_is_capped_with_a_warning() -> None:
    block = assess(plan(leverage=50), BASE_SNAP, SETTINGS, NOW)
    assert block.approved and block.leverage == 10
    assert block.warnings == ["leverage capped from 50x to 10x"]


def test_default_stop_loss_from_atr_then_percent() -> None:
    no_sl = plan(stopLoss=None, takeProfits=None)
    block = assess(no_sl, BASE_SNAP, SETTINGS, NOW)
    assert block.stop_loss == D(60000) - D("1.8") * D(500)  # 59100
    assert block.take_profits == [D(60000) + D(6) * D(500)]
    no_atr = assess(no_sl, replace(BASE_SNAP, atr=lambda _s: None), SETTINGS, NOW)
    assert no_atr.stop_loss == D(60000) * (1 - D("0.02"))
    assert "(no ATR available)" in no_atr.warnings[0]
    strict = SETTINGS.model_copy(update={"stop_loss": StopLossSettings(default=False)})
    refused = assess(no_sl, BASE_SNAP, strict, NOW)
    assert refused.reasons == ["plan.stopLoss: required ([risk.stop_loss] default = false)"]


def test_risk_sizing_uses_equity_and_the_stop_distance() -> None:
    sizing = SizingSettings(mode="risk", risk_per_trade=D("0.01"), max_notional=D(100000))
    settings = SETTINGS.model_copy(update={"sizing": sizing, "max_leverage": 100})
    block = assess(plan(leverage=100), BASE_SNAP, settings, NOW)
    # 1000 x 1 % = 10 USDT at risk over 1000 USDT of stop distance = 0.01 BTC
    assert (block.quantity, block.risk_amount) == (D("0.0100"), D("10.0000"))
    streak = SizingSettings(
        mode="risk",
        risk_per_trade=D("0.01"),
        max_notional=D(100000),
        loss_streak_after=3,
        loss_streak_risk_per_trade=D("0.005"),
    )
    throttled = assess(
        plan(leverage=100),
        replace(BASE_SNAP, losses_in_a_row=3),
        SETTINGS.model_copy(update={"sizing": streak, "max_leverage": 100}),
        NOW,
    )
    assert throttled.quantity == D("0.0050")


def aged(bar_open: str, timeframe: str | None = "1h") -> TradePlan:
    return plan(source={"kind": "strategy", "timeframe": timeframe, "barTime": bar_open})


def test_the_daily_caps_and_the_signal_age_are_on_by_default_and_0_turns_each_off() -> None:
    six = tuple(Entry("ETHUSDT", "long", NOW - (90 + i) * MIN) for i in range(6))
    losing_day = replace(BASE_SNAP, realized_today=D(-25), entries_today=six)
    month_old = aged("2026-01-19T17:00:00Z")  # the bar closed a month before NOW
    assert assess(month_old, losing_day, SETTINGS, NOW).reasons == [
        "6 entries today: the daily maximum is 6",
        "daily loss cap reached: -25 USDT today (cap 25)",
        "signal is 31 days old (from 2026-01-19T18:00:00Z; max 300 s)",
    ]
    off = {"max_trades_per_day": 0, "daily_loss_cap_usdt": D(0), "max_signal_age_seconds": 0}
    assert assess(month_old, losing_day, SETTINGS.model_copy(update=off), NOW).approved


@pytest.mark.parametrize(
    ("record", "approved"),
    [
        (aged("2026-02-19T17:00:00Z"), True),  # its bar closed at NOW
        (aged("2026-02-19T17:50:00Z", "5m"), True),  # 300 s after its bar closed
        (aged("2026-02-19T17:49:00Z", "5m"), False),  # 360 s
        (aged("2026-02-19T17:56:00Z", None), True),  # no timeframe: from the barTime
        (aged("2026-02-19T17:54:00Z", None), False),
        (aged("2026-02-16T00:00:00Z", "1w"), True),  # a bar still forming: not old
    ],
)
def test_a_signal_is_as_old_as_the_time_since_its_bar_closed(
    record: TradePlan, approved: bool
) -> None:
    assert assess(record, BASE_SNAP, SETTINGS, NOW).approved is approved


def test_a_plan_without_a_source_is_aged_by_its_strategy_cycle_id() -> None:
    def with_cycle(cycle: str) -> TradePlan:
        return plan().model_copy(update={"cycle_id": cycle})

    old = assess(with_cycle("v5:BTCUSDT:1h:2025-11-20T10:00:00Z"), BASE_SNAP, SETTINGS, NOW)
    assert old.reasons == ["signal is 3 months old (from 2025-11-20T10:00:00Z; max 300 s)"]
    for fresh in ("v5:BTCUSDT:1h:2026-02-19T18:00:00Z", "tg:IvanCryptotalk:48213", "c1"):
        assert assess(with_cycle(fresh), BASE_SNAP, SETTINGS, NOW).approved, fresh


def test_a_bad_source_timeframe_is_a_reason_naming_the_field() -> None:
    block = assess(aged("2026-02-19T17:00:00Z", "banana"), BASE_SNAP, SETTINGS, NOW)
    assert block.reasons == [
        "plan.source.timeframe: 'banana' is not a timeframe (like 1m, 5m, 15m, 1h, 4h, 1d)"
    ]


def test_manage_actions_go_through_safe_mode_but_need_their_fields() -> None:
    snap = replace(BASE_SNAP, kill="safe", positions=frozenset({("BTCUSDT", "long")}))
    assert assess(plan(action="close"), snap, SETTINGS, NOW).approved
    bad = assess(plan(action="reduce", reducePct=150), snap, SETTINGS, NOW)
    assert bad.reasons == ["plan.reducePct: must be above 0 and at most 100"]
    tp = assess(plan(action="set_tp", takeProfits=[0]), snap, SETTINGS, NOW)
    assert tp.reasons == ["plan.takeProfits: set_tp needs take-profit prices above 0"]


def test_plan_null_gets_no_risk_block() -> None:
    empty = TradePlan.model_validate({"tradePlanVersion": 1, "cycleId": "c", "plan": None})
    assert assess(empty, BASE_SNAP, SETTINGS, NOW) is None


def test_the_trading_day_follows_the_configured_time_zone() -> None:
    # 2026-02-19T18:00Z is 02:00 on the 20th in Shanghai: that day began at 16:00Z.
    assert day_start_ms(NOW, "Asia/Shanghai") == NOW - 2 * 3_600_000
    assert day_start_ms(NOW, "UTC") == NOW - 18 * 3_600_000
