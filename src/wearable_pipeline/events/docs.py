# ruff: noqa: E501  (the page template holds Markdown table rows, one per line)
"""`docs/events.md`, generated from the schema files so the catalog page cannot drift.

Regenerate with `python -m wearable_pipeline.events.docs`; a test fails when the file differs
from what the schemas say.
"""

from __future__ import annotations

import sys
from typing import Any

from wearable_pipeline.config import PROJECT_ROOT
from wearable_pipeline.events.contract import CONTRACT_VERSION, Contract, load_contract

DOC_PATH = PROJECT_ROOT / "docs" / "events.md"

_INTRO = """\
# Events — the v1 contract and the ingestion API

<!-- Generated from schemas/events/v1/*.json by `python -m wearable_pipeline.events.docs`.
     Edit the schemas (or the text in src/wearable_pipeline/events/docs.py), not this file. -->

Apps send analytics events to `POST /v1/events` (`wearable serve`, `make ingest-api`);
`POST /events`, the seed's path, is the same endpoint (same handler, same answers, in the
OpenAPI schema, counted as one route in the metrics). Each event is an **envelope** (below)
with a **payload** whose schema is chosen by `event_name`. The JSON Schema files (Draft 7)
are in `schemas/events/v1/`; the running service serves them at `GET /v1/schemas`.

## Sending events

```
POST /v1/events                     (or POST /events)
Content-Type: application/json
Content-Encoding: gzip              (optional)
Authorization: Bearer <key>         (or X-API-Key: <key>, when WEARABLE_API_KEYS is set)

{"events": [{...}, {...}]}
```

Answer `200` once the accepted events are committed:

```json
{"received": 3, "accepted": 1, "deduped": 1, "rejected": 1, "batch_id": "…",
 "errors": [{"index": 2, "event_id": "…",
             "errors": [{"path": "/payload/vendor", "message": "'nokia' is not one of […]"}]}]}
```

`accepted + deduped + rejected = received`, always. `path` is a JSON pointer into the event.

| status | when | stored |
|---|---|---|
| 200 | the batch was checked and written | accepted → `raw.raw_events`, rejected → `raw.rejected_events` (as sent, with reasons, once per event id and content), one row in `ops.ingest_batches` — in one transaction |
| 400 | body not JSON (or nested deeper than 1,024), not `{"events": [...]}`, `events` empty, broken gzip | nothing |
| 401 | keys configured and no key or a wrong one | nothing |
| 404, 405 | no such path; a method the path does not take (`Allow` names the ones it does) | nothing |
| 413 | body over `WEARABLE_MAX_BODY_BYTES` (1 MiB) as sent or once inflated, more than `WEARABLE_MAX_EVENTS_PER_BATCH` (1,000) events, one event over `WEARABLE_MAX_EVENT_BYTES` (32 KiB) | nothing |
| 415 | `Content-Type` not `application/json` (or `*+json`), `Content-Encoding` not gzip | nothing |
| 503 | the database is unavailable, or its migrations are not applied yet (`Retry-After: 1`) | nothing — retrying is safe |
| 500 | a bug: `{"error": "internal error", "request_id": "…"}`, the traceback in the service log | nothing, unless the fault came after the commit |

Rules:

- **Dedupe**: `event_id` is unique in `raw.raw_events`. A repeat — in the same batch (the
  first occurrence wins) or in any later request, from any worker — counts as `deduped`.
  UUIDs compare as UUIDs (case does not matter).
- **Null means absent**: an optional field — one its schema does not list as required, in
  the envelope or a payload — sent as `null` is treated as if it were left out (the seed's
  clients send `"referrer": null`); the rule is read from the schema files, and the event
  is still stored as sent, nulls included. A required field sent as `null` is rejected:
  `client_ts is required and may not be null; send a string`. `user_id` and
  `anonymous_id` both null (or absent) is `at least one of user_id or anonymous_id is
  required`.
- **Stored as sent, numbers too**: a number a double cannot hold — an integer beyond 64
  bits, a decimal with more than 15 significant digits, one too small for a double — keeps
  its exact text in the stored `event` (jsonb holds numbers as `numeric`). Such a body is
  parsed a second time by a parser that keeps them; other bodies take orjson's fast path.
- **Rejected events are stored once** per (`event_id`, content): a client retrying a
  request whose first attempt had in fact committed adds no second copy to
  `raw.rejected_events`, and still gets the reasons in the answer; `ops.ingest_batches`
  records every request with all its rejected events, so its totals count each attempt.
- **Versions**: any `schema_version` `1.x.y` is accepted; another major is rejected with a
  reason. Unknown fields are rejected, in the envelope and in the payload.
- **Checks beyond the schema** (in Python, same error format): `client_ts` must be a real
  instant with an offset, `timezone` an IANA name, and no string may contain U+0000 (such
  an event is kept in `raw.rejected_events` with U+FFFD in `event` and its exact bytes in
  `event_bytes`), and no number may lie beyond what PostgreSQL's jsonb holds (131,072
  digits before the point, 16,383 after: `1e200000`, `1e-20000`; such an event is kept with
  the number as a string in `event` and its exact bytes in `event_bytes`).
- **Nesting**: an event nested deeper than 254 levels of objects and arrays (the event
  itself is level 1) is rejected with path `""` and `nested deeper than 254 levels …`, and
  kept as sent in `raw.rejected_events` (jsonb holds it). A body nested deeper than 1,024
  levels is not JSON the service can parse: 400.
- `received_at` is stamped by the server; a client-sent one is ignored (kept in `event`).
- Gzip bodies are inflated incrementally and refused as soon as they pass the body limit.

Other endpoints: `GET /health` (process up), `GET /ready` (database reachable and migrated:
`{"status": "ready", "database": "ok"}`; else 503 with `"database"` one of `unreachable`,
`migrations pending`, `migrations failed` — the error itself goes to the log only),
`GET /v1/schemas`, `GET /metrics`, OpenAPI at `/docs`. Each request logs one JSON line:
request id (`X-Request-ID` is honoured and echoed), method, path, status, latency, counts.

Metrics (`GET /metrics`, Prometheus text): `wearable_events_total{outcome}`,
`wearable_http_requests_total{route,status}`, `wearable_http_request_duration_seconds{route}`
(a histogram) and `wearable_database_unavailable_total`. The `route` label is the canonical
path: requests to `/events` count as `route="/v1/events"`. Under `wearable serve` the figures
are the whole service's, whatever the number of workers and whichever worker answers the
scrape: the workers keep them in prometheus_client's multiprocess files
(`PROMETHEUS_MULTIPROC_DIR`; a private temporary folder per run unless the variable names
one, which is emptied of old files at start). A worker that dies leaves its files, so its
counts stay in the sums and no counter goes backwards when uvicorn replaces it; they start
from zero when the service starts. Over the same requests they equal what `wearable stats`
prints from `ops.ingest_batches` — which also holds every earlier run.

Start-up: `wearable serve` (or `uvicorn --factory wearable_pipeline.events.api:app_from_env`)
starts while the database is down — `/health` answers, `/ready` and writes answer 503 — and
each worker applies the migrations itself (under the migration lock) as soon as the database
is reachable (retried with a doubling pause), then serves writes; no restart needed. Only
an embedded server that cannot start, or a failing migration, stops `wearable serve` at
start-up.

Backfills and benchmarks may bypass the API with
`wearable_pipeline.events.store.copy_events(conn, events, batch_id=…)`: a COPY into
`raw.raw_events` of events already known to be valid — no contract check, no rejects, no
`ops.ingest_batches` row — deduped by `event_id` (through a temporary table) unless
`dedupe=False`.

Validation: the schemas are compiled once at start-up with `fastjsonschema`; an event that
fails is re-checked with `jsonschema` (Draft 7) to report every error, not just the first.
Measured on the development machine for one valid `sync_completed` event: fastjsonschema
7.9 µs, jsonschema `Draft7Validator` 94 µs, `Draft202012Validator` 94 µs.
"""


