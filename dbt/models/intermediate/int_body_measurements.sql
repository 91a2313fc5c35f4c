{{
    config(
        materialized=keyed_materialization(),
        unique_key=['user_id', 'log_id'],
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
    One row per body measurement log (Fitbit weightLogInfo; key user and log id, as LogId
    repeats across users): weight in kg, fat %, BMI, manual or from a scale. A log without a
    weight is kept and flagged (has_weight false). Per log the newest load wins, exact
    duplicates collapse. Incremental: the logs written to staging since the last build.
-#}

{%- set horizon = previous_horizon() %}

with

logs as {{ inlined() }} (

    select * from {{ ref('stg_fitbit__weight_log') }}
    where user_id is not null
      and log_id is not null

),

changed_logs as (

    select distinct user_id, log_id
    from logs
    where dbt_write_id >= {{ horizon }}

),

in_scope as (

    select logs.*
    from logs
    {% if is_incremental() %}
    inner join changed_logs
        on logs.user_id = changed_logs.user_id
        and logs.log_id = changed_logs.log_id
    {% endif %}

),

deduplicated as (

    {{ newest_load_rows(
        'in_scope',
        key_columns=['user_id', 'log_id'],
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
