"""[execution] in config.toml."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from tradekit.records.base import Num
from tradekit.section import Section


class ExecutionSettings(Section):
    margin_mode: Literal["isolated", "crossed"] = "isolated"
    position_mode: Literal["one_way_mode", "hedge_mode"] = "one_way_mode"
    #: what the stop-loss and take-profits trigger on
    trigger_type: Literal["mark_price", "fill_price"] = "mark_price"
    #: shares of the filled size per take-profit, by how many there are (seed 002 HEAD);
    #: more take-profits than listed share equally
    tp_weights: dict[str, list[Num]] = Field(
        default_factory=lambda: {
            "1": [Decimal(1)],
            "2": [Decimal("0.5"), Decimal("0.5")],
            "3": [Decimal("0.35"), Decimal("0.35"), Decimal("0.30")],
        }
    )
    #: move_sl_to_be puts the stop this far past the entry (a ratio)
    break_even_buffer: Num = Field(Decimal("0.0005"), ge=0, lt=Decimal("0.1"))
    #: a risk block tk-risk approved longer ago than this is rejected, not sent
    max_approval_age_seconds: int = Field(300, ge=1, le=86_400)
    #: an intent whose entry never reached the exchange is not sent later than this
    stale_intent_seconds: int = Field(120, ge=0)
    #: seconds to wait before each retry of an order that got no usable answer (timeout,
    #: 429, 5xx); every retry first looks the order up by its clientOid, so it cannot double
    retry_delays: list[float] = Field(default_factory=lambda: [0.5, 1.0, 2.0], max_length=10)
