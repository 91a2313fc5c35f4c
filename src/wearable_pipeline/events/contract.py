"""The event contract: JSON Schema files loaded and compiled once, and one event checked.

Why two validators: `fastjsonschema` compiles each schema into Python code that checks a
valid event several times faster than `jsonschema` (figures in docs/events.md), but it stops
at the first error. Valid events are the common case, so they take the compiled path; an event
that fails it is checked again by `jsonschema`, which reports *every* error with its path, so
a client learns all it has to fix from one response.

A few rules JSON Schema cannot say precisely are checked in Python after the schemas: the
schema major version, that `client_ts` is a real instant, that `timezone` is an IANA name, and
that the event contains no NUL character (PostgreSQL's jsonb and text cannot store one).

Null means absent: an optional field (one its schema does not list in `required`) sent as
`null` is checked as if it were not there, in the envelope and in every payload schema, as the
seed's clients send `"referrer": null`. The rule is read from the schemas (`NullAsAbsent`),
so a field made optional or required in a schema file follows it. A required field sent as
`null` is still rejected, with a message that says it may not be null.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from uuid import UUID

import fastjsonschema
import orjson
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

from wearable_pipeline.events import pg_numbers

SUPPORTED_MAJOR = 1
CONTRACT_VERSION = "v1"
ENVELOPE_FILE = "envelope.json"
# Messages quote the offending value; a 30 KiB string should not come back 30 KiB long.
_MAX_MESSAGE_CHARS = 300
_MAX_VALUE_CHARS = 80  # of a quoted value within a message
_SEMVER = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")
_NULL_MESSAGE = " is required and may not be null"


class ContractError(RuntimeError):
    """The schema files are missing or invalid; the message names the file."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One reason an event was rejected: a JSON pointer into the event and what is wrong."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass(frozen=True, slots=True)
class CheckedEvent:
    """The typed columns of a valid event (the event itself is stored as sent)."""

    event_id: str  # canonical lower-case UUID: the dedupe key
    event_name: str
    schema_version: str
    user_id: str | None
    anonymous_id: str | None
    client_ts: datetime


@dataclass(frozen=True, slots=True)
class NullAsAbsent:
    """Which properties of an object schema may be sent as `null` to mean "absent".

    `optional`: the schema's properties not in its `required` list; `nested`: the same rule
    for properties that are objects with properties of their own.
    """

    optional: frozenset[str]
    nested: dict[str, NullAsAbsent]

    @classmethod
    def of(cls, schema: dict[str, Any]) -> NullAsAbsent:
        properties: dict[str, Any] = schema.get("properties", {})
        return cls(
            optional=frozenset(properties) - frozenset(schema.get("required", ())),
            nested={
                name: cls.of(spec)
                for name, spec in properties.items()
                if isinstance(spec, dict) and "properties" in spec
            },
        )

    def strip(self, value: dict[str, Any]) -> dict[str, Any]:
        """`value` without its optional members that are null (`value` itself when none are)."""
        out = value
        for name, item in value.items():
            if item is None and name in self.optional:
                if out is value:
                    out = dict(value)
                del out[name]
            elif name in self.nested and isinstance(item, dict):
                inner = self.nested[name].strip(item)
                if inner is not item:
                    if out is value:
                        out = dict(value)
                    out[name] = inner
        return out


