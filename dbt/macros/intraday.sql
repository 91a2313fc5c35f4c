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
    What a rollup reads: `winners`, the SQL of its winning loads per user-day, and `load_ids`,
    the loads to read (none: read every load).

    On incremental runs both are looked up when the model compiles, and the winners are
    written into the SQL as a list of values. The planner then knows how many user-days there
    are: against the query above it guesses one, and re-reads the new load once per user-day
    in a nested loop (seen at 75 users: 4 minutes for one new day instead of seconds). A list
    longer than `max_listed` (a re-export of a whole study) keeps the query, whose size the
    planner then estimates well enough.
-#}
{% macro intraday_work(source_formats, horizon, max_listed=20000) -%}
    {%- set winners_sql = intraday_winners(source_formats, horizon) -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return({'winners': winners_sql, 'load_ids': none}) -}}
    {%- endif -%}
    {%- set rows = run_query(winners_sql).rows -%}
    {%- set load_ids = rows | map(attribute='load_id') | unique | list -%}
    {%- if rows | length == 0 or rows | length > max_listed -%}
        {{- return({'winners': winners_sql, 'load_ids': load_ids}) -}}
    {%- endif -%}
    {%- set listed -%}
        select *
        from (values
        {%- for row in rows %}
            ({{ quoted_literal(row['user_id']) }}, cast('{{ row['activity_date'] }}' as date), {{ quoted_literal(row['source_format']) }}, {{ row['load_id'] | int }}){{ ',' if not loop.last }}
        {%- endfor %}
        ) as winners (user_id, activity_date, source_format, load_id)
    {%- endset -%}
    {{- return({'winners': listed, 'load_ids': load_ids}) -}}
{%- endmacro %}

{#- A text value as an SQL string literal (quotes doubled). -#}
{% macro quoted_literal(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}
