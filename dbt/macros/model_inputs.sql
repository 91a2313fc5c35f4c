{#-
    Inputs without write ids. An incremental model finds what to redo from the write ids of
    its input rows (macros/incremental.sql); a seed such as source_priority has none, so a
    changed seed would otherwise go unnoticed and the model would keep rows decided by the
    old seed.

    The model stores a hash of the seed's contents with itself (post-hook, in the model's own
    transaction, table dbt_state.model_inputs) and compares it at the start of each
    incremental run: a different hash - or none stored - makes the run recompute every row,
    exactly as a full refresh would (same user-days, since they come from staging).
-#}

{#- A SQL expression: the hash of a relation's rows (the columns given, in a stable order). -#}
{% macro contents_hash(relation, columns) -%}
    {{ return(adapter.dispatch('contents_hash', 'wearable')(relation, columns)) }}
{%- endmacro %}

{% macro postgres__contents_hash(relation, columns) -%}
    (
        select md5(coalesce(string_agg(row_text, E'\n' order by row_text), ''))
        from (
            select concat_ws('|', {{ columns | join(', ') }}) as row_text
            from {{ relation }}
        ) as rows_as_text
    )
{%- endmacro %}

{#-
    True when this incremental run must recompute everything because `relation` (a seed)
    changed since the model last stored its hash; false outside incremental runs (they
    recompute everything anyway).
-#}
{% macro input_changed(relation, columns) -%}
    {{ return(adapter.dispatch('input_changed', 'wearable')(relation, columns)) }}
{%- endmacro %}

{% macro postgres__input_changed(relation, columns) -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set exists = run_query("select to_regclass('dbt_state.model_inputs') is not null") -%}
    {%- if not exists.columns[0].values()[0] -%}
        {{- return(true) -}}
    {%- endif -%}
    {%- set query -%}
        select (
            select input_hash from dbt_state.model_inputs where model_name = '{{ this }}'
        ) is distinct from {{ contents_hash(relation, columns) }}
    {%- endset -%}
    {{- return(run_query(query).columns[0].values()[0]) -}}
{%- endmacro %}

{#- Post-hook: store the hash of what this run read from `relation`. -#}
{% macro remember_input(relation, columns) -%}
    {{ return(adapter.dispatch('remember_input', 'wearable')(relation, columns)) }}
{%- endmacro %}

{% macro postgres__remember_input(relation, columns) -%}
    insert into dbt_state.model_inputs (model_name, input_hash)
    select '{{ this }}', {{ contents_hash(relation, columns) }}
    on conflict (model_name) do update set
        input_hash = excluded.input_hash,
        updated_at = now()
{%- endmacro %}


{#- Spark (plain Parquet: no upsert): every run appends its hash, the newest one counts. -#}
{% macro spark__contents_hash(relation, columns) -%}
    (
        select md5(concat_ws('\n', array_sort(collect_list(
            concat_ws('|', {% for column in columns %}cast({{ column }} as string){{ ', ' if not loop.last }}{% endfor %})
        ))))
        from {{ relation }}
    )
{%- endmacro %}

{% macro spark__input_changed(relation, columns) -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set query -%}
        select
            (
                select max_by(input_hash, updated_at) from dbt_state.model_inputs
                where model_name = '{{ this }}'
            ),
            {{ contents_hash(relation, columns) }}
    {%- endset -%}
    {%- set row = run_query(query).rows[0] -%}
    {{- return(row[0] is none or row[0] != row[1]) -}}
{%- endmacro %}

{% macro spark__remember_input(relation, columns) -%}
    insert into dbt_state.model_inputs
    select '{{ this }}', {{ contents_hash(relation, columns) }}, current_timestamp()
{%- endmacro %}
