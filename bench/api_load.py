"""Load benchmark of the event API (not a test; `make bench`).

In one run, on a database of its own (a throwaway embedded server, or --database-url):

1. service  — `wearable serve` in a subprocess; C concurrent clients post batches of 500 valid
              events for D seconds: accepted events/s, p50/p99 request latency.
2. naive    — the same load against the naive design of the issue, implemented here and only
              here, as it is typically written: per event `jsonschema.validate(event, schema,
              cls=Draft7Validator)` (envelope, then the payload's schema; `validate` also
              checks the schema itself on every call) and a single-row INSERT, inside the
              request, committed at the end of the request before the answer.
3. naive-tuned — the same design with its obvious fixes: Draft7Validator objects built once
              at start-up (no schema re-check per event), the same row INSERTs and commit.
              Reported beside (2) so the reader sees both ratios; the target is set against (2).
4. floor    — the same events written with COPY by one process: no HTTP, no validation.
5. single   — one-event requests at a fixed 50 requests/s (open loop) to the service: p50/p99.

Prints the figures and the ratios service/naive (target ≥ 10), service/naive-tuned (for
information) and service/floor (≥ 0.3). The load generator runs on the same machine as the
servers and the database, so on a small machine they compete for the same cores.

    python bench/api_load.py                      # 30 s service, 8 clients, 2 workers
    python bench/api_load.py --duration 10 --naive-duration 10 --workers 1
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg

# Run as `python bench/api_load.py`: this folder is on sys.path.
from common import scratch_database, scratch_server

from wearable_pipeline.config import PROJECT_ROOT
from wearable_pipeline.events.generator import generate_events

BATCH = 500


# ---------------------------------------------------------------- events and bodies


def sample_events(count: int) -> list[dict]:
    """Realistic valid events from the generator (ids replaced per request)."""
    return list(itertools.islice(generate_events(users=50, days=60, seed=1), count))


class BodyFactory:
    """Request bodies of `size` events with fresh event_ids, without re-serialising each time.

    Ids are a random per-body prefix (from uuid4) plus the event's index: unique, valid UUID
    text, and cheap to make, so the load generator takes as little CPU as possible from the
    servers it measures (it runs on the same machine).
    """

    def __init__(self, events: list[dict], size: int) -> None:
        marked = []
        for index, event in enumerate(events[:size]):
            marked.append({**event, "event_id": f"{{{{ID{index:06d}}}}}"})
        body = orjson.dumps({"events": marked})
        self.parts: list[bytes] = []
        rest = body
        for index in range(len(marked)):
            before, rest = rest.split(f"{{{{ID{index:06d}}}}}".encode(), 1)
            self.parts.append(before)
        self.tail = rest
        self.suffixes = [b"%012x" % index for index in range(len(marked))]

    def make(self) -> bytes:
        hexa = uuid.uuid4().hex
        prefix = f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-".encode()
        out = []
        for part, suffix in zip(self.parts, self.suffixes, strict=True):
            out += (part, prefix, suffix)
        out.append(self.tail)
        return b"".join(out)


# ---------------------------------------------------------------- database and servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    """Run a server until the block ends; its log goes to a file (a full pipe would block it)."""
    log_file = tempfile.NamedTemporaryFile(prefix="api-load-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited; see {log_file.name}")
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not become ready; see {log_file.name}")
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log_file.close()
        os.unlink(log_file.name)


def service_command(port: int, workers: int) -> list[str]:
    wearable = str(Path(sys.executable).with_name("wearable"))
    return [wearable, "serve", "--port", str(port), "--workers", str(workers)]


def naive_command(kind: str) -> Callable[[int, int], list[str]]:
    def command(port: int, workers: int) -> list[str]:
        return [
            sys.executable,
            __file__,
            "--serve-naive",
            kind,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]

    return command


# ---------------------------------------------------------------- load


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def closed_loop(url: str, factory: BodyFactory, clients: int, duration: float) -> dict[str, Any]:
    """`clients` threads post back to back for `duration` seconds."""
    latencies: list[float] = []
    accepted = [0]
    failures = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def worker() -> None:
        with httpx.Client(timeout=60, headers={"content-type": "application/json"}) as http:
            while time.monotonic() < stop_at:
                body = factory.make()
                started = time.perf_counter()
                response = http.post(url, content=body)
                elapsed = time.perf_counter() - started
                with lock:
                    if response.status_code == 200:
                        latencies.append(elapsed)
                        accepted[0] += response.json()["accepted"]
                    else:
                        failures[0] += 1
                        if failures[0] == 1:
                            print(f"first failure: {response.status_code} {response.text[:300]}")

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "events_per_s": accepted[0] / elapsed,
        "requests": len(latencies),
        "failures": failures[0],
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "seconds": elapsed,
    }


def open_loop(url: str, factory: BodyFactory, rate: float, duration: float) -> dict[str, Any]:
    """One-event requests started every 1/rate s, whatever the previous ones are doing."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    local = threading.local()

    def one() -> None:
        if not hasattr(local, "http"):
            local.http = httpx.Client(timeout=10, headers={"content-type": "application/json"})
        body = factory.make()
        started = time.perf_counter()
        response = local.http.post(url, content=body)
        elapsed = time.perf_counter() - started
        with lock:
            if response.status_code == 200:
                latencies.append(elapsed)
            else:
                failures[0] += 1

    from concurrent.futures import ThreadPoolExecutor

    total = int(rate * duration)
    start = time.perf_counter()
    with ThreadPoolExecutor(8) as executor:
        for index in range(total):
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            executor.submit(one)
    return {
        "requests": len(latencies),
        "failures": failures[0],
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000 if latencies else float("nan"),
    }


