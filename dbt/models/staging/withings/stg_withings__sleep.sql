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

{#- Withings' sleep.csv, typed: one row per night (a sleep period). English and German headers
    land in the same raw columns (the registry's aliases: von → from, leicht (s) → light_s, …).
    Times are ISO 8601 with their offset, which changes with daylight saving time inside one
    file: a night is attributed to the local date it ends on, and its time in bed is measured
    in UTC. Minutes asleep are the light, deep and REM seconds added up; awake time in bed is
    not asleep. Incremental: appends the loads not staged yet. -#}

with

source as (

    {{ single_user_rows('withings_sleep', 'withings_sleep') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'withings_sleep' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- times (local) and their offsets
        {{ parse_iso_timestamp(adapter.quote('from')) }} as sleep_start_at,
        {{ parse_iso_timestamp(adapter.quote('to')) }} as sleep_end_at,
        {{ iso_offset_minutes(adapter.quote('from')) }} as start_offset_minutes,
        {{ iso_offset_minutes(adapter.quote('to')) }} as utc_offset_minutes,

        -- sleep stages (seconds)
        {{ to_numeric('light_s') }} as light_seconds,
        {{ to_numeric('deep_s') }} as deep_seconds,
        {{ to_numeric('rem_s') }} as rem_seconds,
        {{ to_numeric('awake_s') }} as awake_seconds,
        {{ to_integer('wake_up') }} as wake_ups,

        -- heart rate asleep
        {{ to_numeric('average_heart_rate') }} as sleeping_mean_bpm,
        {{ to_integer('heart_rate_min') }} as sleeping_min_bpm,
        {{ to_integer('heart_rate_max') }} as sleeping_max_bpm,

        -- the text as written, for the parse check
        {{ adapter.quote('from') }} as from_text,
        {{ adapter.quote('to') }} as to_text,
        light_s as light_text,
        deep_s as deep_text,
        rem_s as rem_text,
        awake_s as awake_text,
        wake_up as wake_up_text,
        average_heart_rate as mean_bpm_text,
        heart_rate_min as min_bpm_text,
        heart_rate_max as max_bpm_text

    from source

),

spans as (

    select
        typed.*,
        {{ minutes_between(
            plus_minutes('sleep_start_at', '-start_offset_minutes'),
            plus_minutes('sleep_end_at', '-utc_offset_minutes'),
        ) }} as span_minutes
    from typed

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        sleep_start_at,
        sleep_end_at,
        utc_offset_minutes,
        cast(sleep_end_at as date) as sleep_date,
        {{ whole_minutes(seconds_to_minutes('(light_seconds + deep_seconds + coalesce(rem_seconds, 0))')) }}
            as minutes_asleep,
        {{ whole_minutes('span_minutes') }} as minutes_in_bed,
        cast(null as boolean) as is_nap,
        {{ whole_minutes(seconds_to_minutes('awake_seconds')) }} as minutes_awake,
        wake_ups,
        sleeping_mean_bpm,
        sleeping_min_bpm,
        sleeping_max_bpm,

        {{ parse_errors([
            ('from', 'from_text', 'sleep_start_at'),
            ('to', 'to_text', 'sleep_end_at'),
            ('light (s)', 'light_text', 'light_seconds'),
            ('deep (s)', 'deep_text', 'deep_seconds'),
            ('rem (s)', 'rem_text', 'rem_seconds'),
            ('awake (s)', 'awake_text', 'awake_seconds'),
            ('wake up', 'wake_up_text', 'wake_ups'),
            ('Average heart rate', 'mean_bpm_text', 'sleeping_mean_bpm'),
            ('Heart rate (min)', 'min_bpm_text', 'sleeping_min_bpm'),
            ('Heart rate (max)', 'max_bpm_text', 'sleeping_max_bpm'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from spans

)

select * from checked
