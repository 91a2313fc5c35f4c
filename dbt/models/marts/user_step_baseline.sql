{{
    config(
        materialized='table',
        post_hook='{{ analyze_if_rebuilt() }}',
    )
}}

{#-
    One row per participant: the personal step baseline - the median of the steps on the
    user's first var('step_baseline_days') (14) days with steps > 0 - and the days it spans.
    No baseline until that many such days exist: a user with fewer has a row with a null
    baseline, so "not yet" and "no data" stay apart from a number.

    Days with 0 steps are left out (a tracker left in a drawer records 0), and so are days
    without activity data. The median, not the mean: one very long walk in the first two
    weeks would lift a mean baseline for the rest of the study.

    Rebuilt whole on every run, like participant_compliance: one row per user from the
    summary's days with steps; a late file for an early day can change a baseline, which an
    incremental model would have to notice per user.
-#}

{%- set baseline_days = var('step_baseline_days') %}
{#- The median of n sorted values is the mean of the values ranked these two (one when n is odd). -#}
{%- set lower_median_rank = (baseline_days + 1) // 2 %}
{%- set upper_median_rank = baseline_days // 2 + 1 %}

with

days as (

    select * from {{ ref('daily_user_summary') }}

),

users as (

    select distinct user_id
    from days

),

active_days as (

    select
        user_id,
        summary_date,
        steps,
        row_number() over (partition by user_id order by summary_date) as active_day_number
    from days
    where steps > 0

),

baseline_window as (

    select
        *,
        row_number() over (partition by user_id order by steps, summary_date) as steps_rank
    from active_days
    where active_day_number <= {{ baseline_days }}

),

windows as (

    select
        user_id,
        count(*) as window_days,
        min(summary_date) as first_active_date,
        max(summary_date) as window_end_date,
        avg(
            case
                when steps_rank in ({{ lower_median_rank }}, {{ upper_median_rank }}) then steps
            end
        ) as median_steps
    from baseline_window
    group by user_id

),

active_totals as (

    select
        user_id,
        count(*) as active_days,
        max(summary_date) as last_active_date
    from active_days
    group by user_id

),

final as (

    select
        -- ids
        cast(users.user_id as {{ dbt.type_string() }}) as user_id,

        -- active days
        cast(coalesce(active_totals.active_days, 0) as {{ dbt.type_int() }}) as active_days,
        cast(windows.first_active_date as date) as first_active_date,
        cast(active_totals.last_active_date as date) as last_active_date,

        -- baseline
        cast(
            coalesce(windows.window_days = {{ baseline_days }}, false) as boolean
        ) as has_baseline,
        cast(
            case
                when windows.window_days = {{ baseline_days }}
                    then round(windows.median_steps, 1)
            end as numeric(10, 1)
        ) as baseline_steps,
        cast(
            case when windows.window_days = {{ baseline_days }} then windows.first_active_date end
            as date
        ) as baseline_start_date,
        cast(
            case when windows.window_days = {{ baseline_days }} then windows.window_end_date end
            as date
        ) as baseline_end_date,

        -- lineage
        {{ run_timestamp() }} as dbt_updated_at

    from users
    left join windows
        on users.user_id = windows.user_id
    left join active_totals
        on users.user_id = active_totals.user_id

)

select * from final
