"""What an ingest run did, per file and in total: for the CLI's table, `--json` and callers.

Statuses:
- `loaded`: the rows are in the raw table (row-level rejects, if any, in raw.rejected_rows;
  a file with a header and no rows loads 0 rows, with a message saying so);
- `skipped`: the same content was already loaded into that table;
- `unrecognised`: the header matches no registered format; reported, never loaded;
- `rejected`: recognised as CSV input but unusable (empty, missing required columns,
  single-user file without a user id);
- `failed`: an unexpected error (a path that does not exist, a file that cannot be read, a
  file that changed while it was loading, database errors).

A run is `ok` when no file was rejected or failed; an unrecognised file does not fail a run,
because a drop folder may hold exports this project does not know yet (the message says so).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PROBLEM_STATUSES = frozenset({"rejected", "failed"})


@dataclass
class FileResult:
    """One file's outcome. `error` says why a file did not load (naming the line when there
    is one); `message` is a note about a file that is fine (a skip names the earlier load)."""

    path: str
    status: str
    source_format: str | None = None
    target_table: str | None = None
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_forgotten: int = 0
    error: str | None = None
    message: str | None = None
    load_id: int | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    user_id_hint: str | None = None
    duration_s: float = 0.0
    row_errors: list[str] = field(default_factory=list)

    @property
    def qualified_table(self) -> str | None:
        return f"raw.{self.target_table}" if self.target_table else None


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return sum(result.rows_loaded for result in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(result.rows_rejected for result in self.files)

    @property
    def files_loaded(self) -> int:
        return sum(result.status == "loaded" for result in self.files)

    @property
    def ok(self) -> bool:
        """True when no file was rejected or failed (the CLI then exits 0)."""
        return not any(result.status in PROBLEM_STATUSES for result in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "files_loaded": self.files_loaded,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "files": [asdict(result) for result in self.files],
        }
