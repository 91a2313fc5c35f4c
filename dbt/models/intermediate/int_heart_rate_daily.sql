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
    Heart rate per user-day: the mean, minimum and maximum of the day's samples, a resting
    proxy, and wear as RAPIDS defines data yield - a valid minute has at least one sample, a
    valid hour at least var('valid_hour_min_minutes') (30) valid minutes.

    Resting proxy: the mean of the day's var('resting_heart_rate_lowest_minutes') (30) lowest
    minute means, on days with at least var('resting_heart_rate_min_minutes') (60) minutes of
    heart rate (else null). It tracks the calmest half hour of the day, usually asleep; it is
    not Fitbit's own (unpublished) resting heart rate.

    Incremental: the user-days whose minutes changed since the last build, recomputed whole.
-#}

{%- set horizon = previous_horizon() %}

with

minutes as {{ inlined() }} (

    select * from {{ ref('int_heart_rate_minutes') }}

),

changed_days as (

    select distinct user_id, activity_date
    from minutes
    where dbt_write_id >= {{ horizon }}

),

in_scope as (

    select minutes.*
    from minutes
    {% if is_incremental() %}
    inner join changed_days
        on minutes.user_id = changed_days.user_id
        and minutes.activity_date = changed_days.activity_date
    {% endif %}

),

ranked as (

    select
        *,
        bpm_sum * 1.0 / samples as mean_bpm,
        row_number() over (
            partition by user_id, activity_date
            order by bpm_sum * 1.0 / samples, minute_start
        ) as calm_rank,
        {{ dbt.date_trunc('hour', 'minute_start') }} as hour_start
    from in_scope

),

hours as (

    select
        user_id,
        activity_date,
        hour_start,
        count(*) as valid_minutes
    from ranked
    group by user_id, activity_date, hour_start

),

valid_hours as (

    select
        user_id,
        activity_date,
        count(*) as valid_hours
    from hours
    where valid_minutes >= {{ var('valid_hour_min_minutes') }}
    group by user_id, activity_date

),

days as (

    select
        user_id,
        activity_date,
        sum(samples) as samples,
        sum(bpm_sum) * 1.0 / sum(samples) as mean_bpm,
        min(min_bpm) as min_bpm,
        max(max_bpm) as max_bpm,
        count(*) as valid_minutes,
        avg(
            case when calm_rank <= {{ var('resting_heart_rate_lowest_minutes') }} then mean_bpm end
        ) as calmest_minutes_mean_bpm
    from ranked
    group by user_id, activity_date

),

final as (

    select
        -- ids
        days.user_id,

        -- dates
        days.activity_date,

        -- heart rate
        days.samples,
        round(days.mean_bpm, 1) as mean_bpm,
        days.min_bpm,
        days.max_bpm,
        case
            when days.valid_minutes >= {{ var('resting_heart_rate_min_minutes') }}
                then round(days.calmest_minutes_mean_bpm, 1)
        end as resting_bpm,

        -- wear
        days.valid_minutes,
        coalesce(valid_hours.valid_hours, 0) as valid_hours,

        -- lineage
        {{ write_id() }} as dbt_write_id

    from days
    left join valid_hours
        on days.user_id = valid_hours.user_id
        and days.activity_date = valid_hours.activity_date

)

select * from final
