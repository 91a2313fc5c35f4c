{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['load_id']},
            {'columns': ['dbt_write_id']},
            {'columns': ['user_id', 'workout_date']},
        ],
    )
}}

{#- Samsung Health's older com.samsung.health.exercise file, typed: one row per workout,
    attributed to its local start date. Local times as in the older sleep file, duration in
    ms (→ minutes), metres (→ km), kcal; a heart rate of 0 means none was measured. The type
    is a Samsung code (macros/vendors.sql). Incremental: appends the loads not staged yet. -#}

with

source as (

    {{ single_user_rows('samsung_exercise', 'samsung_exercise') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'samsung_exercise' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,
        {{ to_text('datauuid') }} as record_id,

        -- times (local) and the offset
        {{ parse_iso_timestamp('start_time') }} as started_at,
        {{ parse_iso_timestamp('end_time') }} as ended_at,
        {{ to_integer('time_offset') }} as utc_offset_ms,

        -- the workout
        {{ to_integer('exercise_type') }} as exercise_type,
        {{ to_text('exercise_custom_type') }} as exercise_custom_type,
        {{ to_numeric('duration') }} as duration_ms,
        {{ to_numeric('distance') }} as distance_m,
        {{ to_numeric('calorie') }} as energy_kcal,
        {{ to_numeric('mean_heart_rate') }} as mean_hr_value,
        {{ to_numeric('max_heart_rate') }} as max_hr_value,

        -- the text as written, for the parse check
        start_time as start_text,
        end_time as end_text,
        time_offset as offset_text,
        exercise_type as exercise_type_text,
        duration as duration_text,
        distance as distance_text,
        calorie as calorie_text,
        mean_heart_rate as mean_hr_text,
        max_heart_rate as max_hr_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        record_id,
        started_at,
        ended_at,
        cast(round(utc_offset_ms / 60000.0) as {{ dbt.type_int() }}) as utc_offset_minutes,
        cast(started_at as date) as workout_date,
        {{ samsung_exercise_type('exercise_type', 'exercise_custom_type') }} as workout_type,
        exercise_type,
        round(coalesce(
            {{ milliseconds_to_minutes('duration_ms') }},
            {{ minutes_between('started_at', 'ended_at') }}
        ), 2) as duration_minutes,
        round({{ meters_to_km('distance_m') }}, 4) as distance_km,
        energy_kcal,
        cast(round(nullif(mean_hr_value, 0)) as {{ dbt.type_int() }}) as avg_heart_rate_bpm,
        cast(round(nullif(max_hr_value, 0)) as {{ dbt.type_int() }}) as max_heart_rate_bpm,

        {{ parse_errors([
            ('start_time', 'start_text', 'started_at'),
            ('end_time', 'end_text', 'ended_at'),
            ('time_offset', 'offset_text', 'utc_offset_ms'),
            ('exercise_type', 'exercise_type_text', 'exercise_type'),
            ('duration', 'duration_text', 'duration_ms'),
            ('distance', 'distance_text', 'distance_m'),
            ('calorie', 'calorie_text', 'energy_kcal'),
            ('mean_heart_rate', 'mean_hr_text', 'mean_hr_value'),
            ('max_heart_rate', 'max_hr_text', 'max_hr_value'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
