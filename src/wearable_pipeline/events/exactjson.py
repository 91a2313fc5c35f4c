"""JSON in and out with every number kept as sent, at orjson's speed for ordinary bodies.

orjson (like every fast parser) reads a number into a 64-bit integer or a double. Two kinds
of number do not fit: an integer beyond 64 bits (read as a double, its last digits lost) and
a decimal with more significant digits than a double holds (`0.12345678901234567890`), or so
small that it becomes 0 (`1e-400`). PostgreSQL's jsonb stores numbers as `numeric`, with any
precision, so the loss would be ours alone.

`loads` parses with orjson, then looks at the raw bytes for the only text such numbers can
have: a run of 16 or more digits (and dots), or a negative exponent of three digits or more.
A decimal of up to 15 significant digits comes back unchanged from a double (DBL_DIG), so a
body without either is held exactly; the look is one `bytes.translate` and two searches,
under 1 µs per event. A body with such text is parsed again by the standard
library's `json`, keeping those numbers as `Decimal` (a decimal) or `ExactInt` (a big
integer) — numbers to the validators, exact text to `dumps`.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import orjson

# One byte per class: digit or dot, e/E, sign, what can end a number, anything else.
_CLASSES = bytearray(b"x" * 256)
for _byte in b"0123456789.":
    _CLASSES[_byte] = ord("0")
for _byte in b"eE":
    _CLASSES[_byte] = ord("e")
for _byte in b"+-":
    _CLASSES[_byte] = ord("s")
for _byte in b",}] \t\r\n":
    _CLASSES[_byte] = ord("t")
_CLASS_TABLE = bytes(_CLASSES)
_LONG_RUN = b"0" * 16
# A negative exponent of three or more digits, ended as a number ends (a UUID's `e-123`
# goes on with a fourth hex digit, so it is not taken for one).
_TINY_EXPONENT = re.compile(rb"es0{3,}t")
_OVERFLOW_MESSAGE = "number is infinity"
# What orjson reads (and writes) as an integer.
_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1


class JsonError(ValueError):
    """The bytes are not JSON (the message says where)."""


class ExactInt(int):
    """An integer orjson cannot write (beyond 64 bits); `dumps` writes its digits."""


def loads(raw: bytes) -> Any:
    """The JSON value of `raw`, with every number held exactly (see the module docstring).

    Raises JsonError when `raw` is not JSON, with orjson's message (line and column).
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if _OVERFLOW_MESSAGE not in str(exc):
            raise JsonError(str(exc)) from exc
        return _loads_exact(raw, fallback=exc)
    if may_hold_inexact_numbers(raw):
        return _loads_exact(raw, fallback=value)
    return value


def may_hold_inexact_numbers(raw: bytes) -> bool:
    """Whether `raw` has text a double may not hold exactly (false positives are harmless)."""
    classes = raw.translate(_CLASS_TABLE)
    return _LONG_RUN in classes or _TINY_EXPONENT.search(classes) is not None


def _loads_exact(raw: bytes, *, fallback: Any) -> Any:
    """Parse with the standard library, numbers exact; `fallback` when it cannot.

    `fallback` is orjson's reading of `raw`, or its error when it stopped at a number too
    large for a double. This parser recurses per nesting level and stops near Python's
    recursion limit, well short of orjson's 1,024 levels: such a body keeps orjson's
    reading (or its error), the one case where a number may lose digits. orjson's verdict
    on what is JSON stands: this parser is never the one to refuse a body orjson took.
    """
    try:
        return json.loads(
            raw.decode("utf-8"),
            parse_float=_decimal_or_float,
            parse_int=_exact_int,
            parse_constant=_no_constant,
        )
    except (RecursionError, ValueError) as exc:  # ValueError: NaN, Infinity, bad bytes
        if isinstance(fallback, orjson.JSONDecodeError):
            message = str(exc) if isinstance(exc, ValueError) else str(fallback)
            raise JsonError(message) from exc
        return fallback


def _decimal_or_float(text: str) -> float | Decimal:
    number = float(text)
    exact = Decimal(text)
    # The float when it is the same number (its repr is what orjson writes), else the text.
    return number if Decimal(repr(number)) == exact else exact


def _exact_int(text: str) -> int | Decimal:
    if len(text) > 4000:  # past Python's int/str conversion limit: kept as its digits
        return Decimal(text)
    number = int(text)
    return number if _INT64_MIN <= number <= _UINT64_MAX else ExactInt(number)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _exact_text(value: object) -> orjson.Fragment:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value).encode())
    if isinstance(value, ExactInt):
        return orjson.Fragment(int.__repr__(value).encode())
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of `value`, as orjson writes it, numbers from `loads` exact.

    Raises orjson.JSONEncodeError for what orjson refuses (nesting deeper than 254 levels).
    """
    return orjson.dumps(value, default=_exact_text, option=orjson.OPT_PASSTHROUGH_SUBCLASS)
