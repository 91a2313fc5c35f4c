{{
    config(
        materialized=keyed_materialization(),
        unique_key=['user_id', 'log_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook='{{ record_horizon() }}',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['user_id', 'log_id']},
            {'columns': ['user_id', 'sleep_date']},
            {'columns': ['dbt_write_id']},
        ],
    )
}}

{#-
    One row per sleep episode (Fitbit log) from its minutes: start, end, and the minutes
    asleep (state 1), restless (2) and awake (3); minutes in bed are all of them. An episode
    belongs to the local date it ends on (the wake-up day), as Fitbit's sleepDay file counts
    it. Incremental: the episodes whose minutes changed since the last build, recomputed whole.
-#}

{%- set horizon = previous_horizon() %}

with

minutes as {{ inlined() }} (

    select * from {{ ref('int_minute_sleep') }}

),

changed_episodes as (

    select distinct user_id, log_id
    from minutes
    where dbt_write_id >= {{ horizon }}

),

in_scope as (

    select minutes.*
    from minutes
    {% if is_incremental() %}
    inner join changed_episodes
        on minutes.user_id = changed_episodes.user_id
        and minutes.log_id = changed_episodes.log_id
    {% endif %}

),

episodes as (

    select
        -- ids
        user_id,
        log_id,
        'fitbit_minute_sleep' as source_format,
        max(load_id) as load_id,

        -- times
        min(sleep_minute) as started_at,
        {{ dbt.dateadd('minute', 1, 'max(sleep_minute)') }} as ended_at,
        cast(max(sleep_minute) as date) as sleep_date,

        -- sleep
        count(*) as minutes_in_bed,
        sum(case when sleep_state = 1 then 1 else 0 end) as minutes_asleep,
        sum(case when sleep_state = 2 then 1 else 0 end) as minutes_restless,
        sum(case when sleep_state = 3 then 1 else 0 end) as minutes_awake

    from in_scope
    group by user_id, log_id

),

final as (

    select
        *,
        {{ write_id() }} as dbt_write_id
    from episodes

)

select * from final
