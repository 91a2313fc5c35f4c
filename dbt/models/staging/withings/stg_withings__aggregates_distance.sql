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

{#- Withings' aggregates_distance.csv, typed: metres walked or run per day (→ km). The header, `date,value`, is the same in
    every aggregates file: the registry tells them apart by file name. Rows are newest first.
    It feeds daily activity (stg_daily_activity) as a source of its own. Incremental: appends the loads not staged yet. -#}

with

source as (

    {{ single_user_rows('withings_aggregates_distance', 'withings_aggregates_distance') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'withings_aggregates_distance' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- dates
        {{ parse_iso_date('date') }} as activity_date,

        -- the value
        {{ to_numeric('value') }} as distance_m,

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
        cast(null as {{ dbt.type_int() }}) as steps,
        round({{ meters_to_km('distance_m') }}, 4) as distance_km,
        -- not in this file: null, so the model has its entity's whole shape
        cast(null as {{ dbt.type_int() }}) as very_active_minutes,
        cast(null as {{ dbt.type_int() }}) as moderately_active_minutes,
        cast(null as {{ dbt.type_int() }}) as lightly_active_minutes,
        cast(null as {{ dbt.type_int() }}) as sedentary_minutes,
        cast(null as {{ dbt.type_int() }}) as calories_kcal,
        {{ parse_errors([
            ('date', 'date_text', 'activity_date'),
            ('value', 'value_text', 'distance_m'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
