{{
    config(
        materialized='incremental',
        unique_key=['user_id', 'activity_date', 'source_format'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['user_id', 'activity_date']},
            {'columns': ['load_id']},
            {'columns': ['dbt_loaded_at']},
        ],
    )
}}

{#-
    Every recognised daily-activity format mapped to one canonical, typed shape (km, minutes,
    kcal), then deduplicated: exact duplicate rows collapse, and per (user, date, source
    format) only the newest load's rows survive.

    Incremental: a run reads the loads newer than the newest one already here, and recomputes
    only the (user, date, source format) keys those loads touch - from all of their raw rows,
    so "the newest load wins" is decided exactly as a full refresh would.
-#}

with

-- not materialized: incremental runs read it twice (new loads, competing older rows), and
-- PostgreSQL would otherwise copy the whole raw table first instead of using its indexes
source as not materialized (

    select * from {{ source('raw', 'daily_activity') }}

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

fitbit_daily_activity as (

    select
        -- ids
        coalesce({{ to_text('id') }}, {{ to_text('_user_id_hint') }}) as user_id,
        _source_format as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- dates
        {{ parse_fitbit_date('activity_date') }} as activity_date,

        -- activity (Fitbit reports km, minutes and kcal already)
        {{ to_integer('total_steps') }} as steps,
        {{ to_numeric('total_distance') }} as distance_km,
        {{ to_integer('very_active_minutes') }} as very_active_minutes,
        {{ to_integer('fairly_active_minutes') }} as moderately_active_minutes,
        {{ to_integer('lightly_active_minutes') }} as lightly_active_minutes,
        {{ to_integer('sedentary_minutes') }} as sedentary_minutes,
        {{ to_integer('calories') }} as calories_kcal,

        -- lineage
        _loaded_at as loaded_at

    from in_scope_source
    where _source_format = 'fitbit_daily_activity'

),

canonical_daily_activity as (

    select
        -- ids
        coalesce({{ to_text('user_id') }}, {{ to_text('_user_id_hint') }}) as user_id,
        _source_format as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- dates
        {{ parse_iso_date('date') }} as activity_date,

        -- activity (the canonical format is in the target units by definition)
        {{ to_integer('steps') }} as steps,
        {{ to_numeric('distance_km') }} as distance_km,
        {{ to_integer('very_active_minutes') }} as very_active_minutes,
        {{ to_integer('moderately_active_minutes') }} as moderately_active_minutes,
        {{ to_integer('lightly_active_minutes') }} as lightly_active_minutes,
        {{ to_integer('sedentary_minutes') }} as sedentary_minutes,
        {{ to_integer('calories_kcal') }} as calories_kcal,

        -- lineage
        _loaded_at as loaded_at

    from in_scope_source
    where _source_format = 'canonical_daily_activity'

),

unioned as (

    select * from fitbit_daily_activity
    union all
    select * from canonical_daily_activity

),

-- what this run recomputes ------------------------------------------------------------------

{% if is_incremental() %}
changed_keys as (

    select distinct
        user_id,
        activity_date,
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
        and unioned.activity_date = changed_keys.activity_date
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
        -- the newest load of a key wins; its rows all rank 1
        dense_rank() over (
            partition by user_id, activity_date, source_format
            order by load_id desc
        ) as load_recency_rank,
        -- an exact duplicate (same load, same values) ranks 2 and later
        row_number() over (
            partition by
                load_id,
                user_id,
                activity_date,
                source_format,
                steps,
                distance_km,
                very_active_minutes,
                moderately_active_minutes,
                lightly_active_minutes,
                sedentary_minutes,
                calories_kcal
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
        activity_date,

        -- activity
        steps,
        round(distance_km, 3) as distance_km,
        very_active_minutes,
        moderately_active_minutes,
        lightly_active_minutes,
        sedentary_minutes,
        calories_kcal,

        -- lineage
        loaded_at,
        {{ run_timestamp() }} as dbt_loaded_at

    from ranked
    where load_recency_rank = 1
      and duplicate_rank = 1

)

select * from deduplicated
