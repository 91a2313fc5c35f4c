{{
    config(
        materialized=keyed_materialization(),
        unique_key=['user_id', 'source_format', 'log_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook='{{ record_horizon() }}',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['user_id', 'measured_date']},
            {'columns': ['dbt_write_id']},
        ],
    )
}}

{#-
    One row per body measurement log (Fitbit weightLogInfo; key user, source and log id, as
    LogId repeats across users): weight in kg, fat %, BMI, manual or from a scale. A log
    without a weight is kept and flagged (has_weight false). Google Fit's daily average
    weight is a log of its own per day (log id: the date; no time of day), on the days it has
    one. Per log the newest load wins, exact duplicates collapse. Incremental: the logs
    written to staging since the last build.
-#}

{%- set horizon = previous_horizon() %}

with

logs as {{ inlined() }} (

    select
        user_id,
        log_id,
        source_format,
        load_id,
        source_row_number,
        logged_at,
        measured_date,
        weight_kg,
        weight_pounds,
        fat_percent,
        bmi,
        is_manual_report,
        dbt_write_id
    from {{ ref('stg_fitbit__weight_log') }}
    where user_id is not null
      and log_id is not null
    union all
    select
        user_id,
        cast(activity_date as {{ dbt.type_string() }}) as log_id,
        source_format,
        load_id,
        source_row_number,
        cast(null as timestamp) as logged_at,
        activity_date as measured_date,
        weight_kg,
        cast(null as {{ decimal_type() }}) as weight_pounds,
        cast(null as {{ decimal_type() }}) as fat_percent,
        cast(null as {{ decimal_type() }}) as bmi,
        cast(null as boolean) as is_manual_report,
        dbt_write_id
    from {{ ref('stg_google_fit__daily') }}
    where user_id is not null
      and activity_date is not null
      and weight_kg is not null

),

changed_logs as (

    select distinct user_id, source_format, log_id
    from logs
    where dbt_write_id >= {{ horizon }}

),

in_scope as (

    select logs.*
    from logs
    {% if is_incremental() %}
    inner join changed_logs
        on logs.user_id = changed_logs.user_id
        and logs.source_format = changed_logs.source_format
        and logs.log_id = changed_logs.log_id
    {% endif %}

),

deduplicated as (

    {{ newest_load_rows(
        'in_scope',
        key_columns=['user_id', 'source_format', 'log_id'],
        value_columns=['logged_at', 'weight_kg', 'weight_pounds', 'fat_percent', 'bmi', 'is_manual_report'],
    ) }}

),

final as (

    select
        -- ids
        user_id,
        log_id,
        source_format,
        load_id,
        source_row_number,

        -- times
        logged_at,
        measured_date,

        -- body
        round(weight_kg, 2) as weight_kg,
        round(weight_pounds, 2) as weight_pounds,
        fat_percent,
        round(bmi, 2) as bmi,
        is_manual_report,
        weight_kg is not null as has_weight,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from deduplicated

)

select * from final
