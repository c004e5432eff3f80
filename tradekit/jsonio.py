"""Lossless JSON: numbers with a fraction are read as Decimal and written back exactly.

orjson is fast but reads every fraction as a binary float; the standard library's
scanner with `parse_float=Decimal` keeps the digits, and `orjson.Fragment` writes a
Decimal's digits verbatim. NaN and Infinity are rejected both ways.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson


class JsonError(ValueError):
    """The text is not JSON, or a value cannot be written as JSON."""


def _reject_constant(name: str) -> Any:
    raise JsonError(f"{name} is not allowed: JSON numbers must be finite")


_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1


def _parse_int(text: str) -> int | Decimal:
    # orjson writes integers up to 64 bits; a larger one is kept exact as a Decimal.
    value = int(text)
    return value if _INT_MIN <= value <= _INT_MAX else Decimal(text)


_decoder = json.JSONDecoder(
    parse_float=Decimal, parse_int=_parse_int, parse_constant=_reject_constant
)


def loads(text: str | bytes) -> Any:
    """Parse one JSON document; fractions become Decimal, integers stay int (past 64 bits,
    Decimal)."""
    if isinstance(text, bytes | bytearray):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError(f"not UTF-8 text (byte {exc.start})") from None
    try:
        return _decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise JsonError(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise JsonError("invalid JSON: nested too deeply") from None


def has_constants(text: bytes) -> bool:
    """Whether NaN or Infinity might be in the text (or only in a string: the exact reader
    then tells). pydantic's JSON reader takes them where a field is Any, and they are not
    JSON: jq turns them into null and strict parsers refuse the line."""
    return text.find(b"NaN") >= 0 or text.find(b"Infinity") >= 0


#: Digits and points -> "0", e/E -> "e", anything else -> " ": then a run of 16 zeros or a
#: "0e" marks a number a double might not hold exactly (bytes.translate and `in` run in C,
#: several times faster than a regular expression here).
_NUMBER_SHAPE = bytes(
    ord("0") if chr(b) in "0123456789." else ord("e") if chr(b) in "eE" else ord(" ")
    for b in range(256)
)
_WIDE_RUN = b"0" * 16


def fits_doubles(text: bytes) -> bool:
    """No number in the text has more than 15 significant digits or an exponent, so each
    fraction read as a double converts back to exactly its decimal (DBL_DIG = 15)."""
    shape = text.translate(_NUMBER_SHAPE)
    # find(), not `in`: `bytes in bytes` first tries the needle as an int and builds a
    # TypeError message, per call, before it searches
    return shape.find(_WIDE_RUN) < 0 and shape.find(b"0e") < 0


def loads_fast(text: bytes) -> tuple[Any, bool]:
    """`loads`, through orjson when that is exact: when no number in the line has more than
    15 significant digits (or an exponent), every fraction read as a double converts back
    to the same decimal (DBL_DIG = 15), so fractions may come back as floats. Returns the
    value and whether it came the fast way (floats in it then stand for exact decimals)."""
    if fits_doubles(text):
        try:
            return orjson.loads(text), True
        except orjson.JSONDecodeError:
            pass  # the exact reader says what is wrong
    return loads(text), False


#: Decimals within this many digits of the point are written without an exponent.
_PLAIN_DIGITS = 30


def _number_text(value: Decimal) -> str:
    """Exact text of a finite Decimal: plain notation (0.00001, 100) unless it is huge/tiny."""
    if -_PLAIN_DIGITS <= value.adjusted() <= _PLAIN_DIGITS:
        return format(value, "f")
    return str(value)


def json_number(value: Decimal) -> orjson.Fragment:
    """A finite Decimal as its exact JSON number, ready for orjson."""
    if not value.is_finite():
        raise JsonError(f"{value} cannot be written: numbers must be finite")
    return orjson.Fragment(_number_text(value).encode("ascii"))


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def dumps(value: Any, *, pretty: bool = False) -> bytes:
    """One compact JSON document, no trailing newline (indent 2 with pretty)."""
    options = _OPTIONS | (orjson.OPT_INDENT_2 if pretty else 0)
    try:
        return orjson.dumps(value, default=_default, option=options)
    except orjson.JSONEncodeError as exc:
        if "64-bit" not in str(exc):
            raise _write_error(exc) from None
    try:  # rare: an integer past 64 bits somewhere; write it exactly as a Decimal
        return orjson.dumps(_widen_ints(value), default=_default, option=options)
    except orjson.JSONEncodeError as exc:
        raise _write_error(exc) from None


def _write_error(exc: orjson.JSONEncodeError) -> JsonError:
    if str(exc) == "Recursion limit reached":
        return JsonError("nested too deeply (more than 254 levels of arrays and objects)")
    return JsonError(str(exc))


def _widen_ints(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not _INT_MIN <= value <= _INT_MAX:
        return Decimal(value)
    if isinstance(value, dict):
        return {key: _widen_ints(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_widen_ints(item) for item in value]
    return value