def copy_floor(url: str, events: list[dict], duration: float) -> dict[str, Any]:
    """COPY the same events (fresh ids) into raw.raw_events from one process, no checks.

    `store.copy_events` without its dedupe step: the plain COPY the floor stands for. Each
    row's event document carries its own (fresh) id, as the API would store it.
    """
    from wearable_pipeline.events.store import copy_events

    written = 0
    batch_id = uuid.uuid4()
    stop_at = time.monotonic() + duration
    started = time.monotonic()
    with psycopg.connect(url) as conn:
        while time.monotonic() < stop_at:
            fresh = ({**event, "event_id": str(uuid.uuid4())} for event in events)
            written += copy_events(
                conn, fresh, batch_id=batch_id, received_at=datetime.now(UTC), dedupe=False
            )
            conn.commit()
    return {"events_per_s": written / (time.monotonic() - started), "events": written}


# ---------------------------------------------------------------- the naive design


SCHEMA_DIR = PROJECT_ROOT / "schemas" / "events" / "v1"
NAIVE_INSERT = (
    "insert into raw.raw_events (event_id, event_name, schema_version, user_id,"
    " anonymous_id, client_ts, batch_id, event)"
    " values (%s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
    " on conflict (event_id) do nothing"
)


def _naive_schemas() -> tuple[dict, dict[str, dict]]:
    envelope = orjson.loads((SCHEMA_DIR / "envelope.json").read_bytes())
    payloads = {
        path.stem: orjson.loads(path.read_bytes())
        for path in SCHEMA_DIR.glob("*.json")
        if path.stem != "envelope"
    }
    return envelope, payloads


def _naive_server(is_valid: Callable[[dict], bool]) -> Any:
    """FastAPI app: per event `is_valid(event)` then a single-row INSERT; commit per request."""
    from fastapi import FastAPI
    from psycopg_pool import ConnectionPool

    pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=4, max_size=8, open=True)
    app = FastAPI()

    @app.get("/ready")
    def ready() -> dict:
        return {"status": "ready"}

    @app.post("/v1/events")
    def post(body: dict) -> dict:
        accepted = rejected = deduped = 0
        batch_id = uuid.uuid4()
        # The pool's context manager commits when the block ends: answer after commit.
        with pool.connection() as conn:
            for event in body["events"]:
                if not is_valid(event):
                    rejected += 1
                    continue
                cursor = conn.execute(
                    NAIVE_INSERT,
                    [
                        event["event_id"],
                        event["event_name"],
                        event["schema_version"],
                        event.get("user_id"),
                        event.get("anonymous_id"),
                        event["client_ts"],
                        batch_id,
                        orjson.dumps(event).decode(),
                    ],
                )
                if cursor.rowcount == 1:
                    accepted += 1
                else:
                    deduped += 1
        received = len(body["events"])
        return {
            "received": received,
            "accepted": accepted,
            "deduped": deduped,
            "rejected": rejected,
        }

    return app


def naive_app() -> Any:
    """The issue's naive design as typically written: `jsonschema.validate` per event."""
    import jsonschema
    from jsonschema import Draft7Validator

    envelope, payloads = _naive_schemas()

    def is_valid(event: dict) -> bool:
        try:
            jsonschema.validate(event, envelope, cls=Draft7Validator)
            payload_schema = payloads[event["event_name"]]
            jsonschema.validate(event["payload"], payload_schema, cls=Draft7Validator)
        except jsonschema.ValidationError:
            return False
        return True

    return _naive_server(is_valid)


