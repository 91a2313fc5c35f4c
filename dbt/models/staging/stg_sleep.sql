{{
    config(
        materialized='incremental',
        unique_key=['user_id', 'sleep_date', 'source_format'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook='{{ analyze_if_rebuilt() }}',
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

    Incremental exactly like stg_daily_activity: new loads, plus the older rows competing
    with them for the same key.
-#}

with

-- not materialized: incremental runs read it twice (new loads, competing older rows), and
-- PostgreSQL would otherwise copy the whole raw table first instead of using its indexes
source as not materialized (

    select * from {{ source('raw', 'sleep') }}

),

{% if is_incremental() %}
new_loads as (

    -- rows of the loads newer than any already here (the raw tables index _load_id)
    select * from source
    where _load_id > {{ newest_staged_load_id() }}

),

changed_users as (

    -- a cheap superset of the users whose keys change: whatever user column a format has
    select nullif(trim(id), '') as user_key from new_loads
    union
    select nullif(trim(user_id), '') from new_loads
    union
    select _user_id_hint from new_loads

),

in_scope_source as (

    -- new rows, and the older rows that may compete with them for a key; only these are
    -- mapped and typed below, so a run without new loads reads almost nothing
    select * from new_loads
    union all
    select * from source
    where _load_id <= {{ newest_staged_load_id() }}
      and (
        nullif(trim(id), '') in (select user_key from changed_users)
        or nullif(trim(user_id), '') in (select user_key from changed_users)
        or _user_id_hint in (select user_key from changed_users)
      )

),
{% else %}
in_scope_source as (

    select * from source

),
{% endif %}

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

{% if is_incremental() %}
changed_keys as (

    select distinct
        user_id,
        sleep_date,
        source_format
    from unioned
    where load_id > {{ newest_staged_load_id() }}

),

in_scope as (

    -- rows of new loads (also those whose key does not parse, so the tests see them) ...
    select * from unioned
    where load_id > {{ newest_staged_load_id() }}

    union all

    -- ... and the older rows that compete with them for the same key
    select unioned.*
    from unioned
    inner join changed_keys
        on unioned.user_id = changed_keys.user_id
        and unioned.sleep_date = changed_keys.sleep_date
        and unioned.source_format = changed_keys.source_format
    where unioned.load_id <= {{ newest_staged_load_id() }}

),
{% else %}
in_scope as (

    select * from unioned

),
{% endif %}

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
