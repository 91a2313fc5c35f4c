{{
    config(
        materialized=keyed_materialization(),
        unique_key=['user_id', 'volume_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook='{{ record_horizon() }}',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['user_id', 'volume_date']},
            {'columns': ['dbt_write_id']},
        ],
    )
}}

{#-
    One row per source, user and local date: how many records the source holds for that
    user-day, each counted at its own grain, after deduplication (the newest load of a key):
    - daily files (stg_daily_activity) and sleep files (stg_sleep): one record per user-day
      (a line that feeds several entities - Oura's activity and sleep, Google Fit's activity
      and weight - once);
      a day of sleep periods (WHOOP, Samsung, Withings: no line of its own) counts its
      periods (at least one); rows rolled up from minute files (fitbit_minute_sleep) are not records of
      their own and are counted per minute below;
    - hourly files (hourly_activity keeps each file's value in its own column): hours;
    - minute and heart-rate files (int_intraday_loads, newest load of each user-day):
      minutes, or heart-rate samples;
    - weight logs (int_body_measurements): logs, with or without a weight;
    - workouts (int_workouts): workouts;
    - analytics events with a user (sent with one, or stitched by identify; stg_events):
      events, as source 'analytics_events'. Events no identify ever named have no user-day.

    marts.source_volume_daily adds these up per source and day. Incremental, as
    daily_user_summary: the user-days that input rows written since the last build touch,
    recomputed whole (every source of the day).
-#}

{%- set horizon = previous_horizon() %}

with

daily_activity as {{ inlined() }} (

    select * from {{ ref('stg_daily_activity') }}

),

sleep as {{ inlined() }} (

    select * from {{ ref('stg_sleep') }}

),

hours as {{ inlined() }} (

    select * from {{ ref('hourly_activity') }}

),

intraday as {{ inlined() }} (

    select * from {{ ref('int_intraday_loads') }}
    where user_id is not null
      and activity_date is not null

),

body as {{ inlined() }} (

    select * from {{ ref('int_body_measurements') }}

),

workouts as {{ inlined() }} (

    select * from {{ ref('int_workouts') }}

),

events as {{ inlined() }} (

    select * from {{ ref('stg_events') }}
    where user_id is not null

),

-- the user-days this run (re)computes -----------------------------------------------------

changed_days as (

    select user_id, activity_date as volume_date from daily_activity
    where dbt_write_id >= {{ horizon }}
    union
    select user_id, sleep_date from sleep
    where dbt_write_id >= {{ horizon }}
    union
    select user_id, activity_date from hours
    where dbt_write_id >= {{ horizon }}
    union
    select user_id, activity_date from intraday
    where dbt_write_id >= {{ horizon }}
    union
    select user_id, measured_date from body
    where dbt_write_id >= {{ horizon }}
    union
    select user_id, workout_date from workouts
    where dbt_write_id >= {{ horizon }}
    union
    select user_id, event_local_date from events
    where dbt_write_id >= {{ horizon }}

),

-- records per source -----------------------------------------------------------------------

daily_records as (

    select
        daily_activity.source_format,
        daily_activity.user_id,
        daily_activity.activity_date as volume_date,
        count(*) as source_rows
    from daily_activity
    {% if is_incremental() %}
    inner join changed_days
        on daily_activity.user_id = changed_days.user_id
        and daily_activity.activity_date = changed_days.volume_date
    {% endif %}
    where daily_activity.source_row_number is not null
    group by daily_activity.source_format, daily_activity.user_id, daily_activity.activity_date

),

sleep_records as (

    select
        sleep.source_format,
        sleep.user_id,
        sleep.sleep_date as volume_date,
        -- a line of a daily file is one record, a day of periods counts its periods
        sum(
            case
                when sleep.source_row_number is not null then 1
                else greatest(coalesce(sleep.sleep_records, 0), 1)
            end
        ) as source_rows
    from sleep
    {% if is_incremental() %}
    inner join changed_days
        on sleep.user_id = changed_days.user_id
        and sleep.sleep_date = changed_days.volume_date
    {% endif %}
    -- minute sleep is counted per minute (intraday_records)
    where sleep.source_format <> 'fitbit_minute_sleep'
    group by sleep.source_format, sleep.user_id, sleep.sleep_date

),

hours_per_file as (

    select
        hours.user_id,
        hours.activity_date as volume_date,
        count(hours.steps) as step_hours,
        count(hours.calories_kcal) as calorie_hours,
        count(hours.total_intensity) as intensity_hours
    from hours
    {% if is_incremental() %}
    inner join changed_days
        on hours.user_id = changed_days.user_id
        and hours.activity_date = changed_days.volume_date
    {% endif %}
    group by hours.user_id, hours.activity_date

),

hourly_records as (

    select 'fitbit_hourly_steps' as source_format, user_id, volume_date, step_hours as source_rows
    from hours_per_file
    where step_hours > 0
    union all
    select 'fitbit_hourly_calories', user_id, volume_date, calorie_hours
    from hours_per_file
    where calorie_hours > 0
    union all
    select 'fitbit_hourly_intensities', user_id, volume_date, intensity_hours
    from hours_per_file
    where intensity_hours > 0

),

intraday_ranked as (

    select
        intraday.source_format,
        intraday.user_id,
        intraday.activity_date,
        intraday.source_rows,
        row_number() over (
            partition by intraday.source_format, intraday.user_id, intraday.activity_date
            order by intraday.load_id desc
        ) as load_recency
    from intraday
    {% if is_incremental() %}
    inner join changed_days
        on intraday.user_id = changed_days.user_id
        and intraday.activity_date = changed_days.volume_date
    {% endif %}

),

intraday_records as (

    select
        source_format,
        user_id,
        activity_date as volume_date,
        source_rows
    from intraday_ranked
    where load_recency = 1

),

body_records as (

    select
        body.source_format,
        body.user_id,
        body.measured_date as volume_date,
        count(*) as source_rows
    from body
    {% if is_incremental() %}
    inner join changed_days
        on body.user_id = changed_days.user_id
        and body.measured_date = changed_days.volume_date
    {% endif %}
    group by body.source_format, body.user_id, body.measured_date

),

workout_records as (

    select
        workouts.source_format,
        workouts.user_id,
        workouts.workout_date as volume_date,
        count(*) as source_rows
    from workouts
    {% if is_incremental() %}
    inner join changed_days
        on workouts.user_id = changed_days.user_id
        and workouts.workout_date = changed_days.volume_date
    {% endif %}
    group by workouts.source_format, workouts.user_id, workouts.workout_date

),

event_records as (

    select
        'analytics_events' as source_format,
        events.user_id,
        events.event_local_date as volume_date,
        count(*) as source_rows
    from events
    {% if is_incremental() %}
    inner join changed_days
        on events.user_id = changed_days.user_id
        and events.event_local_date = changed_days.volume_date
    {% endif %}
    group by events.user_id, events.event_local_date

),

unioned as (

    select * from daily_records
    union all
    select * from sleep_records
    union all
    select * from hourly_records
    union all
    select * from intraday_records
    union all
    select * from body_records
    union all
    select * from workout_records
    union all
    select * from event_records

),

-- a line that feeds several entities (Oura's trends: activity and sleep; Google Fit's daily
-- rows: activity and a weight) is one record of its source, counted once
per_source as (

    select
        source_format,
        user_id,
        volume_date,
        max(source_rows) as source_rows
    from unioned
    where user_id is not null
      and volume_date is not null
    group by source_format, user_id, volume_date

),

final as (

    select
        -- ids
        cast(source_format as {{ dbt.type_string() }}) as source_format,
        cast(user_id as {{ dbt.type_string() }}) as user_id,

        -- dates
        cast(volume_date as date) as volume_date,

        -- counts
        cast(source_rows as {{ dbt.type_bigint() }}) as source_rows,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_updated_at

    from per_source

)

select * from final
