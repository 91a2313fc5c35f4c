"""Synthetic wearable data for demos, tests and benchmarks (no sample data is checked in).

`people` defines who takes part (ids, study dates, habits), `days` and `minutes` simulate
their days, and `fitbit` writes them as a Fitbit (Fitabase) study export.
"""

from wearable_pipeline.synth.fitbit import (
    FILES,
    GROUPS,
    GeneratedFile,
    generate_csv,
    generate_csv_files,
)
from wearable_pipeline.synth.people import (
    SYNTHETIC_START_DATE,
    synthetic_dates,
    synthetic_user_ids,
)

__all__ = [
    "FILES",
    "GROUPS",
    "SYNTHETIC_START_DATE",
    "GeneratedFile",
    "generate_csv",
    "generate_csv_files",
    "synthetic_dates",
    "synthetic_user_ids",
]
