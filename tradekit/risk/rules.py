"""The risk rules: a plan and an account snapshot in, the `risk` block out.

Every rule that applies adds its reason; a plan is approved only when none does. Nothing is
raised for a bad plan: a missing side, a price <= 0, a stop on the wrong side or take-profits
out of order are reasons naming the field, and the line goes on down the pipe.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, DecimalException
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from tradekit.clock import parse_time
from tradekit.errors import UsageError
from tradekit.exchange.model import MarketSpec
from tradekit.jsonio import json_number
from tradekit.market.candles import timeframe_ms
from tradekit.market.freshness import describe_age, stale_reason
from tradekit.records import Plan, TradePlan
from tradekit.risk.account import AccountSnapshot
from tradekit.risk.limits import stop_past_liquidation
from tradekit.risk.settings import RiskSettings

ZERO = Decimal(0)
MINUTE = 60_000


class RiskResult(NamedTuple):
    """The `risk` block as assess() decides it: the fields of records.RiskBlock, built
    without pydantic (constructing a model per plan cost as much as all the rules) and
    as a NamedTuple (a frozen dataclass costs a setattr call per field)."""

    approved: bool
    reasons: list[str]
    warnings: list[str]
    quantity: Decimal | None = None
    notional: Decimal | None = None
    leverage: int | None = None
    entry_price: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profits: list[Decimal] | None = None
    risk_amount: Decimal | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """As RiskBlock.to_json_dict() writes it: camelCase, unset fields left out; the
        numbers already as their exact JSON text (what jsonio.dumps would write)."""
        approved, reasons, warnings, quantity, notional, leverage, entry, stop, tps, risk = self
        out: dict[str, Any] = {"approved": approved, "reasons": reasons, "warnings": warnings}
        if quantity is not None:
            out["quantity"] = json_number(quantity)
        if notional is not None:
            out["notional"] = json_number(notional)
        if leverage is not None:
            out["leverage"] = leverage
        if entry is not None:
            out["entryPrice"] = json_number(entry)
        if stop is not None:
            out["stopLoss"] = json_number(stop)
        if tps is not None:
            out["takeProfits"] = [json_number(tp) for tp in tps]
        if risk is not None:
            out["riskAmount"] = json_number(risk)
        return out


_block = RiskResult


def day_start_ms(now_ms: int, timezone: str) -> int:
    """Midnight of `now` in the configured time zone, in epoch ms."""
    local = datetime.fromtimestamp(now_ms / 1000, tz=UTC).astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp() * 1000)


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _parse_problems(record: TradePlan) -> list[str]:
    """A signal its parser found self-contradictory (tk-parse-tg: a long whose stop is at or
    above the low of its entry range, which the entry's midpoint may not show)."""
    parse = record.parse
    if parse is None or parse.valid is not False:
        return []
    return [f"parse.valid: false: {parse.reason or 'the signal contradicts itself'}"]


def _plan_problems(plan: Plan, entry: Decimal | None) -> list[str]:
    """What an open plan lacks or gets wrong, naming the field."""
    problems = []
    side, stop, tps = plan.side, plan.stop_loss, plan.take_profits or []
    if not plan.symbol:
        problems.append("plan.symbol: required to open a position")
    if side is None:
        problems.append("plan.side: required to open a position (long or short)")
    if (stop is not None and stop <= 0) or plan.entry or not all(tp > 0 for tp in tps):
        problems += _number_problems(plan)
        tps = [tp for tp in tps if tp > 0]
    if side is None:
        return problems
    long = side == "long"
    if len(tps) > 1 and tps != sorted(tps, reverse=not long):
        way = "rising" if long else "falling"
        problems.append(f"plan.takeProfits: must be {way} for a {side} (nearest first)")
    if entry is not None:
        if stop is not None and stop > 0 and ((stop >= entry) if long else (stop <= entry)):
            where = "below" if long else "above"
            problems.append(
                f"plan.stopLoss: {_fmt(stop)} must be {where} the entry {_fmt(entry)} for a {side}"
            )
        wrong = [tp for tp in tps if (tp <= entry if long else tp >= entry)]
        if wrong:
            where = "above" if long else "below"
            problems.append(
                f"plan.takeProfits: {_fmt(wrong[0])} must be {where} the entry "
                f"{_fmt(entry)} for a {side}"
            )
    return problems


def _number_problems(plan: Plan) -> list[str]:
    """Prices at or below 0, naming the field; an entry range upside down."""
    numbers = [("plan.stopLoss", plan.stop_loss)]
    if plan.entry is not None:
        numbers += [
            ("plan.entry.price", plan.entry.price),
            ("plan.entry.low", plan.entry.low),
            ("plan.entry.high", plan.entry.high),
        ]
    numbers += [(f"plan.takeProfits[{i}]", tp) for i, tp in enumerate(plan.take_profits or [])]
    problems = [
        f"{name}: {_fmt(value)} must be above 0"
        for name, value in numbers
        if value is not None and value <= 0
    ]
    low, high = (plan.entry.low, plan.entry.high) if plan.entry else (None, None)
    if low is not None and high is not None and low > high:
        problems.append("plan.entry: low is above high")
    return problems


def _limit_price(plan: Plan) -> Decimal | None:
    """The price a limit entry would fill at (None: a market entry)."""
    entry = plan.entry
    if entry is not None and entry.type == "limit":
        if entry.price is not None:
            return entry.price
        if entry.low is not None and entry.high is not None:
            return (entry.low + entry.high) / 2
    return None


def assess(
    record: TradePlan, snap: AccountSnapshot, settings: RiskSettings, now_ms: int
) -> RiskResult | None:
    """The risk block for a record; None for `plan: null` (nothing to check)."""
    plan = record.plan
    if plan is None:
        return None
    if plan.effective_action != "open":
        return _assess_manage(plan, snap)
    try:
        return _assess_open(record, plan, snap, settings, now_ms)
    except DecimalException:  # 28 significant digits do not hold the sizing of such prices
        reason = "plan: its prices are too large to size an order (out of the decimal range)"
        return _block(approved=False, reasons=[reason], warnings=[])


def _assess_open(
    record: TradePlan, plan: Plan, snap: AccountSnapshot, settings: RiskSettings, now_ms: int
) -> RiskResult:
    warnings: list[str] = []
    symbol, side = plan.symbol or "", plan.side or ""
    ticker = snap.tickers.get(symbol)
    last = None if ticker is None else ticker.last
    limit_price = _limit_price(plan)
    entry = last if limit_price is None else limit_price
    reasons = _parse_problems(record) + _plan_problems(plan, entry)
    ctx = Ctx(record, plan, snap, settings, now_ms, symbol, side)
    facts = _facts(ctx)
    reasons += _account_rules(ctx, facts.steps)
    if symbol and last is None:
        reasons.append(f"no current price for {symbol} (needed to size and to check the entry)")
    if limit_price is not None and last is not None:
        drift = abs(limit_price - last) / last
        if drift > settings.max_entry_slippage:
            reasons.append(
                f"limit entry {_fmt(limit_price)} is {_fmt(round(drift * 100, 3))} % from "
                f"the price {_fmt(last)} (max "
                f"{_fmt(settings.max_entry_slippage * 100)} %)"
            )
    leverage = plan.leverage or settings.default_leverage
    limit = facts.max_leverage
    if leverage > limit:
        if settings.leverage_policy == "reject":
            reasons.append(f"leverage {leverage}x is above the maximum {limit}x")
        else:
            warnings.append(f"leverage capped from {leverage}x to {limit}x")
            leverage = limit
    if reasons or entry is None or not side:
        return _block(
            approved=False, reasons=reasons, warnings=warnings, leverage=leverage, entry_price=entry
        )
    stop, take_profits = _protection(
        plan, snap, settings, entry=entry, side=side, reasons=reasons, warnings=warnings
    )
    if stop is None:
        return _block(
            approved=False, reasons=reasons, warnings=warnings, leverage=leverage, entry_price=entry
        )
    if (past := stop_past_liquidation(side, entry, stop, leverage, facts.market)) is not None:
        reasons.append(past)
    return _size(
        plan,
        snap,
        settings,
        entry=entry,
        stop=stop,
        take_profits=take_profits,
        leverage=leverage,
        reasons=reasons,
        warnings=warnings,
    )


class Ctx(NamedTuple):
    """What each account rule looks at."""

    record: TradePlan
    plan: Plan
    snap: AccountSnapshot
    settings: RiskSettings
    now_ms: int
    symbol: str
    side: str


def rule_enabled(c: Ctx) -> str | None:
    return None if c.settings.enabled else "trading is disabled ([risk] enabled = false)"


def rule_kill_switch(c: Ctx) -> str | None:
    if c.snap.kill == "off":
        return None
    return f"kill switch is {c.snap.kill} ({c.snap.kill_source}): no new entries"


def rule_symbol(c: Ctx) -> str | None:
    if not c.symbol:
        return None
    if c.symbol in c.settings.blocked_symbols:
        return f"{c.symbol} is in [risk] blocked_symbols"
    if c.settings.symbols and c.symbol not in c.settings.symbols:
        return f"{c.symbol} is not in [risk] symbols"
    if c.snap.markets and c.symbol not in c.snap.markets:
        return f"{c.symbol} is not tradable on the exchange"
    return None


def rule_side(c: Ctx) -> str | None:
    if c.side and c.side not in c.settings.sides:
        return f"{c.side} entries are not allowed ([risk] sides)"
    return None


def rule_news(c: Ctx) -> str | None:
    decision = c.record.decision
    if c.settings.honour_news_block and decision is not None and decision.blocked_by_news:
        return "blocked by news: " + ("; ".join(decision.news_reason) or "no reason given")
    return None


def rule_fresh_price(c: Ctx) -> str | None:
    """No entry is sized on a price the guard would call stale (market.freshness)."""
    ticker = c.snap.tickers.get(c.symbol) if c.symbol else None
    if ticker is None:  # no price at all: its own reason, below
        return None
    return stale_reason(c.symbol, ticker.ts_ms, c.now_ms, c.snap.max_price_age_seconds)


def rule_trades_per_day(c: Ctx) -> str | None:
    cap = c.settings.max_trades_per_day  # 0: no cap
    if cap and len(c.snap.entries_today) >= cap:
        return f"{len(c.snap.entries_today)} entries today: the daily maximum is {cap}"
    return None


def rule_min_interval(c: Ctx) -> str | None:
    if not c.snap.entries_today or c.settings.min_interval_minutes <= 0:
        return None
    waited = Decimal(c.now_ms - max(e.ms for e in c.snap.entries_today)) / MINUTE
    if waited < c.settings.min_interval_minutes:
        return (
            f"last entry {_fmt(round(waited, 1))} min ago: the minimum interval is "
            f"{_fmt(c.settings.min_interval_minutes)} min"
        )
    return None


def rule_daily_loss_cap(c: Ctx) -> str | None:
    cap = c.settings.daily_loss_cap_usdt  # 0: no cap (the seed read no cap as 0: no entries)
    if cap and c.snap.realized_today <= -cap:
        return f"daily loss cap reached: {_fmt(c.snap.realized_today)} USDT today (cap {_fmt(cap)})"
    return None


def rule_open_positions(c: Ctx) -> str | None:
    if len(c.snap.positions) >= c.settings.max_open_positions:
        return (
            f"{len(c.snap.positions)} positions open: the maximum is "
            f"{c.settings.max_open_positions}"
        )
    return None


def rule_one_per_symbol(c: Ctx) -> str | None:
    if c.settings.one_position_per_symbol and any(s == c.symbol for s, _ in c.snap.positions):
        return f"a {c.symbol} position is already open"
    return None


def rule_cooldown(c: Ctx) -> str | None:
    last = c.snap.last_entry.get((c.symbol, c.side))
    if last is None or c.settings.cooldown_minutes <= 0:
        return None
    waited = Decimal(c.now_ms - last) / MINUTE
    if waited < c.settings.cooldown_minutes:
        return (
            f"{c.symbol} {c.side} cooldown: last entry {_fmt(round(waited, 1))} min ago "
            f"(cooldown {_fmt(c.settings.cooldown_minutes)} min)"
        )
    return None


def rule_stop_loss_streak(c: Ctx) -> str | None:
    limit, snap = c.settings.consecutive_sl_limit, c.snap
    if not limit or snap.consecutive_stop_losses < limit or snap.last_stop_loss_ms is None:
        return None
    until = snap.last_stop_loss_ms + int(c.settings.consecutive_sl_cooldown_minutes * MINUTE)
    if c.now_ms < until:
        return (
            f"{snap.consecutive_stop_losses} stop-losses in a row: no entries for "
            f"{_fmt(Decimal(until - c.now_ms) / MINUTE)} more min"
        )
    return None


def rule_drawdown(c: Ctx) -> str | None:
    equity, peak = c.snap.equity, c.snap.peak_equity
    if equity is None or not peak:
        return None
    drawdown = (peak - equity) / peak
    if drawdown > c.settings.max_drawdown:
        return (
            f"drawdown {_fmt(round(drawdown * 100, 2))} % from the peak {_fmt(peak)} "
            f"(max {_fmt(c.settings.max_drawdown * 100)} %)"
        )
    return None


def rule_confidence(c: Ctx) -> str | None:
    confidence = c.plan.confidence
    if confidence is not None and Decimal(repr(confidence)) < c.settings.min_confidence:
        return f"plan.confidence: {confidence} is below {c.settings.min_confidence}"
    return None


def rule_signal_age(c: Ctx) -> str | None:
    limit = c.settings.max_signal_age_seconds  # 0: any age
    try:
        given = signal_time_ms(c.record)
    except UsageError as exc:
        return f"plan.source.timeframe: {exc}"
    if not limit or given is None:
        return None
    age_ms = c.now_ms - given
    if age_ms <= limit * 1000:
        return None
    when = datetime.fromtimestamp(given / 1000, tz=UTC)
    return f"signal is {describe_age(age_ms)} old (from {when:%Y-%m-%dT%H:%M:%SZ}; max {limit} s)"


def signal_time_ms(record: TradePlan) -> int | None:
    """When a strategy's signal was given: the close of its bar, which is source.barTime
    plus source.timeframe, or the time a strategy's cycleId ends with (STRATEGY:SYMBOL:
    TIMEFRAME:BAR_CLOSE); a barTime without a timeframe counts from the barTime. None for
    a plan that names no bar (by hand, from Telegram): its age is not known."""
    source = record.plan.source if record.plan else None
    if source is not None and source.bar_time is not None:
        bar_ms = int(source.bar_time.timestamp() * 1000)
        return bar_ms + (timeframe_ms(source.timeframe) if source.timeframe else 0)
    parts = record.cycle_id.split(":", 3)
    if len(parts) == 4 and parts[3][:1].isdigit():
        try:
            return int(parse_time(parts[3]).timestamp() * 1000)
        except ValueError:
            return None
    return None


ACCOUNT_RULES = (
    rule_enabled, rule_kill_switch, rule_symbol, rule_side, rule_fresh_price, rule_news,
    rule_trades_per_day,
    rule_min_interval, rule_daily_loss_cap, rule_open_positions, rule_one_per_symbol,
    rule_cooldown, rule_stop_loss_streak, rule_drawdown, rule_confidence, rule_signal_age,
)  # fmt: skip


#: the rules that look at more of a plan than its symbol and side, each with when it can
#: apply at all; every other rule depends only on the account, the clock, the settings,
#: the symbol and the side, so its reason is worked out once per symbol and side
PLAN_RULES: dict[Any, Callable[[RiskSettings], bool]] = {
    rule_news: lambda settings: settings.honour_news_block,
    rule_confidence: lambda settings: settings.min_confidence > 0,
    rule_signal_age: lambda settings: settings.max_signal_age_seconds > 0,
}


class _Facts(NamedTuple):
    """What a snapshot says for a symbol and side, worked out once per run and snapshot."""

    #: the account rules in order: a reason (str) or a rule to run on each plan
    steps: list[Any]
    market: MarketSpec | None
    max_leverage: int


def _facts(c: Ctx) -> _Facts:
    key = (id(c.settings), c.now_ms, c.symbol, c.side)
    facts = c.snap.symbol_facts.get(key)
    if facts is None:
        steps: list[Any] = []
        for rule in ACCOUNT_RULES:
            active = PLAN_RULES.get(rule)
            if active is not None:  # run on each plan, if it can apply at all
                if active(c.settings):
                    steps.append(rule)
            elif (reason := rule(c)) is not None:
                steps.append(reason)
        settings = c.settings
        market = c.snap.markets.get(c.symbol)
        limit = min(settings.max_leverage, market.max_leverage if market else settings.max_leverage)
        facts = c.snap.symbol_facts[key] = _Facts(steps, market, limit)
    return facts


def _account_rules(c: Ctx, steps: list[Any]) -> list[str]:
    reasons = []
    for step in steps:
        if step.__class__ is str:
            reasons.append(step)
        elif (reason := step(c)) is not None:
            reasons.append(reason)
    return reasons


def _protection(
    plan: Plan,
    snap: AccountSnapshot,
    settings: RiskSettings,
    *,
    entry: Decimal,
    side: str,
    reasons: list[str],
    warnings: list[str],
) -> tuple[Decimal | None, list[Decimal]]:
    """The stop-loss (the plan's, or the default from ATR or a percentage) and take-profits."""
    direction = Decimal(1) if side == "long" else Decimal(-1)
    sl_settings = settings.stop_loss
    atr = None
    stop = plan.stop_loss
    take_profits = list(plan.take_profits or [])
    if stop is None or not take_profits:
        atr = snap.atr(plan.symbol or "") if sl_settings.mode == "atr" else None
    if stop is None:
        if not sl_settings.default:
            reasons.append("plan.stopLoss: required ([risk.stop_loss] default = false)")
            return None, []
        if atr is not None:
            stop = entry - direction * atr * sl_settings.atr_mult
            warnings.append(
                f"default stop-loss: {_fmt(sl_settings.atr_mult)} x ATR {_fmt(round(atr, 2))}"
            )
        else:
            stop = entry * (1 - direction * sl_settings.percent)
            note = " (no ATR available)" if sl_settings.mode == "atr" else ""
            warnings.append(f"default stop-loss: {_fmt(sl_settings.percent * 100)} %{note}")
    if not take_profits:
        if atr is not None and sl_settings.take_profit_atr_mult > 0:
            take_profits = [entry + direction * atr * sl_settings.take_profit_atr_mult]
        elif sl_settings.take_profit_percent > 0:
            take_profits = [entry * (1 + direction * sl_settings.take_profit_percent)]
    market = snap.markets.get(plan.symbol or "")
    if market is not None:
        stop = market.price(stop)
        take_profits = [market.price(tp) for tp in take_profits]
    if stop <= 0 or (stop >= entry if side == "long" else stop <= entry):
        reasons.append(f"stop-loss {_fmt(stop)} is not on the losing side of {_fmt(entry)}")
        return None, []
    return stop, take_profits


def _notional(
    plan: Plan,
    snap: AccountSnapshot,
    settings: RiskSettings,
    *,
    entry: Decimal,
    stop: Decimal,
    reasons: list[str],
    warnings: list[str],
) -> Decimal | None:
    """USDT to put in: fixed per signal level, or the risk budget over the stop distance;
    within [min_notional, max_notional]."""
    sizing = settings.sizing
    if sizing.mode == "fixed":
        notional = sizing.notional_by_level.get(plan.level or "", sizing.default_notional)
    else:
        if snap.equity is None:
            reasons.append("risk sizing needs the account equity (use --paper/--live or --equity)")
            return None
        rate = sizing.risk_per_trade
        if sizing.loss_streak_after and snap.losses_in_a_row >= sizing.loss_streak_after:
            rate = sizing.loss_streak_risk_per_trade
            warnings.append(f"{snap.losses_in_a_row} losses in a row: risking {_fmt(rate * 100)} %")
        notional = snap.equity * rate / abs(entry - stop) * entry
    if notional > sizing.max_notional:
        warnings.append(
            f"notional capped from {_fmt(round(notional, 2))} to {_fmt(sizing.max_notional)} USDT"
        )
        notional = sizing.max_notional
    if notional < sizing.min_notional:
        warnings.append(
            f"notional raised from {_fmt(round(notional, 2))} to {_fmt(sizing.min_notional)} USDT"
        )
        notional = sizing.min_notional
    return notional


def _size(
    plan: Plan,
    snap: AccountSnapshot,
    settings: RiskSettings,
    *,
    entry: Decimal,
    stop: Decimal,
    take_profits: list[Decimal],
    leverage: int,
    reasons: list[str],
    warnings: list[str],
) -> RiskResult:
    sizing = settings.sizing
    market = snap.markets.get(plan.symbol or "")
    notional = _notional(
        plan, snap, settings, entry=entry, stop=stop, reasons=reasons, warnings=warnings
    )
    if notional is None:
        return _block(
            approved=False,
            reasons=reasons,
            warnings=warnings,
            leverage=leverage,
            entry_price=entry,
            stop_loss=stop,
        )
    quantity = notional / entry
    if market is not None:
        quantity = market.size(quantity)
        if quantity < market.min_size:
            if market.min_size * entry <= sizing.max_notional:
                warnings.append(f"quantity raised to the market minimum {_fmt(market.min_size)}")
                quantity = market.min_size
            else:
                reasons.append(
                    f"the market minimum {_fmt(market.min_size)} {market.base} is worth "
                    f"more than max_notional {_fmt(sizing.max_notional)} USDT"
                )
        if quantity * entry < market.min_notional:
            reasons.append(
                f"order value {_fmt(round(quantity * entry, 2))} USDT is below the "
                f"market minimum {_fmt(market.min_notional)}"
            )
    else:
        quantity = quantity.quantize(Decimal("0.00000001"), ROUND_DOWN)
    notional = quantity * entry
    margin = notional / leverage
    if snap.available is not None and margin > snap.available:
        reasons.append(
            f"needs {_fmt(round(margin, 2))} USDT margin at {leverage}x, "
            f"{_fmt(round(snap.available, 2))} available"
        )
    return _block(
        approved=not reasons,
        reasons=reasons,
        warnings=warnings,
        quantity=quantity,
        notional=notional.quantize(Decimal("0.00000001")),
        leverage=leverage,
        entry_price=entry,
        stop_loss=stop,
        take_profits=take_profits,
        risk_amount=(quantity * abs(entry - stop)).quantize(Decimal("0.00000001")),
    )


def _assess_manage(plan: Plan, snap: AccountSnapshot) -> RiskResult:
    """Manage actions (reduce, close, move stop to break-even, set take-profit) are allowed
    in safe mode; they need a symbol and what the action names."""
    reasons = []
    action = plan.effective_action
    if not plan.symbol:
        reasons.append(f"plan.symbol: required for {action}")
    if action == "reduce":
        pct = plan.reduce_pct
        if pct is None or not ZERO < pct <= 100:
            reasons.append("plan.reducePct: must be above 0 and at most 100")
    if action == "set_tp":
        tps = plan.take_profits or []
        if not tps or any(tp <= 0 for tp in tps):
            reasons.append("plan.takeProfits: set_tp needs take-profit prices above 0")
    held = any(s == plan.symbol for s, _ in snap.positions)
    if plan.symbol and not held and snap.mode != "dry-run":
        reasons.append(f"no open {plan.symbol} position to {action.replace('_', ' ')}")
    return _block(approved=not reasons, reasons=reasons, warnings=[])
