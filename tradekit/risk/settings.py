"""[risk] in config.toml: every rule's switch and limit, typed, with the defaults shown."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from tradekit.records.base import Num, Symbol
from tradekit.section import Section


class StopLossSettings(Section):
    #: a plan without a stop-loss gets one (ATR or percent); False: such plans are blocked
    default: bool = True
    mode: Literal["atr", "percent"] = "atr"
    atr_timeframe: str = "1h"
    atr_period: int = Field(14, ge=1)
    atr_mult: Num = Field(Decimal("1.8"), gt=0)
    percent: Num = Field(Decimal("0.02"), gt=0, lt=1, description="a ratio: 0.02 = 2 %")
    #: default take-profit when a plan has none (0 = none)
    take_profit_atr_mult: Num = Field(Decimal("6.0"), ge=0)
    take_profit_percent: Num = Field(Decimal("0.2"), ge=0, lt=10)


class SizingSettings(Section):
    mode: Literal["fixed", "risk"] = "fixed"
    #: fixed: USDT notional per signal level (seed 000); other levels use default_notional
    notional_by_level: dict[str, Num] = Field(
        default_factory=lambda: {"strong": Decimal(8), "very-strong": Decimal(12)}
    )
    default_notional: Num = Field(Decimal(5), gt=0)
    #: risk: equity x risk_per_trade / |entry - stop| (seed 002), as a ratio
    risk_per_trade: Num = Field(Decimal("0.003"), gt=0, lt=1)
    min_notional: Num = Field(Decimal(5), ge=0)
    max_notional: Num = Field(Decimal(200), gt=0)
    #: after this many losing trades in a row, use loss_streak_risk_per_trade (0 = off)
    loss_streak_after: int = Field(0, ge=0)
    loss_streak_risk_per_trade: Num = Field(Decimal("0.0015"), gt=0, lt=1)


class RiskSettings(Section):
    #: the master switch for new entries (manage actions and closes are always allowed)
    enabled: bool = True
    #: allowed symbols (Bitget ids; btcusdt or BTC/USDT:USDT are read as BTCUSDT);
    #: empty = every symbol the exchange trades
    symbols: list[Symbol] = Field(default_factory=list)
    blocked_symbols: list[Symbol] = Field(default_factory=list)
    sides: list[Literal["long", "short"]] = Field(default_factory=lambda: ["long", "short"])
    honour_news_block: bool = True
    #: entries per trading day (0 = no cap)
    max_trades_per_day: int = Field(6, ge=0)
    min_interval_minutes: Num = Field(Decimal(3), ge=0)
    #: realised loss (fees included) after which no new entry today (0 = no cap)
    daily_loss_cap_usdt: Num = Field(Decimal(25), ge=0)
    #: where a trading day starts and ends (IANA name)
    timezone: str = "UTC"
    max_open_positions: int = Field(3, ge=1)
    one_position_per_symbol: bool = True
    cooldown_minutes: Num = Field(Decimal(5), ge=0, description="per symbol and side")
    consecutive_sl_limit: int = Field(3, ge=0, description="0 = off")
    consecutive_sl_cooldown_minutes: Num = Field(Decimal(60), ge=0)
    max_drawdown: Num = Field(Decimal("0.15"), gt=0, le=1, description="from peak equity")
    min_confidence: Num = Field(Decimal("0.8"), ge=0, le=1)
    #: a signal is refused this long after its bar closed (rules.signal_time_ms; 0 = any age)
    max_signal_age_seconds: int = Field(300, ge=0)
    default_leverage: int = Field(5, ge=1, le=125)
    max_leverage: int = Field(10, ge=1, le=125)
    leverage_policy: Literal["cap", "reject"] = "cap"
    #: a limit entry further than this (ratio) from the current price is blocked
    max_entry_slippage: Num = Field(Decimal("0.003"), ge=0, lt=1)
    stop_loss: StopLossSettings = StopLossSettings()
    sizing: SizingSettings = SizingSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Asia/Shanghai)"
            ) from None
        return value
