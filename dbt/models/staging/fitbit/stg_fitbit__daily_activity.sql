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

{#- Fitbit dailyActivity_merged.csv, typed. It shares raw.daily_activity with the canonical
    format (the seed's promise), hence the filter on the format. Incremental: appends the
    loads not staged yet (macros/incremental.sql). -#}

with

loads as (

    select * from {{ source('ops', 'file_loads') }}
    where source_format = 'fitbit_daily_activity'

),

source as (

    -- the table is shared with another format: this one's rows are its loads' rows
    select raw_rows.*
    from {{ source('raw', 'daily_activity') }} as raw_rows
    inner join loads
        on raw_rows._load_id = loads.load_id
    where {{ new_loads_filter('raw_rows._load_id', 'fitbit_daily_activity') }}

),

typed as (

    select
        -- ids
        {{ to_text('id') }} as user_id,
        'fitbit_daily_activity' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- dates
        {{ parse_fitbit_date('activity_date') }} as activity_date,

        -- activity (Fitbit reports km, minutes and kcal already)
        {{ to_integer('total_steps') }} as steps,
        {{ to_numeric('total_distance') }} as distance_km,
        {{ to_numeric('tracker_distance') }} as tracker_distance_km,
        {{ to_numeric('logged_activities_distance') }} as logged_activities_distance_km,
        {{ to_numeric('very_active_distance') }} as very_active_distance_km,
        {{ to_numeric('moderately_active_distance') }} as moderately_active_distance_km,
        {{ to_numeric('light_active_distance') }} as light_active_distance_km,
        {{ to_numeric('sedentary_active_distance') }} as sedentary_active_distance_km,
        {{ to_integer('very_active_minutes') }} as very_active_minutes,
        {{ to_integer('fairly_active_minutes') }} as moderately_active_minutes,
        {{ to_integer('lightly_active_minutes') }} as lightly_active_minutes,
        {{ to_integer('sedentary_minutes') }} as sedentary_minutes,
        {{ to_integer('calories') }} as calories_kcal,

        -- the text as written, for the parse check
        activity_date as activity_date_text,
        total_steps as steps_text,
        total_distance as distance_km_text,
        very_active_minutes as very_active_minutes_text,
        fairly_active_minutes as moderately_active_minutes_text,
        lightly_active_minutes as lightly_active_minutes_text,
        sedentary_minutes as sedentary_minutes_text,
        calories as calories_kcal_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        activity_date,
        steps,
        distance_km,
        tracker_distance_km,
        logged_activities_distance_km,
        very_active_distance_km,
        moderately_active_distance_km,
        light_active_distance_km,
        sedentary_active_distance_km,
        very_active_minutes,
        moderately_active_minutes,
        lightly_active_minutes,
        sedentary_minutes,
        calories_kcal,
        {{ parse_errors([
            ('ActivityDate', 'activity_date_text', 'activity_date'),
            ('TotalSteps', 'steps_text', 'steps'),
            ('TotalDistance', 'distance_km_text', 'distance_km'),
            ('VeryActiveMinutes', 'very_active_minutes_text', 'very_active_minutes'),
            ('FairlyActiveMinutes', 'moderately_active_minutes_text', 'moderately_active_minutes'),
            ('LightlyActiveMinutes', 'lightly_active_minutes_text', 'lightly_active_minutes'),
            ('SedentaryMinutes', 'sedentary_minutes_text', 'sedentary_minutes'),
            ('Calories', 'calories_kcal_text', 'calories_kcal'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
