"""Which files an ingest run looks at, and the user-id hint a file's location gives.

Folders are walked recursively for `*.csv` and `*.csv.gz` (any case), skipping hidden files and
folders, in sorted order so runs are reproducible. A known export that is not CSV (Apple
Health's `export.xml`) is picked up too, so the run can say it is not supported instead of
passing over it in silence. A file named explicitly is always taken,
whatever its name: the format is decided by the header, never by the name. A dangling symbolic
link is taken like a file, so that the run reports it (and records it as failed) instead of
passing over it in silence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from wearable_pipeline.ingest.formats import is_unsupported_export_name

CSV_SUFFIXES = (".csv", ".csv.gz")


@dataclass(frozen=True)
class Discovered:
    """The files to ingest, in order, and the given paths that do not exist."""

    files: list[Path]
    missing: list[Path]


def is_hidden(path: Path, root: Path) -> bool:
    """Whether `path` (under `root`) is hidden or lies in a hidden folder below `root`."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _looks_like_csv(path: Path) -> bool:
    return path.name.lower().endswith(CSV_SUFFIXES)


def _is_dangling_link(path: Path) -> bool:
    return path.is_symlink() and not path.exists()


def discover(paths: Iterable[Path]) -> Discovered:
    """Expand files and folders into the list of files to ingest (each once)."""
    files: list[Path] = []
    missing: list[Path] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                candidate
                for candidate in path.rglob("*")
                if (candidate.is_file() or _is_dangling_link(candidate))
                and (_looks_like_csv(candidate) or is_unsupported_export_name(candidate))
                and not is_hidden(candidate, path)
            )
        elif path.is_file() or _is_dangling_link(path):
            found = [path]
        else:
            missing.append(path)
            continue
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append(file)
    return Discovered(files=files, missing=missing)


def folder_user_hint(path: Path, drop_dir: Path) -> str | None:
    """The first folder below the drop directory: `data/alice/oura.csv` → `alice`.

    None when the file sits directly in the drop directory or outside it. This is how a
    single-user export (no user-id column) gets its user without an option on every run.
    """
    try:
        relative = Path(path).resolve().relative_to(Path(drop_dir).resolve())
    except ValueError:
        return None
    return relative.parts[0] if len(relative.parts) > 1 else None


def user_id_hint(
    path: Path, *, drop_dir: Path, user_id: str | None, has_user_column: bool
) -> str | None:
    """The user-id hint recorded with a file's load (ops.file_loads.user_id_hint).

    `--user-id` wins. Otherwise a single-user format takes the folder under the drop
    directory; a format with its own user-id column gets none, because the folder of a
    multi-user export (`data/synthetic/`) names a batch, not a person.
    """
    if user_id:
        return user_id
    if has_user_column:
        return None
    return folder_user_hint(path, drop_dir)


def display_path(path: Path) -> str:
    """A short path for messages: relative to the working directory when below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
