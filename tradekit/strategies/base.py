"""What a strategy is: parameters, the candles it needs, and a vectorised evaluation.

`evaluate` looks at every *closed* base bar of the data at once and returns one
`Evaluation` per bar. Every value it uses for bar i depends only on data up to bar i's
close (higher-timeframe bars only once they have closed), so evaluating a prefix of the
data gives the same answer for its last bar: `--at T` bar by bar equals `--replay`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

from tradekit.market.candles import Candles


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


@dataclass(frozen=True)
class Evaluations:
    """Column-wise results for the evaluated bars (same length as `bar_ts`)."""

    bar_ts: np.ndarray  # open time of each evaluated base bar (ms)
    side: np.ndarray  # object: "long" | "short" | None
    note: np.ndarray  # object: retest | reentry | bias_filtered | bias_none | no_setup | ...
    reason: np.ndarray  # object: str | None
    context: dict[str, np.ndarray] = field(default_factory=dict)
    #: object: "strong" | "very-strong" per bar; None means "strong" wherever a side fires
    level: np.ndarray | None = None
    #: object: "open" | "close" per bar where a side is set; None means "open" everywhere
    action: np.ndarray | None = None
    #: object: the stop-loss (Decimal) and the take-profits (list of Decimal) of an open,
    #: None where the strategy leaves them to tk-risk
    stop_loss: np.ndarray | None = None
    take_profits: np.ndarray | None = None

    def context_rows(self, rows: np.ndarray) -> list[dict[str, Any]]:
        """One context dict per selected bar: floats rounded to 8 decimals, NaN as null."""
        columns = {}
        for key, full in self.context.items():
            column = full[rows]
            if column.dtype.kind == "f":
                values = np.round(column, 8).tolist()
                for index in np.flatnonzero(np.isnan(column)).tolist():
                    values[index] = None
                columns[key] = values
            else:
                columns[key] = column.tolist()
        keys = list(columns)
        return [
            dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)
        ]


def aligned(
    higher: Candles, base: Candles, *, forming: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """For each base bar: the index of the last higher-timeframe bar closed by the base
    bar's close, and whether there is one. With `forming` (the seed's look-ahead), the
    higher bar that has merely *opened* by the base bar's open."""
    if forming:
        index = np.searchsorted(higher.ts, base.ts, "right") - 1
    else:
        index = np.searchsorted(higher.ts + higher.step, base.ts + base.step, "right") - 1
    present = index >= 0
    return np.where(present, index, 0), present


def pick(values: np.ndarray, index: np.ndarray, present: np.ndarray) -> np.ndarray:
    """values[index] where present, NaN elsewhere."""
    return np.where(present, values[index], np.nan)


class Strategy(Protocol):
    name: str
    summary: str
    #: what a trader should know about the parameters (printed by `tk-signal NAME --help`)
    notes: str
    params_model: type[Params]

    def timeframes(self, params: Params) -> tuple[str, ...]:
        """The base timeframe first, then any higher ones it reads."""
        ...

    def evaluate(
        self, data: dict[str, Candles], params: Params, *, forming: bool = False
    ) -> Evaluations:
        """Evaluate every bar of the base series. The data holds closed bars only, unless
        `forming` (the seed's repainting behaviour, for comparison)."""
        ...
