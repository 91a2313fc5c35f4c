{{ config(materialized='view') }}

{#-
    Minute-level sleep as a daily sleep source (fitbit_minute_sleep) in stg_sleep's shape: per
    user and wake-up date, the episodes ending that day. daily_user_summary takes minutes
    asleep from it on days without a sleepDay row (source priority). A view: one row per
    user-day over int_sleep_episodes, whose newest write id it carries for stg_sleep's
    incremental runs.
-#}

with

episodes as (

    select * from {{ ref('int_sleep_episodes') }}

),

daily as (

    select
        -- ids
        user_id,
        source_format,
        max(load_id) as load_id,
        cast(null as {{ dbt.type_bigint() }}) as source_row_number,

        -- dates
        sleep_date,

        -- sleep
        count(*) as sleep_records,
        sum(minutes_asleep) as minutes_asleep,
        sum(minutes_in_bed) as minutes_in_bed,

        -- lineage
        max(dbt_write_id) as dbt_write_id

    from episodes
    group by user_id, source_format, sleep_date

)

select * from daily
