{#-
    Intraday rollups (heart rate, minute activity, minute sleep) read raw rows through staging
    views, never a second copy. int_intraday_loads records which load covers which user-day
    of each intraday source; a rollup then recomputes the user-days touched by loads that are
    new to it, from the newest load of each of those user-days and sources ("a re-export
    replaces what it covers"), reading only those loads' rows.
-#}

{#-
    SQL: per changed user-day and source, the newest load (user_id, activity_date,
    source_format, load_id). Changed: covered by a load recorded since `horizon` (0: every
    user-day: a full build, or no horizon recorded).
-#}
{% macro intraday_winners(source_formats, horizon) -%}
    with covered as (
        select user_id, activity_date, source_format, load_id, dbt_write_id
        from {{ ref('int_intraday_loads') }}
        where source_format in ('{{ source_formats | join("', '") }}')
          and user_id is not null
          and activity_date is not null
    ),

    changed_days as (
        select distinct user_id, activity_date
        from covered
        {%- if horizon %}
        where dbt_write_id >= {{ horizon }}
        {%- endif %}
    )

    select
        covered.user_id,
        covered.activity_date,
        covered.source_format,
        max(covered.load_id) as load_id
    from covered
    inner join changed_days
        on covered.user_id = changed_days.user_id
        and covered.activity_date = changed_days.activity_date
    group by covered.user_id, covered.activity_date, covered.source_format
{%- endmacro %}

{#-
    The load ids a rollup reads (the winners above), looked up at compile time so the raw
    tables' _load_id index serves the read; none outside incremental runs (read everything).
-#}
{% macro intraday_load_ids(source_formats, horizon) -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set query -%}
        select distinct load_id from ({{ intraday_winners(source_formats, horizon) }}) as winners
    {%- endset -%}
    {{- return(run_query(query).columns[0].values()) -}}
{%- endmacro %}
