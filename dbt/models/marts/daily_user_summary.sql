{{
    config(
        materialized=keyed_materialization(),
        unique_key=['user_id', 'summary_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook='{{ record_horizon() }}',
        post_hook=[
            '{{ analyze_if_rebuilt() }}',
            "{{ remember_input(ref('source_priority'), ['metric', 'source_format', 'priority']) }}",
        ],
        indexes=[
            {'columns': ['user_id', 'summary_date'], 'unique': True},
            {'columns': ['dbt_write_id']},
        ],
    )
}}

{#-
    One row per user per local date: activity, hourly totals, sleep, heart rate, workouts,
    wear, body and app engagement side by side.

    Several sources for one user-day (a Fitbit export and an Oura file, Fitbit's daily and
    narrow daily files) are never added up: each metric comes from the highest-priority source
    in the source_priority seed that has a value for it, and the chosen source is named. A
    day's workouts all come from one source, the highest-priority one with workouts that day
    (a run a watch and a strap both recorded counts once).

    Wear follows RAPIDS' data yield (see the yml): heart rate where the day has any, else
    minute activity, else hourly activity; a valid day has var('valid_day_min_hours') valid
    hours.

    Incremental: a run recomputes exactly the user-days that input rows written since its
    last build touch (macros/incremental.sql), from all of those days' rows - or every
    user-day when the source_priority seed changed since the last run (macros/model_inputs.sql).
-#}

{%- set horizon = previous_horizon() %}
{%- set only_changed_days = is_incremental()
    and not input_changed(ref('source_priority'), ['metric', 'source_format', 'priority']) %}

with

daily_activity as {{ inlined() }} (

    select * from {{ ref('stg_daily_activity') }}

),

sleep as {{ inlined() }} (

    select * from {{ ref('stg_sleep') }}
    -- a source's day without minutes asleep (Oura on a day it recorded no sleep, a day whose
    -- sleep periods were all left out) is no sleep
    where minutes_asleep is not null

),

events as {{ inlined() }} (

    select * from {{ ref('stg_events') }}
    -- anonymous events have no user-day to land on
    where user_id is not null

),

hours as {{ inlined() }} (

    select * from {{ ref('hourly_activity') }}

),

heart_rate as {{ inlined() }} (

    -- Fitbit's samples: the wear basis, and their count
    select * from {{ ref('int_heart_rate_daily') }}

),

daily_heart_rate as {{ inlined() }} (

    -- every source's daily heart rate, for the priority between them
    select * from {{ ref('int_daily_heart_rate') }}
    where mean_bpm is not null
       or min_bpm is not null
       or max_bpm is not null
       or resting_bpm is not null

),

workouts as {{ inlined() }} (

    select * from {{ ref('int_workouts') }}

),

minute_activity as {{ inlined() }} (

    select * from {{ ref('int_minute_activity_daily') }}

),

body as {{ inlined() }} (

    select * from {{ ref('int_body_measurements') }}
    where has_weight

),

source_priority as (

    select * from {{ ref('source_priority') }}

),

-- the user-days this run (re)computes ---------------------------------------------------------

changed_days as (

    select user_id, activity_date as summary_date from daily_activity
    where dbt_write_id >= {{ horizon }}
    union
    select user_id, sleep_date from sleep
    where dbt_write_id >= {{ horizon }}
    union
    select user_id, event_local_date from events
    where dbt_write_id >= {{ horizon }}
    union
    select user_id, activity_date from hours
    where dbt_write_id >= {{ horizon }}
    union
    select user_id, activity_date from heart_rate
    where dbt_write_id >= {{ horizon }}
    union
    select user_id, activity_date from minute_activity
    where dbt_write_id >= {{ horizon }}
    union
    select user_id, measured_date from body
    where dbt_write_id >= {{ horizon }}
    union
    select user_id, activity_date from daily_heart_rate
    where dbt_write_id >= {{ horizon }}
    union
    select user_id, workout_date from workouts
    where dbt_write_id >= {{ horizon }}

),


-- source priority, one column per metric --------------------------------------------------

priority_by_source as (

    select
        source_format,
        min(case when metric = 'steps' then priority end) as steps_priority,
        min(case when metric = 'distance_km' then priority end) as distance_priority,
        min(case when metric = 'activity_minutes' then priority end) as activity_minutes_priority,
        min(case when metric = 'calories_kcal' then priority end) as calories_priority,
        min(case when metric = 'sleep' then priority end) as sleep_priority,
        min(case when metric = 'heart_rate' then priority end) as heart_rate_priority,
        min(case when metric = 'resting_heart_rate' then priority end)
            as resting_heart_rate_priority,
        min(case when metric = 'weight' then priority end) as weight_priority,
        min(case when metric = 'workouts' then priority end) as workouts_priority
    from source_priority
    group by source_format

),

-- activity ----------------------------------------------------------------------------------

activity_ranked as (

    -- per user-day and metric: the best-ranked source that has a value (unlisted sources
    -- rank last, ties broken by name so the choice is stable)
    select
        daily_activity.*,
        row_number() over (
            partition by daily_activity.user_id, daily_activity.activity_date
            order by
                case when daily_activity.steps is null then 1 else 0 end,
                coalesce(priority_by_source.steps_priority, 2147483647),
                daily_activity.source_format
        ) as steps_rank,
        row_number() over (
            partition by daily_activity.user_id, daily_activity.activity_date
            order by
                case when daily_activity.distance_km is null then 1 else 0 end,
                coalesce(priority_by_source.distance_priority, 2147483647),
                daily_activity.source_format
        ) as distance_rank,
        row_number() over (
            partition by daily_activity.user_id, daily_activity.activity_date
            order by
                case when daily_activity.sedentary_minutes is null then 1 else 0 end,
                coalesce(priority_by_source.activity_minutes_priority, 2147483647),
                daily_activity.source_format
        ) as activity_minutes_rank,
        row_number() over (
            partition by daily_activity.user_id, daily_activity.activity_date
            order by
                case when daily_activity.calories_kcal is null then 1 else 0 end,
                coalesce(priority_by_source.calories_priority, 2147483647),
                daily_activity.source_format
        ) as calories_rank
    from daily_activity
    {% if only_changed_days %}
    inner join changed_days
        on daily_activity.user_id = changed_days.user_id
        and daily_activity.activity_date = changed_days.summary_date
    {% endif %}
    left join priority_by_source
        on daily_activity.source_format = priority_by_source.source_format

),

activity_by_day as (

    select
        user_id,
        activity_date as summary_date,

        -- each metric from its own winning source, named only when it has a value
        max(case when steps_rank = 1 then steps end) as steps,
        max(case when steps_rank = 1 and steps is not null then source_format end)
            as steps_source,
        max(case when distance_rank = 1 then distance_km end) as distance_km,
        max(case when distance_rank = 1 and distance_km is not null then source_format end)
            as distance_source,
        max(case when activity_minutes_rank = 1 then very_active_minutes end)
            as very_active_minutes,
        max(case when activity_minutes_rank = 1 then moderately_active_minutes end)
            as moderately_active_minutes,
        max(case when activity_minutes_rank = 1 then lightly_active_minutes end)
            as lightly_active_minutes,
        max(case when activity_minutes_rank = 1 then sedentary_minutes end)
            as sedentary_minutes,
        max(
            case when activity_minutes_rank = 1 and sedentary_minutes is not null
                then source_format end
        ) as activity_minutes_source,
        max(case when calories_rank = 1 then calories_kcal end) as calories_kcal,
        max(case when calories_rank = 1 and calories_kcal is not null then source_format end)
            as calories_source

    from activity_ranked
    group by user_id, activity_date

),

hours_by_day as (

    select
        hours.user_id,
        hours.activity_date as summary_date,
        sum(hours.steps) as hourly_steps,
        count(*) as hours_with_data,
        sum(case when hours.is_active then 1 else 0 end) as active_hours
    from hours
    {% if only_changed_days %}
    inner join changed_days
        on hours.user_id = changed_days.user_id
        and hours.activity_date = changed_days.summary_date
    {% endif %}
    group by hours.user_id, hours.activity_date

),

-- sleep -------------------------------------------------------------------------------------

sleep_ranked as (

    select
        sleep.*,
        row_number() over (
            partition by sleep.user_id, sleep.sleep_date
            order by
                case when sleep.minutes_asleep is null then 1 else 0 end,
                coalesce(priority_by_source.sleep_priority, 2147483647),
                sleep.source_format
        ) as sleep_rank
    from sleep
    {% if only_changed_days %}
    inner join changed_days
        on sleep.user_id = changed_days.user_id
        and sleep.sleep_date = changed_days.summary_date
    {% endif %}
    left join priority_by_source
        on sleep.source_format = priority_by_source.source_format

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

-- heart rate, wear and body -----------------------------------------------------------------

heart_rate_ranked as (

    -- mean, minimum and maximum from one source (the best-ranked with a mean or maximum);
    -- resting heart rate from its own best-ranked source (Oura and WHOOP measure it, Fitbit's
    -- is a proxy from its samples)
    select
        daily_heart_rate.*,
        row_number() over (
            partition by daily_heart_rate.user_id, daily_heart_rate.activity_date
            order by
                case
                    when daily_heart_rate.mean_bpm is null and daily_heart_rate.max_bpm is null
                        then 1
                    else 0
                end,
                coalesce(priority_by_source.heart_rate_priority, 2147483647),
                daily_heart_rate.source_format
        ) as heart_rate_rank,
        row_number() over (
            partition by daily_heart_rate.user_id, daily_heart_rate.activity_date
            order by
                case when daily_heart_rate.resting_bpm is null then 1 else 0 end,
                coalesce(priority_by_source.resting_heart_rate_priority, 2147483647),
                daily_heart_rate.source_format
        ) as resting_rank
    from daily_heart_rate
    {% if only_changed_days %}
    inner join changed_days
        on daily_heart_rate.user_id = changed_days.user_id
        and daily_heart_rate.activity_date = changed_days.summary_date
    {% endif %}
    left join priority_by_source
        on daily_heart_rate.source_format = priority_by_source.source_format

),

daily_heart_rate_by_day as (

    select
        user_id,
        activity_date as summary_date,
        max(case when heart_rate_rank = 1 and (mean_bpm is not null or max_bpm is not null)
            then mean_bpm end) as mean_bpm,
        max(case when heart_rate_rank = 1 and (mean_bpm is not null or max_bpm is not null)
            then min_bpm end) as min_bpm,
        max(case when heart_rate_rank = 1 and (mean_bpm is not null or max_bpm is not null)
            then max_bpm end) as max_bpm,
        max(case when heart_rate_rank = 1 and (mean_bpm is not null or max_bpm is not null)
            then source_format end) as heart_rate_source,
        max(case when resting_rank = 1 then resting_bpm end) as resting_bpm,
        max(case when resting_rank = 1 and resting_bpm is not null then source_format end)
            as resting_heart_rate_source
    from heart_rate_ranked
    group by user_id, activity_date

),

heart_rate_by_day as (

    select
        heart_rate.*,
        heart_rate.activity_date as summary_date
    from heart_rate
    {% if only_changed_days %}
    inner join changed_days
        on heart_rate.user_id = changed_days.user_id
        and heart_rate.activity_date = changed_days.summary_date
    {% endif %}

),

minute_activity_by_day as (

    select
        minute_activity.*,
        minute_activity.activity_date as summary_date
    from minute_activity
    {% if only_changed_days %}
    inner join changed_days
        on minute_activity.user_id = changed_days.user_id
        and minute_activity.activity_date = changed_days.summary_date
    {% endif %}

),

body_ranked as (

    -- the day's last log with a weight, from the best-ranked source that has one
    select
        body.*,
        row_number() over (
            partition by body.user_id, body.measured_date
            order by
                coalesce(priority_by_source.weight_priority, 2147483647),
                body.source_format,
                body.logged_at desc nulls last,
                body.log_id desc
        ) as log_rank
    from body
    {% if only_changed_days %}
    inner join changed_days
        on body.user_id = changed_days.user_id
        and body.measured_date = changed_days.summary_date
    {% endif %}
    left join priority_by_source
        on body.source_format = priority_by_source.source_format

),

body_by_day as (

    select
        user_id,
        measured_date as summary_date,
        weight_kg,
        bmi,
        source_format as weight_source
    from body_ranked
    where log_rank = 1

),

-- workouts ----------------------------------------------------------------------------------

workouts_per_source as (

    select
        workouts.user_id,
        workouts.workout_date as summary_date,
        workouts.source_format,
        count(*) as workouts,
        sum(workouts.duration_minutes) as workout_minutes
    from workouts
    {% if only_changed_days %}
    inner join changed_days
        on workouts.user_id = changed_days.user_id
        and workouts.workout_date = changed_days.summary_date
    {% endif %}
    group by workouts.user_id, workouts.workout_date, workouts.source_format

),

workouts_ranked as (

    select
        workouts_per_source.*,
        row_number() over (
            partition by workouts_per_source.user_id, workouts_per_source.summary_date
            order by
                coalesce(priority_by_source.workouts_priority, 2147483647),
                workouts_per_source.source_format
        ) as workouts_rank
    from workouts_per_source
    left join priority_by_source
        on workouts_per_source.source_format = priority_by_source.source_format

),

workouts_by_day as (

    select
        user_id,
        summary_date,
        workouts,
        workout_minutes,
        source_format as workouts_source
    from workouts_ranked
    where workouts_rank = 1

),

-- app engagement ----------------------------------------------------------------------------

engagement_by_day as (

    select
        events.user_id,
        events.event_local_date as summary_date,
        count(*) as event_count,
        count(distinct events.session_id) as session_count,
        sum(case when events.event_name = 'sync_completed' then 1 else 0 end) as syncs_completed,
        sum(case when events.event_name = 'sync_failed' then 1 else 0 end) as syncs_failed,
        sum(case when events.event_name in ('ui_error', 'api_error') then 1 else 0 end)
            as error_count
    from events
    {% if only_changed_days %}
    inner join changed_days
        on events.user_id = changed_days.user_id
        and events.event_local_date = changed_days.summary_date
    {% endif %}
    group by events.user_id, events.event_local_date

),

-- one row per user-day ----------------------------------------------------------------------

user_days as (

    select user_id, summary_date from activity_by_day
    union
    select user_id, summary_date from hours_by_day
    union
    select user_id, summary_date from sleep_by_day
    union
    select user_id, summary_date from heart_rate_by_day
    union
    select user_id, summary_date from minute_activity_by_day
    union
    select user_id, summary_date from body_by_day
    union
    select user_id, summary_date from daily_heart_rate_by_day
    union
    select user_id, summary_date from workouts_by_day
    union
    select user_id, summary_date from engagement_by_day

),

joined as (

    select
        user_days.user_id,
        user_days.summary_date,
        activity_by_day.steps,
        activity_by_day.distance_km,
        activity_by_day.very_active_minutes,
        activity_by_day.moderately_active_minutes,
        activity_by_day.lightly_active_minutes,
        activity_by_day.sedentary_minutes,
        activity_by_day.calories_kcal,
        activity_by_day.steps_source,
        activity_by_day.distance_source,
        activity_by_day.activity_minutes_source,
        activity_by_day.calories_source,
        hours_by_day.hourly_steps,
        hours_by_day.hours_with_data,
        hours_by_day.active_hours,
        sleep_by_day.minutes_asleep,
        sleep_by_day.minutes_in_bed,
        sleep_by_day.sleep_records,
        sleep_by_day.sleep_source,
        heart_rate_by_day.samples as heart_rate_samples,
        daily_heart_rate_by_day.mean_bpm,
        daily_heart_rate_by_day.min_bpm,
        daily_heart_rate_by_day.max_bpm,
        daily_heart_rate_by_day.resting_bpm,
        daily_heart_rate_by_day.heart_rate_source,
        daily_heart_rate_by_day.resting_heart_rate_source,
        heart_rate_by_day.valid_minutes as heart_rate_minutes,
        heart_rate_by_day.valid_hours as heart_rate_valid_hours,
        minute_activity_by_day.minutes as activity_minutes_recorded,
        minute_activity_by_day.active_minutes,
        minute_activity_by_day.valid_hours as activity_valid_hours,
        body_by_day.weight_kg,
        body_by_day.bmi,
        body_by_day.weight_source,
        workouts_by_day.workouts,
        workouts_by_day.workout_minutes,
        workouts_by_day.workouts_source,
        engagement_by_day.event_count,
        engagement_by_day.session_count,
        engagement_by_day.syncs_completed,
        engagement_by_day.syncs_failed,
        engagement_by_day.error_count,
        activity_by_day.user_id is not null as has_activity,
        sleep_by_day.user_id is not null as has_sleep,
        daily_heart_rate_by_day.user_id is not null or workouts_by_day.user_id is not null
            as has_other_device_data,
        engagement_by_day.user_id is not null as has_app_activity,
        -- the wear basis: heart rate where the day has samples, else minute activity, else
        -- hourly activity (an hour with steps or intensity counts as valid)
        case
            when heart_rate_by_day.samples > 0 then 'heart_rate'
            when minute_activity_by_day.minutes > 0 then 'minute_activity'
            when hours_by_day.hours_with_data > 0 then 'hourly_activity'
        end as wear_basis
    from user_days
    left join activity_by_day
        on user_days.user_id = activity_by_day.user_id
        and user_days.summary_date = activity_by_day.summary_date
    left join hours_by_day
        on user_days.user_id = hours_by_day.user_id
        and user_days.summary_date = hours_by_day.summary_date
    left join sleep_by_day
        on user_days.user_id = sleep_by_day.user_id
        and user_days.summary_date = sleep_by_day.summary_date
    left join heart_rate_by_day
        on user_days.user_id = heart_rate_by_day.user_id
        and user_days.summary_date = heart_rate_by_day.summary_date
    left join minute_activity_by_day
        on user_days.user_id = minute_activity_by_day.user_id
        and user_days.summary_date = minute_activity_by_day.summary_date
    left join body_by_day
        on user_days.user_id = body_by_day.user_id
        and user_days.summary_date = body_by_day.summary_date
    left join daily_heart_rate_by_day
        on user_days.user_id = daily_heart_rate_by_day.user_id
        and user_days.summary_date = daily_heart_rate_by_day.summary_date
    left join workouts_by_day
        on user_days.user_id = workouts_by_day.user_id
        and user_days.summary_date = workouts_by_day.summary_date
    left join engagement_by_day
        on user_days.user_id = engagement_by_day.user_id
        and user_days.summary_date = engagement_by_day.summary_date

),

with_wear as (

    select
        joined.*,
        case wear_basis
            when 'heart_rate' then heart_rate_minutes
            when 'minute_activity' then active_minutes
        end as valid_minutes,
        case wear_basis
            when 'heart_rate' then heart_rate_valid_hours
            when 'minute_activity' then activity_valid_hours
            when 'hourly_activity' then active_hours
        end as valid_hours
    from joined

),

final as (

    select
        -- ids
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(summary_date as date) as summary_date,

        -- activity
        cast(steps as {{ dbt.type_int() }}) as steps,
        cast(distance_km as numeric(12, 3)) as distance_km,
        cast(very_active_minutes as {{ dbt.type_int() }}) as very_active_minutes,
        cast(moderately_active_minutes as {{ dbt.type_int() }}) as moderately_active_minutes,
        cast(lightly_active_minutes as {{ dbt.type_int() }}) as lightly_active_minutes,
        cast(sedentary_minutes as {{ dbt.type_int() }}) as sedentary_minutes,
        cast(calories_kcal as {{ dbt.type_int() }}) as calories_kcal,
        cast(coalesce(steps = 0 and sedentary_minutes = 1440, false) as boolean) as is_not_worn,

        -- hourly activity (a separate record from the daily files: never overwrites them)
        cast(hourly_steps as {{ dbt.type_int() }}) as hourly_steps,
        cast(active_hours as {{ dbt.type_int() }}) as active_hours,

        -- sleep
        cast(minutes_asleep as {{ dbt.type_int() }}) as minutes_asleep,
        cast(minutes_in_bed as {{ dbt.type_int() }}) as minutes_in_bed,
        cast(
            round(minutes_asleep * 1.0 / nullif(minutes_in_bed, 0), 4) as numeric(12, 4)
        ) as sleep_efficiency,
        cast(sleep_records as {{ dbt.type_int() }}) as sleep_records,

        -- heart rate
        cast(coalesce(heart_rate_samples, 0) as {{ dbt.type_int() }}) as heart_rate_samples,
        cast(mean_bpm as numeric(6, 1)) as mean_heart_rate_bpm,
        cast(min_bpm as {{ dbt.type_int() }}) as min_heart_rate_bpm,
        cast(max_bpm as {{ dbt.type_int() }}) as max_heart_rate_bpm,
        cast(resting_bpm as numeric(6, 1)) as resting_heart_rate_bpm,

        -- workouts (from one source per day)
        cast(coalesce(workouts, 0) as {{ dbt.type_int() }}) as workouts,
        cast(coalesce(workout_minutes, 0) as numeric(8, 1)) as workout_minutes,

        -- wear (RAPIDS' data yield)
        cast(wear_basis as {{ dbt.type_string() }}) as wear_basis,
        cast(valid_minutes as {{ dbt.type_int() }}) as valid_minutes,
        cast(coalesce(valid_hours, 0) as {{ dbt.type_int() }}) as valid_hours,
        cast(
            coalesce(valid_hours >= {{ var('valid_day_min_hours') }}, false) as boolean
        ) as is_valid_day,

        -- body
        cast(weight_kg as numeric(6, 2)) as weight_kg,
        cast(bmi as numeric(6, 2)) as bmi,

        -- app engagement
        cast(coalesce(event_count, 0) as {{ dbt.type_int() }}) as event_count,
        cast(coalesce(session_count, 0) as {{ dbt.type_int() }}) as session_count,
        cast(coalesce(syncs_completed, 0) as {{ dbt.type_int() }}) as syncs_completed,
        cast(coalesce(syncs_failed, 0) as {{ dbt.type_int() }}) as syncs_failed,
        cast(coalesce(error_count, 0) as {{ dbt.type_int() }}) as error_count,

        -- which source each metric came from
        cast(steps_source as {{ dbt.type_string() }}) as steps_source,
        cast(distance_source as {{ dbt.type_string() }}) as distance_source,
        cast(activity_minutes_source as {{ dbt.type_string() }}) as activity_minutes_source,
        cast(calories_source as {{ dbt.type_string() }}) as calories_source,
        cast(sleep_source as {{ dbt.type_string() }}) as sleep_source,
        cast(heart_rate_source as {{ dbt.type_string() }}) as heart_rate_source,
        cast(resting_heart_rate_source as {{ dbt.type_string() }}) as resting_heart_rate_source,
        cast(weight_source as {{ dbt.type_string() }}) as weight_source,
        cast(workouts_source as {{ dbt.type_string() }}) as workouts_source,

        -- coverage
        cast(has_activity as boolean) as has_activity,
        cast(has_sleep as boolean) as has_sleep,
        cast(coalesce(heart_rate_samples > 0, false) as boolean) as has_heart_rate,
        cast(
            wear_basis is not null or has_activity or has_sleep or has_other_device_data as boolean
        ) as has_device_data,
        cast(has_app_activity as boolean) as has_app_activity,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_updated_at

    from with_wear

)

select * from final
