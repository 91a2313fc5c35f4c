"""`wearable watch`: run the pipeline when new or changed CSV files land in a folder.

File-system events come from `watchfiles` (debounced: a burst of changes is one batch). A file
is only handed to the pipeline once it has settled — its size and modification time unchanged
for `settle_seconds` — so a file still being copied or written is not loaded half-way. Runs
happen one at a time in this process; changes that arrive during a run start one more run
afterwards. The catch-up run at start (files that landed while nobody watched) waits for the
same settling: a copy may be going on. Hidden and temporary files (`.name`, `*.part`, `*.tmp`,
`*~`), which downloaders and copy tools write before renaming into place, are ignored until
renamed, and so is everything in a hidden folder (`.staging/`, `.Trash-1000/`), as `wearable
ingest` ignores them. Single-user exports in `FOLDER/<user>/` take their user from that
folder, as they do under the data folder.

The watched folder must stay: when it is removed or moved away, the watcher says so and
stops (WatchedFolderGone) rather than watch nothing.

Stopping: Ctrl-C or SIGTERM stops the watcher at once when it is idle, and after the current
run otherwise: a run is never cut half-way. (The run goes on in a worker thread, so the
signal reaches the watcher rather than Prefect, which would turn it into an exception inside
the run — one that dbt, running in the same process, swallows.)
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType

from wearable_pipeline.config import Settings
from wearable_pipeline.ingest.paths import is_hidden
from wearable_pipeline.orchestration.runner import PipelineOutcome, RunOptions, run_pipeline

log = logging.getLogger(__name__)

_DROP_SUFFIXES = (".csv", ".csv.gz")
_TEMPORARY_SUFFIXES = (".part", ".tmp", ".crdownload", "~")

Stat = tuple[int, int]  # size in bytes, modification time in ns


@dataclass(frozen=True)
class WatchConfig:
    folder: Path
    settle_seconds: float = 5.0
    debounce_ms: int = 1600
    catch_up: bool = True  # one run at start over the whole folder (files that landed while down)
    options: RunOptions = field(default_factory=RunOptions)


def is_drop_file(path: Path) -> bool:
    """A CSV (or gzipped CSV) that is not hidden and not a temporary name."""
    name = path.name.lower()
    return (
        not name.startswith(".")
        and name.endswith(_DROP_SUFFIXES)
        and not name.endswith(_TEMPORARY_SUFFIXES)
    )


class WatchedFolderGone(RuntimeError):
    """The watched folder was removed or moved away: nothing more can land in it."""


class StopRequests:
    """Signal handler: stop watching, after the current run if one is going on."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.running = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.running:
            log.warning("stopping after the current run")
        self.event.set()

    def install(self) -> None:
        signal.signal(signal.SIGINT, self)
        signal.signal(signal.SIGTERM, self)


def watch_folder(
    settings: Settings,
    config: WatchConfig,
    on_run: Callable[[list[Path], PipelineOutcome], None],
    stop: StopRequests,
) -> None:
    """Watch `config.folder` and run the pipeline on settled drops until `stop` is requested.

    `on_run(paths, outcome)` is called after each run (a failed run does not stop watching).
    The folder must exist; raises WatchedFolderGone when it stops existing.
    """
    import watchfiles

    loaded: dict[Path, Stat] = {}  # what each file looked like when last handed to a run

    def run(paths: list[Path]) -> None:
        stop.running = True
        options = replace(config.options, paths=paths, drop_dir=config.folder)
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipeline-run") as worker:
                outcome = _wait(worker.submit(run_pipeline, settings, options))
        finally:
            stop.running = False
        on_run(paths, outcome)

    batches = watchfiles.watch(
        config.folder,
        watch_filter=lambda change, path: change != watchfiles.Change.deleted,
        debounce=config.debounce_ms,
        stop_event=stop.event,
        # an empty batch each second: the first says the watcher is up (time to catch up)
        rust_timeout=1000,
        yield_on_timeout=True,
        raise_interrupt=False,
    )
    gone = f"{config.folder} was removed or moved away"
    started = False
    while True:
        try:
            changes = next(batches)
        except StopIteration:  # stop requested
            return
        except FileNotFoundError as exc:  # gone before the watch was set up
            raise WatchedFolderGone(gone) from exc
        if not config.folder.is_dir():
            raise WatchedFolderGone(gone)
        if not started:
            started = True
            if config.catch_up:
                existing = drop_files([config.folder], config.folder)
                settled = wait_until_settled(existing, config.settle_seconds, stop.event)
                if settled and not stop.event.is_set():
                    loaded.update(settled)
                    run(sorted(settled))
        candidates = drop_files((Path(path) for _, path in changes), config.folder)
        if not candidates:
            continue
        settled = wait_until_settled(candidates, config.settle_seconds, stop.event)
        new = {path: stat for path, stat in settled.items() if loaded.get(path) != stat}
        if not new or stop.event.is_set():
            continue
        loaded.update(new)
        run(sorted(new))


def _wait(running: Future[PipelineOutcome]) -> PipelineOutcome:
    """The run's outcome, waiting in short slices: the main thread stays free for signals."""
    while True:
        try:
            return running.result(timeout=0.2)
        except TimeoutError:
            continue


def drop_files(paths: Iterable[Path], folder: Path) -> list[Path]:
    """The drop files among `paths` in the watched `folder`, folders expanded (a folder moved
    in arrives as one event), none inside a hidden folder."""
    found = set()
    for path in paths:
        if path.is_dir():
            found.update(p for p in path.rglob("*") if p.is_file() and is_drop_file(p))
        elif is_drop_file(path):
            found.add(path)
    return sorted(path for path in found if not is_hidden(path, folder))


def wait_until_settled(
    paths: Iterable[Path], settle_seconds: float, stop: threading.Event, poll: float = 0.25
) -> dict[Path, Stat]:
    """Wait until no path's size or mtime has changed for `settle_seconds`; return their stats.

    Files that disappear meanwhile are dropped. Returns early (with what is known) on `stop`.
    """
    current = _stats(paths)
    quiet_since = time.monotonic()
    while current and time.monotonic() - quiet_since < settle_seconds:
        if stop.wait(poll):
            break
        latest = _stats(current)
        if latest != current:
            current, quiet_since = latest, time.monotonic()
    return current


def _stats(paths: Iterable[Path]) -> dict[Path, Stat]:
    stats = {}
    for path in paths:
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        stats[path] = (info.st_size, info.st_mtime_ns)
    return stats
