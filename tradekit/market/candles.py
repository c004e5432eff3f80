"""Candles as columns of numpy arrays, with the checks that keep bad data out of signals.

`ts` is the bar's **open** time in epoch milliseconds (UTC), as ccxt and the shared data
use it; a bar is closed once `ts + timeframe <= now`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tradekit.errors import BadInputError, UsageError

_UNITS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_TIMEFRAME = re.compile(r"^(\d+)([mhdw])$")
COLUMNS = ("ts", "open", "high", "low", "close", "volume")
DTYPE = np.dtype([("ts", "<i8")] + [(name, "<f8") for name in COLUMNS[1:]])


def timeframe_ms(timeframe: str) -> int:
    match = _TIMEFRAME.match(timeframe)
    if not match or int(match.group(1)) == 0:
        raise UsageError(f"{timeframe!r} is not a timeframe (like 1m, 5m, 15m, 1h, 4h, 1d)")
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class Gap:
    after_ts: int
    missing: int


@dataclass
class Problems:
    """What is wrong with a candle series; `fatal` problems make it unusable."""

    fatal: list[str] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def missing_bars(self) -> int:
        return sum(gap.missing for gap in self.gaps)


@dataclass(frozen=True)
class Candles:
    symbol: str
    timeframe: str
    rows: np.ndarray  # structured, DTYPE, sorted by ts, unique

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def ts(self) -> np.ndarray:
        return self.rows["ts"]

    def column(self, name: str) -> np.ndarray:
        return np.ascontiguousarray(self.rows[name])

    @property
    def step(self) -> int:
        return timeframe_ms(self.timeframe)

    def between(self, since: int | None = None, until: int | None = None) -> Candles:
        ts = self.ts
        lo = 0 if since is None else int(np.searchsorted(ts, since, "left"))
        hi = len(ts) if until is None else int(np.searchsorted(ts, until, "left"))
        return Candles(self.symbol, self.timeframe, self.rows[lo:hi])

    def closed_at(self, now_ms: int) -> Candles:
        """Only the bars that have closed by `now_ms` (no forming bar)."""
        last = int(np.searchsorted(self.ts + self.step, now_ms, "right"))
        return Candles(self.symbol, self.timeframe, self.rows[:last])


def check(rows: np.ndarray, step: int) -> Problems:
    """Order, duplicates, grid, gaps and values of a candle array (any order)."""
    problems = Problems()
    if len(rows) == 0:
        return problems
    ts = rows["ts"]
    diffs = np.diff(ts)
    if (diffs < 0).any():
        first = int(np.argmax(diffs < 0)) + 1
        problems.fatal.append(f"timestamps out of order (row {first + 1} goes back in time)")
    if (diffs == 0).any():
        problems.fatal.append(f"{int((diffs == 0).sum())} duplicate timestamp(s)")
    off_grid = ts % step != 0
    if off_grid.any():
        problems.fatal.append(
            f"{int(off_grid.sum())} timestamp(s) not on the {step // 60000}-minute grid"
        )
    prices = np.stack([rows[name] for name in ("open", "high", "low", "close")])
    if not np.isfinite(prices).all() or not np.isfinite(rows["volume"]).all():
        problems.fatal.append("NaN or infinite values")
    elif (prices <= 0).any():
        problems.fatal.append(f"{int((prices <= 0).any(axis=0).sum())} bar(s) with a price <= 0")
    elif (rows["high"] < np.maximum(rows["open"], rows["close"])).any() or (
        rows["low"] > np.minimum(rows["open"], rows["close"])
    ).any():
        problems.fatal.append("bars whose high/low do not contain open and close")
    if (rows["volume"] < 0).any():
        problems.fatal.append("negative volume")
    if not problems.fatal:
        for index in np.nonzero(diffs > step)[0]:
            problems.gaps.append(Gap(int(ts[index]), int(diffs[index] // step) - 1))
    return problems


def timeframe_name(step_ms: int) -> str:
    for unit, size in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
        if step_ms % size == 0:
            return f"{step_ms // size}{unit}"
    raise BadInputError(f"bars {step_ms} ms apart are not a timeframe")


#: what a column of an exchange's or a vendor's export may be called (lower case)
_TIME_NAMES = ("ts", "timestamp", "time", "date", "datetime", "open_time", "open time")
_PRICE_NAMES = {
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c"),
    "volume": ("volume", "vol", "v"),
}
#: epoch numbers below these are seconds, then milliseconds, then microseconds
_MS_FROM, _US_FROM = 10**11, 10**14


@dataclass(frozen=True)
class CsvLayout:
    """What was found in a CSV's header and first row, for the import to report."""

    time_column: str
    time_format: str  # "epoch ms", "epoch seconds", "epoch microseconds", "ISO 8601"
    ignored: tuple[str, ...] = ()
    no_volume: bool = False

    def describe(self) -> str:
        parts = [f"time from {self.time_column!r} as {self.time_format}"]
        if self.ignored:
            parts.append("ignored " + ", ".join(repr(name) for name in self.ignored))
        if self.no_volume:
            parts.append("no volume column (volume 0)")
        return "; ".join(parts)