def naive_tuned_app() -> Any:
    """The naive design with validators built once (no schema re-check per event)."""
    from jsonschema import Draft7Validator

    envelope_schema, payload_schemas = _naive_schemas()
    envelope = Draft7Validator(envelope_schema)
    payloads = {name: Draft7Validator(schema) for name, schema in payload_schemas.items()}

    def is_valid(event: dict) -> bool:
        return envelope.is_valid(event) and payloads[event["event_name"]].is_valid(event["payload"])

    return _naive_server(is_valid)


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of service load")
    parser.add_argument(
        "--naive-duration", type=float, default=30.0, help="seconds of load per naive server"
    )
    parser.add_argument("--floor-duration", type=float, default=15.0)
    parser.add_argument("--single-duration", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--serve-naive", choices=["literal", "tuned"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve_naive:
        import uvicorn

        factory = "naive_app" if args.serve_naive == "literal" else "naive_tuned_app"
        uvicorn.run(
            f"{Path(__file__).stem}:{factory}",
            factory=True,
            port=args.port,
            workers=args.workers,
            log_level="warning",
            app_dir=str(Path(__file__).parent),
        )
        return

    events = sample_events(BATCH)
    batch_bodies = BodyFactory(events, BATCH)
    single_bodies = BodyFactory(events, 1)
    report: dict[str, dict[str, Any]] = {}
    print(
        f"# {args.clients} clients x {BATCH}-event batches, {args.workers} worker(s), "
        f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at start",
        flush=True,
    )
    with scratch_server(args.database_url) as admin_url, ExitStack() as databases:

        def fresh_database(name: str) -> str:
            return databases.enter_context(scratch_database(admin_url, name.replace("-", "_")))

        def phase(name: str, command: Callable[[int, int], list[str]], run: Callable) -> None:
            url = fresh_database(name)
            port = free_port()
            env = {**os.environ, "DATABASE_URL": url, "WEARABLE_API_KEYS": ""}
            with running(command(port, args.workers), env, port) as base:
                run(f"{base}/v1/events")  # warm-up: connections, prepared statements
                report[name] = run(f"{base}/v1/events", timed=True)
            print(f"{name:12s} {report[name]}", flush=True)

        def batches(duration: float) -> Callable:
            return lambda url, timed=False: closed_loop(
                url, batch_bodies, args.clients, duration if timed else 2
            )

        phase("service", service_command, batches(args.duration))
        phase("naive", naive_command("literal"), batches(args.naive_duration))
        phase("naive-tuned", naive_command("tuned"), batches(args.naive_duration))
        phase(
            "single",
            service_command,
            lambda url, timed=False: open_loop(
                url, single_bodies, 50, args.single_duration if timed else 2
            ),
        )
        report["floor"] = copy_floor(fresh_database("floor"), events, args.floor_duration)
        print(f"{'floor':12s} {report['floor']}", flush=True)

    def rate(name: str) -> float:
        return report[name]["events_per_s"]

    def line(name: str, what: str) -> str:
        return (
            f"{name:12s} {rate(name):10,.0f} events/s   p50 {report[name]['p50_ms']:7.1f} ms"
            f"   p99 {report[name]['p99_ms']:7.1f} ms   {what}"
        )

    service = rate("service")
    single_p99 = report["single"]["p99_ms"]
    print()
    print(line("service", f"{args.duration:.0f} s, {args.workers} worker(s)"))
    print(
        line(
            "naive",
            f"{args.naive_duration:.0f} s; jsonschema.validate() + 1-row INSERT per event",
        )
    )
    print(
        line(
            "naive-tuned",
            f"{args.naive_duration:.0f} s; cached Draft7Validator + 1-row INSERT per event",
        )
    )
    print(
        f"{'floor':12s} {rate('floor'):10,.0f} events/s   "
        f"{args.floor_duration:.0f} s; COPY from one process, no HTTP, no validation"
    )
    print(
        f"{'single':12s} p50 {report['single']['p50_ms']:.1f} ms   p99 {single_p99:.1f} ms"
        f"   max {report['single']['max_ms']:.1f} ms at 50 req/s, "
        f"{args.single_duration:.0f} s"
    )
    print(
        f"ratios       service/naive {service / rate('naive'):.1f}x (target >= 10)"
        f"   service/naive-tuned {service / rate('naive-tuned'):.1f}x (no target)"
        f"   service/floor {service / rate('floor'):.2f}x (target >= 0.3)"
        f"   single p99 {'<' if single_p99 < 20 else '>='} 20 ms (target < 20)"
    )
    print(f"# load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
