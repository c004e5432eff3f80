"""The simulated clock: what every stage reads as `now` while a backtest steps through bars."""

from __future__ import annotations

from datetime import UTC, datetime


class SimClock:
    """Answers like `tradekit.clock.Clock(fixed)`, but the backtest moves it forward."""

    def __init__(self, start_ms: int):
        self.ms = start_ms

    def set(self, ms: int) -> None:
        if ms < self.ms:
            raise ValueError("the simulated clock only moves forward")
        self.ms = ms

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.ms / 1000, tz=UTC)

    @property
    def is_fixed(self) -> bool:
        return True
