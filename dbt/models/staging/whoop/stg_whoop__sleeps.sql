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

{#- WHOOP's sleeps.csv, typed: one row per sleep or nap (a sleep period), in minutes. A sleep
    belongs to the local date of its Wake onset (most cross midnight); naps land on their own
    wake date and are added up there in int_sleep_from_periods. Times are local, with the
    offset in `Cycle timezone`. Incremental: appends the loads not staged yet. -#}

with

source as (

    {{ single_user_rows('whoop_sleeps', 'whoop_sleeps') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'whoop_sleeps' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- times (local) and their offset
        {{ parse_iso_timestamp('sleep_onset') }} as sleep_start_at,
        {{ parse_iso_timestamp('wake_onset') }} as sleep_end_at,
        {{ offset_minutes('cycle_timezone') }} as utc_offset_minutes,
        {{ parse_iso_timestamp('cycle_start_time') }} as cycle_started_at,

        -- sleep (minutes)
        {{ to_numeric('asleep_duration_min') }} as asleep_value,
        {{ to_numeric('in_bed_duration_min') }} as in_bed_value,
        {{ to_boolean('nap') }} as is_nap,
        {{ to_integer('sleep_performance') }} as sleep_performance_percent,

        -- the text as written, for the parse check
        sleep_onset as sleep_onset_text,
        wake_onset as wake_onset_text,
        cycle_timezone as cycle_timezone_text,
        cycle_start_time as cycle_start_text,
        asleep_duration_min as asleep_text,
        in_bed_duration_min as in_bed_text,
        nap as nap_text,
        sleep_performance as performance_text

    from source

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
        {{ whole_minutes('asleep_value') }} as minutes_asleep,
        {{ whole_minutes('in_bed_value') }} as minutes_in_bed,
        is_nap,
        cycle_started_at,
        sleep_performance_percent,

        {{ parse_errors([
            ('Sleep onset', 'sleep_onset_text', 'sleep_start_at'),
            ('Wake onset', 'wake_onset_text', 'sleep_end_at'),
            ('Cycle timezone', 'cycle_timezone_text', 'utc_offset_minutes'),
            ('Cycle start time', 'cycle_start_text', 'cycle_started_at'),
            ('Asleep duration (min)', 'asleep_text', 'asleep_value'),
            ('In bed duration (min)', 'in_bed_text', 'in_bed_value'),
            ('Nap', 'nap_text', 'is_nap'),
            ('Sleep performance %', 'performance_text', 'sleep_performance_percent'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
