{#- meta.row_stamp: the column stamping each row with the run that wrote it; data tests
    re-check only rows stamped since they last passed (macros/test_scope.sql). -#}
{{
    config(
        materialized='incremental',
        unique_key=['user_id', 'sleep_date', 'source_format'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook='{{ analyze_if_rebuilt() }}',
        meta={'row_stamp': 'dbt_loaded_at'},
        indexes=[
            {'columns': ['user_id', 'sleep_date']},
            {'columns': ['load_id']},
            {'columns': ['dbt_loaded_at']},
        ],
    )
}}

{#-
    Every recognised sleep format mapped to one canonical, typed shape (minutes), then
    deduplicated: exact duplicate rows collapse (Fitbit's sleepDay_merged.csv has three), and
    per (user, date, source format) only the newest load's rows survive.

    Incremental exactly like stg_daily_activity (macros/load_scope.sql): the loads not yet
    staged, plus every other row competing with them for the same key.
-#}

{#- the loads this run stages (none: not incremental, everything); see macros/load_scope.sql -#}
{%- set new_loads = new_load_ids('sleep') %}

with

-- not materialized: incremental runs read it twice (new loads, competing older rows), and
-- PostgreSQL would otherwise copy the whole raw table first instead of using its indexes
source as not materialized (

    select * from {{ source('raw', 'sleep') }}

),

{{ load_scope_source(new_loads) }}

-- one mapping per recognised format ------------------------------------------------------

fitbit_sleep_day as (

    select
        -- ids
        coalesce({{ to_text('id') }}, {{ to_text('_user_id_hint') }}) as user_id,
        _source_format as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- dates ("4/12/2016 12:00:00 AM": the day the sleep is attributed to)
        cast({{ parse_fitbit_timestamp('sleep_day') }} as date) as sleep_date,

        -- sleep (Fitbit reports minutes already)
        {{ to_integer('total_sleep_records') }} as sleep_records,
        {{ to_integer('total_minutes_asleep') }} as minutes_asleep,
        {{ to_integer('total_time_in_bed') }} as minutes_in_bed,

        -- lineage
        _loaded_at as loaded_at

    from in_scope_source
    where _source_format = 'fitbit_sleep_day'

),

canonical_sleep as (

    select
        -- ids
        coalesce({{ to_text('user_id') }}, {{ to_text('_user_id_hint') }}) as user_id,
        _source_format as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- dates
        {{ parse_iso_date('date') }} as sleep_date,

        -- sleep (a missing record count means one sleep)
        coalesce({{ to_integer('sleep_records') }}, 1) as sleep_records,
        {{ to_integer('minutes_asleep') }} as minutes_asleep,
        {{ to_integer('minutes_in_bed') }} as minutes_in_bed,

        -- lineage
        _loaded_at as loaded_at

    from in_scope_source
    where _source_format = 'canonical_sleep'

),

unioned as (

    select * from fitbit_sleep_day
    union all
    select * from canonical_sleep

),

-- what this run recomputes ------------------------------------------------------------------

{{ load_scope_keys(new_loads, 'sleep_date') }}

-- deduplication -----------------------------------------------------------------------------

ranked as (

    select
        *,
        dense_rank() over (
            partition by user_id, sleep_date, source_format
            order by load_id desc
        ) as load_recency_rank,
        row_number() over (
            partition by
                load_id,
                user_id,
                sleep_date,
                source_format,
                sleep_records,
                minutes_asleep,
                minutes_in_bed
            order by source_row_number
        ) as duplicate_rank
    from in_scope

),

deduplicated as (

    select
        -- ids
        user_id,
        source_format,
        load_id,
        source_row_number,

        -- dates
        sleep_date,

        -- sleep
        sleep_records,
        minutes_asleep,
        minutes_in_bed,

        -- lineage
        loaded_at,
        {{ run_timestamp() }} as dbt_loaded_at

    from ranked
    where load_recency_rank = 1
      and duplicate_rank = 1

)

select * from deduplicated
