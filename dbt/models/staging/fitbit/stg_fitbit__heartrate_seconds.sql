{{ config(materialized='view') }}

{#- Fitbit heartrate_seconds_merged.csv, typed: one heart-rate sample (bpm) every 5-15 s while
    the tracker is worn, none while it is not. Tens of millions of rows per study month: a
    view, not a copy; the rollups read only the loads they need through it (the raw table's
    _load_id index). -#}

with

source as (

    select * from {{ source('raw', 'fitbit_heartrate_seconds') }}

),

typed as (

    select
        -- ids
        {{ to_text('id') }} as user_id,
        'fitbit_heartrate_seconds' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- times (local wall-clock)
        {{ parse_fitbit_timestamp('time') }} as sampled_at,

        -- heart rate
        {{ to_integer('value') }} as bpm,

        -- the text as written, for the parse check
        time as sampled_at_text,
        value as bpm_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        sampled_at,
        {{ parse_fitbit_date('sampled_at_text') }} as activity_date,
        {{ fitbit_date_text('sampled_at_text') }} as activity_date_text,
        bpm,
        {{ parse_errors([
            ('Time', 'sampled_at_text', 'sampled_at'),
            ('Value', 'bpm_text', 'bpm'),
        ]) }} as parse_errors

    from typed

)

select * from checked
