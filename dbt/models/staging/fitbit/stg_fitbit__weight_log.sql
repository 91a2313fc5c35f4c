{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['load_id']},
            {'columns': ['dbt_write_id']},
            {'columns': ['user_id', 'measured_date']},
        ],
    )
}}

{#- Fitbit weightLogInfo_merged.csv, typed: one row per weight log. LogId is the log's time in
    milliseconds, so it repeats across users: a log is (user_id, log_id). A row without a
    weight is kept (weight_kg null) and flagged by the intermediate model. Incremental:
    appends the loads not staged yet (macros/incremental.sql). -#}

with

source as (

    select * from {{ source('raw', 'fitbit_weight_log') }}
    where {{ new_loads_filter('_load_id', 'fitbit_weight_log') }}

),

typed as (

    select
        -- ids
        {{ to_text('id') }} as user_id,
        'fitbit_weight_log' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,
        {{ to_text('log_id') }} as log_id,

        -- times
        {{ parse_fitbit_timestamp('date') }} as logged_at,

        -- body
        {{ to_numeric('weight_kg') }} as weight_kg,
        {{ to_numeric('weight_pounds') }} as weight_pounds,
        {{ to_numeric('fat') }} as fat_percent,
        {{ to_numeric('bmi') }} as bmi,
        {{ to_boolean('is_manual_report') }} as is_manual_report,

        -- the text as written, for the parse check
        date as logged_at_text,
        weight_kg as weight_kg_text,
        weight_pounds as weight_pounds_text,
        fat as fat_percent_text,
        bmi as bmi_text,
        is_manual_report as is_manual_report_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        log_id,
        logged_at,
        cast(logged_at as date) as measured_date,
        weight_kg,
        weight_pounds,
        fat_percent,
        bmi,
        is_manual_report,
        {{ parse_errors([
            ('Date', 'logged_at_text', 'logged_at'),
            ('WeightKg', 'weight_kg_text', 'weight_kg'),
            ('WeightPounds', 'weight_pounds_text', 'weight_pounds'),
            ('Fat', 'fat_percent_text', 'fat_percent'),
            ('BMI', 'bmi_text', 'bmi'),
            ('IsManualReport', 'is_manual_report_text', 'is_manual_report'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
