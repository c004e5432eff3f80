"""TradePlan v1: the record every pipeline stage reads, extends with its block, and writes.

The seed system's fields keep their names and meaning (`tradePlanVersion`, `cycleId`,
`dryRun`, `plan{symbol, side, level, reason}`, `decision{blockedByNews, newsReason}`);
everything tradekit adds is optional, so a plan written by the seed validates unchanged.
Each stage owns one top-level block: tk-news-gate `decision`, tk-risk `risk`, tk-exec
`execution`. A stage writes its block and passes every other field through untouched.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field
from pydantic.json_schema import SkipJsonSchema

from tradekit.records.base import Num, Record, Symbol, Time

Side = Literal["long", "short"]
Action = Literal["open", "reduce", "close", "move_sl_to_be", "set_tp"]
Mode = Literal["dry-run", "paper", "live"]


class Source(Record):
    """Where a plan came from: a strategy at a bar, or a Telegram channel message."""

    kind: Literal["strategy", "telegram", "manual"] | None = None
    strategy: str | None = None
    timeframe: str | None = None
    bar_time: Time | None = None
    spec: str | None = Field(
        default=None, description="the spec file of a dsl plan (tk-guard reads its exit rules)"
    )
    channel: str | None = None
    message_id: int | None = None
    version: int | None = Field(default=None, ge=1, description="the post's edit version")
    reply_to: int | None = Field(default=None, description="the message id it replies to")


class Entry(Record):
    """How to enter: at market, or a limit order inside [low, high] (or at price)."""

    type: Literal["market", "limit"] = "market"
    price: Num | None = None
    low: Num | None = None
    high: Num | None = None
    points: list[Num] | None = Field(default=None, description="listed entry prices, as written")


class Plan(Record):
    """What a strategy or a signal asks for. `plan: null` in the record means nothing to do.

    Field *types* are checked here, and a symbol's form (tradekit.symbols: `../x` or 300
    characters is a bad line naming plan.symbol); whether the values make sense for the
    action (a symbol at all, a side for an open, a stop on the losing side, positive
    prices, a market the exchange lists) is tk-risk's job, which blocks the plan with a
    reason instead of dropping the line.
    """

    symbol: Symbol | None = None
    #: plan.symbol as the line spells it (btcusdt, where `symbol` is BTCUSDT): a second
    #: field reading the same key costs no Python call per plan, unlike a validator; only
    #: TradePlan.respelled looks at it
    symbol_as_read: SkipJsonSchema[Any] = Field(
        None, validation_alias="symbol", exclude=True, repr=False
    )
    side: Side | None = None
    level: str | None = Field(default=None, description="seed: strong | very-strong")
    reason: str | None = None
    action: Action | None = Field(default=None, description="absent means open")
    source: Source | None = None
    entry: Entry | None = None
    stop_loss: Num | None = None
    take_profits: list[Num] | None = None
    tp_weights: list[Num] | None = Field(
        default=None, description="the share of the position for each take-profit (0.3 = 30 %)"
    )
    leverage: int | None = Field(default=None, ge=1, le=125)
    reduce_pct: Num | None = None
    confidence: float | None = Field(default=None, ge=0, le=1)
    evidence: dict[str, Any] | None = None
    context: dict[str, Any] | None = None

    @property
    def effective_action(self) -> Action:
        return self.action or "open"


class NewsMatch(Record):
    """A news item that concerns the plan's symbol (tk-news-gate)."""

    title: str
    url: str | None = None
    time: Time
    source: str
    score: int
    tags: list[str] = Field(default_factory=list)
    direction: Literal["bullish", "bearish", "neutral"]
    blocks: bool = False


class CalendarMatch(Record):
    """A scheduled event whose blocking window holds the plan's time (tk-news-gate)."""

    time: Time
    event: str
    importance: Literal["high", "medium", "low"]
    country: str | None = None


class Decision(Record):
    """tk-news-gate's block (the seed's `decision`)."""

    blocked_by_news: bool = False
    news_reason: list[str] = Field(default_factory=list, description='"HH:MM title" items')
    news_items: list[NewsMatch] | None = None
    calendar_events: list[CalendarMatch] | None = None
    news_status: str | None = Field(
        None,
        description='"ok", "no sources configured", or "fail-open: why" / "fail-closed: why"',
    )


class RiskBlock(Record):
    """tk-risk's block: approved or not, every reason, and the sized order."""

    approved: bool
    reasons: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    quantity: Num | None = None
    notional: Num | None = None
    leverage: int | None = None
    entry_price: Num | None = None
    stop_loss: Num | None = None
    take_profits: list[Num] | None = None
    risk_amount: Num | None = Field(default=None, description="money lost if the stop fills")


class OrderRef(Record):
    """One order tk-exec sent, or would send in dry-run."""

    role: str = Field(description="entry, sl, tp1, tp2, close, ...")
    client_oid: str
    exchange_id: str | None = None
    side: Literal["buy", "sell"] | None = None
    type: str | None = None
    price: Num | None = None
    trigger_price: Num | None = None
    size: Num | None = None
    reduce_only: bool | None = None
    state: str | None = None


ExecutionStatus = Literal["placed", "skipped", "duplicate", "rejected", "failed", "dry_run"]


class ExecutionBlock(Record):
    """tk-exec's block."""

    mode: Mode
    status: ExecutionStatus
    reasons: list[str] = Field(default_factory=list)
    idempotency_key: str | None = None
    orders: list[OrderRef] = Field(default_factory=list)


def _integer_only(value: Any) -> Any:
    # true and 1.0 equal 1 in Python; the record format says the integer 1.
    if type(value) is not int:
        raise ValueError("must be the integer 1")
    return value


ParseKind = Literal["entry", "manage", "needs_manual", "non_signal"]


class ParseBlock(Record):
    """tk-parse-tg's block: what the post was read as, and what a person must supply."""

    kind: ParseKind
    parser: str = Field(default="rules", description="rules (a vision model later)")
    valid: bool | None = Field(default=None, description="entries: false if self-contradictory")
    reason: str | None = None
    missing_fields: list[str] = Field(default_factory=list)
    symbol: str | None = None
    actions: list[str] | None = Field(default=None, description="manage: every action asked")
    symbol_from: Literal["text", "reply", "open_plan"] | None = None
    source: Source | None = Field(default=None, description="the post, when plan is null")


class TradePlan(Record):
    """TradePlan v1. Identified by `tradePlanVersion: 1`."""

    trade_plan_version: Annotated[Literal[1], BeforeValidator(_integer_only)]
    cycle_id: str = Field(
        min_length=1, description="deterministic: strategy:symbol:timeframe:barClose"
    )
    dry_run: bool | None = None
    plan: Plan | None = None
    parse: ParseBlock | None = None
    decision: Decision | None = None
    risk: RiskBlock | None = None
    execution: ExecutionBlock | None = None
    context: dict[str, Any] | None = Field(
        default=None, description="indicator values behind a null plan"
    )

    def respelled(self) -> bool:
        plan = self.plan
        return plan is not None and plan.symbol != plan.symbol_as_read

    def respell(self, raw: dict[str, Any]) -> dict[str, Any]:
        if not self.respelled():
            return raw
        assert self.plan is not None
        return {**raw, "plan": {**raw["plan"], "symbol": str(self.plan.symbol)}}
