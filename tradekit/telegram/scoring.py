"""The dev set's labelled form of a parse, and its comparison rules (its README, §2).

`labelled(result)` writes a parse the way the labelled files do (`ENTRY_SIGNAL`, upper-case
sides, snake_case keys); `mismatches(expected, got)` lists the keys that differ: numbers
compared as decimals, target order significant, missing-field lists as sets.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradekit.telegram.results import EntrySignal, ManageAction, NeedsManual, ParseResult

KINDS = {
    "entry": "ENTRY_SIGNAL",
    "manage": "MANAGE_ACTION",
    "needs_manual": "NEEDS_MANUAL",
    "non_signal": "NON_SIGNAL",
}
COMPARED = {
    "ENTRY_SIGNAL": (
        "symbol", "side", "entry_type", "entry_low", "entry_high", "stop_loss",
        "take_profits", "leverage", "entry_points", "tp_weights", "valid",
    ),
    "MANAGE_ACTION": ("symbol", "reduce_pct", "move_sl_to_be", "tp_price", "close_all"),
    "NEEDS_MANUAL": ("missing_fields", "symbol"),
    "NON_SIGNAL": (),
}  # fmt: skip
LISTS = frozenset({"take_profits", "entry_points", "tp_weights"})
DECIMALS = frozenset({"entry_low", "entry_high", "stop_loss", "reduce_pct", "tp_price"})


def labelled(result: ParseResult) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": KINDS[result.kind]}
    if isinstance(result, EntrySignal):
        out |= {
            "symbol": result.symbol,
            "side": result.side.upper(),
            "entry_type": "MARKET" if result.market else "LIMIT",
            "entry_low": result.entry_low,
            "entry_high": result.entry_high,
            "stop_loss": result.stop_loss,
            "take_profits": list(result.take_profits),
            "leverage": result.leverage,
        }
        if result.entry_points:
            out["entry_points"] = list(result.entry_points)
        if result.tp_weights:
            out["tp_weights"] = list(result.tp_weights)
        if not result.valid:
            out["valid"] = False
    elif isinstance(result, ManageAction):
        out |= {
            "symbol": result.symbol,
            "reduce_pct": result.reduce_pct,
            "move_sl_to_be": result.move_sl_to_be,
            "tp_price": result.tp_price,
            "close_all": result.close_all,
        }
    elif isinstance(result, NeedsManual):
        out |= {"reason": result.reason, "missing_fields": list(result.missing_fields)}
        if result.symbol:
            out["symbol"] = result.symbol
    else:
        out["reason"] = result.reason
    return out


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _same(key: str, expected: Any, got: Any) -> bool:
    if key in LISTS:
        want, have = expected or [], got or []
        return len(want) == len(have) and all(
            _decimal(a) == _decimal(b) for a, b in zip(want, have, strict=True)
        )
    if key in DECIMALS:
        return _decimal(expected) == _decimal(got)
    if key == "missing_fields":
        return set(expected or []) == set(got or [])
    if key == "valid":
        return (expected is not False) == (got is not False)
    return expected == got


def mismatches(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """The compared keys on which `got` differs from `expected` (empty: a pass)."""
    if expected.get("kind") != got.get("kind"):
        return ["kind"]
    keys = COMPARED.get(expected["kind"], ())
    return [key for key in keys if not _same(key, expected.get(key), got.get(key))]
