{{
    config(
        materialized=keyed_materialization(),
        schema='staging',
        unique_key=['user_id', 'sleep_date', 'source_format'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook='{{ record_horizon() }}',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['user_id', 'sleep_date']},
            {'columns': ['dbt_write_id']},
        ],
    )
}}

{#-
    Every sleep source in one canonical shape (minutes, attributed to the local date of
    waking), deduplicated: per (user, date, source format) the newest load's rows, exact
    duplicates collapsed (Fitbit's sleepDay file has some). The seed's public name, kept in
    schema staging; one row per user, date and source format. Minute-level sleep arrives as
    its own source (fitbit_minute_sleep), so daily_user_summary can take minutes asleep from
    it on days without a sleepDay row; sleep periods (WHOOP, Samsung, Withings) arrive added
    up per wake-up day (int_sleep_from_periods), one source per format. A new source is one
    line in the union.

    Incremental like stg_daily_activity: the keys touched since the last build, recomputed.
-#}

{%- set horizon = previous_horizon() %}

with

unioned as (

    {{ union_models(
        [
            'stg_fitbit__sleep_day',
            'stg_canonical__sleep',
            'int_sleep_from_minutes',
            'stg_oura__trends',
            'int_sleep_from_periods',
        ],
        columns={
            'user_id': dbt.type_string(),
            'source_format': dbt.type_string(),
            'load_id': dbt.type_bigint(),
            'source_row_number': dbt.type_bigint(),
            'sleep_date': 'date',
            'sleep_records': dbt.type_int(),
            'minutes_asleep': dbt.type_int(),
            'minutes_in_bed': dbt.type_int(),
            'dbt_write_id': dbt.type_bigint(),
        },
    ) }}

),

keyed as {{ inlined() }} (

    -- rows without a user or a date have no place here; the staging tests report them
    select * from unioned
    where user_id is not null
      and sleep_date is not null

),

changed_keys as (

    select distinct
        user_id,
        sleep_date,
        source_format
    from keyed
    where dbt_write_id >= {{ horizon }}

),

in_scope as (

    select keyed.*
    from keyed
    {% if is_incremental() %}
    inner join changed_keys
        on keyed.user_id = changed_keys.user_id
        and keyed.sleep_date = changed_keys.sleep_date
        and keyed.source_format = changed_keys.source_format
    {% endif %}

),

deduplicated as (

    {{ newest_load_rows(
        'in_scope',
        key_columns=['user_id', 'sleep_date', 'source_format'],
        value_columns=['sleep_records', 'minutes_asleep', 'minutes_in_bed'],
    ) }}

),

final as (

    select
        -- ids
        user_id,
        source_format,
        load_id,
        source_row_number,

        -- dates
        sleep_date,

        -- sleep
        sleep_records,
        minutes_asleep,
        minutes_in_bed,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from deduplicated

)

select * from final
