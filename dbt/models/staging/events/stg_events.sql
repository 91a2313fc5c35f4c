{{
    config(
        materialized=keyed_materialization(),
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
    Accepted analytics events, typed: the envelope as columns, every catalog payload field
    (DESIGN §5) as a typed column (null where the event has no such field), the user's local
    calendar date, and the user an anonymous event belongs to.

    User stitching: an `identify` event carrying both an anonymous id and a user id ties the
    two. An event sent with only an anonymous id is attributed to the user of the first
    identify of that anonymous id at or after it (the sign-in that ended its anonymous
    stretch), else to the user of the last identify before it (activity after signing out).
    So a device shared by two people gives each of them the anonymous activity that led to
    their own sign-in. The ids as sent stay in sent_user_id and anonymous_id.

    Incremental on event_id: a run reads events received after the newest one here (minus a
    look-back for late commits, var events_late_arrival_minutes), and re-reads the events of
    anonymous ids that a new identify event names, so their user is decided again. Indexes
    on raw.raw_events (received_at, identify events, anonymous ids) keep both reads small. A
    new typed column needs `--full-refresh` to be filled for old events, hence
    on_schema_change='fail' rather than silently adding an empty column.
-#}

with

new_events as (

    select * from {{ source('raw', 'raw_events') }} as raw_events
    {% if is_incremental() %}
    where raw_events.received_at > {{ dbt.dateadd(
        'minute',
        -var('events_late_arrival_minutes'),
        "cast('" ~ max_in_this('received_at', '-infinity') ~ "' as " ~ timestamp_tz_type() ~ ")",
    ) }}
    -- the look-back only adds events still missing: rows already here keep their write id,
    -- so the mart does not redo their days
      and not exists (
        select 1 from {{ this }} as staged where staged.event_id = raw_events.event_id
    )
    {% endif %}

),

identifies as {{ inlined() }} (

    select
        anonymous_id,
        user_id as identified_user_id,
        coalesce(client_ts, received_at) as identified_at,
        event_id as identify_event_id
    from {{ source('raw', 'raw_events') }}
    where event_name = 'identify'
      and anonymous_id is not null
      and user_id is not null

),

source as (

    select * from new_events

    {% if is_incremental() %}
    union all

    -- events already here whose anonymous id a new identify event names
    select raw_events.*
    from {{ source('raw', 'raw_events') }} as raw_events
    where raw_events.anonymous_id in (
        select anonymous_id from new_events
        where event_name = 'identify' and anonymous_id is not null and user_id is not null
    )
      and exists (
        select 1 from {{ this }} as staged where staged.event_id = raw_events.event_id
    )
    {% endif %}

),

known_timezones as (

    -- an unknown zone name must not break the run: such events fall back to UTC
    {{ known_time_zones() }}

),

renamed as (

    select
        -- ids
        source.event_id,
        source.event_name,
        source.schema_version,
        source.user_id as sent_user_id,
        source.anonymous_id,
        {{ json_text('source.event', ['session_id']) }} as session_id,
        {{ json_text('source.event', ['device_id']) }} as device_id,
        source.batch_id,

        -- context
        {{ json_text('source.event', ['source']) }} as event_source,
        {{ json_text('source.event', ['environment']) }} as environment,
        {{ json_text('source.event', ['app_version']) }} as app_version,
        {{ json_text('source.event', ['page']) }} as page,
        {{ json_text('source.event', ['referrer']) }} as referrer,
        {{ json_text('source.event', ['timezone']) }} as timezone,

        -- timestamps
        source.client_ts,
        source.received_at,

        -- payload: navigation and identity
        {{ json_text('source.event', ['payload', 'page_title']) }} as page_title,
        {{ json_text('source.event', ['payload', 'entry_point']) }} as entry_point,
        {{ json_text('source.event', ['payload', 'user_status']) }} as user_status,

        -- payload: devices, syncs and metrics
        {{ json_text('source.event', ['payload', 'vendor']) }} as vendor,
        {{ json_text('source.event', ['payload', 'device_model']) }} as device_model,
        {{ json_text('source.event', ['payload', 'date_range']) }} as date_range,
        {{ json_text('source.event', ['payload', 'sync_status']) }} as sync_status,
        {{ to_bigint(json_text('source.event', ['payload', 'records_synced'])) }}
            as records_synced,
        {{ json_text('source.event', ['payload', 'metric_type']) }} as metric_type,
        {{ to_numeric(json_text('source.event', ['payload', 'target_value'])) }} as target_value,
        {{ json_text('source.event', ['payload', 'target_unit']) }} as target_unit,
        {{ json_text('source.event', ['payload', 'export_format']) }} as export_format,

        -- payload: errors
        {{ json_text('source.event', ['payload', 'component']) }} as component,
        {{ json_text('source.event', ['payload', 'error_code']) }} as error_code,
        {{ json_text('source.event', ['payload', 'error_message']) }} as error_message,
        {{ json_text('source.event', ['payload', 'severity']) }} as severity,
        {{ json_text('source.event', ['payload', 'endpoint']) }} as endpoint,
        {{ to_integer(json_text('source.event', ['payload', 'status_code'])) }} as status_code,

        -- payload: performance
        {{ to_numeric(json_text('source.event', ['payload', 'lcp_ms'])) }} as lcp_ms,
        {{ json_text('source.event', ['payload', 'page_type']) }} as page_type,
        {{ to_numeric(json_text('source.event', ['payload', 'api_latency_ms'])) }}
            as api_latency_ms,

        -- when the event happened: by the client's clock when it said, else the server's
        coalesce(source.client_ts, source.received_at) as occurred_at

    from source

),

stitch_candidates as (

    -- every identify of an anonymous event's anonymous id, the sign-in after it first, then
    -- the one closest before it
    select
        renamed.event_id,
        identifies.identified_user_id,
        row_number() over (
            partition by renamed.event_id
            order by
                case when identifies.identified_at >= renamed.occurred_at then 0 else 1 end,
                case
                    when identifies.identified_at >= renamed.occurred_at
                        then identifies.identified_at
                end asc nulls last,
                identifies.identified_at desc,
                identifies.identify_event_id
        ) as candidate_rank
    from renamed
    inner join identifies
        on renamed.anonymous_id = identifies.anonymous_id
    where renamed.sent_user_id is null

),

stitched as (

    select
        renamed.*,
        coalesce(renamed.sent_user_id, stitch_candidates.identified_user_id) as user_id,
        case
            when renamed.sent_user_id is not null then 'sent'
            when stitch_candidates.identified_user_id is not null then 'identify'
            else 'anonymous'
        end as identity_source
    from renamed
    left join stitch_candidates
        on renamed.event_id = stitch_candidates.event_id
        and stitch_candidates.candidate_rank = 1

),

localised as (

    select
        stitched.*,
        -- the user's calendar day, in the event's own time zone when it names a known one
        {{ local_date(
            'stitched.occurred_at',
            'coalesce(known_timezones.timezone, ' ~ "'UTC'" ~ ')',
        ) }} as event_local_date,
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at
    from stitched
    left join known_timezones
        on stitched.timezone = known_timezones.timezone

)

select * from localised
