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

{#- Withings' activities.csv, typed: one row per workout, attributed to its local start date
    (English or German headers, as for sleep.csv). The values are in the JSON column `Data`:
    calories (kcal), distance (m), hr_average and hr_max (0: not measured). A GPS-tracked
    workout comes with an empty `Multi Sport` row at the same times (`Data` is `{}`):
    int_workouts keeps the one with values. Incremental: appends the loads not staged yet. -#}

with

source as (

    {{ single_user_rows('withings_activities', 'withings_activities') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'withings_activities' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- times (local) and their offsets
        {{ parse_iso_timestamp(adapter.quote('from')) }} as started_at,
        {{ parse_iso_timestamp(adapter.quote('to')) }} as ended_at,
        {{ iso_offset_minutes(adapter.quote('from')) }} as utc_offset_minutes,
        {{ iso_offset_minutes(adapter.quote('to')) }} as end_offset_minutes,
        {{ to_text('timezone') }} as time_zone,

        -- the workout
        {{ to_text('activity_type') }} as workout_type,
        {{ to_numeric(json_field_text('data', 'calories')) }} as energy_kcal,
        {{ to_numeric(json_field_text('data', 'distance')) }} as distance_m,
        {{ to_numeric(json_field_text('data', 'hr_average')) }} as hr_average,
        {{ to_numeric(json_field_text('data', 'hr_max')) }} as hr_max,
        {{ to_integer(json_field_text('data', 'steps')) }} as steps,

        -- the text as written, for the parse check
        {{ adapter.quote('from') }} as from_text,
        {{ adapter.quote('to') }} as to_text,
        data as data_text,
        {{ json_object_text('data') }} as data_object,
        {{ json_field_text('data', 'calories') }} as calories_text,
        {{ json_field_text('data', 'distance') }} as distance_text

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
        time_zone,
        cast(started_at as date) as workout_date,
        workout_type,
        round({{ minutes_between(
            plus_minutes('started_at', '-utc_offset_minutes'),
            plus_minutes('ended_at', '-end_offset_minutes'),
        ) }}, 2) as duration_minutes,
        round({{ meters_to_km('distance_m') }}, 4) as distance_km,
        energy_kcal,
        cast(round(nullif(hr_average, 0)) as {{ dbt.type_int() }}) as avg_heart_rate_bpm,
        cast(round(nullif(hr_max, 0)) as {{ dbt.type_int() }}) as max_heart_rate_bpm,
        steps,

        {{ parse_errors([
            ('from', 'from_text', 'started_at'),
            ('to', 'to_text', 'ended_at'),
            ('Data', 'data_text', 'data_object'),
            ('Data calories', 'calories_text', 'energy_kcal'),
            ('Data distance', 'distance_text', 'distance_m'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
