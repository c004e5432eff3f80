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
side is true. The position those entries open, its stop and target (`risk`), its exits and
the cooldown are walked bar by bar in dsl_position.py: opens carry stopLoss and
takeProfits, exits are close plans.

Fixes against the seed: the indicators are the live ones (the seed's DSL used other
seedings, defect 17); a negative shift (a look into the future) is refused; cooldownBars 0
is honoured (defect 17); expressions are parsed, never compiled with Function(); a key
that would have no effect (a feature field its kind does not read, an exit rule for a
side that never opens) is refused instead of ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from tradekit import dsl
from tradekit import indicators as ind
from tradekit.market.candles import Candles
from tradekit.signals import GAP_WINDOW, gapped_bars
from tradekit.strategies.base import Evaluations, Params
from tradekit.strategies.dsl_position import Exits, Signals, Walk, walk

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

#: the fields each kind reads besides name, kind and shift (any other one is refused)
USES: dict[str, set[str]] = {
    "price": {"source"},
    "ema": {"source", "period"},
    "sma": {"source", "period"},
    "rsi": {"source", "period"},
    "atr": {"period"},
    "adx": {"period"},
    "donchian_high": {"lookback"},
    "donchian_low": {"lookback"},
    "pct_change": {"source", "period"},
    "constant": {"value"},
}


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
        unused = sorted(self.model_fields_set - {"name", "kind", "shift"} - USES[self.kind])
        if unused:
            keys = ", ".join(to_camel(key) for key in unused)
            raise ValueError(f"feature {self.name!r}: {keys} has no effect on kind {self.kind!r}")
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
        unused = {"long": ("exit_short", "exitShort"), "short": ("exit_long", "exitLong")}
        if self.side in unused and unused[self.side][0] in self.model_fields_set:
            key = unused[self.side][1]
            raise ValueError(f"{key} has no effect: side is {self.side!r}, no such position opens")
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


HELP = """
dsl: your own rules from a JSON spec: tk-signal dsl --spec FILE.json
(example: examples/dsl-ema-adx.json; config.toml has no [strategies.dsl]: it is refused)

  name          shown in reasons ("custom")
  side          long | short | both ("both")
  timeframe     the bars evaluated ("1h")
  features      up to 24 of {name, kind, source, period, lookback, shift, value}:
                price ema sma rsi (source, period), atr adx (period), donchian_high
                donchian_low (lookback, over the bars before), pct_change (source,
                period), constant (value); shift lags by n bars. A field the kind does
                not read is refused.
  entryLong, entryShort, exitLong, exitShort
                rules over open high low close volume atr adx (14) bar_index
                prev_close and the features ("close > ema_fast and adx > 20"); a
                missing one is close > the first feature (exits: <), or close > open
  risk          stopAtr (1.8), tpAtr (3.0), maxHold (72 bars), cooldownBars (2)

Plans, bar by bar, from the position the strategy's own signals open (replayed over
the data before the bar, so --at and --replay agree):
  open    an entry while flat: entered at the close, stopLoss and takeProfits
          max(ATR x stopAtr, 0.12 % of the close) and max(ATR x tpAtr, 0.12 %) away
          (ATR 14 of the timeframe)
  close   exitLong / exitShort while in that position, maxHold bars after the entry,
          or the other side's entry (reverse)
  null    holding; stop_loss_hit / take_profit_hit (the exchange's orders closed it);
          cooldown (an entry on the exit bar or within cooldownBars after it);
          atr_unavailable; no_setup
"""


@dataclass(frozen=True)
class Dsl:
    name: str = "dsl"
    summary: str = "your own rules from a JSON spec (tk-signal dsl --spec FILE.json)"
    notes: str = ""
    params_model: type[DslSpec] = DslSpec
    help: str = HELP

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
        # No entry where tk-signal emits no plan (a gap among the bars read): the position
        # walked is then always one whose open was emitted.
        trusted = ~gapped_bars(candles, GAP_WINDOW)
        long_ok, short_ok = params.side in ("long", "both"), params.side in ("short", "both")
        signals = Signals(
            long=rules["entryLong"] & ~rules["entryShort"] & long_ok & trusted,
            short=rules["entryShort"] & ~rules["entryLong"] & short_ok & trusted,
            exit_long=rules["exitLong"],
            exit_short=rules["exitShort"],
        )
        risk = params.risk
        exits = Exits(risk.stop_atr, risk.tp_atr, risk.max_hold, risk.cooldown_bars)
        held = walk(signals, {**bars, "atr": env["atr"]}, exits)
        context = {feature.name: env[feature.name] for feature in params.features}
        context.update(
            close=bars["close"],
            atr=env["atr"],
            adx=env["adx"],
            exitLong=rules["exitLong"].astype(float),
            exitShort=rules["exitShort"].astype(float),
            position=held.position,
            heldBars=held.held,
        )
        targets = np.full(n, None, dtype=object)
        for i in np.flatnonzero(held.action == "open").tolist():
            targets[i] = [held.take_profit[i]]
        return Evaluations(
            candles.ts.copy(),
            held.side,
            held.note,
            _reasons(params, held, candles.ts),
            context,
            action=held.action,
            stop_loss=held.stop_loss,
            take_profits=targets,
        )


def _reasons(params: DslSpec, held: Walk, bar_ts: np.ndarray) -> np.ndarray:
    """Why each plan: the rule that fired, or how long the position was held."""
    rules, prefix = params.rules(), f"dsl {params.name}: "
    reason = np.full(len(held.note), None, dtype=object)
    for i in np.flatnonzero(held.side != None).tolist():  # noqa: E711 - elementwise
        note, side = held.note[i], held.side[i]
        if note == "signal":
            key = "entryLong" if side == "long" else "entryShort"
            reason[i] = f"{prefix}{key}: {rules[key]}"
        elif note == "reverse":
            key = "entryShort" if side == "long" else "entryLong"
            reason[i] = f"{prefix}reverse: {key}: {rules[key]}"
        elif note == "maxHold":
            since = _iso(int(bar_ts[held.entry_bar[i]]))
            reason[i] = f"{prefix}maxHold: {int(held.held[i])} bars in the {side} since {since}"
        else:
            reason[i] = f"{prefix}{note}: {rules[note]}"
    return reason


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


STRATEGY = Dsl()
