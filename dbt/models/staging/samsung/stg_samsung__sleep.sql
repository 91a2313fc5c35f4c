{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['load_id']},
            {'columns': ['dbt_write_id']},
            {'columns': ['user_id', 'sleep_date']},
        ],
    )
}}

{#- Samsung Health's com.samsung.shealth.sleep file, typed: one row per sleep period. Times are
    UTC with the wearer's offset beside them (`UTC+0900`): local = UTC + offset, and a sleep
    belongs to the local date it ends on. `sleep_duration` is the whole session in minutes and
    `efficiency` the share of it asleep (%), so minutes asleep = duration × efficiency; a sleep
    logged by hand (no duration, efficiency 0) counts as asleep from start to end. Several
    devices may record one night: int_sleep_periods keeps the longest of overlapping periods.
    Incremental: appends the loads not staged yet. -#}

with

source as (

    {{ single_user_rows('samsung_sleep', 'samsung_sleep') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'samsung_sleep' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,
        {{ to_text('com_samsung_health_sleep_datauuid') }} as record_id,
        {{ to_text('com_samsung_health_sleep_deviceuuid') }} as device_id,

        -- times (UTC) and the offset
        {{ parse_iso_timestamp('com_samsung_health_sleep_start_time') }} as started_at_utc,
        {{ parse_iso_timestamp('com_samsung_health_sleep_end_time') }} as ended_at_utc,
        {{ offset_minutes('com_samsung_health_sleep_time_offset') }} as utc_offset_minutes,

        -- sleep
        {{ to_numeric('sleep_duration') }} as session_minutes,
        {{ to_numeric('efficiency') }} as efficiency_percent,
        {{ to_integer('sleep_score') }} as sleep_score,

        -- the text as written, for the parse check
        com_samsung_health_sleep_start_time as start_text,
        com_samsung_health_sleep_end_time as end_text,
        com_samsung_health_sleep_time_offset as offset_text,
        sleep_duration as duration_text,
        efficiency as efficiency_text,
        sleep_score as sleep_score_text

    from source

),

local_times as (

    select
        typed.*,
        {{ plus_minutes('started_at_utc', 'utc_offset_minutes') }} as sleep_start_at,
        {{ plus_minutes('ended_at_utc', 'utc_offset_minutes') }} as sleep_end_at,
        {{ minutes_between('started_at_utc', 'ended_at_utc') }} as span_minutes
    from typed

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        record_id,
        device_id,
        sleep_start_at,
        sleep_end_at,
        utc_offset_minutes,
        cast(sleep_end_at as date) as sleep_date,
        case
            when session_minutes is not null and efficiency_percent > 0
                then {{ whole_minutes('session_minutes * efficiency_percent / 100') }}
            else {{ whole_minutes('coalesce(session_minutes, span_minutes)') }}
        end as minutes_asleep,
        {{ whole_minutes('span_minutes') }} as minutes_in_bed,
        cast(null as boolean) as is_nap,
        efficiency_percent,
        sleep_score,

        {{ parse_errors([
            ('start_time', 'start_text', 'started_at_utc'),
            ('end_time', 'end_text', 'ended_at_utc'),
            ('time_offset', 'offset_text', 'utc_offset_minutes'),
            ('sleep_duration', 'duration_text', 'session_minutes'),
            ('efficiency', 'efficiency_text', 'efficiency_percent'),
            ('sleep_score', 'sleep_score_text', 'sleep_score'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from local_times

)

select * from checked
