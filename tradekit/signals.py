"""From candles to TradePlan v1 records: the code path shared by live runs, --at, --replay
and (later) backtests. Everything that can fail (data, parameters) fails in `prepare`,
before any record is written; `records()` only formats."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from tradekit.clock import format_time
from tradekit.errors import ConfigError, UsageError
from tradekit.market.candles import Candles, read_csv, resample, timeframe_ms
from tradekit.market.store import CandleStore
from tradekit.strategies import load
from tradekit.strategies.base import Evaluations, Params, Strategy


def _floats(value: Any) -> Any:
    """TOML numbers arrive as Decimal; strategy parameters are floats."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: _floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_floats(item) for item in value]
    return value


def strategy_params(strategy: Strategy, table: dict[str, Any], source: str) -> Params:
    """Validate a strategy's config table ([strategies.NAME]); errors name the key."""
    try:
        return strategy.params_model.model_validate(_floats(table))
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            key = ".".join(str(part) for part in err["loc"])
            what = "unknown parameter" if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"{source}: strategies.{strategy.name}.{key}: {what}")
        raise ConfigError("\n".join(lines)) from None


def spec_params(strategy: Strategy, spec_file: Path) -> Params:
    """Read a strategy spec file (the DSL). It is the strategy's configuration, so a
    mistake in it is a config error (78) naming the file and the key."""
    import json

    from tradekit.dsl import DslError

    try:
        table = json.loads(spec_file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {spec_file}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{spec_file}: not JSON: {exc}") from None
    try:
        params = strategy.params_model.model_validate(table)
        params.compiled()  # type: ignore[attr-defined] - parse every rule now
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            key = ".".join(str(part) for part in err["loc"]) or "(spec)"
            what = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"{spec_file}: {key}: {what.removeprefix('Value error, ')}")
        raise ConfigError("\n".join(lines)) from None
    except DslError as exc:
        raise ConfigError(f"{spec_file}: {exc}") from None
    return params


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(ms: int) -> str:
    return format_time(datetime.fromtimestamp(ms / 1000, tz=UTC))


@dataclass(frozen=True)
class Prepared:
    strategy: Strategy
    params: Params
    symbol: str
    timeframe: str
    evaluations: Evaluations
    rows: np.ndarray  # indices of the bars to emit
    #: why a single evaluation cannot be trusted (stale data), else None
    problem: str | None = None
    #: bars whose lookback window contains a gap in the data: no signal, note gap_in_ohlcv
    gapped: np.ndarray | None = None
    #: the DSL's spec file, named in its plans' source (tk-guard reads its exit rules)
    spec_file: Path | None = None


#: Bars after a gap that are not trusted, for strategies that do not say (min_bars).
GAP_WINDOW = 200


