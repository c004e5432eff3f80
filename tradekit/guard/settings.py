"""[guard] in config.toml: the exits, the stop-loss invariant, the breakers, --watch."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, Self

from pydantic import Field, model_validator

from tradekit.market import freshness
from tradekit.records.base import Num
from tradekit.section import Section


class TrailingSettings(Section):
    enabled: bool = False
    mode: Literal["atr", "percent"] = "atr"
    #: atr: active once the best price is this many ATRs in profit; trails by trail_atr
    activate_atr: Num = Field(Decimal(1), ge=0)
    trail_atr: Num = Field(Decimal("1.5"), gt=0)
    #: percent: active once this far in profit (a ratio); trails this far behind the best
    activation_pct: Num = Field(Decimal("0.01"), ge=0, lt=1)
    trail_pct: Num = Field(Decimal("0.005"), gt=0, lt=1)
    #: the exchange stop is moved only when the trail improves on it by this ratio
    min_step: Num = Field(Decimal("0.001"), ge=0, lt=1)


class BreakEvenSettings(Section):
    enabled: bool = True
    #: move the stop to the entry once this far in profit (a ratio; 0 = not on profit)
    after_profit_pct: Num = Field(Decimal("0.01"), ge=0, lt=1)
    #: ... or once the first take-profit has filled
    after_tp1: bool = True
    #: the stop goes this far past the entry, on the winning side (a ratio)
    buffer: Num = Field(Decimal("0.0005"), ge=0, lt=Decimal("0.1"))


class TimeoutSettings(Section):
    #: close a position held this long (0 = never)
    max_hold_minutes: int = Field(0, ge=0)
    #: a position in profit at the timeout is not closed: its stop trails this close
    #: instead (a ratio; 0 = close it like any other)
    tighten_pct: Num = Field(Decimal("0.003"), ge=0, lt=1)


class ReverseSettings(Section):
    #: close when the strategy that opened the position signals the other side on this many
    #: consecutive closed bars (0 = off)
    confirmations: int = Field(0, ge=0)


class StopLossGuardSettings(Section):
    #: every position must have a resting stop-loss covering its size
    must_exist: bool = True
    #: the stop for a position whose plan gave none (adopted ones): this far from the entry
    default_pct: Num = Field(Decimal("0.006"), gt=0, lt=1)
    #: a position still without a stop this long after it was first seen is closed
    max_time_without_sl_seconds: int = Field(60, ge=0)
    emergency_close: bool = True
    #: how long the answer "the exchange takes plan (stop) orders" is trusted
    capability_ttl_seconds: int = Field(300, ge=10)
    #: a stop sized within this ratio of the position counts as covering it
    size_tolerance: Num = Field(Decimal("0.0"), ge=0, lt=1)


class LiquidationSettings(Section):
    #: reduce a position whose liquidation price is this close to the mark (a ratio; 0 = off)
    max_distance: Num = Field(Decimal("0.01"), ge=0, lt=1)
    reduce_pct: Num = Field(Decimal(50), gt=0, le=100)


class BreakerSettings(Section):
    #: equity this far below its peak puts the system in safe mode (a ratio)
    max_drawdown: Num = Field(Decimal("0.15"), gt=0, le=1)
    #: this many exchange errors within the window put the system in safe mode
    api_error_burst: int = Field(10, ge=1)
    api_error_window_seconds: int = Field(120, ge=1)
    #: margin in use above this share of equity puts the system in safe mode
    max_margin_used: Num = Field(Decimal("0.35"), gt=0, le=1)


class WatchSettings(Section):
    #: "ws": ccxt's websocket ticker, falling back to REST; "rest": poll the ticker
    price_feed: Literal["ws", "rest"] = "ws"
    interval_seconds: float = Field(2.0, gt=0, le=3600)
    #: a price older than this is stale: no exit is decided on it, and tk-risk and
    #: `tk paper trade` open nothing on it (market.freshness)
    max_stale_seconds: float = Field(5.0, gt=0, le=86_400 * 365)
    reconnect_seconds: float = Field(3.0, gt=0, le=3600)
    #: how often the account, positions and orders are reconciled in --watch
    reconcile_seconds: float = Field(10.0, gt=0, le=86_400)

    def is_stale(self, price_ms: int | None, now_ms: int) -> bool:
        """Whether a price of that (exchange) time is too old to decide on."""
        return freshness.is_stale(price_ms, now_ms, self.max_stale_seconds)


class HealthSettings(Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8081, ge=0, le=65535)
    #: the endpoints show equity and positions: an address other than loopback must be meant
    allow_remote: bool = False

    @model_validator(mode="after")
    def _remote_must_be_meant(self) -> Self:
        from tradekit.httpserver import is_loopback

        if not self.allow_remote and not is_loopback(self.host):
            raise ValueError(
                f"host {self.host!r} is not a loopback address: /metrics and /readyz show "
                "equity and positions to whoever reaches it; set allow_remote = true to mean it"
            )
        return self


class GuardSettings(Section):
    #: close when the price is past the plan's stop-loss or last take-profit (a software copy
    #: of the exchange orders, for when they did not fire or could not be placed)
    fixed_exits: bool = True
    #: a position on the exchange that no plan opened: "adopt" it (guard it, with a default
    #: stop) or only "flag" it; either way the system goes to safe mode
    unknown_positions: Literal["adopt", "flag"] = "adopt"
    trailing: TrailingSettings = TrailingSettings()
    break_even: BreakEvenSettings = BreakEvenSettings()
    timeout: TimeoutSettings = TimeoutSettings()
    reverse: ReverseSettings = ReverseSettings()
    stop_loss: StopLossGuardSettings = StopLossGuardSettings()
    liquidation: LiquidationSettings = LiquidationSettings()
    breakers: BreakerSettings = BreakerSettings()
    watch: WatchSettings = WatchSettings()
    health: HealthSettings = HealthSettings()
