{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['load_id']},
            {'columns': ['dbt_write_id']},
            {'columns': ['user_id', 'activity_date']},
        ],
    )
}}

{#- Withings' raw_tracker_sleep-state.csv, typed: one row per recording, which starts at `start` (ISO 8601
    with offset) and holds JSON arrays of interval lengths (`duration`, seconds) and the sleep state per interval (0 awake, 1 light, 2 deep)
    (`value`). Shares its header, `start,duration,value`, with the other raw_tracker files:
    the registry tells them apart by file name. Typed here, not in daily_user_summary: the
    aggregates and sleep files carry the day's totals. Incremental: appends new loads. -#}

with

source as (

    {{ single_user_rows('withings_tracker_sleep_state', 'withings_tracker_sleep_state') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'withings_tracker_sleep_state' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- times (local) and their offset
        {{ parse_iso_timestamp('start') }} as started_at,
        {{ iso_offset_minutes('start') }} as utc_offset_minutes,

        -- the intervals
        {{ json_number_array_length('duration') }} as interval_count,
        {{ json_number_array_sum('duration') }} as total_seconds,
        {{ json_number_array_length('value') }} as value_count,
        {{ json_number_array_sum('value') }} as value_sum,

        -- the text as written, for the parse check
        start as start_text,
        duration as duration_text,
        value as value_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        started_at,
        utc_offset_minutes,
        cast(started_at as date) as activity_date,
        interval_count,
        total_seconds,
        value_sum,

        {{ parse_errors([
            ('start', 'start_text', 'started_at'),
            ('duration', 'duration_text', 'total_seconds'),
            ('value', 'value_text', 'value_sum'),
        ]) }} as parse_errors,
        -- the two arrays describe the same intervals
        interval_count = value_count as has_a_value_per_interval,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
