"""Candles as columns of numpy arrays, with the checks that keep bad data out of signals.

`ts` is the bar's **open** time in epoch milliseconds (UTC), as ccxt and the shared data
use it; a bar is closed once `ts + timeframe <= now`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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


def read_csv(path: Path, symbol: str, timeframe: str | None) -> Candles:
    """As below; with timeframe None it is the smallest step between the bars."""
    if timeframe is not None:
        return _read_csv(path, symbol, timeframe)
    rows = _read_csv(path, symbol, "1m").rows
    steps = np.diff(rows["ts"])
    if len(steps) == 0 or (steps <= 0).any():
        raise BadInputError(f"{path}: cannot tell the timeframe (fewer than 2 ordered bars)")
    return _read_csv(path, symbol, timeframe_name(int(steps.min())))


def _read_csv(path: Path, symbol: str, timeframe: str) -> Candles:
    """Read `ts,open,high,low,close,volume` (ms UTC). Any problem is a BadInputError that
    names the file and the line; gaps are allowed here and reported by the caller."""
    step = timeframe_ms(timeframe)
    try:
        with path.open("rb") as handle:
            header = handle.readline().decode("utf-8", "replace").strip().lower()
            if header.replace(" ", "") != ",".join(COLUMNS):
                raise BadInputError(
                    f"{path}:1: expected the header {','.join(COLUMNS)!r}, got {header[:80]!r}"
                )
            text = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    lines = text.splitlines()
    rows = np.zeros(len(lines), dtype=DTYPE)
    count = 0
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        parts = line.split(b",")
        if len(parts) != len(COLUMNS):
            raise BadInputError(f"{path}:{number}: expected 6 fields, got {len(parts)}")
        try:
            rows[count] = (int(parts[0]), *(float(part) for part in parts[1:]))
        except ValueError:
            raise BadInputError(
                f"{path}:{number}: not a number in {line[:80].decode('utf-8', 'replace')!r}"
            ) from None
        count += 1
    rows = rows[:count]
    problems = check(rows, step)
    if problems.fatal:
        raise BadInputError(f"{path}: " + "; ".join(problems.fatal))
    return Candles(symbol, timeframe, rows)


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
