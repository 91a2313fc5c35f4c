-- Landing (raw) and operations (ops) schemas, the CSV file manifest and kept bad rows.
create schema if not exists raw;
create schema if not exists ops;

-- One row per file seen by `wearable ingest`, whatever happened to it.
create table ops.file_loads (
    load_id        bigserial primary key,
    path           text        not null,
    file_name      text        not null,
    size_bytes     bigint      not null,
    sha256         text        not null,
    source_format  text,
    target_table   text,
    status         text        not null
        check (status in ('loaded', 'skipped', 'rejected', 'failed')),
    rows_loaded    bigint      not null default 0,
    rows_rejected  bigint      not null default 0,
    header         text[],
    user_id_hint   text,
    error          text,
    started_at     timestamptz not null default now(),
    finished_at    timestamptz,
    duration_ms    double precision
);

-- The same content never loads twice into the same raw table, even from two racing runs.
create unique index file_loads_content_loaded_once
    on ops.file_loads (target_table, sha256) where status = 'loaded';
create index file_loads_started_at on ops.file_loads (started_at desc);

-- Rows of a loaded file that could not be parsed: kept byte for byte with the reason.
create table raw.rejected_rows (
    rejected_row_id bigserial primary key,
    load_id         bigint      not null references ops.file_loads (load_id),
    line_number     bigint      not null,
    raw_line        text        not null,
    raw_bytes       bytea,
    reason          text        not null,
    rejected_at     timestamptz not null default now()
);
create index rejected_rows_load_id on raw.rejected_rows (load_id);
