{{
    config(
        materialized=keyed_materialization(),
        unique_key=['user_id', 'activity_hour'],
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
    One row per user per local hour: steps, kcal and intensity from Fitbit's hourly files.
    They are separate records from the daily files (on Fitbit's own export, the hours add up
    to the day's total on only 775 of 934 user-days): daily_user_summary shows both and never
    derives one from the other. Per user, hour and file the newest load wins; rows that
    conflict within it are counted in conflicting_rows (its test reports them).

    Incremental: the hours that staging rows written since the last build touch, recomputed
    from all of their rows.
-#}

{%- set horizon = previous_horizon() %}

with

unioned as (

    {{ union_models(
        [
            'stg_fitbit__hourly_steps',
            'stg_fitbit__hourly_calories',
            'stg_fitbit__hourly_intensities',
        ],
        columns={
            'user_id': dbt.type_string(),
            'source_format': dbt.type_string(),
            'load_id': dbt.type_bigint(),
            'source_row_number': dbt.type_bigint(),
            'activity_hour': dbt.type_timestamp(),
            'steps': dbt.type_int(),
            'calories_kcal': dbt.type_int(),
            'total_intensity': dbt.type_int(),
            'average_intensity': decimal_type(),
            'dbt_write_id': dbt.type_bigint(),
        },
    ) }}

),

keyed as {{ inlined() }} (

    -- rows without a user or an hour have no place here; the staging tests report them
    select * from unioned
    where user_id is not null
      and activity_hour is not null

),

changed_hours as (

    select distinct user_id, activity_hour
    from keyed
    where dbt_write_id >= {{ horizon }}

),

in_scope as (

    select keyed.*
    from keyed
    {% if is_incremental() %}
    inner join changed_hours
        on keyed.user_id = changed_hours.user_id
        and keyed.activity_hour = changed_hours.activity_hour
    {% endif %}

),

deduplicated as (

    {{ newest_load_rows(
        'in_scope',
        key_columns=['user_id', 'activity_hour', 'source_format'],
        value_columns=['steps', 'calories_kcal', 'total_intensity', 'average_intensity'],
    ) }}

),

hourly as (

    -- each metric has one source file; several rows of one file for an hour conflict
    select
        user_id,
        activity_hour,
        max(steps) as steps,
        max(calories_kcal) as calories_kcal,
        max(total_intensity) as total_intensity,
        max(average_intensity) as average_intensity,
        count(*) - count(distinct source_format) as conflicting_rows
    from deduplicated
    group by user_id, activity_hour

),

final as (

    select
        -- ids
        cast(user_id as {{ dbt.type_string() }}) as user_id,

        -- times
        cast(activity_hour as {{ dbt.type_timestamp() }}) as activity_hour,
        cast(activity_hour as date) as activity_date,

        -- activity
        cast(steps as {{ dbt.type_int() }}) as steps,
        cast(calories_kcal as {{ dbt.type_int() }}) as calories_kcal,
        cast(total_intensity as {{ dbt.type_int() }}) as total_intensity,
        cast(average_intensity as {{ dbt.type_numeric() }}) as average_intensity,
        cast(coalesce(steps > 0 or total_intensity > 0, false) as boolean) as is_active,

        -- quality
        cast(conflicting_rows as {{ dbt.type_int() }}) as conflicting_rows,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_updated_at

    from hourly

)

select * from final
