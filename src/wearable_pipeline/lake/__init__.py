"""The Parquet lake: raw loads and events copied once each, for engines past one machine.

`wearable lake export` (export.py) reads what PostgreSQL landed and writes it under
`WEARABLE_LAKE_DIR` (layout.py), one Parquet file per partition, each appearing whole
(parquet_files.py); the dbt `spark` target reads it as external tables (docs/scaling.md).
"""
