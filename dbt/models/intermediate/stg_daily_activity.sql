{{
    config(
        materialized=keyed_materialization(),
        schema='staging',
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
    Every daily-activity source in one canonical shape (km, minutes, kcal), deduplicated: per
    (user, date, source format) the newest load's rows, exact duplicates collapsed. The seed's
    public name, kept in schema staging; the grain is one row per user, date and source format
    (daily_user_summary chooses between sources). A new source is one line in the union.

    Incremental: the keys that staging rows written since this model's last build touch
    (macros/incremental.sql), each recomputed from all of its rows.
-#}

{%- set horizon = previous_horizon() %}

with

unioned as (

    {{ union_models(
        [
            'stg_fitbit__daily_activity',
            'stg_fitbit__daily_steps',
            'stg_fitbit__daily_calories',
            'stg_fitbit__daily_intensities',
            'stg_canonical__daily_activity',
            'stg_google_fit__daily',
            'stg_oura__trends',
            'stg_whoop__cycles',
            'int_samsung_daily_steps',
            'stg_withings__aggregates_steps',
            'stg_withings__aggregates_distance',
        ],
        columns={
            'user_id': dbt.type_string(),
            'source_format': dbt.type_string(),
            'load_id': dbt.type_bigint(),
            'source_row_number': dbt.type_bigint(),
            'activity_date': 'date',
            'steps': dbt.type_int(),
            'distance_km': decimal_type(),
            'very_active_minutes': dbt.type_int(),
            'moderately_active_minutes': dbt.type_int(),
            'lightly_active_minutes': dbt.type_int(),
            'sedentary_minutes': dbt.type_int(),
            'calories_kcal': dbt.type_int(),
            'dbt_write_id': dbt.type_bigint(),
        },
    ) }}

),

keyed as {{ inlined() }} (

    -- rows without a user or a date have no place here; the staging tests report them
    select * from unioned
    where user_id is not null
      and activity_date is not null

),

changed_keys as (

    select distinct
        user_id,
        activity_date,
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
        and keyed.activity_date = changed_keys.activity_date
        and keyed.source_format = changed_keys.source_format
    {% endif %}

),

deduplicated as (

    {{ newest_load_rows(
        'in_scope',
        key_columns=['user_id', 'activity_date', 'source_format'],
        value_columns=[
            'steps',
            'distance_km',
            'very_active_minutes',
            'moderately_active_minutes',
            'lightly_active_minutes',
            'sedentary_minutes',
            'calories_kcal',
        ],
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

        -- activity
        steps,
        round(distance_km, 3) as distance_km,
        very_active_minutes,
        moderately_active_minutes,
        lightly_active_minutes,
        sedentary_minutes,
        calories_kcal,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from deduplicated

)

select * from final
