{{ config(materialized='view') }}

{#- Fitbit minuteSleep_merged.csv, typed: one row per user-minute of a sleep episode, with its
    state (1 asleep, 2 restless, 3 awake) and the episode (logId). Fitabase stamps the
    minutes at :30 seconds; the minute is the time truncated to the minute. A view, not a
    copy: the rollups read only the loads they need through it. -#}

with

source as (

    select * from {{ source('raw', 'fitbit_minute_sleep') }}

),

typed as (

    select
        -- ids
        {{ to_text('id') }} as user_id,
        'fitbit_minute_sleep' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,
        {{ to_text('log_id') }} as log_id,

        -- times (local wall-clock)
        {{ parse_fitbit_timestamp('date') }} as sampled_at,

        -- sleep
        {{ to_integer('value') }} as sleep_state,

        -- the text as written, for the parse check
        date as sampled_at_text,
        value as sleep_state_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        log_id,
        {{ dbt.date_trunc('minute', 'sampled_at') }} as sleep_minute,
        {{ parse_fitbit_date('sampled_at_text') }} as activity_date,
        {{ fitbit_date_text('sampled_at_text') }} as activity_date_text,
        sleep_state,
        {{ parse_errors([
            ('date', 'sampled_at_text', 'sampled_at'),
            ('value', 'sleep_state_text', 'sleep_state'),
        ]) }} as parse_errors

    from typed

)

select * from checked
