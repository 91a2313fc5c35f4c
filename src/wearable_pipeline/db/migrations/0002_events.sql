-- Analytics events accepted by the API, the ones it rejected (kept as sent), and one row per
-- request with its counters so that totals survive restarts and add up across workers.
-- One request writes all three in one statement (one transaction): never half a batch.
create table raw.raw_events (
    event_id        uuid        primary key,
    event_name      text        not null,
    schema_version  text        not null,
    user_id         text,
    anonymous_id    text,
    client_ts       timestamptz,
    received_at     timestamptz not null default now(),
    batch_id        uuid        not null,
    event           jsonb       not null
);
create index raw_events_received_at on raw.raw_events (received_at);

create table raw.rejected_events (
    rejected_event_id bigserial primary key,
    batch_id          uuid        not null,
    event_index       integer     not null,
    event_id          text,
    event             jsonb       not null,
    -- The exact UTF-8 JSON, only when `event` could not hold it: jsonb cannot store U+0000,
    -- so there `event` has U+FFFD in its place and this column keeps the original.
    event_bytes       bytea,
    errors            jsonb       not null,
    received_at       timestamptz not null default now()
);
create index rejected_events_batch_id on raw.rejected_events (batch_id);

create table ops.ingest_batches (
    batch_id     uuid        primary key,
    request_id   text        not null,
    received_at  timestamptz not null default now(),
    received     integer     not null,
    accepted     integer     not null,
    deduped      integer     not null,
    rejected     integer     not null,
    duration_ms  double precision,
    check (accepted + deduped + rejected = received)
);
create index ingest_batches_received_at on ops.ingest_batches (received_at desc);
