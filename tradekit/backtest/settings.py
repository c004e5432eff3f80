"""[backtest]: what a backtest assumes beyond the rules the live code already applies.

Fills, slippage, fees and liquidation are the paper exchange's ([paper] slippage, the
market's maker/taker fees and maintenance margin); funding, which Bitget charges and the
paper exchange does not, is set here."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from tradekit.records.base import Num
from tradekit.section import Section


class BacktestSettings(Section):
    #: charged on each open position's notional at every funding time: longs pay a
    #: positive rate, shorts receive it (0 = none, as the paper exchange does)
    funding_rate: Num = Field(Decimal("0.0001"), ge=Decimal("-0.01"), le=Decimal("0.01"))
    #: hours between funding times, counted from 00:00 UTC (Bitget: 8)
    funding_interval_hours: int = Field(8, ge=1, le=24)
