{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['event_id'], 'unique': True},
            {'columns': ['received_at']},
            {'columns': ['user_id', 'event_local_date']},
            {'columns': ['dbt_write_id']},
        ],
    )
}}

{#-
    Accepted analytics events, typed: the envelope as columns and every catalog payload
    field (DESIGN §5) as a typed column, null where the event has no such field.

    Incremental on event_id. A run reads only events received after the newest one already
    here (minus a short look-back for late commits, var events_late_arrival_minutes, skipping
    those already staged), using the index on raw.raw_events (received_at): adding 1% of
    events costs about 1% of a full build. A new typed column needs `--full-refresh` to be filled for old events, hence
    on_schema_change='fail' rather than silently adding an empty column.
-#}

with

source as (

    select * from {{ source('raw', 'raw_events') }} as raw_events

    {% if is_incremental() %}
    where raw_events.received_at
        > cast('{{ max_in_this('received_at', '-infinity') }}' as {{ timestamp_tz_type() }})
        - interval '{{ var("events_late_arrival_minutes") }} minutes'
    -- events never change once accepted: the look-back only adds the ones still missing,
    -- so rows already here keep their dbt_loaded_at and the mart does not redo their days
    and not exists (
        select 1
        from {{ this }} as already_staged
        where already_staged.event_id = raw_events.event_id
    )
    {% endif %}

),

known_timezones as (

    -- an unknown zone name must not break the run: such events fall back to UTC
    select distinct name as timezone from pg_timezone_names

),

renamed as (

    select
        -- ids
        source.event_id,
        source.event_name,
        source.schema_version,
        source.user_id,
        source.anonymous_id,
        source.event ->> 'session_id' as session_id,
        source.event ->> 'device_id' as device_id,
        source.batch_id,

        -- context
        source.event ->> 'source' as event_source,
        source.event ->> 'environment' as environment,
        source.event ->> 'app_version' as app_version,
        source.event ->> 'page' as page,
        source.event ->> 'referrer' as referrer,
        source.event ->> 'timezone' as timezone,

        -- timestamps
        source.client_ts,
        source.received_at,

        -- payload: navigation and identity
        source.event -> 'payload' ->> 'page_title' as page_title,
        source.event -> 'payload' ->> 'entry_point' as entry_point,
        source.event -> 'payload' ->> 'user_status' as user_status,

        -- payload: devices, syncs and metrics
        source.event -> 'payload' ->> 'vendor' as vendor,
        source.event -> 'payload' ->> 'device_model' as device_model,
        source.event -> 'payload' ->> 'date_range' as date_range,
        source.event -> 'payload' ->> 'sync_status' as sync_status,
        {{ to_integer("source.event -> 'payload' ->> 'records_synced'") }} as records_synced,
        source.event -> 'payload' ->> 'metric_type' as metric_type,
        {{ to_numeric("source.event -> 'payload' ->> 'target_value'") }} as target_value,
        source.event -> 'payload' ->> 'target_unit' as target_unit,
        source.event -> 'payload' ->> 'export_format' as export_format,

        -- payload: errors
        source.event -> 'payload' ->> 'component' as component,
        source.event -> 'payload' ->> 'error_code' as error_code,
        source.event -> 'payload' ->> 'error_message' as error_message,
        source.event -> 'payload' ->> 'severity' as severity,
        source.event -> 'payload' ->> 'endpoint' as endpoint,
        {{ to_integer("source.event -> 'payload' ->> 'status_code'") }} as status_code,

        -- payload: performance
        {{ to_numeric("source.event -> 'payload' ->> 'lcp_ms'") }} as lcp_ms,
        source.event -> 'payload' ->> 'page_type' as page_type,
        {{ to_numeric("source.event -> 'payload' ->> 'api_latency_ms'") }} as api_latency_ms

    from source

),

localised as (

    select
        renamed.*,
        -- the user's calendar day: in the event's own time zone when it names a known
        -- one, else UTC; timed by the client when it said, else by the server
        cast(
            case
                when known_timezones.timezone is not null
                    then coalesce(renamed.client_ts, renamed.received_at)
                        at time zone known_timezones.timezone
                else coalesce(renamed.client_ts, renamed.received_at) at time zone 'UTC'
            end
            as date
        ) as event_local_date,
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at
    from renamed
    left join known_timezones
        on renamed.timezone = known_timezones.timezone

)

select * from localised
