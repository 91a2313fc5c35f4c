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

{#- WHOOP's physiological_cycles.csv, typed: one row per cycle - from falling asleep to falling
    asleep again - feeding daily activity (kcal) and daily heart rate (resting, mean, max).
    Times are local wall-clock times; `Cycle timezone` (`UTC-04:00`) is their offset and can
    change between rows. A cycle belongs to the day its sleep ends on (Wake onset); without a
    wake time (no sleep recorded, or the open current cycle), to the date 12 hours after its
    start, so an evening start counts for the next day. The open cycle (no end time) is kept
    with its values so far: the next export replaces it. The cycle's sleep columns are not
    read here (sleeps.csv has every sleep and nap). Incremental: appends new loads. -#}

with

source as (

    {{ single_user_rows('whoop_cycles', 'whoop_cycles') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'whoop_cycles' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- times (local) and their offset
        {{ parse_iso_timestamp('cycle_start_time') }} as cycle_started_at,
        {{ parse_iso_timestamp('cycle_end_time') }} as cycle_ended_at,
        {{ offset_minutes('cycle_timezone') }} as utc_offset_minutes,
        {{ parse_iso_timestamp('sleep_onset') }} as sleep_onset_at,
        {{ parse_iso_timestamp('wake_onset') }} as wake_onset_at,
        {{ to_text('cycle_end_time') }} is null as is_open_cycle,

        -- the day
        {{ to_numeric('energy_burned_cal') }} as energy_kcal,
        {{ to_numeric('day_strain') }} as day_strain,
        {{ to_integer('recovery_score') }} as recovery_score_percent,

        -- heart rate
        {{ to_numeric('resting_heart_rate_bpm') }} as resting_bpm,
        {{ to_numeric('average_hr_bpm') }} as mean_bpm,
        {{ to_numeric('max_hr_bpm') }} as max_bpm_value,
        {{ to_numeric('heart_rate_variability_ms') }} as hrv_ms,

        -- the text as written, for the parse check
        cycle_start_time as cycle_start_text,
        cycle_end_time as cycle_end_text,
        cycle_timezone as cycle_timezone_text,
        sleep_onset as sleep_onset_text,
        wake_onset as wake_onset_text,
        energy_burned_cal as energy_text,
        day_strain as day_strain_text,
        recovery_score as recovery_text,
        resting_heart_rate_bpm as resting_text,
        average_hr_bpm as mean_text,
        max_hr_bpm as max_text,
        heart_rate_variability_ms as hrv_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        cycle_started_at,
        cycle_ended_at,
        utc_offset_minutes,
        sleep_onset_at,
        wake_onset_at,
        is_open_cycle,
        cast(coalesce(
            cast(wake_onset_at as date),
            cast({{ plus_minutes('cycle_started_at', 720) }} as date)
        ) as date) as activity_date,

        -- daily activity: the cycle's energy (cal means kcal); WHOOP counts no steps
        cast(null as {{ dbt.type_int() }}) as steps,
        cast(null as {{ decimal_type() }}) as distance_km,
        cast(null as {{ dbt.type_int() }}) as very_active_minutes,
        cast(null as {{ dbt.type_int() }}) as moderately_active_minutes,
        cast(null as {{ dbt.type_int() }}) as lightly_active_minutes,
        cast(null as {{ dbt.type_int() }}) as sedentary_minutes,
        cast(round(energy_kcal) as {{ dbt.type_int() }}) as calories_kcal,
        day_strain,
        recovery_score_percent,

        -- daily heart rate
        mean_bpm,
        cast(null as {{ dbt.type_int() }}) as min_bpm,
        cast(round(max_bpm_value) as {{ dbt.type_int() }}) as max_bpm,
        resting_bpm,
        hrv_ms,

        {{ parse_errors([
            ('Cycle start time', 'cycle_start_text', 'cycle_started_at'),
            ('Cycle end time', 'cycle_end_text', 'cycle_ended_at'),
            ('Cycle timezone', 'cycle_timezone_text', 'utc_offset_minutes'),
            ('Sleep onset', 'sleep_onset_text', 'sleep_onset_at'),
            ('Wake onset', 'wake_onset_text', 'wake_onset_at'),
            ('Energy burned (cal)', 'energy_text', 'energy_kcal'),
            ('Day Strain', 'day_strain_text', 'day_strain'),
            ('Recovery score %', 'recovery_text', 'recovery_score_percent'),
            ('Resting heart rate (bpm)', 'resting_text', 'resting_bpm'),
            ('Average HR (bpm)', 'mean_text', 'mean_bpm'),
            ('Max HR (bpm)', 'max_text', 'max_bpm_value'),
            ('Heart rate variability (ms)', 'hrv_text', 'hrv_ms'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
