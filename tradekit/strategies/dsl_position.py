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
    """Goes from event to event rather than bar by bar: when flat, to the next bar where an
    entry is taken; in a position, to the first bar of its window (up to maxHold bars)
    where it ends. The bars skipped over keep their note (no_setup, holding)."""

    def __init__(self, signals: Signals, bars: dict[str, np.ndarray], exits: Exits):
        n = len(bars["close"])
        self.n, self.signals, self.bars, self.exits = n, signals, bars, exits
        self.entries = np.flatnonzero(signals.long | signals.short)
        self.atr_known = np.isfinite(bars["atr"])
        self.action, self.side = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
        self.note = np.full(n, "no_setup", dtype=object)
        self.stop, self.target = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
        self.position = np.full(n, None, dtype=object)
        self.held = np.full(n, np.nan)
        self.entry_bar = np.full(n, -1, dtype=np.int64)

    def run(self) -> Walk:
        start, last_exit, k = 0, None, 0
        while (found := self._next_entry(start, last_exit, k)) is not None:
            entry, k = found
            exit_bar = self._hold(entry)
            if exit_bar is None:
                break  # still held on the last bar
            start, last_exit = exit_bar + 1, exit_bar
        return Walk(
            self.action,
            self.side,
            self.note,
            self.stop,
            self.target,
            self.position,
            self.held,
            self.entry_bar,
        )

    def _next_entry(self, start: int, last_exit: int | None, k: int) -> tuple[int, int] | None:
        """The first bar from `start` where an entry is taken (and the index of the next
        entry to look at); the entries passed over are noted cooldown or atr_unavailable."""
        entries = self.entries
        while k < len(entries):
            i, k = int(entries[k]), k + 1
            if i < start:
                continue  # inside the position just left
            if last_exit is not None and i - last_exit <= self.exits.cooldown_bars:
                self.note[i] = "cooldown"
            elif not self.atr_known[i]:
                self.note[i] = "atr_unavailable"
            else:
                return i, k
        return None

    def _hold(self, entry: int) -> int | None:
        """Open at `entry`; the bar the position ends on, or None if it is still held."""
        signals, bars, exits = self.signals, self.bars, self.exits
        side = "long" if signals.long[entry] else "short"
        stop, target = levels(side, float(bars["close"][entry]), float(bars["atr"][entry]), exits)
        self.action[entry], self.side[entry], self.note[entry] = "open", side, "signal"
        self.stop[entry], self.target[entry] = stop, target
        last = min(entry + exits.max_hold, self.n - 1)
        window = slice(entry + 1, last + 1)
        # Floats compare alike with a price of at most 8 decimals (below 1e6): the float
        # nearest to it is that price for the bars' floats.
        low, high = bars["low"][window], bars["high"][window]
        if side == "long":
            hits = (low <= float(stop), high >= float(target))
            rule, reverse = signals.exit_long[window], signals.short[window]
        else:
            hits = (high >= float(stop), low <= float(target))
            rule, reverse = signals.exit_short[window], signals.long[window]
        ends = hits[0] | hits[1] | rule | reverse
        if entry + exits.max_hold == last and len(ends):
            ends[-1] = True
        found = bool(ends.any())
        exit_bar = entry + 1 + int(np.argmax(ends)) if found else self.n - 1
        held_until = exit_bar if found else self.n - 1
        span = slice(entry, held_until + 1)
        self.held[span] = np.arange(held_until + 1 - entry)
        self.entry_bar[span] = entry
        self.position[entry : held_until + 1] = side
        self.note[entry + 1 : held_until + 1] = "holding"
        if not found:
            return None
        offset = exit_bar - entry - 1
        note = (
            "stop_loss_hit" if hits[0][offset]
            else "take_profit_hit" if hits[1][offset]
            else "maxHold" if exit_bar - entry >= exits.max_hold
            else ("exitLong" if side == "long" else "exitShort") if rule[offset]
            else "reverse"
        )  # fmt: skip
        self.note[exit_bar], self.position[exit_bar] = note, None
        if not note.endswith("_hit"):
            self.action[exit_bar], self.side[exit_bar] = "close", side
        return exit_bar


def walk(signals: Signals, bars: dict[str, np.ndarray], exits: Exits) -> Walk:
    """The position on every bar. `bars` holds high, low, close and atr."""
    return _Walker(signals, bars, exits).run()
