"""What the guard remembers about a position between runs (one row per position in SQLite).

The exchange says what is held; this says why and how it is being managed: the plan it came
from, the stop that should rest on the exchange and what put it there, the best price seen,
the trailing state, the take-profits already taken, the reverse-signal count.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, Literal

from tradekit.symbols import SymbolError, bitget_symbol

StopKind = Literal["plan", "default", "break_even", "trailing"]
_DECIMALS = ("entry", "initial_size", "size", "stop_loss", "best", "trail_stop")
_DECIMAL_LISTS = ("take_profits", "tp_weights")
_OPTIONAL_DECIMALS = ("tightened_pct", "atr_at_entry")


@dataclass
class Tracked:
    symbol: str
    side: str  # long | short
    opened_ms: int
    entry: Decimal
    initial_size: Decimal
    size: Decimal
    #: the ledger intent that opened it; None for a position no plan opened
    intent_key: str | None = None
    #: {"strategy": ..., "timeframe": ...} of the plan that opened it (for reverse signals)
    origin: dict[str, Any] | None = None
    #: the stop-loss that should rest on the exchange, and what set it
    stop_loss: Decimal | None = None
    stop_kind: StopKind = "plan"
    take_profits: list[Decimal] = field(default_factory=list)
    tp_weights: list[Decimal] = field(default_factory=list)
    #: indexes of take-profits taken (by the exchange or by the guard)
    tps_done: list[int] = field(default_factory=list)
    best: Decimal | None = None
    trail_active: bool = False
    trail_stop: Decimal | None = None
    #: a profitable position at its timeout trails this close from then on
    tightened_pct: Decimal | None = None
    atr_at_entry: Decimal | None = None
    be_done: bool = False
    reverse_count: int = 0
    reverse_bar_ms: int | None = None
    sl_missing_since_ms: int | None = None
    adopted: bool = False
    #: an unknown position the config says to flag only: reported, not managed
    unmanaged: bool = False
    #: numbers the guard's own orders for this position (their clientOids)
    seq: int = 0
    id: int = 0

    @property
    def direction(self) -> Decimal:
        return Decimal(1) if self.side == "long" else Decimal(-1)

    @property
    def close_side(self) -> str:
        return "sell" if self.side == "long" else "buy"

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tracked:
        """Read a stored state; ValueError naming the field when a value is unusable (the
        guard then sets the record aside instead of acting on it)."""
        if not isinstance(data, dict):
            raise ValueError(f"not an object: {type(data).__name__}")
        values = dict(data)
        for name in (*_DECIMALS, *_OPTIONAL_DECIMALS):
            if values.get(name) is not None:
                values[name] = _decimal(name, values[name])
        for name in _DECIMAL_LISTS:
            items = values.get(name) or []
            if not isinstance(items, list):
                raise ValueError(f"{name}: not a list")
            values[name] = [_decimal(name, v) for v in items]
        _check(values)
        try:  # the row's symbol names files (candles) and orders: never trust it unchecked
            values["symbol"] = bitget_symbol(values.get("symbol"))
        except SymbolError as exc:
            raise ValueError(f"symbol: {exc}") from None
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def _check(values: dict[str, Any]) -> None:
    for name in ("entry", "size", "initial_size"):
        if values.get(name) is None or values[name] <= 0:
            raise ValueError(f"{name}: must be a positive number (got {values.get(name)})")
    for name in ("stop_loss", "best", "trail_stop"):
        if values.get(name) is not None and values[name] <= 0:
            raise ValueError(f"{name}: must be positive (got {values[name]})")
    if values.get("side") not in ("long", "short"):
        raise ValueError(f"side: {values.get('side')!r} is not long or short")
    for name in ("opened_ms", "seq", "reverse_count"):
        if name in values and not _is_int(values[name]):
            raise ValueError(f"{name}: not an integer ({values[name]!r})")
    tps_done = values.get("tps_done") or []
    if not isinstance(tps_done, list) or not all(_is_int(i) for i in tps_done):
        raise ValueError(f"tps_done: not a list of integers ({tps_done!r})")


def _decimal(name: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"{name}: not a number ({value!r})")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"{name}: not a number ({value!r})") from None
    if not number.is_finite():
        raise ValueError(f"{name}: not a finite number ({value!r})")
    return number


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def better(side: str, a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """The tighter of two stops (higher for a long, lower for a short)."""
    if a is None or b is None:
        return a if b is None else b
    return max(a, b) if side == "long" else min(a, b)


def crossed(side: str, price: Decimal, stop: Decimal) -> bool:
    """Whether `price` is at or past a stop of a `side` position."""
    return price <= stop if side == "long" else price >= stop


def reached(side: str, price: Decimal, target: Decimal) -> bool:
    """Whether `price` is at or past a take-profit of a `side` position."""
    return price >= target if side == "long" else price <= target
