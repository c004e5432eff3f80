"""The hard limits of an open: what tk-risk sizes within and tk-exec checks again itself
before it sends anything (defence in depth: a config changed between the two, or a risk
block that is not what tk-risk wrote)."""

from __future__ import annotations

from decimal import Decimal

from tradekit.exchange.model import DEFAULT_MAINTENANCE_MARGIN, MarketSpec, liquidation_price
from tradekit.risk.settings import RiskSettings


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def stop_past_liquidation(
    side: str, entry: Decimal, stop: Decimal, leverage: int, market: MarketSpec | None
) -> str | None:
    """The reason a stop-loss would only fire after the liquidation of an isolated
    position opened at `entry` with `leverage` (None: the stop is inside)."""
    maintenance = market.maintenance_margin if market else DEFAULT_MAINTENANCE_MARGIN
    liquidation = liquidation_price(side, entry, entry / leverage, maintenance)
    if stop > liquidation if side == "long" else stop < liquidation:
        return None
    if market is not None:
        liquidation = market.price(liquidation)
    return (
        f"stop-loss {_fmt(stop)} is past the liquidation price of about {_fmt(liquidation)} "
        f"at {leverage}x"
    )


def hard_limit_problems(
    *,
    side: str,
    quantity: Decimal,
    entry: Decimal,
    stop: Decimal,
    leverage: int | None,
    market: MarketSpec | None,
    settings: RiskSettings,
) -> list[str]:
    """What breaks a hard limit of [risk] or of the market, each naming the field; the
    stop is on the losing side of the entry (checked before)."""
    problems = []
    lev = leverage or 1
    if lev > settings.max_leverage:
        problems.append(
            f"risk.leverage: {lev}x is above [risk] max_leverage {settings.max_leverage}x"
        )
    if market is not None and lev > market.max_leverage:
        problems.append(
            f"risk.leverage: {lev}x is above the {market.symbol} maximum {market.max_leverage}x"
        )
    if (past := stop_past_liquidation(side, entry, stop, lev, market)) is not None:
        problems.append(f"risk.stopLoss: {past}")
    notional = quantity * entry
    cap = settings.sizing.max_notional
    if notional > cap:
        problems.append(
            f"risk.quantity: {_fmt(quantity)} is {_fmt(round(notional, 2))} USDT, above "
            f"[risk.sizing] max_notional {_fmt(cap)}"
        )
    return problems
