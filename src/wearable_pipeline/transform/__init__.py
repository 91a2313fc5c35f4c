"""Transformations: the dbt project in `dbt/`, run with the project's resolved connection."""
