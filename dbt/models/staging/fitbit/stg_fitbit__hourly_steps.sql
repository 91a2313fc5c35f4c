{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['load_id']},
            {'columns': ['dbt_write_id']},
            {'columns': ['user_id', 'activity_hour']},
        ],
    )
}}

{#- Fitbit hourlySteps_merged.csv, typed: steps per user-hour (local wall-clock hours).
    Incremental: appends the loads not staged yet (macros/incremental.sql). -#}

with

source as (

    select * from {{ source('raw', 'fitbit_hourly_steps') }}
    where {{ new_loads_filter('_load_id', 'fitbit_hourly_steps') }}

),

typed as (

    select
        -- ids
        {{ to_text('id') }} as user_id,
        'fitbit_hourly_steps' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- times
        {{ parse_fitbit_timestamp('activity_hour') }} as activity_hour,

        -- activity
        {{ to_integer('step_total') }} as steps,

        -- the text as written, for the parse check
        activity_hour as activity_hour_text,
        step_total as steps_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        activity_hour,
        steps,
        -- not in this file: null, so the model has its entity's whole shape
        cast(null as {{ dbt.type_int() }}) as calories_kcal,
        cast(null as {{ dbt.type_int() }}) as total_intensity,
        cast(null as {{ decimal_type() }}) as average_intensity,
        {{ parse_errors([
            ('ActivityHour', 'activity_hour_text', 'activity_hour'),
            ('StepTotal', 'steps_text', 'steps'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