def read_csv(path: Path, symbol: str, timeframe: str | None) -> Candles:
    """A candle CSV file (see read_candles)."""
    try:
        with path.open("rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    return read_candles(data, str(path), symbol, timeframe)[0]


def read_candles(
    data: bytes, source: str, symbol: str, timeframe: str | None
) -> tuple[Candles, CsvLayout]:
    """Candles from CSV text as exchanges and data vendors export it: a header naming a time
    column (ts, timestamp, time, date, ...) and open, high, low, close and volume in any
    order (extra columns ignored); times as epoch seconds, milliseconds or microseconds
    (told apart by size) or ISO 8601 (UTC when no zone is given). With timeframe None it is
    the smallest step between the bars. Any problem is a BadInputError naming the source
    and the line; gaps are allowed here and reported by the caller."""
    text = data.decode("utf-8-sig", "replace")
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    header = next(reader, None)
    if header is None:
        raise BadInputError(f"{source}: empty file (expected a header line)")
    columns, layout_names = _columns(header, source)
    rows = np.zeros(max(0, text.count("\n")), dtype=DTYPE)
    count, to_ms, time_format = 0, None, ""
    time_at = columns["ts"]
    for number, fields in enumerate(reader, start=2):
        if not fields or not "".join(fields).strip():
            continue
        if len(fields) < len(header):
            raise BadInputError(
                f"{source}:{number}: expected {len(header)} fields, got {len(fields)}"
            )
        if to_ms is None:
            to_ms, time_format = _time_reader(
                fields[time_at].strip(), source, number, native=layout_names[0].lower() == "ts"
            )
        try:
            ts = to_ms(fields[time_at].strip())
            values = [
                float(fields[columns[name]]) if name in columns else 0.0 for name in COLUMNS[1:]
            ]
        except ValueError:
            shown = ",".join(fields)[:80]
            raise BadInputError(f"{source}:{number}: not a number in {shown!r}") from None
        if count == len(rows):
            rows = np.resize(rows, max(16, 2 * len(rows)))
        rows[count] = (ts, *values)
        count += 1
    rows = rows[:count]
    layout = CsvLayout(
        time_column=layout_names[0],
        time_format=time_format or "(no rows)",
        ignored=layout_names[1],
        no_volume="volume" not in columns,
    )
    if timeframe is None:
        steps = np.diff(rows["ts"])
        if len(steps) == 0 or (steps <= 0).any():
            raise BadInputError(f"{source}: cannot tell the timeframe (fewer than 2 ordered bars)")
        timeframe = timeframe_name(int(steps.min()))
    problems = check(rows, timeframe_ms(timeframe))
    if problems.fatal:
        raise BadInputError(f"{source}: " + "; ".join(problems.fatal))
    return Candles(symbol, timeframe, rows), layout


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    sample = text[:4096]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _columns(header: list[str], source: str) -> tuple[dict[str, int], tuple[str, tuple[str, ...]]]:
    """Column index per field (ts, open, ...), and (the time column's name, ignored names)."""
    names = [name.strip().lower() for name in header]
    found: dict[str, int] = {}
    time_name = next((name for name in _TIME_NAMES if name in names), None)
    if time_name is None:
        raise BadInputError(
            f"{source}:1: no time column (one of: {', '.join(_TIME_NAMES)}) in {header!r}"
        )
    found["ts"] = names.index(time_name)
    for field_name, aliases in _PRICE_NAMES.items():
        alias = next((alias for alias in aliases if alias in names), None)
        if alias is not None:
            found[field_name] = names.index(alias)
        elif field_name != "volume":
            raise BadInputError(f"{source}:1: no {field_name!r} column in {header!r}")
    used = set(found.values())
    ignored = tuple(header[i].strip() for i in range(len(header)) if i not in used)
    return found, (header[found["ts"]].strip(), ignored)


def _time_reader(
    first: str, source: str, number: int, *, native: bool
) -> tuple[Callable[[str], int], str]:
    """How this file writes its times, told from its first row. A `ts` column is tradekit's
    own format (what `tk data export` writes): epoch milliseconds, whatever their size."""
    if native:
        return _int_ms, "epoch ms"
    try:
        value = float(first)
    except ValueError:
        try:
            _iso_ms(first)
        except ValueError:
            raise BadInputError(
                f"{source}:{number}: {first[:40]!r} is neither an epoch number nor ISO 8601"
            ) from None
        return _iso_ms, "ISO 8601"
    if value < _MS_FROM:
        return (lambda text: round(float(text) * 1000)), "epoch seconds"
    if value < _US_FROM:
        return _int_ms, "epoch ms"
    return (lambda text: int(text) // 1000), "epoch microseconds"


def _int_ms(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return round(float(text))


def _iso_ms(text: str) -> int:
    moment = datetime.fromisoformat(text.replace(" UTC", "").strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def resample(candles: Candles, timeframe: str) -> Candles:
    """Aggregate to a higher timeframe. Only complete groups become bars: a group with a
    missing sub-bar (a gap, or the still-forming end) is left out, never half-built."""
    target = timeframe_ms(timeframe)
    step = candles.step
    if target % step or target <= step:
        raise UsageError(f"cannot resample {candles.timeframe} to {timeframe}")
    per = target // step
    rows = candles.rows
    if len(rows) == 0:
        return Candles(candles.symbol, timeframe, rows.copy())
    group = rows["ts"] // target
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    sizes = np.diff(np.r_[starts, len(rows)])
    complete = sizes == per
    out = np.zeros(int(complete.sum()), dtype=DTYPE)
    first, last = starts[complete], starts[complete] + per - 1
    out["ts"] = group[first] * target
    out["open"] = rows["open"][first]
    out["close"] = rows["close"][last]
    out["high"] = np.maximum.reduceat(rows["high"], starts)[complete]
    out["low"] = np.minimum.reduceat(rows["low"], starts)[complete]
    out["volume"] = np.add.reduceat(rows["volume"], starts)[complete]
    return Candles(candles.symbol, timeframe, out)
