"""Helpers for the ingest tests: writing small CSV files and reading back what landed."""

from __future__ import annotations

from pathlib import Path

import psycopg

FITBIT = Path(__file__).parents[1] / "fixtures" / "fitbit"
BAD = Path(__file__).parents[1] / "fixtures" / "bad"

ACTIVITY_HEADER = (
    "Id,ActivityDate,TotalSteps,TotalDistance,TrackerDistance,LoggedActivitiesDistance,"
    "VeryActiveDistance,ModeratelyActiveDistance,LightActiveDistance,SedentaryActiveDistance,"
    "VeryActiveMinutes,FairlyActiveMinutes,LightlyActiveMinutes,SedentaryMinutes,Calories"
)


def activity_row(user: str = "1503960366", day: str = "4/12/2016", steps: int = 100) -> str:
    return f"{user},{day},{steps},8.5,8.5,0,1.87,0.55,6.06,0,25,13,328,728,1985"


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def query(url: str, statement: str, *params: object) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(statement, params or None))  # type: ignore[arg-type]


def load_rows(url: str, table: str, load_id: int, columns: str = "*") -> list[tuple]:
    return query(
        url, f"select {columns} from raw.{table} where _load_id = %s order by _row_number", load_id
    )
