"""Which JSON numbers PostgreSQL can store, and a storable copy of an event that has others.

jsonb holds numbers as `numeric`: at most 131,072 digits before the decimal point and 16,383
after it. JSON has no limit, and `exactjson` keeps every number as sent, so `1e200000` or
`1e-20000` arrive intact as `Decimal`s — and one of them would fail the cast of a whole
batch's rows (one JSON document per table: `events.store`). The contract rejects such an
event, naming the number; its rejected row stores a copy with the number as a string, the
exact bytes beside it (as for U+0000).

Only a `Decimal` can be out of range: orjson's doubles are within it, and an integer long
enough (131,073 digits) cannot fit in an event (`max_event_bytes`).
"""

from __future__ import annotations

import re
from decimal import Decimal

MAX_INTEGER_DIGITS = 131_072
MAX_FRACTION_DIGITS = 16_383
# How such a number is written: an exponent of five digits or more ending the number token
# (a UUID's `e12345` goes on with hex or a quote), or a very long literal.
_BIG_EXPONENT = re.compile(rb"[0-9.][eE][+-]?[0-9]{5,}[,}\]]")

JsonPath = tuple[str | int, ...]  # keys and indexes from the event down


def may_hold_unstorable(encoded: bytes) -> bool:
    """A cheap test on an event's serialisation: False means no number in it is out of range."""
    return len(encoded) > MAX_FRACTION_DIGITS or _BIG_EXPONENT.search(encoded) is not None


def is_unstorable(value: object) -> bool:
    """Whether `value` is a number PostgreSQL's numeric cannot hold."""
    if not isinstance(value, Decimal):
        return False
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # NaN and Infinity: not JSON, never parsed
        return False
    if -exponent > MAX_FRACTION_DIGITS:
        return True
    return any(digits) and value.adjusted() >= MAX_INTEGER_DIGITS


def unstorable_numbers(value: object) -> list[tuple[JsonPath, Decimal]]:
    """Every out-of-range number in `value` with its path, in document order.

    A loop over a stack, not recursion: a rejected event may be nested 1,000 levels deep.
    """
    found: list[tuple[JsonPath, Decimal]] = []
    todo: list[tuple[JsonPath, object]] = [((), value)]
    while todo:
        path, item = todo.pop()
        if is_unstorable(item):
            found.append((path, item))  # type: ignore[arg-type]
        elif isinstance(item, dict):
            todo.extend(((*path, key), child) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            todo.extend(((*path, index), child) for index, child in reversed(list(enumerate(item))))
    return found


def storable_copy(value: object) -> object:
    """`value` with each out-of-range number replaced by its text, as a JSON string."""
    root = [value]
    todo: list[tuple[list | dict, int | str]] = [(root, 0)]
    while todo:
        parent, key = todo.pop()
        item = parent[key]  # type: ignore[index]
        if is_unstorable(item):
            parent[key] = str(item)  # type: ignore[index]
        elif isinstance(item, dict):
            parent[key] = copy = dict(item)  # type: ignore[index]
            todo.extend((copy, name) for name in copy)
        elif isinstance(item, list):
            parent[key] = copy = list(item)  # type: ignore[index]
            todo.extend((copy, index) for index in range(len(copy)))
    return root[0]
