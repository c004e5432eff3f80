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


class Strategy(Protocol):
    name: str
    summary: str
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
