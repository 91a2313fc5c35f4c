{#-
    Incremental watermarks as literals. Read once at compile time (rather than as a scalar
    subquery in the model) so that the planner sees a constant and can use the index on the
    watermark column: the difference between reading the new rows and scanning the table.
    At parse time, and outside incremental runs, they return the "everything" value.
-#}

{% macro _scalar(query, default) -%}
    {%- if execute and is_incremental() -%}
        {%- set value = run_query(query).columns[0].values()[0] -%}
        {{- return(default if value is none else value) -}}
    {%- endif -%}
    {{- return(default) -}}
{%- endmacro %}

{#- A timestamp column's maximum in this model, as a SQL timestamptz literal. -#}
{% macro max_timestamp_in_this(column) -%}
    cast('{{ _scalar("select max(" ~ column ~ ") from " ~ this, "-infinity") }}' as timestamp with time zone)
{%- endmacro %}
