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

{#- Google Fit's `Daily activity metrics.csv` (Takeout), typed: one row per day, feeding daily
    activity, daily heart rate and body weight. Units are in the headers: metres (→ km), kcal,
    bpm, kg. The columns and their order vary between exports; the ones read here are created
    with the raw table, so a file without one simply has nulls there. The user is the file's
    folder or --user-id. Incremental: appends the loads not staged yet. -#}

with

source as (

    {{ single_user_rows('google_fit_daily', 'google_fit_daily') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'google_fit_daily' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- dates
        {{ parse_iso_date('date') }} as activity_date,

        -- activity
        {{ to_integer('step_count') }} as steps,
        {{ to_numeric('distance_m') }} as distance_m,
        {{ to_numeric('calories_kcal') }} as calories,
        {{ to_integer('move_minutes_count') }} as move_minutes,

        -- heart rate
        {{ to_numeric('average_heart_rate_bpm') }} as mean_bpm,
        {{ to_numeric('min_heart_rate_bpm') }} as min_bpm_value,
        {{ to_numeric('max_heart_rate_bpm') }} as max_bpm_value,

        -- body
        {{ to_numeric('average_weight_kg') }} as weight_kg,

        -- the text as written, for the parse check
        date as date_text,
        step_count as steps_text,
        distance_m as distance_text,
        calories_kcal as calories_text,
        move_minutes_count as move_minutes_text,
        average_heart_rate_bpm as mean_bpm_text,
        min_heart_rate_bpm as min_bpm_text,
        max_heart_rate_bpm as max_bpm_text,
        average_weight_kg as weight_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        activity_date,

        -- daily activity (Google Fit has no intensity buckets: Move Minutes are kept beside)
        steps,
        round({{ meters_to_km('distance_m') }}, 4) as distance_km,
        cast(null as {{ dbt.type_int() }}) as very_active_minutes,
        cast(null as {{ dbt.type_int() }}) as moderately_active_minutes,
        cast(null as {{ dbt.type_int() }}) as lightly_active_minutes,
        cast(null as {{ dbt.type_int() }}) as sedentary_minutes,
        cast(round(calories) as {{ dbt.type_int() }}) as calories_kcal,
        move_minutes,

        -- daily heart rate (no resting value in this file)
        mean_bpm,
        -- whole beats, rounded outwards so the day's mean stays between them
        cast(floor(min_bpm_value) as {{ dbt.type_int() }}) as min_bpm,
        cast(ceil(max_bpm_value) as {{ dbt.type_int() }}) as max_bpm,
        cast(null as {{ decimal_type() }}) as resting_bpm,

        -- body: the day's average weight
        weight_kg,

        {{ parse_errors([
            ('Date', 'date_text', 'activity_date'),
            ('Step count', 'steps_text', 'steps'),
            ('Distance (m)', 'distance_text', 'distance_m'),
            ('Calories (kcal)', 'calories_text', 'calories'),
            ('Move Minutes count', 'move_minutes_text', 'move_minutes'),
            ('Average heart rate (bpm)', 'mean_bpm_text', 'mean_bpm'),
            ('Min heart rate (bpm)', 'min_bpm_text', 'min_bpm_value'),
            ('Max heart rate (bpm)', 'max_bpm_text', 'max_bpm_value'),
            ('Average weight (kg)', 'weight_text', 'weight_kg'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
