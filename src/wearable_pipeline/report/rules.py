"""The numbers the report quotes, read from the dbt project that applies them.

A chart that says "a valid day has at least 10 valid hours" must say what the marts did;
the numbers live once, as dbt vars in `dbt_project.yml`, and are read from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


class RulesError(RuntimeError):
    """The dbt project's vars could not be read; the message names the file and the var."""


@dataclass(frozen=True)
class Rules:
    valid_hour_min_minutes: int
    valid_day_min_hours: int
    step_baseline_days: int
    volume_window_days: int
    volume_threshold: float
    volume_mad_multiplier: float
    volume_min_median_rows: int


_VARS = {
    "valid_hour_min_minutes": "valid_hour_min_minutes",
    "valid_day_min_hours": "valid_day_min_hours",
    "step_baseline_days": "step_baseline_days",
    "volume_window_days": "volume_anomaly_window_days",
    "volume_threshold": "volume_anomaly_threshold",
    "volume_mad_multiplier": "volume_anomaly_mad_multiplier",
    "volume_min_median_rows": "volume_anomaly_min_median_rows",
}


def read_rules(dbt_project_dir: Path) -> Rules:
    """The report's rules from `<dbt_project_dir>/dbt_project.yml`'s vars.

    Raises RulesError when the file is missing or unreadable or a var is absent.
    """
    path = Path(dbt_project_dir) / "dbt_project.yml"
    try:
        project = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{path}: cannot read the dbt project's vars: {exc}") from exc
    variables = project.get("vars") or {}
    missing = [name for name in _VARS.values() if name not in variables]
    if missing:
        raise RulesError(f"{path}: vars {', '.join(missing)} are missing")
    return Rules(
        valid_hour_min_minutes=int(variables[_VARS["valid_hour_min_minutes"]]),
        valid_day_min_hours=int(variables[_VARS["valid_day_min_hours"]]),
        step_baseline_days=int(variables[_VARS["step_baseline_days"]]),
        volume_window_days=int(variables[_VARS["volume_window_days"]]),
        volume_threshold=float(variables[_VARS["volume_threshold"]]),
        volume_mad_multiplier=float(variables[_VARS["volume_mad_multiplier"]]),
        volume_min_median_rows=int(variables[_VARS["volume_min_median_rows"]]),
    )
