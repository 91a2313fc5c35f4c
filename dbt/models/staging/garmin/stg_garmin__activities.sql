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

{#- Garmin Connect's Activities.csv, typed: one row per workout, attributed to its local start
    date (`Date`, local time without offset). English and Danish headers land in the same raw
    columns (the registry's aliases). `--` and `NaN` are missing; numbers may have thousands
    separators (`1,235`). Durations are `HH:MM:SS(.s)`: `Time` is the timer time, the end
    is the start plus `Elapsed Time` when the layout has it. Distances are in the account's
    display units, which the file does not name: km unless var garmin_distance_unit is 'mi';
    swims in metres (yards). Incremental: appends the loads not staged yet. -#}

with

source as (

    {{ single_user_rows('garmin_activities', 'garmin_activities') }}

),

present as (

    -- Garmin's markers for "no value" are missing data, not values that failed to parse
    select
        source.*,
        {{ missing_as_null('distance', ['--', 'NaN']) }} as distance_given,
        {{ missing_as_null('calories', ['--', 'NaN']) }} as calories_given,
        {{ missing_as_null('time', ['--', 'NaN']) }} as time_given,
        {{ missing_as_null('elapsed_time', ['--', 'NaN']) }} as elapsed_given,
        {{ missing_as_null('avg_hr', ['--', 'NaN']) }} as avg_hr_given,
        {{ missing_as_null('max_hr', ['--', 'NaN']) }} as max_hr_given
    from source

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'garmin_activities' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- times (local, no offset)
        {{ parse_iso_timestamp('date') }} as started_at,

        -- the workout
        {{ to_text('activity_type') }} as workout_type,
        {{ to_text('title') }} as title,
        {{ duration_text_minutes('time_given') }} as duration_minutes,
        {{ duration_text_minutes('elapsed_given') }} as elapsed_minutes,
        {{ to_numeric(without_thousands_separators('distance_given')) }} as distance_value,
        {{ to_numeric(without_thousands_separators('calories_given')) }} as energy_kcal,
        {{ to_integer(without_thousands_separators('avg_hr_given')) }} as avg_heart_rate_bpm,
        {{ to_integer(without_thousands_separators('max_hr_given')) }} as max_heart_rate_bpm,

        -- the text as written, for the parse check
        date as date_text,
        time_given as time_text,
        elapsed_given as elapsed_text,
        distance_given as distance_text,
        calories_given as calories_text,
        avg_hr_given as avg_hr_text,
        max_hr_given as max_hr_text

    from present

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        started_at,
        {{ plus_minutes('started_at', 'round(coalesce(elapsed_minutes, duration_minutes) * 60) / 60.0') }}
            as ended_at,
        cast(null as {{ dbt.type_int() }}) as utc_offset_minutes,
        cast(started_at as date) as workout_date,
        workout_type,
        title,
        round(duration_minutes, 2) as duration_minutes,
        round({{ garmin_distance_km('distance_value', 'workout_type') }}, 4) as distance_km,
        energy_kcal,
        avg_heart_rate_bpm,
        max_heart_rate_bpm,

        {{ parse_errors([
            ('Date', 'date_text', 'started_at'),
            ('Time', 'time_text', 'duration_minutes'),
            ('Elapsed Time', 'elapsed_text', 'elapsed_minutes'),
            ('Distance', 'distance_text', 'distance_value'),
            ('Calories', 'calories_text', 'energy_kcal'),
            ('Avg HR', 'avg_hr_text', 'avg_heart_rate_bpm'),
            ('Max HR', 'max_hr_text', 'max_heart_rate_bpm'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
