{{
    config(
        materialized='table',
        post_hook='{{ analyze_if_rebuilt() }}',
    )
}}

{#-
    One row per participant: what a study coordinator checks every week. First and last day
    with device data, the days with data, the valid days (daily_user_summary.is_valid_day,
    RAPIDS' data yield) and their share of the days from the first to the last day, and how
    long ago the last data came. Rebuilt whole on every run: one row per user, from the
    summary's user-days.
-#}

with

days as (

    select * from {{ ref('daily_user_summary') }}
    where has_device_data

),

per_user as (

    select
        user_id,
        min(summary_date) as first_data_date,
        max(summary_date) as last_data_date,
        count(*) as days_with_data,
        sum(case when is_valid_day then 1 else 0 end) as valid_days,
        sum(case when has_heart_rate then 1 else 0 end) as days_with_heart_rate
    from days
    group by user_id

),

final as (

    select
        -- ids
        cast(user_id as {{ dbt.type_string() }}) as user_id,

        -- participation
        cast(first_data_date as date) as first_data_date,
        cast(last_data_date as date) as last_data_date,
        cast({{ dbt.datediff('first_data_date', 'last_data_date', 'day') }} + 1 as {{ dbt.type_int() }})
            as days_in_window,
        cast(days_with_data as {{ dbt.type_int() }}) as days_with_data,
        cast(days_with_heart_rate as {{ dbt.type_int() }}) as days_with_heart_rate,

        -- compliance
        cast(valid_days as {{ dbt.type_int() }}) as valid_days,
        cast(
            round(
                valid_days * 1.0 / ({{ dbt.datediff('first_data_date', 'last_data_date', 'day') }} + 1),
                4
            ) as numeric(6, 4)
        ) as valid_day_share,
        cast(current_date as date) as as_of_date,
        cast({{ dbt.datediff('last_data_date', 'current_date', 'day') }} as {{ dbt.type_int() }})
            as days_since_last_data,

        -- lineage
        {{ run_timestamp() }} as dbt_updated_at

    from per_user

)

select * from final
