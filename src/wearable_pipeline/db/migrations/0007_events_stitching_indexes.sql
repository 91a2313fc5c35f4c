-- User stitching in dbt (stg_events): each run reads the `identify` events that tie an
-- anonymous id to a user, and re-reads the events of anonymous ids identified since its last
-- run. Partial indexes: only identify events, and only events that carry an anonymous id.
create index raw_events_identify on raw.raw_events (anonymous_id, client_ts)
    where event_name = 'identify' and anonymous_id is not null and user_id is not null;
create index raw_events_anonymous_id on raw.raw_events (anonymous_id)
    where anonymous_id is not null;