def json_pointer(parts: Iterable[str | int]) -> str:
    """RFC 6901 pointer for a path: `("payload", "vendor")` → `/payload/vendor`."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _short(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE_CHARS else text[: _MAX_MESSAGE_CHARS - 1] + "…"


def _shown(value: object) -> str:
    """A value as a message quotes it: its repr, cut short so that what follows it in the
    message (why it is wrong: "is too long", "is not a UUID") is still there."""
    text = repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


@cache
def _timezones() -> frozenset[str]:
    """The IANA zone names, from the `tzdata` package's list of its zones.

    Not `zoneinfo.available_timezones()`: it adds every file of the host's zoneinfo folder,
    so Debian's `localtime` (a link to the host's own zone) would pass on one machine and
    fail on the next. The pinned package makes the contract the same everywhere.
    """
    listing = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in listing.splitlines() if line.strip())


class Contract:
    """The compiled v1 contract. Build it with `load_contract`; `check` is thread-safe."""

    def __init__(self, envelope: dict[str, Any], payloads: dict[str, dict[str, Any]]) -> None:
        self.envelope_schema = envelope
        self.payload_schemas = payloads
        self._fast_envelope: Callable[[Any], Any] = fastjsonschema.compile(envelope)
        self._fast_payloads = {name: fastjsonschema.compile(s) for name, s in payloads.items()}
        self._full_envelope = Draft7Validator(envelope)
        self._full_payloads = {name: Draft7Validator(s) for name, s in payloads.items()}
        self.envelope_nulls = NullAsAbsent.of(envelope)
        self.payload_nulls = {name: NullAsAbsent.of(s) for name, s in payloads.items()}

    @property
    def event_names(self) -> list[str]:
        return sorted(self.payload_schemas)

    def describe(self) -> dict[str, Any]:
        """The contract as served by `GET /v1/schemas`."""
        return {
            "version": CONTRACT_VERSION,
            "accepts_schema_versions": f"{SUPPORTED_MAJOR}.x.y",
            "null_means_absent": "an optional field (not in its schema's required list) "
            "may be sent as null, which means the same as leaving it out",
            "envelope": self.envelope_schema,
            "payloads": {name: self.payload_schemas[name] for name in self.event_names},
        }

    def check(self, event: object, encoded: bytes | None = None) -> CheckedEvent | list[FieldError]:
        """The typed columns of a valid event, or every reason it is not valid (never empty).

        `encoded`, the event's orjson serialisation when the caller has it, lets the NUL check
        be one byte search instead of a walk over the event, and tells whether it holds a
        `null` at all (orjson writes `"name":null`), so most events skip the null rule.
        """
        if not isinstance(event, dict):
            return [FieldError("", f"an event must be a JSON object, got {_json_type(event)}")]
        if encoded is None or b":null" in encoded:
            event = self.without_absent_nulls(event)
        try:
            self._fast_envelope(event)
            payload_check = self._fast_payloads[event["event_name"]]
            payload_check(event["payload"])
        except fastjsonschema.JsonSchemaValueException:
            return self._all_errors(event)
        may_hold_nul = encoded is None or b"\\u0000" in encoded
        may_hold_big = encoded is None or pg_numbers.may_hold_unstorable(encoded)
        checked = None if may_hold_nul or may_hold_big else _valid_columns(event)
        if checked is not None:
            return checked
        checked, errors = self._python_rules(
            event, check_nul=may_hold_nul, check_numbers=may_hold_big
        )
        return errors if errors else checked  # type: ignore[return-value]

    def without_absent_nulls(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event as checked: optional fields sent as null left out (see the module doc)."""
        checked = self.envelope_nulls.strip(event)
        payload = checked.get("payload")
        name = checked.get("event_name")
        rule = self.payload_nulls.get(name) if isinstance(name, str) else None
        if rule is not None and isinstance(payload, dict):
            stripped = rule.strip(payload)
            if stripped is not payload:
                checked = {**checked, "payload": stripped}
        return checked

    def _all_errors(self, event: dict[str, Any]) -> list[FieldError]:
        errors = [_from_jsonschema(e, ()) for e in self._full_envelope.iter_errors(event)]
        name = event.get("event_name")
        # An event_name of the wrong type (a list: unhashable) is the envelope's error alone.
        payload_validator = self._full_payloads.get(name) if isinstance(name, str) else None
        payload = event.get("payload")
        if payload_validator is not None and isinstance(payload, dict):
            errors += [
                _from_jsonschema(e, ("payload",)) for e in payload_validator.iter_errors(payload)
            ]
        # A required field sent as null: "may not be null" says it all (not also "None is
        # not one of …" from its enum).
        nulled = {error.path for error in errors if _NULL_MESSAGE in error.message}
        errors = [e for e in errors if e.path not in nulled or _NULL_MESSAGE in e.message]
        # A field the schema already faulted is not reported twice by the Python rules.
        faulted = {error.path for error in errors}
        errors += [e for e in self._python_rules(event)[1] if e.path not in faulted]
        unique = {(error.path, error.message): error for error in errors}
        return sorted(unique.values(), key=lambda error: (error.path, error.message))

    def _python_rules(
        self, event: dict[str, Any], *, check_nul: bool = True, check_numbers: bool = True
    ) -> tuple[CheckedEvent | None, list[FieldError]]:
        errors: list[FieldError] = []
        version = event.get("schema_version")
        if isinstance(version, str):
            match = _SEMVER.fullmatch(version)
            if match is None:
                errors.append(
                    FieldError(
                        "/schema_version", _short(f"{_shown(version)} is not MAJOR.MINOR.PATCH")
                    )
                )
            elif int(match.group(1)) != SUPPORTED_MAJOR:
                errors.append(
                    FieldError(
                        "/schema_version",
                        f"unsupported schema major {match.group(1)} ({version}); "
                        f"this endpoint accepts {SUPPORTED_MAJOR}.x.y",
                    )
                )
        event_id = event.get("event_id")
        canonical_id = None
        if isinstance(event_id, str):
            try:
                canonical_id = str(UUID(event_id))
            except ValueError:
                errors.append(FieldError("/event_id", _short(f"{_shown(event_id)} is not a UUID")))
        client_ts = event.get("client_ts")
        parsed_ts = None
        if isinstance(client_ts, str):
            try:
                parsed_ts = datetime.fromisoformat(client_ts.upper())
            except ValueError as exc:
                errors.append(
                    FieldError(
                        "/client_ts", _short(f"{_shown(client_ts)} is not a valid instant: {exc}")
                    )
                )
            else:
                if parsed_ts.tzinfo is None:
                    errors.append(
                        FieldError("/client_ts", "client_ts needs an offset (Z or ±HH:MM)")
                    )
        timezone = event.get("timezone")
        if isinstance(timezone, str) and timezone not in _timezones():
            errors.append(
                FieldError("/timezone", _short(f"{_shown(timezone)} is not an IANA time-zone name"))
            )
        if check_nul:
            errors += _nul_errors(event, ())
        if check_numbers:
            errors += [
                FieldError(
                    json_pointer(path),
                    f"{_shown(number)} is beyond what PostgreSQL can store (at most "
                    f"{pg_numbers.MAX_INTEGER_DIGITS:,} digits before the point and "
                    f"{pg_numbers.MAX_FRACTION_DIGITS:,} after)",
                )
                for path, number in pg_numbers.unstorable_numbers(event)
            ]
        if errors or canonical_id is None or parsed_ts is None:
            return None, errors
        return (
            CheckedEvent(
                event_id=canonical_id,
                event_name=event["event_name"],
                schema_version=event["schema_version"],
                user_id=event.get("user_id"),
                anonymous_id=event.get("anonymous_id"),
                client_ts=parsed_ts,
            ),
            [],
        )


