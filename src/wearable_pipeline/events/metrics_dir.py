"""The folder where the workers of one `wearable serve` keep their metrics, for /metrics to sum.

prometheus_client's multiprocess mode: with `PROMETHEUS_MULTIPROC_DIR` set, every process
writes its counters and histograms to memory-mapped files of its own (`counter_<pid>.db`)
in that folder, and a scrape, answered by any worker, sums the files of every process that
has ever run there. A worker that dies leaves its files behind, so the totals keep what it
counted and never go backwards when uvicorn's supervisor replaces it. The folder must
start empty with the service (old files would add a previous run's counts), and the
variable must be set before `prometheus_client` is first imported, since it picks its mode
at import: hence this module imports nothing of it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared_metrics_dir() -> Iterator[Path]:
    """Set `PROMETHEUS_MULTIPROC_DIR` for this process and the workers it starts.

    A folder named by the variable already is used, emptied of old metric files first;
    otherwise a private temporary folder is made and removed when the block ends.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.db"):
            old.unlink()
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="wearable-metrics-"))
    os.environ[MULTIPROC_ENV] = str(folder)
    try:
        yield folder
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)
