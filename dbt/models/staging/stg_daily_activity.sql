{#- meta.row_stamp: the column stamping each row with the run that wrote it; data tests
    re-check only rows stamped since they last passed (macros/test_scope.sql). -#}
{{
    config(
        materialized='incremental',
        unique_key=['user_id', 'activity_date', 'source_format'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook='{{ analyze_if_rebuilt() }}',
        meta={'row_stamp': 'dbt_loaded_at'},
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

    Incremental: a run reads the committed loads not yet staged (in commit order, not load-id
    order: see macros/load_scope.sql), and recomputes only the (user, date, source format)
    keys those loads touch - from all of their raw rows, so "the newest load wins" is decided
    exactly as a full refresh would.
-#}

{#- the loads this run stages (none: not incremental, everything); see macros/load_scope.sql -#}
{%- set new_loads = new_load_ids('daily_activity') %}

with

-- not materialized: incremental runs read it twice (new loads, competing older rows), and
-- PostgreSQL would otherwise copy the whole raw table first instead of using its indexes
source as not materialized (

    select * from {{ source('raw', 'daily_activity') }}

),

{{ load_scope_source(new_loads) }}

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

{{ load_scope_keys(new_loads, 'activity_date') }}

-- deduplication -----------------------------------------------------------------------------

ranked as (

    select
        *,
        -- the newest load of a key wins; its rows all rank 1. "Newest" is the highest
        -- load_id (the order files were handed to the loader), not the commit order: a total
        -- order fixed at load time, so the winner never depends on when or in which order
        -- loads were staged (re-reading a load changes nothing), and a correction dropped
        -- after the original wins even when the bigger original commits later.
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
