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
    raise JsonError(f"{name} is not allowed: prices and sizes must be finite numbers")


_decoder = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def loads(text: str | bytes) -> Any:
    """Parse one JSON document; fractions become Decimal, integers stay int."""
    if isinstance(text, bytes | bytearray):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError(f"not UTF-8 text (byte {exc.start})") from None
    try:
        return _decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise JsonError(f"invalid JSON: {exc.msg} at column {exc.colno}") from None


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise JsonError(f"{value} cannot be written: numbers must be finite")
        return orjson.Fragment(str(value).encode("ascii"))
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
        raise JsonError(str(exc)) from None
