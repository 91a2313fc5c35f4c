{{ config(materialized='view') }}

{#- Fitbit minuteMETsNarrow_merged.csv, typed: METs per user-minute as a real number (the file stores tenths: 10 = 1.0 MET). A view, not a copy: intraday
    files are large, and the rollups read only the loads they need through it (the raw
    table's _load_id index). -#}

with

source as (

    select * from {{ source('raw', 'fitbit_minute_mets') }}

),

typed as (

    select
        -- ids
        {{ to_text('id') }} as user_id,
        'fitbit_minute_mets' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- times (local wall-clock minutes)
        {{ parse_fitbit_timestamp('activity_minute') }} as activity_minute,

        -- the value
        {{ to_numeric('mets') }} / 10.0 as mets,

        -- the text as written, for the parse check
        activity_minute as activity_minute_text,
        mets as mets_text

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
        mets,
        -- not in this file: null, so the model has its entity's whole shape
        cast(null as {{ dbt.type_int() }}) as steps,
        cast(null as {{ decimal_type() }}) as calories_kcal,
        cast(null as {{ dbt.type_int() }}) as intensity,
        {{ parse_errors([
            ('ActivityMinute', 'activity_minute_text', 'activity_minute'),
            ('METs', 'mets_text', 'mets'),
        ]) }} as parse_errors

    from typed

)

select * from checked