def gaps_in(candles: Candles) -> list[tuple[int, int]]:
    """(open time of the bar before the gap, missing bars) for each gap."""
    steps = np.diff(candles.ts)
    return [
        (int(candles.ts[i]), int(steps[i] // candles.step) - 1)
        for i in np.flatnonzero(steps > candles.step)
    ]


def gapped_bars(candles: Candles, window: int) -> np.ndarray:
    """True for each bar with a gap among the `window` bars up to it."""
    n = len(candles)
    after_gap = np.zeros(n, dtype=bool)
    after_gap[1:] = np.diff(candles.ts) > candles.step
    index = np.where(after_gap, np.arange(n), -(10**9))
    last_gap = np.maximum.accumulate(index) if n else index
    return np.arange(n) - last_gap < window


def load_candles(
    strategy: Strategy, params: Params, symbol: str, store: CandleStore, data_file: Path | None
) -> dict[str, Candles]:
    timeframes = strategy.timeframes(params)
    if data_file is None:
        base = store.load_or_resample(symbol, timeframes[0])
        data = {timeframes[0]: base}
        for tf in timeframes[1:]:
            stored = store.load(symbol, tf)
            data[tf] = stored if stored is not None else resample(base, tf)
        return data
    source = read_csv(data_file, symbol, None)  # its own timeframe; others are resampled
    data = {}
    for tf in timeframes:
        if tf == source.timeframe:
            data[tf] = source
        elif timeframe_ms(tf) > source.step and timeframe_ms(tf) % source.step == 0:
            data[tf] = resample(source, tf)
        else:
            raise UsageError(
                f"{data_file} has {source.timeframe} bars; {strategy.name} needs {tf} "
                f"(give a file of {timeframes[0]} or finer)"
            )
    return data


def prepare(
    strategy_name: str,
    *,
    table: dict[str, Any],
    config_source: str,
    symbol: str,
    store: CandleStore,
    data_file: Path | None,
    now: datetime,
    at: datetime | None = None,
    replay: tuple[datetime, datetime] | None = None,
    forming: bool = False,
    spec_file: Path | None = None,
) -> Prepared:
    strategy = load(strategy_name)
    if strategy_name == "dsl":
        if table:
            raise ConfigError(
                f"{config_source}: strategies.dsl: has no effect: the dsl strategy reads "
                "its rules from --spec FILE.json; remove the table"
            )
        if spec_file is None:
            raise UsageError("tk-signal dsl needs --spec FILE.json (see tk-signal dsl --help)")
        params = spec_params(strategy, spec_file)
    elif spec_file is not None:
        raise UsageError(f"--spec is for the dsl strategy; {strategy_name} reads [strategies]")
    else:
        params = strategy_params(strategy, table, config_source)
    data = load_candles(strategy, params, symbol, store, data_file)
    base_tf = strategy.timeframes(params)[0]
    step = timeframe_ms(base_tf)
    as_of = _ms(min(at, now) if at is not None else now)
    if replay is not None:
        as_of = min(_ms(replay[1]), _ms(now))
    if not forming:
        data = {tf: candles.closed_at(as_of) for tf, candles in data.items()}
    else:
        data = {tf: candles.between(until=as_of) for tf, candles in data.items()}
    base = data[base_tf]
    if len(base) == 0:
        raise UsageError(f"no {symbol} {base_tf} bars before {_iso(as_of)} in the data")
    evaluations = strategy.evaluate(data, params, forming=forming)
    window = int(getattr(params, "min_bars", GAP_WINDOW))
    gapped = gapped_bars(base, window)
    if replay is not None:
        close = base.ts + step
        first = int(np.searchsorted(close, _ms(replay[0]), "left"))
        rows = np.arange(first, len(base))
        return Prepared(
            strategy, params, symbol, base_tf, evaluations, rows, gapped=gapped, spec_file=spec_file
        )
    problem = None
    last_close = int(base.ts[-1]) + (0 if forming else step)
    if not forming and as_of - last_close >= step:
        problem = (
            f"stale data: the last closed {base_tf} bar closed at {_iso(last_close)}, "
            f"{(as_of - last_close) // step} bar(s) before {_iso(as_of)}; "
            "import or fetch newer candles"
        )
    if problem is None and gapped[-1]:
        gap = gaps_in(base)[-1]
        problem = (
            f"a gap in the data: {gap[1]} missing {base_tf} bar(s) after {_iso(gap[0])}, within "
            f"the last {window} bars the strategy reads; fill it (`tk data fetch`/`import`)"
        )
    return Prepared(
        strategy,
        params,
        symbol,
        base_tf,
        evaluations,
        np.array([len(base) - 1]),
        problem,
        gapped,
        spec_file,
    )


def _iso_column(ms: np.ndarray) -> list[str]:
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="s")
    return [value + "Z" for value in text.tolist()]


def records(prepared: Prepared, *, dry_run: bool) -> Iterator[dict[str, Any]]:
    ev = prepared.evaluations
    step = timeframe_ms(prepared.timeframe)
    rows = prepared.rows
    contexts = ev.context_rows(rows)
    bar_ts = ev.bar_ts[rows]
    if len(bar_ts) > 1 and (np.diff(bar_ts) == step).all():  # no gaps: a close is the next open
        stamps = _iso_column(np.append(bar_ts, bar_ts[-1] + step))
        opens, closes = stamps[:-1], stamps[1:]
    else:
        opens, closes = _iso_column(bar_ts), _iso_column(bar_ts + step)
    name = prepared.strategy.name
    prefix = f"{name}:{prepared.symbol}:{prepared.timeframe}:"
    spec = None if prepared.spec_file is None else str(prepared.spec_file.resolve())
    notes, sides, reasons = ev.note[rows].tolist(), ev.side[rows].tolist(), ev.reason[rows].tolist()
    levels = _column(ev.level, rows, "strong")
    actions = _column(ev.action, rows, "open")
    stops, targets = _column(ev.stop_loss, rows, None), _column(ev.take_profits, rows, None)
    gapped = _column(prepared.gapped, rows, False)
    for n, context in enumerate(contexts):
        gap = gapped[n]
        if gap:
            note, side = "gap_in_ohlcv", None
        elif prepared.problem:
            note, side = "stale_ohlcv", None
        else:
            note, side = notes[n], sides[n]
        context["note"] = note
        record: dict[str, Any] = {
            "tradePlanVersion": 1,
            "cycleId": prefix + closes[n],
            "dryRun": dry_run,
        }
        if side is None:
            record["plan"] = None
            record["context"] = context
        else:
            plan: dict[str, Any] = {
                "symbol": prepared.symbol,
                "side": side,
                "level": levels[n] or "strong",
                "reason": reasons[n],
                "action": actions[n] or "open",
                "source": {
                    "kind": "strategy",
                    "strategy": name,
                    "timeframe": prepared.timeframe,
                    "barTime": opens[n],
                },
            }
            if spec is not None:
                plan["source"]["spec"] = spec
            if stops[n] is not None:
                plan["stopLoss"] = stops[n]
            if targets[n] is not None:
                plan["takeProfits"] = targets[n]
            plan["context"] = context
            record["plan"] = plan
        yield record


def _column(values: np.ndarray | None, rows: np.ndarray, default: Any) -> list[Any]:
    """An optional per-bar column as a plain list (indexing numpy one element at a time is
    slow in a loop), or the default for every row."""
    return values[rows].tolist() if values is not None else [default] * len(rows)
