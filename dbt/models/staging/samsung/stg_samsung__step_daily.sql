{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['load_id']},
            {'columns': ['dbt_write_id']},
            {'columns': ['user_id', 'activity_date']},
        ],
    )
}}

{#- Samsung Health's step_daily_trend file, typed: one row per day and device. `day_time` is the
    local date as its midnight in UTC (epoch ms). source_type -2 is Samsung's own total over
    all devices (merged, not added up); 0 is the phone, other values a watch or band. Which
    row is the day's is decided in int_samsung_daily_steps (one documented rule); here every
    row is kept. `calorie` is the energy of the steps alone, not the day's. Incremental:
    appends the loads not staged yet. -#}

with

source as (

    {{ single_user_rows('samsung_step_daily', 'samsung_step_daily') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'samsung_step_daily' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,
        {{ to_text('datauuid') }} as record_id,
        {{ to_text('deviceuuid') }} as device_id,
        {{ to_integer('source_type') }} as source_type,

        -- dates
        {{ to_bigint('day_time') }} as day_time_ms,
        {{ parse_iso_timestamp('update_time') }} as updated_at,

        -- activity (metres, kcal)
        {{ to_integer('count') }} as steps,
        {{ to_numeric('distance') }} as distance_m,
        {{ to_numeric('calorie') }} as step_calories_kcal,

        -- the text as written, for the parse check
        source_type as source_type_text,
        day_time as day_time_text,
        update_time as update_time_text,
        count as steps_text,
        distance as distance_text,
        calorie as calorie_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        record_id,
        device_id,
        source_type,
        source_type = -2 as is_all_devices,
        {{ epoch_ms_to_date('day_time_ms') }} as activity_date,
        updated_at,
        steps,
        round({{ meters_to_km('distance_m') }}, 4) as distance_km,
        step_calories_kcal,

        {{ parse_errors([
            ('source_type', 'source_type_text', 'source_type'),
            ('day_time', 'day_time_text', 'day_time_ms'),
            ('update_time', 'update_time_text', 'updated_at'),
            ('count', 'steps_text', 'steps'),
            ('distance', 'distance_text', 'distance_m'),
            ('calorie', 'calorie_text', 'step_calories_kcal'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
