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

    def row_context(self, i: int) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, column in self.context.items():
            value = column[i]
            if isinstance(value, float | np.floating):
                values[key] = None if np.isnan(value) else round(float(value), 8)
            elif isinstance(value, np.integer):
                values[key] = int(value)
            else:
                values[key] = value
        return values


class Strategy(Protocol):
    name: str
    summary: str
    params_model: type[Params]

    def timeframes(self, params: Params) -> tuple[str, ...]:
        """The base timeframe first, then any higher ones it reads."""
        ...

    def evaluate(self, data: dict[str, Candles], params: Params, now_ms: int) -> Evaluations: ...
