"""The contracts the paper exchange and the emulator trade: one definition for both."""

from __future__ import annotations

from decimal import Decimal

from tradekit.exchange.model import MarketSpec

DEFAULT_MARKETS: dict[str, MarketSpec] = {
    spec.symbol: spec
    for spec in (
        MarketSpec("BTCUSDT", "BTC", price_tick=Decimal("0.1"), size_step=Decimal("0.0001"),
                   min_size=Decimal("0.0001"), min_notional=Decimal("5")),
        MarketSpec("ETHUSDT", "ETH", price_tick=Decimal("0.01"), size_step=Decimal("0.01"),
                   min_size=Decimal("0.01"), min_notional=Decimal("5")),
    )
}  # fmt: skip


def places(step: Decimal) -> int:
    """Decimal places of a tick or step (0.1 -> 1, 0.0001 -> 4, 1 -> 0)."""
    return max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]
