{#-
    Planner statistics after a model builds, as a post-hook: `post_hook='{{ analyze_if_rebuilt() }}'`.

    A table dbt has just created (first build, `--full-refresh`, a rebuilt table) has no
    statistics yet, and the next model, test or incremental run would be planned blind: it is
    analysed at once.

    An incremental run adds a small share of rows to a table that already has statistics;
    re-analysing it on every run would cost more than the run itself (analyze samples the
    whole table: 0.3-0.5 s each on a million rows) and change nothing the planner needs.
    That is left to autovacuum, which re-analyses a table once about 10% of its rows have
    changed. (The watermark filters stay well estimated meanwhile: PostgreSQL probes the
    index for values past the histogram's end.)

    Rendered at run time inside the model's transaction, so the check sees the table this
    run built; an empty result (the table has statistics) skips the hook. PostgreSQL only:
    other engines keep their statistics their own way.
-#}
{% macro analyze_if_rebuilt() -%}
    {{ return(adapter.dispatch('analyze_if_rebuilt', 'wearable')()) }}
{%- endmacro %}

{% macro default__analyze_if_rebuilt() -%}
{%- endmacro %}

{% macro postgres__analyze_if_rebuilt() -%}
    {%- if execute -%}
        {%- set check -%}
            select exists (
                select 1
                from pg_stats
                where schemaname = '{{ this.schema }}'
                  and tablename = '{{ this.identifier }}'
            )
        {%- endset -%}
        {%- if not run_query(check).columns[0].values()[0] -%}
            analyze {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
