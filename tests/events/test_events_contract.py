"""The schema files: valid against their meta-schema, the DESIGN §5 catalog, docs in sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from wearable_pipeline.config import PROJECT_ROOT
from wearable_pipeline.events.contract import ContractError, FieldError, load_contract
from wearable_pipeline.events.docs import DOC_PATH, render_markdown

from .helpers import make_event

SCHEMA_DIR = PROJECT_ROOT / "schemas" / "events" / "v1"
SCHEMA_FILES = sorted(SCHEMA_DIR.glob("*.json"))

# DESIGN §5, catalog v1: event name → payload fields (all required).
DESIGN_CATALOG = {
    "page_view": ["page_title", "entry_point"],
    "identify": ["user_status"],
    "connect_device_started": ["vendor"],
    "connect_device_succeeded": ["vendor", "device_model"],
    "connect_device_failed": ["vendor", "error_code", "error_message"],
    "sync_requested": ["vendor", "date_range", "sync_status"],
    "sync_completed": ["vendor", "date_range", "sync_status", "records_synced"],
    "sync_failed": ["vendor", "date_range", "sync_status", "error_code", "error_message"],
    "metric_viewed": ["metric_type", "date_range", "vendor"],
    "goal_created": ["metric_type", "target_value", "target_unit", "date_range"],
    "export_clicked": ["export_format", "date_range", "vendor"],
    "ui_error": ["component", "error_code", "error_message", "severity"],
    "api_error": ["endpoint", "status_code", "error_code", "error_message"],
    "perf_lcp": ["lcp_ms", "page_type"],
    "perf_api_latency": ["api_latency_ms", "endpoint", "status_code"],
}
ENUMS = {
    "vendor": ["fitbit", "apple_health", "garmin", "oura", "whoop", "samsung", "google_fit",
               "withings", "other"],
    "metric_type": ["steps", "sleep", "calories", "distance", "active_minutes"],
    "date_range": ["day", "week", "month", "custom"],
    "sync_status": ["requested", "in_progress", "completed", "failed"],
    "user_status": ["known", "merged", "anonymous"],
    "export_format": ["csv", "json"],
    "severity": ["info", "warning", "error"],
}  # fmt: skip


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=[p.name for p in SCHEMA_FILES])
def test_schema_file_is_valid_against_its_meta_schema(path: Path) -> None:
    schema = json.loads(path.read_text("utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(schema)


def test_catalog_matches_the_design() -> None:
    contract = load_contract(SCHEMA_DIR)
    assert set(contract.payload_schemas) == set(DESIGN_CATALOG)
    for name, fields in DESIGN_CATALOG.items():
        schema = contract.payload_schemas[name]
        assert list(schema["properties"]) == fields, name
        assert schema["required"] == fields and schema["additionalProperties"] is False
        for field, spec in schema["properties"].items():
            if field in ENUMS:
                assert spec["enum"] == ENUMS[field], (name, field)
    envelope = contract.envelope_schema
    assert envelope["additionalProperties"] is False
    assert envelope["properties"]["source"]["enum"] == ["web", "mobile", "api", "sdk"]
    assert envelope["properties"]["environment"]["enum"] == ["local", "dev", "staging", "prod"]


def test_docs_are_generated_from_the_schemas() -> None:
    expected = render_markdown(load_contract(SCHEMA_DIR))
    assert DOC_PATH.read_text("utf-8") == expected, (
        "docs/events.md is out of date: run `python -m wearable_pipeline.events.docs`"
    )


@pytest.mark.parametrize("version", ["1.0.0", "1.7.12", "1.0.1"])
def test_any_1_x_y_is_accepted(version: str) -> None:
    contract = load_contract(SCHEMA_DIR)
    assert not isinstance(contract.check(make_event(schema_version=version)), list)


@pytest.mark.parametrize("version", ["2.0.0", "0.9.0", "1.0", "v1.0.0", "1.0.0-beta"])
def test_other_versions_are_rejected_with_a_reason(version: str) -> None:
    errors = load_contract(SCHEMA_DIR).check(make_event(schema_version=version))
    assert isinstance(errors, list)
    assert [e.path for e in errors] == ["/schema_version"]
    if version in ("2.0.0", "0.9.0"):
        assert "unsupported schema major" in errors[0].message


def test_all_errors_are_reported_at_once() -> None:
    event = make_event("sync_completed", client_ts="yesterday", extra=1)
    event["payload"] = {"vendor": "nokia", "records_synced": 1.5}
    del event["user_id"]
    errors = load_contract(SCHEMA_DIR).check(event)
    assert isinstance(errors, list)
    paths = [e.path for e in errors]
    assert set(paths) >= {
        "", "/client_ts", "/extra", "/payload/vendor", "/payload/records_synced",
        "/payload/date_range", "/payload/sync_status",
    }  # fmt: skip
    assert all(isinstance(e, FieldError) and e.message for e in errors)
    assert max(len(e.message) for e in errors) <= 300


@pytest.mark.parametrize(
    ("overrides", "path", "why"),
    [
        ({"page": "/" + "x" * 5000}, "/page", "is too long"),
        ({"user_id": "u" * 300}, "/user_id", "is too long"),
        ({"event_id": "z" * 400}, "/event_id", "is not a UUID like 123e4567-"),
        ({"timezone": "Europe/" + "X" * 400}, "/timezone", "is too long"),
    ],
)
def test_a_long_value_is_cut_short_in_its_message_not_the_reason(
    overrides: dict, path: str, why: str
) -> None:
    """The value is quoted first: cut there, the message still says what is wrong with it."""
    errors = load_contract(SCHEMA_DIR).check(make_event(**overrides))
    assert isinstance(errors, list)
    [message] = [e.message for e in errors if e.path == path]
    assert "…" in message and why in message.split("…")[-1]
    assert len(message) <= 300


def test_a_broken_schema_file_stops_start_up(tmp_path: Path) -> None:
    for path in SCHEMA_FILES:
        (tmp_path / path.name).write_text(path.read_text("utf-8"), "utf-8")
    (tmp_path / "identify.json").write_text('{"type": 12}', "utf-8")
    with pytest.raises(ContractError, match=r"identify\.json"):
        load_contract(tmp_path)
    (tmp_path / "identify.json").unlink()
    with pytest.raises(ContractError, match=r"identify\.json: schema file missing"):
        load_contract(tmp_path)


FAST_PATH_CASES = {
    "upper-case id": {"event_id": "123E4567-E89B-12D3-A456-426614174000"},
    "lower-case t and z": {"client_ts": "2024-01-01t08:30:00.123z"},
    "offset": {"client_ts": "2024-01-01T08:30:00+05:30"},
    "major 2": {"schema_version": "2.0.0"},
    "major 01": {"schema_version": "01.2.3"},
    "no such day": {"client_ts": "2024-02-30T08:30:00Z"},
    "hour 24": {"client_ts": "2024-01-01T24:00:00Z"},
    "nanoseconds": {"client_ts": "2024-01-01T08:30:00.123456789Z"},
    "unknown zone": {"timezone": "Mars/Olympus_Mons"},
    "known zone": {"timezone": "Europe/Berlin"},
    "host's own zone link": {"timezone": "localtime"},
    "NUL": {"page": "a\u0000b"},
    "anonymous only": {"user_id": None},
    "optional fields null": {"referrer": "NULL", "device_id": "NULL", "timezone": "NULL"},
    "required field null": {"client_ts": "NULL"},
}


@pytest.mark.parametrize("overrides", FAST_PATH_CASES.values(), ids=list(FAST_PATH_CASES))
def test_fast_path_agrees_with_the_full_python_rules(overrides: dict) -> None:
    """`check` on a schema-valid event answers exactly what `_python_rules` says."""
    import orjson

    contract = load_contract(SCHEMA_DIR)
    event = make_event(**{k: v for k, v in overrides.items() if v is not None})
    event.update({k: None for k, v in overrides.items() if v == "NULL"})
    if overrides.get("user_id", "") is None:
        event.pop("user_id")
        event["anonymous_id"] = "anon-1"
    checked, errors = contract._python_rules(contract.without_absent_nulls(event))
    if any(v is None for k, v in event.items() if k in contract.envelope_schema["required"]):
        checked, errors = None, contract._all_errors(event)
    outcome = contract.check(event, orjson.dumps(event))
    assert outcome == (errors or checked)
    assert contract.check(event) == outcome  # without the serialisation: same answer


def test_null_means_absent_is_read_from_the_schemas(tmp_path: Path) -> None:
    """Make a payload field optional in a schema file: null is then accepted there too."""
    for path in SCHEMA_FILES:
        (tmp_path / path.name).write_text(path.read_text("utf-8"), "utf-8")
    schema = json.loads((SCHEMA_DIR / "perf_lcp.json").read_text("utf-8"))
    schema["required"] = ["lcp_ms"]  # page_type becomes optional
    (tmp_path / "perf_lcp.json").write_text(json.dumps(schema), "utf-8")
    event = make_event("perf_lcp", payload={"lcp_ms": 12.5, "page_type": None})
    assert isinstance(load_contract(SCHEMA_DIR).check(event), list)  # required: refused
    assert not isinstance(load_contract(tmp_path).check(event), list)  # optional: absent
    assert load_contract(tmp_path).payload_nulls["perf_lcp"].optional == {"page_type"}


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "Mars/Olympus_Mons"])
def test_a_zone_name_that_is_not_iana_is_rejected_on_every_host(zone: str) -> None:
    """`localtime` is a file in Debian's zoneinfo folder (a link to the host's zone), so
    `zoneinfo` can load it there; it is still not an IANA name, and means another zone on
    every host: refused, as on hosts without the file."""
    errors = load_contract(SCHEMA_DIR).check(make_event(timezone=zone))
    assert isinstance(errors, list)
    assert [e.path for e in errors] == ["/timezone"]
    assert "is not an IANA time-zone name" in errors[0].message


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_an_iana_zone_name_is_accepted(zone: str) -> None:
    assert not isinstance(load_contract(SCHEMA_DIR).check(make_event(timezone=zone)), list)
