{{
    config(
        materialized=keyed_materialization(),
        unique_key=['user_id', 'activity_date', 'source_format'],
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
    Daily heart rate from every source, one row per user, date and source: mean, minimum,
    maximum and resting heart rate (bpm), null where a source has no such value. Fitbit's
    is computed from its samples (int_heart_rate_daily, as fitbit_heartrate_seconds: its
    resting value is the calmest-half-hour proxy); Google Fit writes a day's mean, minimum and
    maximum, Oura a resting heart rate measured asleep, WHOOP a cycle's resting, mean and
    maximum. daily_user_summary chooses between them per metric (source priority). A new
    source is one line in the union. Per (user, date, source) the newest load wins.

    Incremental: the keys touched since its last build, recomputed.
-#}

{%- set horizon = previous_horizon() %}
{%- set columns = {
    'user_id': dbt.type_string(),
    'source_format': dbt.type_string(),
    'load_id': dbt.type_bigint(),
    'source_row_number': dbt.type_bigint(),
    'activity_date': 'date',
    'mean_bpm': decimal_type(),
    'min_bpm': dbt.type_int(),
    'max_bpm': dbt.type_int(),
    'resting_bpm': decimal_type(),
    'dbt_write_id': dbt.type_bigint(),
} %}

with

unioned as {{ inlined() }} (

    {{ union_models(
        [
            'stg_google_fit__daily',
            'stg_oura__trends',
            'stg_whoop__cycles',
        ],
        columns=columns,
    ) }}
    union all
    -- Fitbit's heart rate, computed from its samples
    select
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast('fitbit_heartrate_seconds' as {{ dbt.type_string() }}) as source_format,
        cast(null as {{ dbt.type_bigint() }}) as load_id,
        cast(null as {{ dbt.type_bigint() }}) as source_row_number,
        cast(activity_date as date) as activity_date,
        cast(mean_bpm as {{ decimal_type() }}) as mean_bpm,
        cast(min_bpm as {{ dbt.type_int() }}) as min_bpm,
        cast(max_bpm as {{ dbt.type_int() }}) as max_bpm,
        cast(resting_bpm as {{ decimal_type() }}) as resting_bpm,
        cast(dbt_write_id as {{ dbt.type_bigint() }}) as dbt_write_id
    from {{ ref('int_heart_rate_daily') }}

),

keyed as {{ inlined() }} (

    -- rows without a user or a date have no place here; the staging tests report them
    select * from unioned
    where user_id is not null
      and activity_date is not null

),

changed_keys as (

    select distinct user_id, activity_date, source_format
    from keyed
    where dbt_write_id >= {{ horizon }}

),

in_scope as (

    select keyed.*
    from keyed
    {% if is_incremental() %}
    inner join changed_keys
        on keyed.user_id = changed_keys.user_id
        and keyed.activity_date = changed_keys.activity_date
        and keyed.source_format = changed_keys.source_format
    {% endif %}

),

deduplicated as (

    {{ newest_load_rows(
        'in_scope',
        key_columns=['user_id', 'activity_date', 'source_format'],
        value_columns=['mean_bpm', 'min_bpm', 'max_bpm', 'resting_bpm'],
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
        activity_date,

        -- heart rate
        round(mean_bpm, 1) as mean_bpm,
        min_bpm,
        max_bpm,
        round(resting_bpm, 1) as resting_bpm,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from deduplicated

)

select * from final
