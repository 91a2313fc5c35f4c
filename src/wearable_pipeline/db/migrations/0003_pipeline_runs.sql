-- One row per `wearable run` (Prefect flow run) with its outcome, timings and counts.
create table ops.pipeline_runs (
    run_id          uuid        primary key,
    flow_run_id     uuid,
    started_at      timestamptz not null default now(),
    finished_at     timestamptz,
    status          text        not null
        check (status in ('running', 'succeeded', 'failed')),
    options         jsonb       not null default '{}'::jsonb,
    step_durations  jsonb       not null default '{}'::jsonb,
    files_loaded    integer     not null default 0,
    rows_ingested   bigint      not null default 0,
    models_built    integer     not null default 0,
    tests_passed    integer     not null default 0,
    tests_failed    integer     not null default 0,
    failed_tests    text[]      not null default '{}',
    error           text
);
create index pipeline_runs_started_at on ops.pipeline_runs (started_at desc);
