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

{#- Fitbit hourlyIntensities_merged.csv, typed, per user-hour (local wall-clock hours): the
    sum over the hour's minutes of their intensity (0 sedentary, 1 light, 2 moderate, 3 very
    active) and its mean. Incremental: appends the loads not staged yet (macros/incremental.sql). -#}

with

source as (

    select * from {{ source('raw', 'fitbit_hourly_intensities') }}
    where {{ new_loads_filter('_load_id', 'fitbit_hourly_intensities') }}

),

typed as (

    select
        -- ids
        {{ to_text('id') }} as user_id,
        'fitbit_hourly_intensities' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- times
        {{ parse_fitbit_timestamp('activity_hour') }} as activity_hour,

        -- intensity
        {{ to_integer('total_intensity') }} as total_intensity,
        {{ to_numeric('average_intensity') }} as average_intensity,

        -- the text as written, for the parse check
        activity_hour as activity_hour_text,
        total_intensity as total_intensity_text,
        average_intensity as average_intensity_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        activity_hour,
        total_intensity,
        average_intensity,
        -- not in this file: null, so the model has its entity's whole shape
        cast(null as {{ dbt.type_int() }}) as steps,
        cast(null as {{ dbt.type_int() }}) as calories_kcal,
        {{ parse_errors([
            ('ActivityHour', 'activity_hour_text', 'activity_hour'),
            ('TotalIntensity', 'total_intensity_text', 'total_intensity'),
            ('AverageIntensity', 'average_intensity_text', 'average_intensity'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
