"""A progress bar per file while it loads (rich), or nothing at all when not on a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class FileProgress(Protocol):
    def update(self, position: int) -> None: ...


class _NoProgress:
    def update(self, position: int) -> None:
        pass


class _BarProgress:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def update(self, position: int) -> None:
        self._progress.update(self._task, completed=position)


class ProgressBars:
    """One bar per file (bytes read of the file on disk); a no-op when disabled."""

    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        self._progress: Progress | None = None
        if enabled:
            self._progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=console or Console(stderr=True),
            )

    def __enter__(self) -> ProgressBars:
        if self._progress:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress:
            self._progress.stop()

    @contextmanager
    def file(self, name: str, total: int) -> Iterator[FileProgress]:
        if self._progress is None:
            yield _NoProgress()
            return
        task = self._progress.add_task(name, total=total or 1)
        try:
            yield _BarProgress(self._progress, task)
        finally:
            self._progress.update(task, completed=total or 1)
