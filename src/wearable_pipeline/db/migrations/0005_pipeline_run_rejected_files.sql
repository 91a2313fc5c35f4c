-- A pipeline run whose ingest step rejected files says which, so `wearable runs` and the
-- run's exit status agree with `wearable ingest`.
alter table ops.pipeline_runs
    add column files_rejected integer not null default 0,
    add column rejected_files text[]  not null default '{}';
