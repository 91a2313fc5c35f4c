-- `wearable lake export` copies raw data to a Parquet lake (docs/scaling.md). Two manifests
-- say what is in which lake, so every load and every event goes there exactly once.

-- One row per file load exported to a lake: its partition (and its ops.file_loads row) is
-- complete in the lake once this row commits. Keyed by lake, so a second lake gets
-- everything again.
create table ops.lake_exports (
    lake            text        not null,
    load_id         bigint      not null references ops.file_loads (load_id),
    target_table    text        not null,
    rows_exported   bigint      not null,
    bytes_written   bigint      not null,
    path            text,
    exported_at     timestamptz not null default now(),
    primary key (lake, load_id)
);

-- Events carry the id of the transaction that wrote them, like the rows dbt writes
-- (dbt_write_id): an export takes the events whose write id is below the oldest
-- transaction still running - all committed, and no later commit can get such an id -
-- and above the previous export's bound. received_at cannot do this: a backfill sets it,
-- and a transaction can commit after a later one. Existing rows keep NULL (the first
-- export takes them): a volatile default on `add column` would rewrite the whole table.
alter table raw.raw_events add column _write_id bigint;
alter table raw.raw_events
    alter column _write_id set default cast(cast(pg_current_xact_id() as text) as bigint);
-- Rows are appended in roughly write-id order: a BRIN index finds a range in a few pages.
create index raw_events_write_id on raw.raw_events using brin (_write_id);

-- One row per event export to a lake: the events with write_id_from <= _write_id <
-- write_id_to (and, from 0, those written before _write_id existed) are in the partition.
create table ops.lake_event_exports (
    lake            text        not null,
    write_id_from   bigint      not null,
    write_id_to     bigint      not null check (write_id_to >= write_id_from),
    rows_exported   bigint      not null,
    bytes_written   bigint      not null,
    path            text,
    exported_at     timestamptz not null default now(),
    primary key (lake, write_id_from)
);