def _valid_columns(event: dict[str, Any]) -> CheckedEvent | None:
    """The columns of an event that passed the schemas, when the Python rules find nothing.

    The fast path of `Contract._python_rules`, for events without NUL: the schema patterns
    have already matched, so `schema_version` is `[0-9]+.[0-9]+.[0-9]+` and `event_id` is
    8-4-4-4-12 hex digits, whose canonical UUID text is its lower-case form. None means
    "look closer": the caller runs `_python_rules`, which words every error.
    """
    version: str = event["schema_version"]
    if int(version[: version.index(".")]) != SUPPORTED_MAJOR:
        return None
    timezone = event.get("timezone")
    if timezone is not None and timezone not in _timezones():
        return None
    try:
        client_ts = datetime.fromisoformat(event["client_ts"].upper())
    except ValueError:
        return None
    if client_ts.tzinfo is None:
        return None
    return CheckedEvent(
        event_id=event["event_id"].lower(),
        event_name=event["event_name"],
        schema_version=version,
        user_id=event.get("user_id"),
        anonymous_id=event.get("anonymous_id"),
        client_ts=client_ts,
    )


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _article(json_type: object) -> str:
    """'string' → 'a string', ['string', 'integer'] → 'a string or an integer'."""
    names = json_type if isinstance(json_type, list) else [json_type]
    return " or ".join(f"{'an' if str(n)[0] in 'aeiou' else 'a'} {n}" for n in names)


def contains_nul(value: object) -> bool:
    """Whether a decoded JSON value holds U+0000 in any string or key.

    A loop over a stack, not recursion: a rejected event may be nested 1,000 levels deep.
    """
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            if any("\x00" in key for key in item):
                return True
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return False


