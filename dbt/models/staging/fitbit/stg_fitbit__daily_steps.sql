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

{#- Fitbit dailySteps_merged.csv, typed: the steps column of dailyActivity on its own.
    Incremental: appends the loads not staged yet (macros/incremental.sql). -#}

with

source as (

    select * from {{ source('raw', 'fitbit_daily_steps') }}
    where {{ new_loads_filter('_load_id', 'fitbit_daily_steps') }}

),

typed as (

    select
        -- ids
        {{ to_text('id') }} as user_id,
        'fitbit_daily_steps' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- dates
        {{ parse_fitbit_date('activity_day') }} as activity_date,

        -- activity
        {{ to_integer('step_total') }} as steps,

        -- the text as written, for the parse check
        activity_day as activity_date_text,
        step_total as steps_text

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
        -- not in this file: null, so the model has its entity's whole shape
        cast(null as {{ decimal_type() }}) as distance_km,
        cast(null as {{ dbt.type_int() }}) as very_active_minutes,
        cast(null as {{ dbt.type_int() }}) as moderately_active_minutes,
        cast(null as {{ dbt.type_int() }}) as lightly_active_minutes,
        cast(null as {{ dbt.type_int() }}) as sedentary_minutes,
        cast(null as {{ dbt.type_int() }}) as calories_kcal,
        {{ parse_errors([
            ('ActivityDay', 'activity_date_text', 'activity_date'),
            ('StepTotal', 'steps_text', 'steps'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
