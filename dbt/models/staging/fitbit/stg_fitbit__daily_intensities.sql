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

{#- Fitbit dailyIntensities_merged.csv, typed: the intensity minutes and distances of
    dailyActivity on their own (km and minutes, as Fitbit reports them). Its distance_km is
    the sum of the four intensity distances (dailyActivity's TotalDistance, without logged
    activities). Incremental: appends the loads not staged yet (macros/incremental.sql). -#}

with

source as (

    select * from {{ source('raw', 'fitbit_daily_intensities') }}
    where {{ new_loads_filter('_load_id', 'fitbit_daily_intensities') }}

),

typed as (

    select
        -- ids
        {{ to_text('id') }} as user_id,
        'fitbit_daily_intensities' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- dates
        {{ parse_fitbit_date('activity_day') }} as activity_date,

        -- minutes per intensity
        {{ to_integer('very_active_minutes') }} as very_active_minutes,
        {{ to_integer('fairly_active_minutes') }} as moderately_active_minutes,
        {{ to_integer('lightly_active_minutes') }} as lightly_active_minutes,
        {{ to_integer('sedentary_minutes') }} as sedentary_minutes,

        -- km per intensity
        {{ to_numeric('very_active_distance') }} as very_active_distance_km,
        {{ to_numeric('moderately_active_distance') }} as moderately_active_distance_km,
        {{ to_numeric('light_active_distance') }} as light_active_distance_km,
        {{ to_numeric('sedentary_active_distance') }} as sedentary_active_distance_km,

        -- the text as written, for the parse check
        activity_day as activity_date_text,
        very_active_minutes as very_active_minutes_text,
        fairly_active_minutes as moderately_active_minutes_text,
        lightly_active_minutes as lightly_active_minutes_text,
        sedentary_minutes as sedentary_minutes_text,
        very_active_distance as very_active_distance_km_text,
        moderately_active_distance as moderately_active_distance_km_text,
        light_active_distance as light_active_distance_km_text,
        sedentary_active_distance as sedentary_active_distance_km_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        activity_date,
        very_active_minutes,
        moderately_active_minutes,
        lightly_active_minutes,
        sedentary_minutes,
        very_active_distance_km,
        moderately_active_distance_km,
        light_active_distance_km,
        sedentary_active_distance_km,
        very_active_distance_km
            + moderately_active_distance_km
            + light_active_distance_km
            + sedentary_active_distance_km as distance_km,
        -- not in this file: null, so the model has its entity's whole shape
        cast(null as {{ dbt.type_int() }}) as steps,
        cast(null as {{ dbt.type_int() }}) as calories_kcal,
        {{ parse_errors([
            ('ActivityDay', 'activity_date_text', 'activity_date'),
            ('VeryActiveMinutes', 'very_active_minutes_text', 'very_active_minutes'),
            ('FairlyActiveMinutes', 'moderately_active_minutes_text', 'moderately_active_minutes'),
            ('LightlyActiveMinutes', 'lightly_active_minutes_text', 'lightly_active_minutes'),
            ('SedentaryMinutes', 'sedentary_minutes_text', 'sedentary_minutes'),
            ('VeryActiveDistance', 'very_active_distance_km_text', 'very_active_distance_km'),
            ('ModeratelyActiveDistance', 'moderately_active_distance_km_text', 'moderately_active_distance_km'),
            ('LightActiveDistance', 'light_active_distance_km_text', 'light_active_distance_km'),
            ('SedentaryActiveDistance', 'sedentary_active_distance_km_text', 'sedentary_active_distance_km'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