def _nul_errors(value: object, path: tuple[str | int, ...]) -> list[FieldError]:
    # Cheap pre-test on the whole event, the walk only when there is something to find.
    if not contains_nul(value):
        return []
    found: list[FieldError] = []
    message = "contains U+0000 (NUL), which cannot be stored; remove it"
    if isinstance(value, str):
        found.append(FieldError(json_pointer(path), message))
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                found.append(FieldError(json_pointer((*path, key)), "key " + message))
            found += _nul_errors(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _nul_errors(item, (*path, index))
    return found


def _from_jsonschema(error: ValidationError, prefix: tuple[str, ...]) -> FieldError:
    """A jsonschema error as a FieldError, with messages that say what would be right."""
    path = json_pointer((*prefix, *error.absolute_path))
    if error.validator == "anyOf" and not error.absolute_path and not prefix:
        return FieldError("", "at least one of user_id or anonymous_id is required")
    if error.validator == "required":
        missing = re.search(r"'(.+)' is a required property", error.message)
        field = missing.group(1) if missing else "?"
        return FieldError(
            json_pointer((*prefix, *error.absolute_path, field)), f"{field} is required"
        )
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = (
            sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        )
        where = "payload" if prefix else "event"
        return FieldError(
            json_pointer((*prefix, *error.absolute_path, *(extra[:1]))),
            _short(f"unknown {where} field(s) {', '.join(extra)}; allowed: {', '.join(allowed)}"),
        )
    if error.validator == "type" and error.instance is None:
        # Optional fields sent as null never get here (null means absent): this one is required.
        field = path.rsplit("/", 1)[-1] or "the event"
        expected = _article(error.validator_value)
        return FieldError(path, f"{field}{_NULL_MESSAGE}; send {expected}")
    if error.validator == "enum" and path == "/event_name":
        return FieldError(path, _short(f"unknown event_name {_shown(error.instance)}"))
    if error.validator == "pattern":
        field = path.rsplit("/", 1)[-1]
        what = {
            "event_id": "a UUID like 123e4567-e89b-12d3-a456-426614174000",
            "client_ts": "an RFC 3339 timestamp with an offset, like 2024-01-01T08:30:00+01:00",
            "schema_version": "a semantic version like 1.0.0",
        }.get(field, f"a match for {error.validator_value}")
        return FieldError(path, _short(f"{_shown(error.instance)} is not {what}"))
    # jsonschema's messages quote the whole value first ("'xxx…' is too long"): cut it there
    return FieldError(
        path, _short(error.message.replace(repr(error.instance), _shown(error.instance), 1))
    )


def load_contract(directory: Path) -> Contract:
    """Read `envelope.json` and one `<event_name>.json` per catalog entry from `directory`.

    Raises ContractError naming the file when one is missing, is not JSON, or does not pass
    its meta-schema, so a broken contract stops the service at start-up, not at the first event.
    """
    envelope_path = directory / ENVELOPE_FILE
    envelope = _read_schema(envelope_path)
    names = envelope.get("properties", {}).get("event_name", {}).get("enum")
    if not names:
        raise ContractError(f"{envelope_path}: properties.event_name.enum lists no event names")
    payloads = {name: _read_schema(directory / f"{name}.json") for name in names}
    extra = sorted(
        path.name
        for path in directory.glob("*.json")
        if path.stem not in payloads and path.name != ENVELOPE_FILE
    )
    if extra:
        raise ContractError(f"{directory}: schema files not in the catalog: {', '.join(extra)}")
    return Contract(envelope, payloads)


def _read_schema(path: Path) -> dict[str, Any]:
    try:
        schema = orjson.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise ContractError(f"{path}: schema file missing") from exc
    except orjson.JSONDecodeError as exc:
        raise ContractError(f"{path}: not valid JSON: {exc}") from exc
    meta_errors = sorted(Draft7Validator(Draft7Validator.META_SCHEMA).iter_errors(schema), key=str)
    if meta_errors:
        first = meta_errors[0]
        raise ContractError(
            f"{path}: not a valid Draft 7 schema at {json_pointer(first.absolute_path)}: "
            f"{first.message}"
        )
    return schema
