"""What one registered CSV layout is: how a file is recognised, and how its rows land.

A format is data, not code (the dlt idea). The loader is generic; whatever differs between
vendors - the line the header is on, header names in another language, a trailing comma on
every row, a header shared by several files - is a field here, never a branch in the loader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from types import MappingProxyType

from wearable_pipeline.ingest.naming import sql_safe_name, sql_safe_names

_GZIP_SUFFIX = ".gz"


def _frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class SourceFormat:
    """One recognised CSV layout.

    name:          the `source_format` recorded in the manifest (ops.file_loads).
    target_table:  raw table (schema `raw`) the rows land in.
    signature:     header columns (as written in the file) that identify the format.
    required:      columns that must be present for the file to load (includes the signature).
    columns:       every column the format is known to have; the raw table is created with all
                   of them so dbt can select them before any file arrives.
    user_id_column: header column holding the user id, or None for single-user exports
                   (the user then comes from the file's folder or `--user-id`).
    description:   one line for `wearable formats` and the docs.
    vendor:        who writes the format; `name` is `<vendor>_<entity>`, and its dbt staging
                   model `stg_<vendor>__<entity>` (a test checks that every format has one).
    header_line:   1-based line holding the header (a vendor may write metadata above it).
    file_name_pattern: a glob the file name must also match (case-insensitive, `.gz` ignored),
                   only for formats whose header alone cannot tell them apart: Withings writes
                   every `aggregates_*.csv` with the same `date,value` header. None elsewhere:
                   the header is the first test, and for most formats the only one.
    header_aliases: header names in another language → the name the raw table uses, both
                   SQL-safe (`von` → `from` for a German Withings export). A localised file
                   lands in the same raw table and staging model as the English one; its
                   header as written stays in ops.file_loads.header.
    trailing_column: the raw column for a last field the data rows carry and the header
                   lacks (Samsung ends every data row with a comma), or None. The field is
                   kept, not dropped: a future export that writes something there loses
                   nothing.
    """

    name: str
    target_table: str
    signature: tuple[str, ...]
    required: tuple[str, ...]
    columns: tuple[str, ...]
    user_id_column: str | None
    description: str
    vendor: str
    header_line: int = 1
    file_name_pattern: str | None = None
    header_aliases: Mapping[str, str] = field(default_factory=dict, compare=False)
    trailing_column: str | None = None
    _safe_signature: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "header_aliases", _frozen(self.header_aliases))
        object.__setattr__(
            self, "_safe_signature", frozenset(self.raw_name(col) for col in self.signature)
        )
        if not self.name.startswith(f"{self.vendor}_"):
            raise ValueError(
                f"format {self.name!r} must be named <vendor>_<entity> ({self.vendor})"
            )
        for alias, canonical in self.header_aliases.items():
            if sql_safe_name(alias) != alias or sql_safe_name(canonical) != canonical:
                raise ValueError(f"format {self.name}: aliases must be SQL-safe names")

    def raw_name(self, header_column: str) -> str:
        """The raw-table name of one header column: SQL-safe, through the aliases."""
        safe = sql_safe_name(header_column)
        return self.header_aliases.get(safe, safe)

    def raw_columns(self, header: list[str]) -> list[str]:
        """The raw-table columns for a file's header, in file order (unique, aliased, with the
        trailing column when the format's rows carry one more field than the header)."""
        columns = sql_safe_names([self.raw_name(col) for col in header])
        if self.trailing_column:
            columns.append(self.trailing_column)
        return columns

    def table_columns(self) -> list[str]:
        """The raw-table columns created before any file arrives (`columns`, SQL-safe)."""
        return self.raw_columns(list(self.columns))

    def matches(self, header: list[str], file_name: str | None = None) -> bool:
        """Whether a header carries this format's signature (and, for the few formats with a
        file-name pattern, the file name matches it)."""
        if not self._safe_signature <= {self.raw_name(col) for col in header}:
            return False
        return self.file_name_pattern is None or (
            file_name is not None and self.name_matches(file_name)
        )

    def name_matches(self, file_name: str) -> bool:
        """Whether a file name matches the pattern (case-insensitive, a `.gz` suffix ignored)."""
        if self.file_name_pattern is None:
            return True
        name = file_name.lower().removesuffix(_GZIP_SUFFIX)
        return fnmatch(name, self.file_name_pattern.lower())

    def missing_required(self, header: list[str]) -> list[str]:
        """Required columns (as named in the registry) that the header lacks."""
        present = {self.raw_name(col) for col in header}
        return [col for col in self.required if self.raw_name(col) not in present]

    @property
    def qualified_table(self) -> str:
        return f"raw.{self.target_table}"

    @property
    def staging_model(self) -> str:
        """The dbt model that types this format's rows: `stg_<vendor>__<entity>`."""
        return f"stg_{self.vendor}__{self.name.removeprefix(self.vendor + '_')}"

    @property
    def specificity(self) -> tuple[int, int]:
        """How specific a match is: a file-name pattern, then the signature's size."""
        return (self.file_name_pattern is not None, len(self.signature))
