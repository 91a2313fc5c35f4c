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
    Activity per user-minute: steps, kcal, intensity (0 sedentary … 3 very active) and METs
    (a real number, 1.0 at rest). Fitbit writes the same minutes twice, in narrow files (one
    row per minute) and wide ones (a column per minute of an hour): each value comes from the
    narrow file when it has the minute, else from the wide one. Per user-day and file, the
    newest load wins. Incremental: the user-days of loads new since the last build
    (macros/intraday.sql), each recomputed whole.
-#}

{%- set source_formats = [
    'fitbit_minute_steps',
    'fitbit_minute_calories',
    'fitbit_minute_intensities',
    'fitbit_minute_mets',
    'fitbit_minute_steps_wide',
    'fitbit_minute_calories_wide',
    'fitbit_minute_intensities_wide',
] %}
{%- set work = intraday_work(source_formats, previous_horizon()) %}

with

winning_loads as (

    {{ work.winners }}

),

minute_rows as (

    {{ union_models(
        [
            'stg_fitbit__minute_steps',
            'stg_fitbit__minute_calories',
            'stg_fitbit__minute_intensities',
            'stg_fitbit__minute_mets',
            'stg_fitbit__minute_steps_wide',
            'stg_fitbit__minute_calories_wide',
            'stg_fitbit__minute_intensities_wide',
        ],
        columns={
            'user_id': dbt.type_string(),
            'source_format': dbt.type_string(),
            'load_id': dbt.type_bigint(),
            'activity_minute': dbt.type_timestamp(),
            'activity_date': 'date',
            'steps': dbt.type_int(),
            'calories_kcal': decimal_type(),
            'intensity': dbt.type_int(),
            'mets': decimal_type(),
        },
    ) }}

),

winning_rows as (

    select minute_rows.*
    from minute_rows
    inner join winning_loads
        on minute_rows.load_id = winning_loads.load_id
        and minute_rows.user_id = winning_loads.user_id
        and minute_rows.activity_date = winning_loads.activity_date
        and minute_rows.source_format = winning_loads.source_format
    where {{ in_load_ids('minute_rows.load_id', work.load_ids) }}

),

per_minute as (

    select
        -- ids
        user_id,

        -- times
        activity_date,
        activity_minute,

        -- activity: the narrow file's value, else the wide file's
        coalesce(
            max(case when source_format = 'fitbit_minute_steps' then steps end),
            max(case when source_format = 'fitbit_minute_steps_wide' then steps end)
        ) as steps,
        coalesce(
            max(case when source_format = 'fitbit_minute_calories' then calories_kcal end),
            max(case when source_format = 'fitbit_minute_calories_wide' then calories_kcal end)
        ) as calories_kcal,
        coalesce(
            max(case when source_format = 'fitbit_minute_intensities' then intensity end),
            max(case when source_format = 'fitbit_minute_intensities_wide' then intensity end)
        ) as intensity,
        max(mets) as mets

    from winning_rows
    group by user_id, activity_date, activity_minute
    -- rows whose time did not parse (a null minute) drop out here: the minute is parsed once
    -- per row as the grouping key, where a filter on the rows would parse it once more
    having count(activity_minute) > 0

),

final as (

    select
        *,
        {{ write_id() }} as dbt_write_id
    from per_minute

)

select * from final
