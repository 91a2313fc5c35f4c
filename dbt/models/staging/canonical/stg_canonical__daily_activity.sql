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

{#- The project's canonical daily-activity format (docs/formats.md), typed: already in km,
    minutes and kcal. The user is the user_id column, else the file's folder or --user-id.
    It shares raw.daily_activity with Fitbit's format (the seed's promise), hence the filter.
    Incremental: appends the loads not staged yet (macros/incremental.sql). -#}

with

loads as (

    select * from {{ source('ops', 'file_loads') }}
    where source_format = 'canonical_daily_activity'

),

source as (

    -- the table is shared with another format: this one's rows are its loads' rows
    select
        raw_rows.*,
        loads.user_id_hint as _user_id_hint
    from {{ source('raw', 'daily_activity') }} as raw_rows
    inner join loads
        on raw_rows._load_id = loads.load_id
    where {{ new_loads_filter('raw_rows._load_id', 'canonical_daily_activity') }}

),

typed as (

    select
        -- ids
        coalesce({{ to_text('user_id') }}, {{ to_text('_user_id_hint') }}) as user_id,
        'canonical_daily_activity' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- dates
        {{ parse_iso_date('date') }} as activity_date,

        -- activity (in the target units by definition)
        {{ to_integer('steps') }} as steps,
        {{ to_numeric('distance_km') }} as distance_km,
        {{ to_integer('very_active_minutes') }} as very_active_minutes,
        {{ to_integer('moderately_active_minutes') }} as moderately_active_minutes,
        {{ to_integer('lightly_active_minutes') }} as lightly_active_minutes,
        {{ to_integer('sedentary_minutes') }} as sedentary_minutes,
        {{ to_integer('calories_kcal') }} as calories_kcal,

        -- the text as written, for the parse check
        date as activity_date_text,
        steps as steps_text,
        distance_km as distance_km_text,
        very_active_minutes as very_active_minutes_text,
        moderately_active_minutes as moderately_active_minutes_text,
        lightly_active_minutes as lightly_active_minutes_text,
        sedentary_minutes as sedentary_minutes_text,
        calories_kcal as calories_kcal_text

    from source

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        activity_date,
        steps,
        distance_km,
        very_active_minutes,
        moderately_active_minutes,
        lightly_active_minutes,
        sedentary_minutes,
        calories_kcal,
        {{ parse_errors([
            ('date', 'activity_date_text', 'activity_date'),
            ('steps', 'steps_text', 'steps'),
            ('distance_km', 'distance_km_text', 'distance_km'),
            ('very_active_minutes', 'very_active_minutes_text', 'very_active_minutes'),
            ('moderately_active_minutes', 'moderately_active_minutes_text', 'moderately_active_minutes'),
            ('lightly_active_minutes', 'lightly_active_minutes_text', 'lightly_active_minutes'),
            ('sedentary_minutes', 'sedentary_minutes_text', 'sedentary_minutes'),
            ('calories_kcal', 'calories_kcal_text', 'calories_kcal'),
        ]) }} as parse_errors,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from typed

)

select * from checked
