{{ config(materialized='view') }}

{#-
    Samsung Health's step_daily_trend as a daily-activity source (samsung_step_daily) in
    stg_daily_activity's shape: one row per user, local date and load, chosen among the
    day's device rows by one rule, so that steps are never counted twice:

    1. Samsung's own all-devices row (source_type -2), which merges the phone and the
       watch (a walk both counted once); when a day has several of them (two phones each
       wrote one), the one with the most steps;
    2. without one, the device with the most steps that day.

    Per-device rows are never added up. A view over stg_samsung__step_daily (one row per
    device and day), carrying its write id for stg_daily_activity's incremental runs.
-#}

with

device_days as (

    select * from {{ ref('stg_samsung__step_daily') }}
    where user_id is not null
      and activity_date is not null
      and steps is not null

),

ranked as (

    select
        *,
        row_number() over (
            partition by user_id, activity_date, load_id
            order by
                case when is_all_devices then 0 else 1 end,
                steps desc,
                updated_at desc,
                source_row_number
        ) as day_rank
    from device_days

),

daily as (

    select
        -- ids
        user_id,
        source_format,
        load_id,
        source_row_number,
        device_id,
        source_type,

        -- dates
        activity_date,

        -- activity (the step file's calories are those of the steps, not the day's energy)
        steps,
        distance_km,
        cast(null as {{ dbt.type_int() }}) as very_active_minutes,
        cast(null as {{ dbt.type_int() }}) as moderately_active_minutes,
        cast(null as {{ dbt.type_int() }}) as lightly_active_minutes,
        cast(null as {{ dbt.type_int() }}) as sedentary_minutes,
        cast(null as {{ dbt.type_int() }}) as calories_kcal,

        -- lineage
        dbt_write_id

    from ranked
    where day_rank = 1

)

select * from daily
