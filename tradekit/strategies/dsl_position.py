"""The position a DSL strategy holds, bar by bar, replayed from its own signals.

tk-signal keeps no state between runs, so the position behind bar i (entered at bar e,
left at bar x) is derived by walking the strategy's signals from the first bar of the
data up to i. The walk for bar i reads nothing after bar i, so `--at` bar by bar and
`--replay` see the same position.

Per bar, in the order of the seed's DSL backtest (seed000-spec §7.2):

1. In a position entered before this bar: the stop-loss (the low reaches it, for a long),
   then the take-profit (the high reaches it). Both rest on the exchange, so the position
   ends here with no plan (notes `stop_loss_hit`, `take_profit_hit`).
2. `maxHold` bars in the position: a close plan (`maxHold`); else the side's exit rule
   (`exitLong` / `exitShort`); else the other side's entry (`reverse`).
3. Flat: an entry opens, entered at the bar's close, with the stop and the target
   max(ATR x stopAtr, 0.12 % of the close) and max(ATR x tpAtr, 0.12 %) away, unless the
   last exit was this bar or fewer than `cooldownBars` bars before it (`cooldown`), or the
   ATR is not defined yet (`atr_unavailable`). An entry on the side already held is not
   taken again (`holding`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

#: the least distance of the stop and the target from the entry (the seed's 0.12 %)
MIN_DISTANCE = Decimal("0.0012")
PRICE_STEP = Decimal("0.00000001")


@dataclass(frozen=True)
class Signals:
    """Per bar (bool): an entry that fires alone on an allowed side, and the exit rules."""

    long: np.ndarray
    short: np.ndarray
    exit_long: np.ndarray
    exit_short: np.ndarray


@dataclass(frozen=True)
class Exits:
    """The risk block: ATR multiples of the stop and the target, and bar counts."""

    stop_atr: float
    tp_atr: float
    max_hold: int
    cooldown_bars: int


@dataclass(frozen=True)
class Position:
    side: str
    bar: int
    stop: Decimal
    target: Decimal


@dataclass(frozen=True)
class Walk:
    """Per-bar columns (object arrays unless said)."""

    action: np.ndarray  # "open" | "close" | None
    side: np.ndarray  # the side opened, or the side of the position closed
    note: np.ndarray  # signal | exitLong | exitShort | maxHold | reverse | holding | ...
    stop_loss: np.ndarray  # Decimal for an open
    take_profit: np.ndarray  # Decimal for an open
    position: np.ndarray  # the side held once the bar is done, or None
    held: np.ndarray  # float: bars in the position at this bar (NaN when flat before it)
    entry_bar: np.ndarray  # int: the bar the position of this bar was entered on, or -1


def levels(side: str, close: float, atr: float, exits: Exits) -> tuple[Decimal, Decimal]:
    """The stop-loss and the take-profit of an entry at `close`."""
    price, range_ = Decimal(repr(close)), Decimal(repr(atr))
    floor = price * MIN_DISTANCE
    stop_distance = max(range_ * Decimal(repr(exits.stop_atr)), floor)
    take_distance = max(range_ * Decimal(repr(exits.tp_atr)), floor)
    direction = 1 if side == "long" else -1
    stop = (price - direction * stop_distance).quantize(PRICE_STEP)
    target = (price + direction * take_distance).quantize(PRICE_STEP)
    return stop, target


class _Walker:
    def __init__(self, signals: Signals, bars: dict[str, np.ndarray], exits: Exits):
        n = len(bars["close"])
        self.exits = exits
        self.high, self.low = bars["high"].tolist(), bars["low"].tolist()
        self.close, self.atr = bars["close"].tolist(), bars["atr"].tolist()
        self.long, self.short = signals.long.tolist(), signals.short.tolist()
        self.exit_rule = {"long": signals.exit_long.tolist(), "short": signals.exit_short.tolist()}
        self.columns = {
            name: [None] * n for name in ("action", "side", "note", "stop", "target", "position")
        }
        self.held = np.full(n, np.nan)
        self.entry_bar = np.full(n, -1, dtype=np.int64)
        self.position: Position | None = None
        self.last_exit = -(10**9)

    def run(self) -> Walk:
        for i in range(len(self.close)):
            if self.position is None:
                self._enter(i)
            else:
                self._manage(i, self.position)
            self.columns["position"][i] = self.position.side if self.position else None
        c = self.columns
        return Walk(
            *(np.array(c[key], dtype=object) for key in ("action", "side", "note")),
            np.array(c["stop"], dtype=object),
            np.array(c["target"], dtype=object),
            np.array(c["position"], dtype=object),
            self.held,
            self.entry_bar,
        )

    def _manage(self, i: int, position: Position) -> None:
        side, held = position.side, i - position.bar
        self.held[i], self.entry_bar[i] = held, position.bar
        long = side == "long"
        low, high = Decimal(repr(self.low[i])), Decimal(repr(self.high[i]))
        if (low <= position.stop) if long else (high >= position.stop):
            return self._leave(i, "stop_loss_hit", action=None)
        if (high >= position.target) if long else (low <= position.target):
            return self._leave(i, "take_profit_hit", action=None)
        if held >= self.exits.max_hold:
            return self._leave(i, "maxHold")
        if self.exit_rule[side][i]:
            return self._leave(i, "exitLong" if long else "exitShort")
        if self.short[i] if long else self.long[i]:
            return self._leave(i, "reverse")
        self.columns["note"][i] = "holding"
        return None

    def _leave(self, i: int, note: str, action: str | None = "close") -> None:
        assert self.position is not None
        self.columns["action"][i] = action
        self.columns["side"][i] = self.position.side if action else None
        self.columns["note"][i] = note
        self.position, self.last_exit = None, i

    def _enter(self, i: int) -> None:
        side = "long" if self.long[i] else "short" if self.short[i] else None
        if side is None:
            self.columns["note"][i] = "no_setup"
        elif i - self.last_exit <= self.exits.cooldown_bars:
            self.columns["note"][i] = "cooldown"
        elif not np.isfinite(self.atr[i]):
            self.columns["note"][i] = "atr_unavailable"
        else:
            stop, target = levels(side, self.close[i], self.atr[i], self.exits)
            self.position = Position(side, i, stop, target)
            c = self.columns
            c["action"][i], c["side"][i], c["note"][i] = "open", side, "signal"
            c["stop"][i], c["target"][i] = stop, target
            self.held[i], self.entry_bar[i] = 0, i


def walk(signals: Signals, bars: dict[str, np.ndarray], exits: Exits) -> Walk:
    """The position bar by bar. `bars` holds high, low, close and atr."""
    return _Walker(signals, bars, exits).run()
