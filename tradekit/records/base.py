"""Shared building blocks for every record: camelCase JSON, frozen values, exact numbers."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel

from tradekit import symbols


def _to_decimal(value: Any) -> Any:
    """Accept JSON numbers only: int and Decimal (from our lossless reader) or float.

    Strings and booleans are refused so that a record means the same to us as to `jq`.
    """
    if value.__class__ is float:  # the common case first: a fraction from a JSON line
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        # repr() is the shortest text that reads back as the same float.
        return Decimal(repr(value))
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return _to_decimal(float(value))  # a float subclass: as the float it is
    if isinstance(value, Decimal):
        if not math.isfinite(value):  # NaN, Infinity, or past a double's range (1e400)
            raise ValueError("must be a finite number")
        return value
    raise ValueError(f"must be a number, not {type(value).__name__}")


_number_schema = WithJsonSchema({"type": "number"})

# Finiteness is checked in _to_decimal: as a Field constraint after a BeforeValidator it
# is one more Python call per number (on the hot path of every stage).
#: A price, size or amount of money: Decimal in Python, a finite JSON number on the wire.
Num = Annotated[Decimal, BeforeValidator(_to_decimal), _number_schema]
#: The same, but strictly greater than zero.
PositiveNum = Annotated[Decimal, BeforeValidator(_to_decimal), Field(gt=0), _number_schema]


#: A moment: an ISO 8601 string on the wire (records are strict, but a time comes as text).
Time = Annotated[datetime, Field(strict=False)]


_symbol_schema = WithJsonSchema(
    {
        "type": "string",
        "pattern": symbols.SCHEMA_PATTERN,
        "description": "Bitget id, e.g. BTCUSDT; btcusdt and BTC/USDT:USDT are read as it",
    }
)
#: A market: its Bitget id, read from any spelling tradekit.symbols accepts.
Symbol = Annotated[str, PlainValidator(symbols.bitget_symbol), _symbol_schema]


class Record(BaseModel):
    """Base for every record and block.

    - JSON keys are camelCase (`cycleId`), Python attributes snake_case (`cycle_id`);
    - records are immutable values: a stage builds a new block, it never edits one;
    - fields nobody declared are kept, so users' own fields pass through every stage;
    - strict: a boolean is a JSON boolean and an integer a JSON integer (`"approved": "yes"`
      or `"leverage": "5"` is a bad line naming the field, as `jq` would not select it).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="allow",
        strict=True,
        ser_json_inf_nan="strings",
    )

    def respelled(self) -> bool:
        """Whether validation wrote a value differently from the line (a symbol's spelling):
        then the record is written from `respell(raw)`, not from the line's text."""
        return False

    def respell(self, raw: dict[str, Any]) -> dict[str, Any]:
        """`raw`, the line's object, with the values validation respelled written back."""
        return raw

    def to_json_dict(self) -> dict[str, Any]:
        """The record as it is written: camelCase keys, unset optional fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True)
