{{ config(materialized='view') }}

{#- Fitbit minuteIntensitiesWide_merged.csv, typed and turned back into one row per user-minute
    (intensity 0-3): the same data as the narrow file, pivoted by
    Fitabase into a column per minute (Intensity00 … Intensity59) of each hour. A view, not a copy:
    the rollups read only the loads they need through it. -#}

with

source as (

    select * from {{ source('raw', 'fitbit_minute_intensities_wide') }}

),

minute_offsets as (

    {{ minute_offsets() }}

),

unpivoted as (

    select
        source.*,
        minute_offsets.minute_offset,
        {{ wide_minute_value('source.intensity', 'minute_offsets.minute_offset') }} as minute_value
    from source
    cross join minute_offsets

),

typed as (

    select
        -- ids
        {{ to_text('id') }} as user_id,
        'fitbit_minute_intensities_wide' as source_format,
        _load_id as load_id,
        _row_number as source_row_number,

        -- times (local wall-clock minutes)
        {{ parse_fitbit_timestamp('activity_hour') }} as activity_hour,
        minute_offset,

        -- the value
        {{ to_integer('minute_value') }} as intensity,

        -- the text as written, for the parse check
        activity_hour as activity_hour_text,
        minute_value as intensity_text

    from unpivoted

),

checked as (

    select
        user_id,
        source_format,
        load_id,
        source_row_number,
        {{ dbt.dateadd('minute', 'minute_offset', 'activity_hour') }} as activity_minute,
        {{ parse_fitbit_date('activity_hour_text') }} as activity_date,
        {{ fitbit_date_text('activity_hour_text') }} as activity_date_text,
        intensity,
        -- not in this file: null, so the model has its entity's whole shape
        cast(null as {{ dbt.type_int() }}) as steps,
        cast(null as {{ decimal_type() }}) as calories_kcal,
        cast(null as {{ decimal_type() }}) as mets,
        {{ parse_errors([
            ('ActivityHour', 'activity_hour_text', 'activity_hour'),
            ('Intensity', 'intensity_text', 'intensity'),
        ]) }} as parse_errors

    from typed

)

select * from checked
