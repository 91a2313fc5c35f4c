"""Writes that commit late still reach every model: loads out of load-id order, and rows a
concurrent dbt invocation commits after a downstream model has read.

load_id is a bigserial taken inside the load transaction, so with two ingests at once a
later id can commit first. Here, deterministically: load A takes its id and writes its rows
but does not commit (a psycopg transaction doing what the loader does); load B, through the
real loader, takes the next id and commits; dbt builds incrementally and stages B only (A is
invisible). Then A commits and the next incremental build must stage A - a model that picks
"load_id above the newest staged one" never would.

Then the same between dbt invocations (a plain `dbt build` beside `wearable run`): a staging
row written by an open transaction - another invocation still running - is invisible to the
build that runs meanwhile; once it commits, the next build must take it into the union and
the mart, although that build's downstream models have already read past its time. Their
horizon (dbt/macros/incremental.sql) is what guarantees it; a timestamp watermark would not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from wearable_pipeline.transform.dbt import DbtResult

pytestmark = pytest.mark.slow

USER_A = "load-order-a"
USER_B = "load-order-b"
USER_C = "late-writer-c"
# unit tests read no data (tests/dbt/test_dbt_build.py runs them)
NO_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]
DAILY_PATH = ["--select", "source_priority", "stg_fitbit__daily_activity+", *NO_UNIT_TESTS]


class UncommittedLoad:
    """A daily-activity load inside an open transaction, as the loader writes one: the
    manifest row ('loaded', committed only with the rows), the raw rows, then finished_at
    stamped just before the commit."""

    def __init__(self, database_url: str, rows: list[dict[str, str]]) -> None:
        self.conn = psycopg.connect(database_url)
        self.rows = rows
        sha = hashlib.sha256(repr(rows).encode()).hexdigest()
        self.load_id = self.conn.execute(
            "insert into ops.file_loads (path, file_name, size_bytes, sha256, source_format,"
            " target_table, status) values ('/drop/a.csv', 'a.csv', 1, %s,"
            " 'fitbit_daily_activity', 'daily_activity', 'loaded') returning load_id",
            [sha],
        ).fetchone()[0]  # type: ignore[index]
        columns = list(rows[0])
        with self.conn.cursor().copy(
            f"copy raw.daily_activity ({', '.join(columns)}, _load_id, _row_number) from stdin"
        ) as copy:
            for number, row in enumerate(rows, start=1):
                copy.write_row([*row.values(), self.load_id, number])

    def commit(self) -> None:
        self.conn.execute(
            "update ops.file_loads set rows_loaded = %s, finished_at = clock_timestamp()"
            " where load_id = %s",
            [len(self.rows), self.load_id],
        )
        self.conn.commit()
        self.conn.close()


@pytest.fixture(scope="module")
def scenario(kit: Any) -> Iterator[dict[str, Any]]:
    kit.load_fitbit_csvs()
    first = kit.dbt("build", "--resource-type", "seed", "--resource-type", "model")
    assert first.success, first.summary()

    load_a = UncommittedLoad(
        kit.database_url,
        [
            kit.fitbit_activity_row(USER_A, "4/12/2016", 4321),
            kit.fitbit_activity_row(USER_A, "4/13/2016", 5432),
        ],
    )
    try:
        load_b = kit.ingest_rows(
            "dailyActivity_load_b.csv", [kit.fitbit_activity_row(USER_B, "4/12/2016", 7654)]
        )
        staged_b: DbtResult = kit.dbt("build", *DAILY_PATH)
        a_before = kit.query(
            "select count(*) from staging.stg_daily_activity where user_id = %s", [USER_A]
        )
        load_a.commit()
    finally:
        if not load_a.conn.closed:
            load_a.conn.close()
    staged_a: DbtResult = kit.dbt("build", *DAILY_PATH)
    yield {
        "load_a": load_a.load_id,
        "load_b": load_b,
        "staged_b": staged_b,
        "a_before": a_before,
        "staged_a": staged_a,
    }


def test_the_later_id_committed_first(scenario: dict[str, Any]) -> None:
    assert scenario["load_b"] > scenario["load_a"]


def test_the_build_before_a_commits_stages_b_only(scenario: dict[str, Any], kit: Any) -> None:
    assert scenario["staged_b"].success, scenario["staged_b"].summary()
    assert scenario["a_before"] == [(0,)]


def test_a_reaches_staging_after_it_commits(scenario: dict[str, Any], kit: Any) -> None:
    assert scenario["staged_a"].success, scenario["staged_a"].summary()
    rows = kit.query(
        "select user_id, activity_date::text, steps, load_id from staging.stg_daily_activity"
        " where user_id in (%s, %s) order by 1, 2",
        [USER_A, USER_B],
    )
    assert rows == [
        (USER_A, "2016-04-12", 4321, scenario["load_a"]),
        (USER_A, "2016-04-13", 5432, scenario["load_a"]),
        (USER_B, "2016-04-12", 7654, scenario["load_b"]),
    ]


def test_a_reaches_the_mart(scenario: dict[str, Any], kit: Any) -> None:
    rows = kit.query(
        "select summary_date::text, steps from marts.daily_user_summary"
        " where user_id = %s order by 1",
        [USER_A],
    )
    assert rows == [("2016-04-12", 4321), ("2016-04-13", 5432)]


def test_an_incremental_run_matches_a_full_refresh(scenario: dict[str, Any], kit: Any) -> None:
    """Staging built load by load, out of id order, equals staging built at once."""
    query = (
        "select user_id, activity_date, source_format, load_id, steps"
        " from staging.stg_daily_activity order by 1, 2, 3"
    )
    incremental = kit.query(query)
    rebuilt = kit.dbt("run", "--full-refresh", "--select", "stg_daily_activity")
    assert rebuilt.success, rebuilt.summary()
    assert kit.query(query) == incremental


class LateStagingWrite:
    """A staging row written, and not yet committed, as another dbt invocation writes one:
    in its own transaction, stamped with that transaction's id."""

    def __init__(self, database_url: str, load_id: int) -> None:
        self.conn = psycopg.connect(database_url)
        self.conn.execute(
            "insert into staging.stg_fitbit__daily_activity"
            " (user_id, source_format, load_id, source_row_number, activity_date, steps,"
            "  dbt_write_id, dbt_loaded_at)"
            " values (%s, 'fitbit_daily_activity', %s, 2, '2016-04-15', 2468,"
            "  pg_current_xact_id()::text::bigint, now())",
            [USER_C, load_id],
        )

    def commit(self) -> None:
        self.conn.commit()
        self.conn.close()


