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

{#- WHOOP's workouts.csv, typed: one row per workout, attributed to its local start date.
    Minutes, cal (= kcal), bpm, metres (→ km, only for GPS workouts). Times are local, with
    the offset of their cycle. Incremental: appends the loads not staged yet. -#}

with

source as (

    {{ single_user_rows('whoop_workouts', 'whoop_workouts') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'whoop_workouts' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- times (local) and their offset
        {{ parse_iso_timestamp('workout_start_time') }} as started_at,
        {{ parse_iso_timestamp('workout_end_time') }} as ended_at,
        {{ offset_minutes('cycle_timezone') }} as utc_offset_minutes,

        -- the workout
        {{ to_text('activity_name') }} as workout_type,
        {{ to_numeric('duration_min') }} as duration_value,
        {{ to_numeric('distance_meters') }} as distance_m,
        {{ to_numeric('energy_burned_cal') }} as energy_kcal,
        {{ to_numeric('average_hr_bpm') }} as average_hr_value,
        {{ to_numeric('max_hr_bpm') }} as max_hr_value,
        {{ to_numeric('activity_strain') }} as strain,

        -- the text as written, for the parse check
        workout_start_time as start_text,
        workout_end_time as end_text,
        cycle_timezone as cycle_timezone_text,
        duration_min as duration_text,
        distance_meters as distance_text,
        energy_burned_cal as energy_text,
        average_hr_bpm as average_hr_text,
        max_hr_bpm as max_hr_text,
        activity_strain as strain_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        started_at,
        ended_at,
        utc_offset_minutes,
        cast(started_at as date) as workout_date,
        workout_type,
        round(coalesce(
            duration_value,
            {{ minutes_between('started_at', 'ended_at') }}
        ), 2) as duration_minutes,
        round({{ meters_to_km('distance_m') }}, 4) as distance_km,
        energy_kcal,
        cast(round(average_hr_value) as {{ dbt.type_int() }}) as avg_heart_rate_bpm,
        cast(round(max_hr_value) as {{ dbt.type_int() }}) as max_heart_rate_bpm,
        strain,

        {{ parse_errors([
            ('Workout start time', 'start_text', 'started_at'),
            ('Workout end time', 'end_text', 'ended_at'),
            ('Cycle timezone', 'cycle_timezone_text', 'utc_offset_minutes'),
            ('Duration (min)', 'duration_text', 'duration_value'),
            ('Distance (meters)', 'distance_text', 'distance_m'),
            ('Energy burned (cal)', 'energy_text', 'energy_kcal'),
            ('Average HR (bpm)', 'average_hr_text', 'average_hr_value'),
            ('Max HR (bpm)', 'max_hr_text', 'max_hr_value'),
            ('Activity Strain', 'strain_text', 'strain'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
