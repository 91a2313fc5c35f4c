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

{#- Oura's trends export (oura_*_trends.csv, oura.csv), typed: one row per day, feeding daily
    activity, sleep and daily heart rate. Durations are seconds (→ minutes), `None` is missing
    (to_text), rows may be out of date order (the date decides, not the line). The day's
    sleep is the night that ends on it (Bedtime End falls on `date`). The user is the file's
    folder or --user-id. Incremental: appends the loads not staged yet. -#}

with

source as (

    {{ single_user_rows('oura_trends', 'oura_trends') }}

),

typed as (

    select
        -- ids
        {{ to_text('_user_id_hint') }} as user_id,
        'oura_trends' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- dates
        {{ parse_iso_date('date') }} as activity_date,
        {{ parse_iso_timestamp('bedtime_start') }} as bedtime_start_at,
        {{ parse_iso_timestamp('bedtime_end') }} as bedtime_end_at,

        -- activity (seconds of each activity level, kcal)
        {{ to_integer('steps') }} as steps,
        {{ to_numeric('high_activity_time') }} as high_activity_seconds,
        {{ to_numeric('medium_activity_time') }} as medium_activity_seconds,
        {{ to_numeric('low_activity_time') }} as low_activity_seconds,
        {{ to_numeric('inactive_time') }} as inactive_seconds,
        {{ to_numeric('total_burn') }} as total_burn_kcal,

        -- sleep (seconds)
        {{ to_numeric('total_sleep_duration') }} as sleep_seconds,
        {{ to_numeric('total_bedtime') }} as bedtime_seconds,

        -- heart rate during sleep
        {{ to_numeric('average_resting_heart_rate') }} as average_resting_bpm,
        {{ to_numeric('lowest_resting_heart_rate') }} as lowest_resting_bpm,

        -- scores
        {{ to_integer('readiness_score') }} as readiness_score,
        {{ to_integer('sleep_score') }} as sleep_score,
        {{ to_integer('activity_score') }} as activity_score,

        -- the text as written, for the parse check
        date as date_text,
        bedtime_start as bedtime_start_text,
        bedtime_end as bedtime_end_text,
        steps as steps_text,
        high_activity_time as high_activity_text,
        medium_activity_time as medium_activity_text,
        low_activity_time as low_activity_text,
        inactive_time as inactive_text,
        total_burn as total_burn_text,
        total_sleep_duration as sleep_text,
        total_bedtime as bedtime_text,
        average_resting_heart_rate as average_resting_text,
        lowest_resting_heart_rate as lowest_resting_text,
        readiness_score as readiness_text,
        sleep_score as sleep_score_text,
        activity_score as activity_score_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        activity_date,
        -- the night that ends on this day
        activity_date as sleep_date,
        bedtime_start_at,
        bedtime_end_at,

        -- daily activity (Oura's activity levels as intensity minutes; rest time, which
        -- includes sleep, and non-wear time are not in the canonical shape)
        steps,
        cast(null as {{ decimal_type() }}) as distance_km,
        {{ whole_minutes(seconds_to_minutes('high_activity_seconds')) }} as very_active_minutes,
        {{ whole_minutes(seconds_to_minutes('medium_activity_seconds')) }} as moderately_active_minutes,
        {{ whole_minutes(seconds_to_minutes('low_activity_seconds')) }} as lightly_active_minutes,
        {{ whole_minutes(seconds_to_minutes('inactive_seconds')) }} as sedentary_minutes,
        cast(round(total_burn_kcal) as {{ dbt.type_int() }}) as calories_kcal,

        -- sleep
        case when sleep_seconds is not null then 1 end as sleep_records,
        {{ whole_minutes(seconds_to_minutes('sleep_seconds')) }} as minutes_asleep,
        {{ whole_minutes(seconds_to_minutes('bedtime_seconds')) }} as minutes_in_bed,

        -- daily heart rate: Oura measures resting heart rate during sleep; its lowest
        -- five-minute average is the resting heart rate, the night's mean is kept beside it
        cast(null as {{ decimal_type() }}) as mean_bpm,
        cast(null as {{ dbt.type_int() }}) as min_bpm,
        cast(null as {{ dbt.type_int() }}) as max_bpm,
        lowest_resting_bpm as resting_bpm,
        average_resting_bpm as sleeping_mean_bpm,

        -- scores
        readiness_score,
        sleep_score,
        activity_score,

        {{ parse_errors([
            ('date', 'date_text', 'activity_date'),
            ('Bedtime Start', 'bedtime_start_text', 'bedtime_start_at'),
            ('Bedtime End', 'bedtime_end_text', 'bedtime_end_at'),
            ('Steps', 'steps_text', 'steps'),
            ('High Activity Time', 'high_activity_text', 'high_activity_seconds'),
            ('Medium Activity Time', 'medium_activity_text', 'medium_activity_seconds'),
            ('Low Activity Time', 'low_activity_text', 'low_activity_seconds'),
            ('Inactive Time', 'inactive_text', 'inactive_seconds'),
            ('Total Burn', 'total_burn_text', 'total_burn_kcal'),
            ('Total Sleep Duration', 'sleep_text', 'sleep_seconds'),
            ('Total Bedtime', 'bedtime_text', 'bedtime_seconds'),
            ('Average Resting Heart Rate', 'average_resting_text', 'average_resting_bpm'),
            ('Lowest Resting Heart Rate', 'lowest_resting_text', 'lowest_resting_bpm'),
            ('Readiness Score', 'readiness_text', 'readiness_score'),
            ('Sleep Score', 'sleep_score_text', 'sleep_score'),
            ('Activity Score', 'activity_score_text', 'activity_score'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
