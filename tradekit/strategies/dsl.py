"""The strategy DSL (seed000-spec §7.3) as a strategy: `tk-signal dsl --spec FILE.json`.

    {"name": "ema-adx", "side": "both", "timeframe": "1h",
     "features": [{"name": "ema5", "kind": "ema", "period": 5},
                  {"name": "hh", "kind": "donchian_high", "lookback": 20}],
     "entryLong": "close > ema5 and adx > 20", "entryShort": "close < ema5 and adx > 20",
     "exitLong": "close < ema5", "exitShort": "close > ema5",
     "risk": {"stopAtr": 1.8, "tpAtr": 3.0, "maxHold": 72, "cooldownBars": 2}}

Features: price, ema, sma, rsi (over `source`: open high low close volume hl2 ohlc4),
atr, adx (from the bars), donchian_high/low (`lookback`, over the bars *before* this one),
pct_change (`period`), constant (`value`); `shift` lags a feature by n bars. Variables:
open high low close volume atr adx (14) bar_index prev_close and the features.
A missing rule defaults to `close > first feature` (entry long; `<` short; exits the other
way round), or to `close > open` without features. An entry fires only when exactly one
side is true. Exit rules and `risk` are for backtests; signals report exits in the context.

Fixes against the seed: the indicators are the live ones (the seed's DSL used other
seedings, defect 17); a negative shift (a look into the future) is refused; cooldownBars 0
is honoured (defect 17); expressions are parsed, never compiled with Function().
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from tradekit import dsl
from tradekit import indicators as ind
from tradekit.market.candles import Candles
from tradekit.strategies.base import Evaluations, Params

BUILTINS = ("open", "high", "low", "close", "volume", "atr", "adx", "bar_index", "prev_close")
Source = Literal["open", "high", "low", "close", "volume", "hl2", "ohlc4"]
Kind = Literal[
    "price",
    "ema",
    "sma",
    "rsi",
    "atr",
    "adx",
    "donchian_high",
    "donchian_low",
    "pct_change",
    "constant",
]


class _Spec(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, alias_generator=to_camel, populate_by_name=True
    )


class Feature(_Spec):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    kind: Kind
    source: Source = "close"
    period: int = Field(14, ge=1, le=500)
    lookback: int = Field(20, ge=1, le=500)
    shift: int = Field(0, ge=0, le=120, description="bars into the past (no negative shift)")
    value: float | None = None

    @model_validator(mode="after")
    def _named_well(self) -> Feature:
        if self.name in BUILTINS or self.name in dsl.FUNCTIONS or self.name in dsl.CONSTANTS:
            raise ValueError(f"feature name {self.name!r} is taken by a built-in")
        if self.kind == "constant" and self.value is None:
            raise ValueError(f"feature {self.name!r}: a constant needs a value")
        return self


class Risk(_Spec):
    stop_atr: float = Field(1.8, ge=0.2, le=20)
    tp_atr: float = Field(3.0, ge=0.2, le=40)
    max_hold: int = Field(72, ge=1, le=3000)
    cooldown_bars: int = Field(2, ge=0, le=60)


class DslSpec(Params):
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, alias_generator=to_camel, populate_by_name=True
    )
    name: str = "custom"
    side: Literal["long", "short", "both"] = "both"
    timeframe: str = "1h"
    features: list[Feature] = Field(default_factory=list, max_length=24)
    entry_long: str | None = None
    entry_short: str | None = None
    exit_long: str | None = None
    exit_short: str | None = None
    risk: Risk = Risk()

    @model_validator(mode="after")
    def _unique_features(self) -> DslSpec:
        names = [feature.name for feature in self.features]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"feature names used twice: {', '.join(duplicates)}")
        return self

    def rules(self) -> dict[str, str]:
        first = self.features[0].name if self.features else None
        defaults = (
            {
                "entryLong": f"close > {first}",
                "entryShort": f"close < {first}",
                "exitLong": f"close < {first}",
                "exitShort": f"close > {first}",
            }
            if first
            else {
                "entryLong": "close > open",
                "entryShort": "close < open",
                "exitLong": "close < open",
                "exitShort": "close > open",
            }
        )
        given = {
            "entryLong": self.entry_long,
            "entryShort": self.entry_short,
            "exitLong": self.exit_long,
            "exitShort": self.exit_short,
        }
        return {key: given[key] or default for key, default in defaults.items()}

    def compiled(self) -> dict[str, object]:
        """Parse every rule; a DslError names the rule."""
        names = set(BUILTINS) | {feature.name for feature in self.features}
        parsed = {}
        for key, text in self.rules().items():
            try:
                parsed[key] = dsl.parse(text, names)
            except dsl.DslError as exc:
                raise dsl.DslError(f"{key}: {exc.message}", text, exc.column) from None
        return parsed


def _source(bars: dict[str, np.ndarray], source: str) -> np.ndarray:
    if source == "hl2":
        return (bars["high"] + bars["low"]) / 2
    if source == "ohlc4":
        return (bars["open"] + bars["high"] + bars["low"] + bars["close"]) / 4
    return bars[source]


def _lag(values: np.ndarray, bars: int) -> np.ndarray:
    if bars == 0:
        return values
    return np.r_[np.full(min(bars, len(values)), np.nan), values[:-bars]][: len(values)]


def feature_values(feature: Feature, bars: dict[str, np.ndarray]) -> np.ndarray:
    h, lo, c = bars["high"], bars["low"], bars["close"]
    source = _source(bars, feature.source)
    match feature.kind:
        case "price":
            values = source
        case "ema":
            values = ind.ema(source, feature.period)
        case "sma":
            values = ind.sma(source, feature.period)
        case "rsi":
            values = ind.rsi_seed(source, feature.period)
        case "atr":
            values = ind.atr(h, lo, c, feature.period)
        case "adx":
            values = ind.adx_seed(h, lo, c, feature.period)[0]
        case "donchian_high":
            values = _lag(ind.donchian_high(h, feature.lookback), 1)
        case "donchian_low":
            values = _lag(ind.donchian_low(lo, feature.lookback), 1)
        case "pct_change":
            values = ind.pct_change(source, feature.period)
        case _:
            values = np.full(len(c), float(feature.value or 0.0))
    return _lag(np.asarray(values, dtype=float), feature.shift)


@dataclass(frozen=True)
class Dsl:
    name: str = "dsl"
    summary: str = "your own rules from a JSON spec (tk-signal dsl --spec FILE.json)"
    notes: str = ""
    params_model: type[DslSpec] = DslSpec

    def timeframes(self, params: DslSpec) -> tuple[str, ...]:
        return (params.timeframe,)

    def evaluate(
        self, data: dict[str, Candles], params: DslSpec, *, forming: bool = False
    ) -> Evaluations:
        del forming  # one timeframe: nothing to align
        candles = data[params.timeframe]
        n = len(candles)
        bars = {name: candles.column(name) for name in ("open", "high", "low", "close", "volume")}
        env = dict(bars)
        env["atr"] = ind.atr(bars["high"], bars["low"], bars["close"], 14)
        env["adx"] = ind.adx_seed(bars["high"], bars["low"], bars["close"], 14)[0]
        env["bar_index"] = np.arange(n, dtype=float)
        env["prev_close"] = _lag(bars["close"], 1)
        for feature in params.features:
            env[feature.name] = feature_values(feature, bars)
        rules = {key: dsl.evaluate(node, env, n) > 0 for key, node in params.compiled().items()}
        long = rules["entryLong"] & ~rules["entryShort"] & (params.side in ("long", "both"))
        short = rules["entryShort"] & ~rules["entryLong"] & (params.side in ("short", "both"))
        side = np.full(n, None, dtype=object)
        side[long], side[short] = "long", "short"
        reason = np.full(n, None, dtype=object)
        reason[long] = f"dsl {params.name}: entryLong: {params.rules()['entryLong']}"
        reason[short] = f"dsl {params.name}: entryShort: {params.rules()['entryShort']}"
        note = np.where(long | short, "signal", "no_setup").astype(object)
        context = {feature.name: env[feature.name] for feature in params.features}
        context.update(
            close=bars["close"],
            atr=env["atr"],
            adx=env["adx"],
            exitLong=rules["exitLong"].astype(float),
            exitShort=rules["exitShort"].astype(float),
        )
        return Evaluations(candles.ts.copy(), side, note, reason, context)


STRATEGY = Dsl()
