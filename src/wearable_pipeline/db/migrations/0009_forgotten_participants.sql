-- A participant who withdraws consent is removed (`wearable forget`): who and when is
-- recorded here - not their data - and later loads leave their rows out unless asked
-- (`wearable ingest --include-forgotten`), counting them in ops.file_loads.rows_forgotten.
create table ops.forgotten_participants (
    user_id       text        not null,
    forgotten_at  timestamptz not null default now(),
    requested_by  text        not null,
    rows_deleted  jsonb       not null,
    primary key (user_id, forgotten_at)
);

alter table ops.file_loads add column rows_forgotten bigint not null default 0;
