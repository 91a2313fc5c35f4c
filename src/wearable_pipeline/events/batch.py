"""One request's events, checked: valid rows to write, rejects to keep, in-batch repeats.

Pure and synchronous (no HTTP, no database) so the rules are testable on their own: the API
parses the body, calls `prepare_batch`, and hands the result to `store.write_batch_async`.

Nesting: the body parser accepts up to 1,024 levels, but orjson serialises at most
`MAX_EVENT_DEPTH` (254) levels, counting the event object itself as level 1. A deeper event is
well-formed JSON in a well-formed request, so it is not a 400: it is a rejected event (path
"", "nested deeper than 254 levels") and, like every reject, kept in `raw.rejected_events` as
sent. PostgreSQL's jsonb holds such depths (tested to 10,000 levels with the default
`max_stack_depth`), so the stored `event` is faithful; it is serialised for storage by
`dumps_any_depth`, an iterative encoder that writes what orjson would.

Numbers: the body is parsed by `exactjson.loads`, so a number a double cannot hold arrives
here as a `Decimal` or an `ExactInt`, and `exactjson.dumps` writes its digits as sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from wearable_pipeline.events import pg_numbers
from wearable_pipeline.events.contract import CheckedEvent, Contract, FieldError, contains_nul
from wearable_pipeline.events.exactjson import dumps

# A rejected event's id as stored in raw.rejected_events.event_id (see `_rejected`).
MAX_STORED_EVENT_ID_CHARS = 200
# `\u0000` as written by orjson, not preceded by an escaping backslash.
_ESCAPED_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")
# orjson.dumps raises "Recursion limit reached" past this many nested objects/arrays (the
# event object itself is level 1); a test pins the figure, so an orjson upgrade that moves it
# is noticed.
MAX_EVENT_DEPTH = 254
TOO_DEEP_MESSAGE = (
    f"nested deeper than {MAX_EVENT_DEPTH} levels of objects and arrays; "
    "the event was not checked further"
)


class BatchShapeError(ValueError):
    """The body is JSON but not `{"events": [...]}` with at least one event (HTTP 400)."""


class BatchTooLargeError(ValueError):
    """More events than allowed, or one event over the per-event limit (HTTP 413)."""


@dataclass(frozen=True, slots=True)
class ValidRow:
    checked: CheckedEvent
    event_json: bytes  # the event as sent, re-serialised compactly (UTF-8 JSON) for jsonb


@dataclass(frozen=True, slots=True)
class RejectedRow:
    index: int
    event_id: str | None
    event_json: str  # jsonb-safe (U+0000 replaced) form of the event as sent
    event_bytes: bytes | None  # the exact serialisation, only when event_json had to differ
    errors: list[FieldError]

    def as_response(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "event_id": self.event_id,
            "errors": [error.as_dict() for error in self.errors],
        }


@dataclass(slots=True)
class PreparedBatch:
    received: int
    valid: list[ValidRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


def events_of(body: object, *, max_events: int) -> list[Any]:
    """The `events` list of a parsed body; BatchShapeError / BatchTooLargeError say what is off."""
    if not isinstance(body, dict):
        raise BatchShapeError('the body must be a JSON object like {"events": [...]}')
    if "events" not in body:
        raise BatchShapeError('the body has no "events" field; send {"events": [...]}')
    events = body["events"]
    if not isinstance(events, list):
        raise BatchShapeError('"events" must be a list of event objects')
    if not events:
        raise BatchShapeError('"events" is empty; send at least one event')
    if len(events) > max_events:
        raise BatchTooLargeError(
            f"{len(events)} events in one request; at most {max_events} are allowed"
        )
    return events


def prepare_batch(events: list[Any], contract: Contract, *, max_event_bytes: int) -> PreparedBatch:
    """Check each event; keep the first of any repeated `event_id`, count the rest as deduped.

    Raises BatchTooLargeError when one event serialises to more than `max_event_bytes`
    (the whole request is refused, nothing is stored). An event nested deeper than
    `MAX_EVENT_DEPTH` levels is rejected (path "") without further checks.
    """
    batch = PreparedBatch(received=len(events))
    seen: set[str] = set()
    for index, event in enumerate(events):
        try:
            encoded = dumps(event)
            too_deep = False
        except orjson.JSONEncodeError:
            # The only value the body parser makes that orjson.dumps refuses: too deep a nesting.
            encoded = dumps_any_depth(event)
            too_deep = True
        if len(encoded) > max_event_bytes:
            raise BatchTooLargeError(
                f"event {index} is {len(encoded)} bytes; one event may be at most "
                f"{max_event_bytes} bytes"
            )
        if too_deep:
            errors = [FieldError("", TOO_DEEP_MESSAGE)]
            batch.rejected.append(_rejected(index, event, encoded, errors))
            continue
        outcome = contract.check(event, encoded)
        if isinstance(outcome, CheckedEvent):
            if outcome.event_id in seen:
                continue  # counted as deduped by the store: received - accepted - rejected
            seen.add(outcome.event_id)
            batch.valid.append(ValidRow(outcome, encoded))
        else:
            batch.rejected.append(_rejected(index, event, encoded, outcome))
    # One lock order for every writer: two requests with overlapping ids cannot deadlock.
    batch.valid.sort(key=lambda row: row.checked.event_id)
    return batch


def _rejected(index: int, event: object, encoded: bytes, errors: list[FieldError]) -> RejectedRow:
    event_id = event.get("event_id") if isinstance(event, dict) else None
    text = encoded.decode()
    exact: bytes | None = None
    if pg_numbers.may_hold_unstorable(encoded) and pg_numbers.unstorable_numbers(event):
        # jsonb cannot hold such a number: keep it as a string, the exact bytes beside it.
        text = dumps_any_depth(pg_numbers.storable_copy(event)).decode()
        exact = encoded
    if contains_nul(event):
        # jsonb cannot hold U+0000: keep a storable copy (U+FFFD) and the exact bytes beside it.
        text = _ESCAPED_NUL.sub(lambda m: m.group(1) + "\\ufffd", text)
        exact = encoded
    if isinstance(event_id, str):
        # The column is a lookup key under a unique index, whose btree entries PostgreSQL
        # caps at ~2.7 kB: an id of any length (rejected: "is too long") would fail the whole
        # batch. The first characters find it; `event` keeps the id as sent.
        event_id = event_id.replace("\x00", "\ufffd")[:MAX_STORED_EVENT_ID_CHARS]
    return RejectedRow(
        index=index,
        event_id=event_id if isinstance(event_id, str) else None,
        event_json=text,
        event_bytes=exact,
        errors=errors,
    )


def dumps_any_depth(value: object) -> bytes:
    """The bytes `orjson.dumps(value)` would give, at any nesting depth (no recursion).

    For the rare event orjson refuses as too deep; scalars and keys are still written by
    `exactjson.dumps`, so the output is the same compact UTF-8 JSON the normal path stores.
    """
    out = bytearray()
    # A stack of pending work: bytes are written as they are, anything else is a JSON value.
    todo: list[object] = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, bytes):
            out += item
        elif isinstance(item, dict):
            todo.append(b"}")
            todo.extend(_reversed_members(item))
            todo.append(b"{")
        elif isinstance(item, list):
            todo.append(b"]")
            for position in range(len(item) - 1, -1, -1):
                todo.append(item[position])
                if position:
                    todo.append(b",")
            todo.append(b"[")
        else:
            out += dumps(item)
    return bytes(out)


def _reversed_members(obj: dict[Any, Any]) -> Iterator[object]:
    """An object's members as work items, last first (the stack pops them in order)."""
    members = list(obj.items())
    for position in range(len(members) - 1, -1, -1):
        key, item = members[position]
        yield item
        yield (b"," if position else b"") + dumps(key) + b":"
