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
            {'columns': ['dbt_write_id']},
        ],
    )
}}

{#-
    Minute activity per user-day: the minutes' totals, and wear for days without heart rate -
    a minute with steps or a non-sedentary intensity is worn, an hour with at least
    var('valid_hour_min_minutes') (30) such minutes is valid. Incremental: the user-days whose
    minutes changed since the last build, recomputed whole.
-#}

{%- set horizon = previous_horizon() %}

with

minutes as {{ inlined() }} (

    select * from {{ ref('int_minute_activity') }}

),

changed_days as (

    select distinct user_id, activity_date
    from minutes
    where dbt_write_id >= {{ horizon }}

),

in_scope as (

    select
        minutes.*,
        {{ dbt.date_trunc('hour', 'minutes.activity_minute') }} as hour_start,
        coalesce(minutes.steps > 0 or minutes.intensity > 0, false) as is_active
    from minutes
    {% if is_incremental() %}
    inner join changed_days
        on minutes.user_id = changed_days.user_id
        and minutes.activity_date = changed_days.activity_date
    {% endif %}

),

hours as (

    select
        user_id,
        activity_date,
        hour_start,
        sum(case when is_active then 1 else 0 end) as active_minutes
    from in_scope
    group by user_id, activity_date, hour_start

),

valid_hours as (

    select
        user_id,
        activity_date,
        count(*) as valid_hours
    from hours
    where active_minutes >= {{ var('valid_hour_min_minutes') }}
    group by user_id, activity_date

),

days as (

    select
        user_id,
        activity_date,
        count(*) as minutes,
        sum(case when is_active then 1 else 0 end) as active_minutes,
        sum(steps) as steps,
        sum(calories_kcal) as calories_kcal,
        sum(case when intensity = 3 then 1 else 0 end) as very_active_minutes,
        sum(case when intensity = 2 then 1 else 0 end) as moderately_active_minutes,
        sum(case when intensity = 1 then 1 else 0 end) as lightly_active_minutes
    from in_scope
    group by user_id, activity_date

),

final as (

    select
        -- ids
        days.user_id,

        -- dates
        days.activity_date,

        -- totals of the minutes
        days.minutes,
        days.steps,
        round(days.calories_kcal, 2) as calories_kcal,
        days.very_active_minutes,
        days.moderately_active_minutes,
        days.lightly_active_minutes,

        -- wear from activity
        days.active_minutes,
        coalesce(valid_hours.valid_hours, 0) as valid_hours,

        -- lineage
        {{ write_id() }} as dbt_write_id

    from days
    left join valid_hours
        on days.user_id = valid_hours.user_id
        and days.activity_date = valid_hours.activity_date

)

select * from final