@pytest.fixture(scope="module")
def late_write(scenario: dict[str, Any], kit: Any) -> Iterator[dict[str, Any]]:
    write = LateStagingWrite(kit.database_url, scenario["load_b"])
    try:
        # runs while the write is open: the union and the mart read before it commits
        meanwhile = kit.dbt("build", "--select", "stg_daily_activity+", *NO_UNIT_TESTS)
        before = kit.query(
            "select count(*) from staging.stg_daily_activity where user_id = %s", [USER_C]
        )
        write.commit()
    finally:
        if not write.conn.closed:
            write.conn.close()
    after = kit.dbt("build", "--select", "stg_daily_activity+", *NO_UNIT_TESTS)
    yield {"meanwhile": meanwhile, "before": before, "after": after}


def test_a_late_commit_of_another_invocation_reaches_the_union_and_the_mart(
    late_write: dict[str, Any], kit: Any
) -> None:
    assert late_write["meanwhile"].success, late_write["meanwhile"].summary()
    assert late_write["before"] == [(0,)]
    assert late_write["after"].success, late_write["after"].summary()
    assert kit.query(
        "select steps from staging.stg_daily_activity where user_id = %s", [USER_C]
    ) == [(2468,)]
    assert kit.query(
        "select summary_date::text, steps from marts.daily_user_summary where user_id = %s",
        [USER_C],
    ) == [("2016-04-15", 2468)]
