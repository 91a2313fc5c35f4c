"""SQL-safe column names: readable, unique within a header, never longer than Postgres keeps."""

from __future__ import annotations

from wearable_pipeline.ingest.naming import MAX_IDENTIFIER_LENGTH, sql_safe_name, sql_safe_names


def test_readable_names() -> None:
    assert sql_safe_name("TotalSteps") == "total_steps"
    assert sql_safe_name("Total Bedtime ") == "total_bedtime"
    assert sql_safe_name("Temperature Deviation (°C)") == "temperature_deviation_c"
    assert sql_safe_name("7 day avg") == "c_7_day_avg"
    assert sql_safe_name("") == "column"
    assert sql_safe_name("METs") == "mets"  # an acronym's plural stays one word
    assert sql_safe_name("logId") == "log_id"
    assert sql_safe_name("BMI") == "bmi"


def test_repeated_names_get_suffixes_in_order() -> None:
    assert sql_safe_names(["a", "A", "a "]) == ["a", "a_2", "a_3"]


def test_a_suffix_never_collides_with_a_header_that_already_has_it() -> None:
    assert sql_safe_names(["x", "x", "x_2"]) == ["x", "x_2", "x_2_2"]
    assert sql_safe_names(["x", "x_2", "x"]) == ["x", "x_2", "x_3"]
    assert sql_safe_names(["x_2", "x", "x"]) == ["x_2", "x", "x_3"]


def test_suffixed_long_names_stay_within_the_identifier_limit_and_unique() -> None:
    long = "very long header " * 10
    names = sql_safe_names([long, long, long + "tail", *[long] * 12])
    assert all(len(name) <= MAX_IDENTIFIER_LENGTH for name in names)
    assert len(set(names)) == len(names)
    assert names[0] == sql_safe_name(long) and len(names[0]) == MAX_IDENTIFIER_LENGTH
    assert names[1].endswith("_2") and names[2].endswith("_3")  # same first 63 characters
    assert names[-1].endswith("_15")
