"""The local candle store: TK_HOME/data/<SYMBOL>/<timeframe>.npy, one sorted structured
array per series (loads in milliseconds). Written to a temporary file and renamed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from tradekit.errors import BadInputError, UsageError
from tradekit.market.candles import DTYPE, Candles, check, resample, timeframe_ms
from tradekit.symbols import bitget_symbol, is_bitget_id


class CandleStore:
    def __init__(self, root: Path):
        self.root = root

    def path(self, symbol: str, timeframe: str) -> Path:
        """Where a series lives; a symbol that is not one (`../x`) is refused here, the last
        place before the file system, whoever forgot to check it before."""
        return self.root / bitget_symbol(symbol) / f"{timeframe}.npy"

    def series(self) -> list[tuple[str, str]]:
        """(symbol, timeframe) of every stored series; a folder not named by a symbol's
        Bitget id is none of tradekit's."""
        found = []
        for path in sorted(self.root.glob("*/*.npy")):
            if is_bitget_id(path.parent.name):
                found.append((path.parent.name, path.stem))
        return found

    def load(self, symbol: str, timeframe: str) -> Candles | None:
        path = self.path(symbol, timeframe)
        if not path.exists():
            return None
        rows = np.load(path, allow_pickle=False)
        if rows.dtype != DTYPE:
            raise BadInputError(f"{path}: not a tradekit candle file")
        return Candles(symbol, timeframe, rows)

    def load_or_resample(self, symbol: str, timeframe: str) -> Candles:
        """The stored series, or one resampled from the largest stored lower timeframe."""
        stored = self.load(symbol, timeframe)
        if stored is not None:
            return stored
        target = timeframe_ms(timeframe)
        lower = [
            (timeframe_ms(tf), tf)
            for sym, tf in self.series()
            if sym == symbol and timeframe_ms(tf) < target and target % timeframe_ms(tf) == 0
        ]
        if not lower:
            have = ", ".join(tf for sym, tf in self.series() if sym == symbol) or "nothing"
            raise UsageError(
                f"no {symbol} {timeframe} candles in {self.root} (stored: {have}); "
                "import or fetch some with `tk data`"
            )
        source = self.load(symbol, max(lower)[1])
        assert source is not None
        return resample(source, timeframe)

    def merge(self, candles: Candles) -> tuple[int, int]:
        """Add candles to the stored series; returns (rows added, rows now stored).
        A bar already stored with different values is an error, not an overwrite."""
        existing = self.load(candles.symbol, candles.timeframe)
        rows = candles.rows
        if existing is not None and len(existing):
            both = np.concatenate([existing.rows, rows])
            order = np.argsort(both["ts"], kind="stable")
            both = both[order]
            same_ts = np.flatnonzero(both["ts"][1:] == both["ts"][:-1])
            for index in same_ts:
                if both[index] != both[index + 1]:
                    raise BadInputError(
                        f"{candles.symbol} {candles.timeframe}: the bar at "
                        f"{int(both['ts'][index])} is already stored with different values"
                    )
            keep = np.r_[True, both["ts"][1:] != both["ts"][:-1]]
            rows = both[keep]
        problems = check(rows, candles.step)
        if problems.fatal:
            raise BadInputError(
                f"{candles.symbol} {candles.timeframe}: " + "; ".join(problems.fatal)
            )
        before = 0 if existing is None else len(existing)
        self._write(self.path(candles.symbol, candles.timeframe), rows)
        return len(rows) - before, len(rows)

    @staticmethod
    def _write(path: Path, rows: np.ndarray) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, rows, allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
