{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['load_id']},
            {'columns': ['dbt_write_id']},
            {'columns': ['user_id', 'sleep_date']},
        ],
    )
}}

{#- The project's canonical sleep format (docs/formats.md), typed: minutes, the wake-up date.
    It shares raw.sleep with Fitbit's sleepDay format (the seed's promise), hence the filter.
    Incremental: appends the loads not staged yet (macros/incremental.sql). -#}

with

loads as (

    select * from {{ source('ops', 'file_loads') }}
    where source_format = 'canonical_sleep'

),

source as (

    -- the table is shared with another format: this one's rows are its loads' rows
    select
        raw_rows.*,
        loads.user_id_hint as _user_id_hint
    from {{ source('raw', 'sleep') }} as raw_rows
    inner join loads
        on raw_rows._load_id = loads.load_id
    where {{ new_loads_filter('raw_rows._load_id', 'canonical_sleep') }}

),

typed as (

    select
        -- ids
        coalesce({{ to_text('user_id') }}, {{ to_text('_user_id_hint') }}) as user_id,
        'canonical_sleep' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- dates
        {{ parse_iso_date('date') }} as sleep_date,

        -- sleep
        {{ to_integer('sleep_records') }} as sleep_records,
        {{ to_integer('minutes_asleep') }} as minutes_asleep,
        {{ to_integer('minutes_in_bed') }} as minutes_in_bed,

        -- the text as written, for the parse check
        date as sleep_date_text,
        sleep_records as sleep_records_text,
        minutes_asleep as minutes_asleep_text,
        minutes_in_bed as minutes_in_bed_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        sleep_date,
        -- a missing record count means one sleep
        coalesce(sleep_records, 1) as sleep_records,
        minutes_asleep,
        minutes_in_bed,
        {{ parse_errors([
            ('date', 'sleep_date_text', 'sleep_date'),
            ('sleep_records', 'sleep_records_text', 'sleep_records'),
            ('minutes_asleep', 'minutes_asleep_text', 'minutes_asleep'),
            ('minutes_in_bed', 'minutes_in_bed_text', 'minutes_in_bed'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
