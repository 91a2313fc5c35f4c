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

{#- Fitbit hourlyCalories_merged.csv, typed: kcal per user-hour (local wall-clock hours).
    Incremental: appends the loads not staged yet (macros/incremental.sql). -#}

with

source as (

    select * from {{ source('raw', 'fitbit_hourly_calories') }}
    where {{ new_loads_filter('_load_id', 'fitbit_hourly_calories') }}

),

typed as (

    select
        -- ids
        {{ to_text('id') }} as user_id,
        'fitbit_hourly_calories' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- times
        {{ parse_fitbit_timestamp('activity_hour') }} as activity_hour,

        -- energy
        {{ to_integer('calories') }} as calories_kcal,

        -- the text as written, for the parse check
        activity_hour as activity_hour_text,
        calories as calories_kcal_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        activity_hour,
        calories_kcal,
        -- not in this file: null, so the model has its entity's whole shape
        cast(null as {{ dbt.type_int() }}) as steps,
        cast(null as {{ dbt.type_int() }}) as total_intensity,
        cast(null as {{ decimal_type() }}) as average_intensity,
        {{ parse_errors([
            ('ActivityHour', 'activity_hour_text', 'activity_hour'),
            ('Calories', 'calories_kcal_text', 'calories_kcal'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
