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
    Heart rate per user-minute: samples, their sum, minimum and maximum (bpm). A minute with at
    least one sample is a worn minute (RAPIDS' data yield). The samples come from the newest
    load of each user-day. Incremental: the user-days of loads new since the last build
    (macros/intraday.sql), each recomputed whole.
-#}

{%- set source_formats = ['fitbit_heartrate_seconds'] %}
{%- set work = intraday_work(source_formats, previous_horizon()) %}

with

winning_loads as (

    {{ work.winners }}

),

samples as (

    select samples.*
    from {{ ref('stg_fitbit__heartrate_seconds') }} as samples
    inner join winning_loads
        on samples.load_id = winning_loads.load_id
        and samples.user_id = winning_loads.user_id
        and samples.activity_date = winning_loads.activity_date
    where {{ in_load_ids('samples.load_id', work.load_ids) }}
      and samples.bpm is not null

),

minutes as (

    select
        -- ids
        user_id,

        -- times
        activity_date,
        {{ dbt.date_trunc('minute', 'sampled_at') }} as minute_start,

        -- heart rate
        count(*) as samples,
        sum(bpm) as bpm_sum,
        min(bpm) as min_bpm,
        max(bpm) as max_bpm,

        -- lineage
        max(load_id) as load_id

    from samples
    group by user_id, activity_date, {{ dbt.date_trunc('minute', 'sampled_at') }}

),

final as (

    select
        *,
        {{ write_id() }} as dbt_write_id
    from minutes

)

select * from final
