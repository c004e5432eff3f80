"""What the parser says a post is: four small immutable values."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Side = Literal["long", "short"]


@dataclass(frozen=True, slots=True)
class EntrySignal:
    """Open a position. `valid` is False for a signal that contradicts itself (its stop on
    the wrong side of its entry): it is still emitted, and tk-risk blocks it."""

    symbol: str
    side: Side
    market: bool
    entry_low: Decimal | None
    entry_high: Decimal | None
    entry_points: tuple[Decimal, ...] = ()
    stop_loss: Decimal | None = None
    take_profits: tuple[Decimal, ...] = ()
    tp_weights: tuple[Decimal, ...] = ()
    leverage: int | None = None
    valid: bool = True
    problem: str | None = None
    #: field -> the exact part of the post it was read from
    evidence: dict[str, str] = field(default_factory=dict)

    kind = "entry"


@dataclass(frozen=True, slots=True)
class ManageAction:
    """Change an open position: reduce, close, move the stop to break-even, set a target.
    `symbol` is None when the text names none (the stage resolves it from the reply)."""

    symbol: str | None
    reduce_pct: Decimal | None = None
    move_sl_to_be: bool = False
    tp_price: Decimal | None = None
    close_all: bool = False
    evidence: dict[str, str] = field(default_factory=dict)

    kind = "manage"

    @property
    def actions(self) -> tuple[str, ...]:
        """The actions asked for, the main one first."""
        found = []
        if self.close_all:
            found.append("close")
        elif self.reduce_pct is not None:
            found.append("reduce")
        if self.move_sl_to_be:
            found.append("move_sl_to_be")
        if self.tp_price is not None:
            found.append("set_tp")
        return tuple(found)


@dataclass(frozen=True, slots=True)
class NeedsManual:
    """A trade instruction no rule can carry out safely: a person (or a vision model) must."""

    reason: str
    missing_fields: tuple[str, ...] = ()
    symbol: str | None = None

    kind = "needs_manual"


@dataclass(frozen=True, slots=True)
class NonSignal:
    """Reports, chatter, analysis, news, promotions: nothing to do."""

    reason: str

    kind = "non_signal"


ParseResult = EntrySignal | ManageAction | NeedsManual | NonSignal
