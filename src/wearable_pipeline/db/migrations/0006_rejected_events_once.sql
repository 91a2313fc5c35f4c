-- A rejected event is stored once per (event id, content). A client that retries a request
-- whose first attempt had in fact committed (its answer lost to a crash or a timeout) sends
-- the same rejected events again; they are the same records, not new ones, as a repeated
-- accepted event is deduplicated by event_id. `ops.ingest_batches` still counts them in
-- every request that carried them.
--
-- The content key covers the event as stored and, for an event with U+0000, its exact
-- bytes (there `event` holds U+FFFD instead). md5, because PostgreSQL has no immutable
-- sha256 of text for a generated column; the key only decides whether a retried reject is
-- a copy of one already kept.
alter table raw.rejected_events
    add column content_md5 uuid generated always as (
        md5(event::text || coalesce(md5(event_bytes), ''))::uuid
    ) stored;

-- Copies stored before this migration: keep the first of each (event id, content), which
-- carries the earliest batch and time; the later ones hold the same event, and their
-- requests' counts stay in ops.ingest_batches.
delete from raw.rejected_events as later
using raw.rejected_events as earlier
where later.event_id is not distinct from earlier.event_id
    and later.content_md5 = earlier.content_md5
    and later.rejected_event_id > earlier.rejected_event_id;

-- `nulls not distinct`: an event without a usable event_id is still stored once per content.
alter table raw.rejected_events
    add constraint rejected_events_once unique nulls not distinct (event_id, content_md5);
