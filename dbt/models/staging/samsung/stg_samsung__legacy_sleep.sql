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

{#- Samsung Health's older com.samsung.health.sleep file, typed: one row per sleep period,
    start and end only (asleep throughout). Unlike the newer files, its times are the phone's
    local wall-clock times (a start of zero reads `1969-12-31 19:00:00` on a phone at UTC-5)
    and `time_offset` is in milliseconds. A sleep belongs to the local date it ends on. Each
    export holds every earlier row again: int_sleep_periods keeps one per start. Incremental:
    appends the loads not staged yet. -#}

with

source as (

    {{ single_user_rows('samsung_legacy_sleep', 'samsung_legacy_sleep') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'samsung_legacy_sleep' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,
        {{ to_text('datauuid') }} as record_id,
        {{ to_text('deviceuuid') }} as device_id,

        -- times (local) and the offset
        {{ parse_iso_timestamp('start_time') }} as sleep_start_at,
        {{ parse_iso_timestamp('end_time') }} as sleep_end_at,
        {{ to_integer('time_offset') }} as utc_offset_ms,

        -- the text as written, for the parse check
        start_time as start_text,
        end_time as end_text,
        time_offset as offset_text

    from source

),

spans as (

    select
        typed.*,
        {{ minutes_between('sleep_start_at', 'sleep_end_at') }} as span_minutes
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
        cast(round(utc_offset_ms / 60000.0) as {{ dbt.type_int() }}) as utc_offset_minutes,
        cast(sleep_end_at as date) as sleep_date,
        {{ whole_minutes('span_minutes') }} as minutes_asleep,
        {{ whole_minutes('span_minutes') }} as minutes_in_bed,
        cast(null as boolean) as is_nap,

        {{ parse_errors([
            ('start_time', 'start_text', 'sleep_start_at'),
            ('end_time', 'end_text', 'sleep_end_at'),
            ('time_offset', 'offset_text', 'utc_offset_ms'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from spans

)

select * from checked
