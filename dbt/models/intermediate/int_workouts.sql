{{
    config(
        materialized=keyed_materialization(),
        unique_key=['user_id', 'source_format', 'started_at'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook='{{ record_horizon() }}',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['user_id', 'workout_date']},
            {'columns': ['dbt_write_id']},
        ],
    )
}}

{#-
    One row per workout, from every source in one canonical shape: local start and end, the
    local start date it is attributed to, type (as the vendor names it), minutes, km, kcal,
    average and maximum heart rate. A new source is one line in the union.

    A workout is known by user, source and local start time. Per workout the newest load wins
    (an export repeats earlier workouts); within that load, when several rows share a start,
    the one with the most values counts: Withings writes an empty `Multi Sport` row beside
    each GPS-tracked workout. Workouts of different sources are never merged here:
    daily_user_summary takes a day's workouts from one source (source priority).

    Incremental: the workouts that staging rows written since its last build touch, each
    recomputed from all of its rows.
-#}

{%- set horizon = previous_horizon() %}

with

unioned as (

    {{ union_models(
        [
            'stg_whoop__workouts',
            'stg_samsung__exercise',
            'stg_withings__activities',
            'stg_garmin__activities',
        ],
        columns={
            'user_id': dbt.type_string(),
            'source_format': dbt.type_string(),
            'load_id': dbt.type_bigint(),
            'source_row_number': dbt.type_bigint(),
            'started_at': 'timestamp',
            'ended_at': 'timestamp',
            'utc_offset_minutes': dbt.type_int(),
            'workout_date': 'date',
            'workout_type': dbt.type_string(),
            'duration_minutes': decimal_type(),
            'distance_km': decimal_type(),
            'energy_kcal': decimal_type(),
            'avg_heart_rate_bpm': dbt.type_int(),
            'max_heart_rate_bpm': dbt.type_int(),
            'dbt_write_id': dbt.type_bigint(),
        },
    ) }}

),

keyed as {{ inlined() }} (

    -- rows without a user or a start have no place here; the staging tests report them
    select * from unioned
    where user_id is not null
      and started_at is not null

),

changed_workouts as (

    select distinct user_id, source_format, started_at
    from keyed
    where dbt_write_id >= {{ horizon }}

),

in_scope as (

    select keyed.*
    from keyed
    {% if is_incremental() %}
    inner join changed_workouts
        on keyed.user_id = changed_workouts.user_id
        and keyed.source_format = changed_workouts.source_format
        and keyed.started_at = changed_workouts.started_at
    {% endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by user_id, source_format, started_at
            order by
                load_id desc,
                (case when energy_kcal is null then 0 else 1 end)
                + (case when distance_km is null then 0 else 1 end)
                + (case when avg_heart_rate_bpm is null then 0 else 1 end)
                + (case when max_heart_rate_bpm is null then 0 else 1 end) desc,
                source_row_number
        ) as workout_rank
    from in_scope

),

final as (

    select
        -- ids
        user_id,
        source_format,
        load_id,
        source_row_number,

        -- times (local wall clock; the offset where the source gives one)
        started_at,
        ended_at,
        utc_offset_minutes,
        workout_date,

        -- the workout
        workout_type,
        round(duration_minutes, 2) as duration_minutes,
        round(distance_km, 3) as distance_km,
        round(energy_kcal, 1) as energy_kcal,
        avg_heart_rate_bpm,
        max_heart_rate_bpm,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from ranked
    where workout_rank = 1

)

select * from final
