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

{#- Samsung Health's tracker.pedometer_step_count file, typed: steps per recorded interval and
    device. Times are UTC (`start_time`), with the wearer's offset (`UTC+0900`) beside them:
    local time = UTC + offset. These are the same steps as step_daily_trend's, per device and
    interval, so they are typed here and never added to a day (a phone and a watch count the
    same walk; step_daily_trend has Samsung's merged total). Incremental: appends new loads. -#}

with

source as (

    {{ single_user_rows('samsung_pedometer_step_count', 'samsung_pedometer_step_count') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'samsung_pedometer_step_count' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,
        {{ to_text('com_samsung_health_step_count_datauuid') }} as record_id,
        {{ to_text('com_samsung_health_step_count_deviceuuid') }} as device_id,

        -- times
        {{ parse_iso_timestamp('com_samsung_health_step_count_start_time') }} as started_at_utc,
        {{ offset_minutes('com_samsung_health_step_count_time_offset') }} as utc_offset_minutes,
        {{ to_integer('duration') }} as duration_ms,

        -- steps (metres, kcal)
        {{ to_integer('com_samsung_health_step_count_count') }} as steps,
        {{ to_integer('walk_step') }} as walk_steps,
        {{ to_integer('run_step') }} as run_steps,
        {{ to_numeric('com_samsung_health_step_count_distance') }} as distance_m,
        {{ to_numeric('com_samsung_health_step_count_calorie') }} as calories_kcal,

        -- the text as written, for the parse check
        com_samsung_health_step_count_start_time as start_text,
        com_samsung_health_step_count_time_offset as offset_text,
        duration as duration_text,
        com_samsung_health_step_count_count as steps_text,
        walk_step as walk_text,
        run_step as run_text,
        com_samsung_health_step_count_distance as distance_text,
        com_samsung_health_step_count_calorie as calorie_text

    from source

),

local_times as (

    select
        typed.*,
        {{ plus_minutes('started_at_utc', 'utc_offset_minutes') }} as started_at
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
        started_at_utc,
        utc_offset_minutes,
        started_at,
        cast(started_at as date) as activity_date,
        duration_ms,
        steps,
        walk_steps,
        run_steps,
        round({{ meters_to_km('distance_m') }}, 4) as distance_km,
        calories_kcal,

        {{ parse_errors([
            ('start_time', 'start_text', 'started_at_utc'),
            ('time_offset', 'offset_text', 'utc_offset_minutes'),
            ('duration', 'duration_text', 'duration_ms'),
            ('count', 'steps_text', 'steps'),
            ('walk_step', 'walk_text', 'walk_steps'),
            ('run_step', 'run_text', 'run_steps'),
            ('distance', 'distance_text', 'distance_m'),
            ('calorie', 'calorie_text', 'calories_kcal'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from local_times

)

select * from checked
