{{
    config(
        materialized=keyed_materialization(),
        unique_key=['user_id', 'activity_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook='{{ record_horizon() }}',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['user_id', 'activity_date']},
            {'columns': ['user_id', 'log_id']},
            {'columns': ['dbt_write_id']},
        ],
    )
}}

{#-
    Sleep per user-minute: the minute's state (1 asleep, 2 restless, 3 awake) and its episode
    (log_id). Per user-day the newest load wins. Incremental: the user-days of loads new
    since the last build (macros/intraday.sql), each recomputed whole.
-#}

{%- set source_formats = ['fitbit_minute_sleep'] %}
{%- set work = intraday_work(source_formats, previous_horizon()) %}

with

winning_loads as (

    {{ work.winners }}

),

winning_rows as (

    select minutes.*
    from {{ ref('stg_fitbit__minute_sleep') }} as minutes
    inner join winning_loads
        on minutes.load_id = winning_loads.load_id
        and minutes.user_id = winning_loads.user_id
        and minutes.activity_date = winning_loads.activity_date
    where {{ in_load_ids('minutes.load_id', work.load_ids) }}
      and minutes.sleep_minute is not null
      and minutes.log_id is not null

),

per_minute as (

    select
        -- ids
        user_id,
        log_id,

        -- times
        activity_date,
        sleep_minute,

        -- sleep
        max(sleep_state) as sleep_state,

        -- lineage
        max(load_id) as load_id

    from winning_rows
    group by user_id, log_id, activity_date, sleep_minute

),

final as (

    select
        *,
        {{ write_id() }} as dbt_write_id
    from per_minute

)

select * from final
