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

{#-
    One row per load, user and day of every intraday source (heart rate, minute activity,
    minute sleep): which load covers which user-day, with its row count and the rows whose
    values did not parse. The intraday rollups find their work here (macros/intraday.sql),
    and its tests name the load and row of every unparseable value without re-reading the
    raw tables. Incremental: appends the loads it has not seen (each read once).

    Rows are counted per day as written (`4/12/2016`), and each of those parsed once after:
    parsing every row's date cost as much as all its other values.

    A new intraday source is one line in this list.
-#}

{%- set intraday_sources = [
    ('fitbit_heartrate_seconds', ref('stg_fitbit__heartrate_seconds')),
    ('fitbit_minute_steps', ref('stg_fitbit__minute_steps')),
    ('fitbit_minute_calories', ref('stg_fitbit__minute_calories')),
    ('fitbit_minute_intensities', ref('stg_fitbit__minute_intensities')),
    ('fitbit_minute_mets', ref('stg_fitbit__minute_mets')),
    ('fitbit_minute_steps_wide', ref('stg_fitbit__minute_steps_wide')),
    ('fitbit_minute_calories_wide', ref('stg_fitbit__minute_calories_wide')),
    ('fitbit_minute_intensities_wide', ref('stg_fitbit__minute_intensities_wide')),
    ('fitbit_minute_sleep', ref('stg_fitbit__minute_sleep')),
] %}

with

{% for source_format, relation in intraday_sources %}
{{ source_format }} as (

    select
        source_format,
        load_id,
        user_id,
        activity_date_text,
        count(*) as source_rows,
        count(parse_errors) as unparsed_rows,
        min(case when parse_errors is not null then source_row_number end) as first_unparsed_row,
        min(parse_errors) as example_parse_error
    from {{ relation }}
    where {{ new_loads_filter('load_id', source_format) }}
    group by source_format, load_id, user_id, activity_date_text

),
{% endfor %}

unioned as (

    {% for source_format, _ in intraday_sources %}
    select * from {{ source_format }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

-- one day written two ways (`4/12/2016`, `04/12/2016`) is one day
per_user_day as (

    select
        source_format,
        load_id,
        user_id,
        {{ parse_fitbit_date('activity_date_text') }} as activity_date,
        -- sums of counts: bigint, as the counts are (PostgreSQL would make them numeric)
        cast(sum(source_rows) as {{ dbt.type_bigint() }}) as source_rows,
        cast(sum(unparsed_rows) as {{ dbt.type_bigint() }}) as unparsed_rows,
        min(first_unparsed_row) as first_unparsed_row,
        min(example_parse_error) as example_parse_error
    from unioned
    group by source_format, load_id, user_id, {{ parse_fitbit_date('activity_date_text') }}

),

final as (

    select
        -- ids
        source_format,
        load_id,
        user_id,

        -- dates
        activity_date,

        -- counts
        source_rows,
        unparsed_rows,
        first_unparsed_row,
        example_parse_error,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from per_user_day

)

select * from final
