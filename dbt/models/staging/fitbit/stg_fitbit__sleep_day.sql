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

{#- Fitbit sleepDay_merged.csv, typed (minutes already). It shares raw.sleep with the
    canonical format (the seed's promise), hence the filter on the format. The file has exact
    duplicate rows: they are kept here and collapse in stg_sleep. Incremental: appends the
    loads not staged yet (macros/incremental.sql). -#}

with

loads as (

    select * from {{ source('ops', 'file_loads') }}
    where source_format = 'fitbit_sleep_day'

),

source as (

    -- the table is shared with another format: this one's rows are its loads' rows
    select raw_rows.*
    from {{ source('raw', 'sleep') }} as raw_rows
    inner join loads
        on raw_rows._load_id = loads.load_id
    where {{ new_loads_filter('raw_rows._load_id', 'fitbit_sleep_day') }}

),

typed as (

    select
        -- ids
        {{ to_text('id') }} as user_id,
        'fitbit_sleep_day' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- dates ("4/12/2016 12:00:00 AM": the day the sleep is attributed to, its wake-up day)
        {{ parse_fitbit_date('sleep_day') }} as sleep_date,

        -- sleep
        {{ to_integer('total_sleep_records') }} as sleep_records,
        {{ to_integer('total_minutes_asleep') }} as minutes_asleep,
        {{ to_integer('total_time_in_bed') }} as minutes_in_bed,

        -- the text as written, for the parse check
        sleep_day as sleep_date_text,
        total_sleep_records as sleep_records_text,
        total_minutes_asleep as minutes_asleep_text,
        total_time_in_bed as minutes_in_bed_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        sleep_date,
        sleep_records,
        minutes_asleep,
        minutes_in_bed,
        {{ parse_errors([
            ('SleepDay', 'sleep_date_text', 'sleep_date'),
            ('TotalSleepRecords', 'sleep_records_text', 'sleep_records'),
            ('TotalMinutesAsleep', 'minutes_asleep_text', 'minutes_asleep'),
            ('TotalTimeInBed', 'minutes_in_bed_text', 'minutes_in_bed'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
