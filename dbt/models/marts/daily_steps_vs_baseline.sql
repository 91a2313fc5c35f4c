{{
    config(
        materialized='view',
    )
}}

{#-
    One row per user per local date (daily_user_summary's grain): the day's steps beside the
    user's personal step baseline (user_step_baseline), the day's percent of it and its delta
    from it. Days without a baseline (fewer than var('step_baseline_days') active days) and
    days without steps > 0 (not worn, or no activity data) have no percent: a tracker in a
    drawer is a compliance question, not a drop in activity.

    Every day of a user with a baseline is compared with it, the baseline's own days included
    (is_baseline_period): they centre on 100% by construction, so a chart of drift reads the
    days after them.

    A view: one join and two sums per row. Stored, it would be a second copy of the
    summary's grain whose every row changes whenever the user's baseline does (the 14th
    active day, a late file for an early day).
-#}

with

days as (

    select * from {{ ref('daily_user_summary') }}

),

baselines as (

    select * from {{ ref('user_step_baseline') }}

),

final as (

    select
        -- ids
        cast(days.user_id as {{ dbt.type_string() }}) as user_id,
        cast(days.summary_date as date) as summary_date,

        -- steps
        cast(days.steps as {{ dbt.type_int() }}) as steps,
        cast(coalesce(days.steps > 0, false) as boolean) as is_active_day,

        -- baseline
        cast(baselines.baseline_steps as numeric(10, 1)) as baseline_steps,
        cast(
            coalesce(days.summary_date <= baselines.baseline_end_date, false) as boolean
        ) as is_baseline_period,
        cast(
            case
                when days.steps > 0 and baselines.baseline_steps > 0
                    then round(100.0 * days.steps / baselines.baseline_steps, 1)
            end as numeric(10, 1)
        ) as pct_of_baseline,
        cast(
            case
                when days.steps > 0 then days.steps - baselines.baseline_steps
            end as numeric(10, 1)
        ) as delta_from_baseline

    from days
    left join baselines
        on days.user_id = baselines.user_id

)

select * from final
