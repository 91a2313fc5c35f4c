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

{#- Withings' aggregates_calories_passive.csv, typed: resting energy per day, kcal (the day's total is this plus calories_earned). The header, `date,value`, is the same in
    every aggregates file: the registry tells them apart by file name. Rows are newest first.
    Typed here; not in daily_user_summary (docs/formats.md says why). Incremental: appends the loads not staged yet. -#}

with

source as (

    {{ single_user_rows('withings_aggregates_calories_passive', 'withings_aggregates_calories_passive') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'withings_aggregates_calories_passive' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- dates
        {{ parse_iso_date('date') }} as activity_date,

        -- the value
        {{ to_numeric('value') }} as calories_kcal,

        -- the text as written, for the parse check
        date as date_text,
        value as value_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        activity_date,
        calories_kcal,
        {{ parse_errors([
            ('date', 'date_text', 'activity_date'),
            ('value', 'value_text', 'calories_kcal'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
