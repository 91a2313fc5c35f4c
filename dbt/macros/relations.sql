{#-
    The union of an entity's sources in one shape: `models`, the models in the union, one line
    each; `columns`, the entity's columns and their types, in order. Every model in the union
    has every column (a source without a value has a typed null there, stated in its staging
    model), so the union is plain SQL that unit tests can run on their fixtures.
-#}
{% macro union_models(models, columns) -%}
    {%- for name in models %}
    select
        {%- for column, type in columns.items() %}
        cast({{ column }} as {{ type }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref(name) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#-
    One row per key from the newest load, exact duplicates collapsed: rows of `relation` (a
    relation or the name of an earlier CTE) whose load is the highest load_id among the rows
    sharing `key_columns` ("a re-export replaces what it covers"), one row per distinct
    `value_columns` within that load. Conflicting rows within the newest load are all kept,
    so the model's uniqueness test reports them instead of one winning silently.
    "Newest" is the highest load_id, the order files were handed to the loader: fixed at load
    time, so the winner never depends on the order in which loads were read.
-#}
{% macro newest_load_rows(relation, key_columns, value_columns) -%}
    select *
    from (
        select
            *,
            dense_rank() over (
                partition by {{ key_columns | join(', ') }}
                order by load_id desc
            ) as load_recency_rank,
            row_number() over (
                partition by load_id, {{ (key_columns + value_columns) | join(', ') }}
                order by source_row_number
            ) as duplicate_rank
        from {{ relation }}
    ) as ranked
    where load_recency_rank = 1
      and duplicate_rank = 1
{%- endmacro %}

{#-
    A hint that a CTE read more than once is inlined where it is used (PostgreSQL would
    otherwise materialise it: a full copy of its input, out of reach of the indexes, on
    every incremental run). Write `name as {{ inlined() }} (...)`.
-#}
{% macro inlined() -%}
    {{ return(adapter.dispatch('inlined', 'wearable')()) }}
{%- endmacro %}

{% macro postgres__inlined() -%}
    not materialized
{%- endmacro %}

{% macro default__inlined() -%}
{%- endmacro %}
