{#- meta.row_stamp: the column stamping each row with the run that wrote it; data tests
    re-check only rows stamped since they last passed (macros/test_scope.sql). -#}
{{
    config(
        materialized='incremental',
        unique_key=['user_id', 'summary_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            '{{ analyze_if_rebuilt() }}',
            "{{ remember_input(ref('source_priority'), ['metric', 'source_format', 'priority']) }}",
        ],
        meta={'row_stamp': 'dbt_updated_at'},
        indexes=[
            {'columns': ['user_id', 'summary_date'], 'unique': True},
            {'columns': ['dbt_updated_at']},
        ],
    )
}}

{#-
    One row per user per local date: activity, sleep and app engagement side by side.

    Several sources for one user-day (e.g. a Fitbit export and a canonical file) are never
    added up: each metric comes from the highest-priority source in the source_priority
    seed that has a value for it.

    Incremental: staging rows carry the time of the run that wrote them (dbt_loaded_at); a run
    recomputes exactly the user-days that staging rows written since this model's last run
    touch, from all of those days' staging rows - or every user-day when the source_priority
    seed changed since the last run.

    The import CTEs are `not materialized`: each is read twice on incremental runs (to find
    the changed days and to recompute them), and PostgreSQL would otherwise materialise a
    CTE used twice - a full copy of every staging table, the indexes out of reach - on every
    run. Inlined, the changed days come from the dbt_loaded_at indexes and each day's rows
    from the (user_id, date) indexes.
-#}

{#-
    The seed decides every row: when its contents changed since the last run (macros/
    model_inputs.sql), this run recomputes every user-day instead of the changed ones only.
-#}
{%- set only_changed_days = is_incremental()
    and not input_changed(ref('source_priority'), ['metric', 'source_format', 'priority']) %}

with

daily_activity as not materialized (

    select * from {{ ref('stg_daily_activity') }}

),

sleep as not materialized (

    select * from {{ ref('stg_sleep') }}

),

events as not materialized (

    select * from {{ ref('stg_events') }}

),

source_priority as (

    select * from {{ ref('source_priority') }}

),

-- the user-days this run (re)computes ---------------------------------------------------------

{% if only_changed_days %}
changed_days as (

    select user_id, activity_date as summary_date
    from daily_activity
    where dbt_loaded_at > {{ max_timestamp_in_this('dbt_updated_at') }}

    union

    select user_id, sleep_date as summary_date
    from sleep
    where dbt_loaded_at > {{ max_timestamp_in_this('dbt_updated_at') }}

    union

    select user_id, event_local_date as summary_date
    from events
    where dbt_loaded_at > {{ max_timestamp_in_this('dbt_updated_at') }}

),
{% endif %}

activity_in_scope as (

    select daily_activity.*
    from daily_activity
    {% if only_changed_days %}
    inner join changed_days
        on daily_activity.user_id = changed_days.user_id
        and daily_activity.activity_date = changed_days.summary_date
    {% endif %}
    where daily_activity.user_id is not null
      and daily_activity.activity_date is not null

),

sleep_in_scope as (

    select sleep.*
    from sleep
    {% if only_changed_days %}
    inner join changed_days
        on sleep.user_id = changed_days.user_id
        and sleep.sleep_date = changed_days.summary_date
    {% endif %}
    where sleep.user_id is not null
      and sleep.sleep_date is not null

),

events_in_scope as (

    select events.*
    from events
    {% if only_changed_days %}
    inner join changed_days
        on events.user_id = changed_days.user_id
        and events.event_local_date = changed_days.summary_date
    {% endif %}
    -- anonymous events have no user-day to land on
    where events.user_id is not null

),

-- source priority, one column per metric --------------------------------------------------

priority_by_source as (

    select
        source_format,
        min(case when metric = 'steps' then priority end) as steps_priority,
        min(case when metric = 'distance_km' then priority end) as distance_priority,
        min(case when metric = 'activity_minutes' then priority end) as activity_minutes_priority,
        min(case when metric = 'calories_kcal' then priority end) as calories_priority,
        min(case when metric = 'sleep' then priority end) as sleep_priority
    from source_priority
    group by source_format

),

activity_ranked as (

    -- per user-day and metric: the best-ranked source that has a value (unlisted sources
    -- rank last, ties broken by name so the choice is stable)
    select
        activity_in_scope.*,
        row_number() over (
            partition by activity_in_scope.user_id, activity_in_scope.activity_date
            order by
                case when activity_in_scope.steps is null then 1 else 0 end,
                coalesce(priority_by_source.steps_priority, 2147483647),
                activity_in_scope.source_format
        ) as steps_rank,
        row_number() over (
            partition by activity_in_scope.user_id, activity_in_scope.activity_date
            order by
                case when activity_in_scope.distance_km is null then 1 else 0 end,
                coalesce(priority_by_source.distance_priority, 2147483647),
                activity_in_scope.source_format
        ) as distance_rank,
        row_number() over (
            partition by activity_in_scope.user_id, activity_in_scope.activity_date
            order by
                case when activity_in_scope.sedentary_minutes is null then 1 else 0 end,
                coalesce(priority_by_source.activity_minutes_priority, 2147483647),
                activity_in_scope.source_format
        ) as activity_minutes_rank,
        row_number() over (
            partition by activity_in_scope.user_id, activity_in_scope.activity_date
            order by
                case when activity_in_scope.calories_kcal is null then 1 else 0 end,
                coalesce(priority_by_source.calories_priority, 2147483647),
                activity_in_scope.source_format
        ) as calories_rank
    from activity_in_scope
    left join priority_by_source
        on activity_in_scope.source_format = priority_by_source.source_format

),

activity_by_day as (

    select
        user_id,
        activity_date as summary_date,

        -- each metric from its own winning source
        max(case when steps_rank = 1 then steps end) as steps,
        max(case when steps_rank = 1 then source_format end) as steps_source,
        max(case when distance_rank = 1 then distance_km end) as distance_km,
        max(case when distance_rank = 1 then source_format end) as distance_source,
        max(case when activity_minutes_rank = 1 then very_active_minutes end)
            as very_active_minutes,
        max(case when activity_minutes_rank = 1 then moderately_active_minutes end)
            as moderately_active_minutes,
        max(case when activity_minutes_rank = 1 then lightly_active_minutes end)
            as lightly_active_minutes,
        max(case when activity_minutes_rank = 1 then sedentary_minutes end)
            as sedentary_minutes,
        max(case when activity_minutes_rank = 1 then source_format end)
            as activity_minutes_source,
        max(case when calories_rank = 1 then calories_kcal end) as calories_kcal,
        max(case when calories_rank = 1 then source_format end) as calories_source

    from activity_ranked
    group by user_id, activity_date

),

sleep_ranked as (

    select
        sleep_in_scope.*,
        row_number() over (
            partition by sleep_in_scope.user_id, sleep_in_scope.sleep_date
            order by
                case when sleep_in_scope.minutes_asleep is null then 1 else 0 end,
                coalesce(priority_by_source.sleep_priority, 2147483647),
                sleep_in_scope.source_format
        ) as sleep_rank
    from sleep_in_scope
    left join priority_by_source
        on sleep_in_scope.source_format = priority_by_source.source_format

),

sleep_by_day as (

    select
        user_id,
        sleep_date as summary_date,
        minutes_asleep,
        minutes_in_bed,
        sleep_records,
        source_format as sleep_source
    from sleep_ranked
    where sleep_rank = 1

),

-- app engagement ----------------------------------------------------------------------------

engagement_by_day as (

    select
        user_id,
        event_local_date as summary_date,
        count(*) as event_count,
        count(distinct session_id) as session_count,
        sum(case when event_name = 'sync_completed' then 1 else 0 end) as syncs_completed,
        sum(case when event_name = 'sync_failed' then 1 else 0 end) as syncs_failed,
        sum(case when event_name in ('ui_error', 'api_error') then 1 else 0 end) as error_count
    from events_in_scope
    group by user_id, event_local_date

),

-- one row per user-day ----------------------------------------------------------------------

user_days as (

    select user_id, summary_date from activity_by_day
    union
    select user_id, summary_date from sleep_by_day
    union
    select user_id, summary_date from engagement_by_day

),

joined as (

    select
        -- ids
        cast(user_days.user_id as text) as user_id,
        cast(user_days.summary_date as date) as summary_date,

        -- activity
        cast(activity_by_day.steps as integer) as steps,
        cast(activity_by_day.distance_km as numeric(12, 3)) as distance_km,
        cast(activity_by_day.very_active_minutes as integer) as very_active_minutes,
        cast(activity_by_day.moderately_active_minutes as integer) as moderately_active_minutes,
        cast(activity_by_day.lightly_active_minutes as integer) as lightly_active_minutes,
        cast(activity_by_day.sedentary_minutes as integer) as sedentary_minutes,
        cast(activity_by_day.calories_kcal as integer) as calories_kcal,
        cast(
            coalesce(
                activity_by_day.steps = 0 and activity_by_day.sedentary_minutes = 1440,
                false
            ) as boolean
        ) as is_not_worn,

        -- sleep
        cast(sleep_by_day.minutes_asleep as integer) as minutes_asleep,
        cast(sleep_by_day.minutes_in_bed as integer) as minutes_in_bed,
        cast(
            round(
                sleep_by_day.minutes_asleep * 1.0 / nullif(sleep_by_day.minutes_in_bed, 0),
                4
            ) as numeric(12, 4)
        ) as sleep_efficiency,
        cast(sleep_by_day.sleep_records as integer) as sleep_records,

        -- app engagement
        cast(coalesce(engagement_by_day.event_count, 0) as integer) as event_count,
        cast(coalesce(engagement_by_day.session_count, 0) as integer) as session_count,
        cast(coalesce(engagement_by_day.syncs_completed, 0) as integer) as syncs_completed,
        cast(coalesce(engagement_by_day.syncs_failed, 0) as integer) as syncs_failed,
        cast(coalesce(engagement_by_day.error_count, 0) as integer) as error_count,

        -- which source each metric came from
        cast(activity_by_day.steps_source as text) as steps_source,
        cast(activity_by_day.distance_source as text) as distance_source,
        cast(activity_by_day.activity_minutes_source as text) as activity_minutes_source,
        cast(activity_by_day.calories_source as text) as calories_source,
        cast(sleep_by_day.sleep_source as text) as sleep_source,

        -- coverage
        cast(activity_by_day.user_id is not null as boolean) as has_activity,
        cast(sleep_by_day.user_id is not null as boolean) as has_sleep,
        cast(engagement_by_day.user_id is not null as boolean) as has_app_activity,

        -- metadata
        {{ run_timestamp() }} as dbt_updated_at

    from user_days
    left join activity_by_day
        on user_days.user_id = activity_by_day.user_id
        and user_days.summary_date = activity_by_day.summary_date
    left join sleep_by_day
        on user_days.user_id = sleep_by_day.user_id
        and user_days.summary_date = sleep_by_day.summary_date
    left join engagement_by_day
        on user_days.user_id = engagement_by_day.user_id
        and user_days.summary_date = engagement_by_day.summary_date

)

select * from joined
