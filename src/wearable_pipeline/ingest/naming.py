"""SQL-safe column names for CSV headers, so raw tables stay readable and lossless."""

from __future__ import annotations

import re
import unicodedata

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
# Postgres truncates identifiers at 63 bytes; we do it ourselves so names stay stable.
MAX_IDENTIFIER_LENGTH = 63


def sql_safe_name(header: str) -> str:
    """`TotalSteps` → `total_steps`, `Total Bedtime ` → `total_bedtime`,
    `Temperature Deviation (°C)` → `temperature_deviation_c`.

    Accents are folded to ASCII, anything else that is not a letter or digit becomes `_`, and a
    leading digit gets a `c_` prefix. An empty header becomes `column`.
    """
    text = unicodedata.normalize("NFKD", header.strip())
    text = text.encode("ascii", "ignore").decode("ascii")
    text = _CAMEL_BOUNDARY.sub("_", text).lower()
    name = _NOT_WORD.sub("_", text).strip("_") or "column"
    if name[0].isdigit():
        name = f"c_{name}"
    return name[:MAX_IDENTIFIER_LENGTH]


def sql_safe_names(headers: list[str]) -> list[str]:
    """Names for a whole header, made unique by suffixing `_2`, `_3`, … in order of appearance."""
    seen: dict[str, int] = {}
    result = []
    for header in headers:
        base = sql_safe_name(header)
        count = seen.get(base, 0) + 1
        seen[base] = count
        result.append(base if count == 1 else f"{base}_{count}")
    return result
