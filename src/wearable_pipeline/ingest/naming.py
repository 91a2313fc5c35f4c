"""SQL-safe column names for CSV headers, so raw tables stay readable and lossless."""

from __future__ import annotations

import re
import unicodedata

# An acronym's plural ("METs", "IDs") is one word, not "ME_Ts".
_ACRONYM_PLURAL = re.compile(r"([A-Z]{2,})s\b")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
# Postgres truncates identifiers at 63 bytes; we do it ourselves so names stay stable.
MAX_IDENTIFIER_LENGTH = 63


def sql_safe_name(header: str) -> str:
    """`TotalSteps` → `total_steps`, `Total Bedtime ` → `total_bedtime`,
    `Temperature Deviation (°C)` → `temperature_deviation_c`, `METs` → `mets`.

    Accents are folded to ASCII, anything else that is not a letter or digit becomes `_`, and a
    leading digit gets a `c_` prefix. An empty header becomes `column`.
    """
    text = unicodedata.normalize("NFKD", header.strip())
    text = text.encode("ascii", "ignore").decode("ascii")
    text = _ACRONYM_PLURAL.sub(lambda match: match.group(1) + "S", text)
    text = _CAMEL_BOUNDARY.sub("_", text).lower()
    name = _NOT_WORD.sub("_", text).strip("_") or "column"
    if name[0].isdigit():
        name = f"c_{name}"
    return name[:MAX_IDENTIFIER_LENGTH]


def sql_safe_names(headers: list[str]) -> list[str]:
    """Names for a whole header, unique and at most MAX_IDENTIFIER_LENGTH characters.

    A name already taken gets the first free suffix `_2`, `_3`, … in order of appearance, with
    the base shortened to leave room for it; a suffix never collides with a header column that
    already has that name (`x,x,x_2` → `x`, `x_2`, `x_2_2`).
    """
    used: set[str] = set()
    result = []
    for header in headers:
        base = name = sql_safe_name(header)
        number = 1
        while name in used:
            number += 1
            suffix = f"_{number}"
            name = base[: MAX_IDENTIFIER_LENGTH - len(suffix)] + suffix
        used.add(name)
        result.append(name)
    return result
