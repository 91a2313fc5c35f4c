{{ config(materialized='view') }}

{#- Fitbit minuteStepsNarrow_merged.csv, typed: steps per user-minute. A view, not a copy: intraday
    files are large, and the rollups read only the loads they need through it (the raw
    table's _load_id index). -#}

with

source as (

    select * from {{ source('raw', 'fitbit_minute_steps') }}

),

typed as (

    select
        -- ids
        {{ to_text('id') }} as user_id,
        'fitbit_minute_steps' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- times (local wall-clock minutes)
        {{ parse_fitbit_timestamp('activity_minute') }} as activity_minute,

        -- the value
        {{ to_integer('steps') }} as steps,

        -- the text as written, for the parse check
        activity_minute as activity_minute_text,
        steps as steps_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        activity_minute,
        {{ parse_fitbit_date('activity_minute_text') }} as activity_date,
        {{ fitbit_date_text('activity_minute_text') }} as activity_date_text,
        steps,
        -- not in this file: null, so the model has its entity's whole shape
        cast(null as {{ decimal_type() }}) as calories_kcal,
        cast(null as {{ dbt.type_int() }}) as intensity,
        cast(null as {{ decimal_type() }}) as mets,
        {{ parse_errors([
            ('ActivityMinute', 'activity_minute_text', 'activity_minute'),
            ('Steps', 'steps_text', 'steps'),
        ]) }} as parse_errors

    from typed

)

select * from checked