def _type_of(spec: dict[str, Any]) -> str:
    kind = spec.get("type", "any")
    if "enum" in spec:
        return " / ".join(f"`{value}`" for value in spec["enum"])
    bounds = []
    if "minimum" in spec:
        bounds.append(f"≥ {spec['minimum']}")
    if "maximum" in spec:
        bounds.append(f"≤ {spec['maximum']}")
    if "maxLength" in spec:
        bounds.append(f"≤ {spec['maxLength']} chars")
    if "pattern" in spec:
        bounds.append("pattern")
    return kind + (f" ({', '.join(bounds)})" if bounds else "")


def _field_table(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    lines = ["| field | required | type | description |", "|---|---|---|---|"]
    for name, spec in schema.get("properties", {}).items():
        lines.append(
            f"| `{name}` | {'yes' if name in required else 'no'} | {_type_of(spec)} "
            f"| {spec.get('description', '')} |"
        )
    return lines


def render_markdown(contract: Contract) -> str:
    """The whole page for `contract`."""
    envelope = contract.envelope_schema
    lines = [_INTRO, f"## Envelope ({CONTRACT_VERSION})", "", envelope["description"], ""]
    lines += _field_table(envelope)
    nullable = [
        f"`{name}`" for name in envelope["properties"] if name in contract.envelope_nulls.optional
    ]
    lines += [
        "",
        "At least one of `user_id` and `anonymous_id` is required. The optional fields —"
        f" {', '.join(nullable)} — may be sent as `null`, which means absent.",
        "",
        "Identity: events before sign-in carry only an `anonymous_id`; an `identify` event"
        " carrying both `anonymous_id` and `user_id` ties the two (the Segment convention),"
        " and later events carry the `user_id`. `wearable generate-events --anonymous-share`"
        " makes sessions of that shape.",
        "",
    ]
    lines += ["## Catalog", "", "| event_name | payload fields |", "|---|---|"]
    for name in contract.event_names:
        fields = ", ".join(f"`{field}`" for field in contract.payload_schemas[name]["properties"])
        lines.append(f"| [`{name}`](#{name}) | {fields} |")
    for name in contract.event_names:
        schema = contract.payload_schemas[name]
        lines += ["", f"### {name}", "", schema["description"], ""]
        lines += _field_table(schema)
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Write docs/events.md (or, with --check, exit 1 when it is out of date)."""
    from wearable_pipeline.config import get_settings

    text = render_markdown(load_contract(get_settings().schemas_dir / CONTRACT_VERSION))
    if "--check" in argv:
        current = DOC_PATH.read_text("utf-8") if DOC_PATH.is_file() else ""
        return 0 if current == text else 1
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text(text, "utf-8")
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
