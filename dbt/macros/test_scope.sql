{#-
    Incremental data tests: a test re-checks only the rows written since it last passed.

    Every row of the big incremental models carries the start time of the dbt invocation that
    wrote it (dbt_loaded_at in staging, dbt_updated_at in the mart; the model's
    meta.row_stamp names the column). Rows are never changed in place: delete+insert writes a
    changed row again, with a new stamp; a full refresh restamps everything.

    The marks (table dbt_state.test_marks, created by the on-run-start hook): per data test,
    its definition hash and `checked_through`, the start time of the newest invocation in
    which that test ran and passed. Such a test saw every committed row stamped at or before
    that time (rows of its own invocation are written before it runs, in DAG order), so:

    - row tests (not_null, accepted_values, range, expression_is_true, relationships - the
      child side; the parent is always read whole) read only rows stamped after the mark;
    - key tests (unique, unique_combination_of_columns) read every row sharing a key with a
      row stamped after the mark, so a new row duplicating an old one is caught; a duplicate
      group made only of old rows was already checked when its newest row was new;
    - everything else (recency, singular tests, tests of seeds and unstamped models) reads
      the whole table, as before.

    Safe by construction:
    - marks advance per test and only on 'pass' (on-run-end): a failing, erroring, warning or
      skipped test keeps its mark, so the bad rows are read again next time;
    - a `--select`ed subset advances only the tests that ran;
    - the hash covers the test's arguments, config and code, the project's macros and the dbt
      version: a changed test (new bounds, new values) finds no mark and re-checks all rows;
    - no mark, or `--full-refresh`: the whole table;
    - stamps and marks are invocation start times from dbt's clock, which need not be
      monotonic across hosts: every invocation first drops the marks at or after its own
      start, so a row it writes is never behind a mark set by a clock ahead of its own;
    - dbt invocations on one database must not overlap (a row stamped by an earlier-started
      invocation committing after a test read would be missed): `wearable dbt` and the flow
      serialise them with an advisory lock (src/wearable_pipeline/transform/dbt.py); plain
      `dbt` runs side by side with them are not supported (nor were they for the incremental
      models, whose watermarks rest on the same ordering).
-#}

{% macro test_marks_relation() -%}
    dbt_state.test_marks
{%- endmacro %}

{#-
    on-run-start: the state tables, owned by the dbt project (the test marks here, the model
    inputs of macros/model_inputs.sql), and the definition hash of every data test as this
    invocation sees it (hashed once here, not in every test).
-#}
{% macro create_dbt_state() -%}
    create schema if not exists dbt_state;
    create table if not exists {{ test_marks_relation() }} (
        test_id          text        primary key,
        definition_hash  text        not null,
        -- every row stamped at or before this time was checked by the test, green
        checked_through  timestamptz not null,
        invocation_id    text        not null,
        updated_at       timestamptz not null default now()
    );
    -- what an incremental model last read from inputs that carry no row stamps (seeds)
    create table if not exists dbt_state.model_inputs (
        model_name       text        primary key,
        input_hash       text        not null,
        updated_at       timestamptz not null default now()
    );
    create table if not exists dbt_state.test_definitions (
        test_id          text        primary key,
        definition_hash  text        not null,
        invocation_id    text        not null
    );
    -- A mark at or after this invocation's start comes from a clock ahead of ours (another
    -- host, a clock set back): rows this invocation writes are stamped with its start and
    -- could hide behind it. Such marks go: their tests re-check everything next time.
    delete from {{ test_marks_relation() }} where checked_through >= {{ run_timestamp() }};
    {%- if execute %}
    {%- set macros_hash = project_macros_hash() %}
    {%- set rows = [] %}
    {%- for node in graph.nodes.values() if node.resource_type == 'test' %}
        {%- do rows.append("('" ~ node.unique_id ~ "', '" ~ test_definition_hash(node, macros_hash) ~ "')") %}
    {%- endfor %}
    delete from dbt_state.test_definitions;
    {%- if rows %}
    insert into dbt_state.test_definitions (test_id, definition_hash, invocation_id)
    select test_id, definition_hash, '{{ invocation_id }}'
    from (values {{ rows | join(', ') }}) as defined (test_id, definition_hash);
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- A hash of the project's own macros (generic tests, this file, ...). -#}
{% macro project_macros_hash() -%}
    {%- set macros = [] -%}
    {%- for name in context.keys() | sort -%}
        {%- set macro = context[name].macro if context[name].macro is defined else none -%}
        {%- if macro is not none and macro.package_name == project_name -%}
            {%- do macros.append(macro.unique_id ~ '\n' ~ macro.macro_sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(local_md5(macros | join('\n'))) -}}
{%- endmacro %}

{#- A hash of everything that decides what a data test checks. `node`: the graph's dict. -#}
{% macro test_definition_hash(node, macros_hash) -%}
    {%- set definition = {
        'test_metadata': node.test_metadata,
        'raw_code': node.raw_code,
        'config': node.config,
        'attached_node': node.attached_node,
        'column_name': node.column_name,
        'depends_on': node.depends_on,
        'dbt_version': dbt_version,
        'project_macros': macros_hash,
    } -%}
    {{- return(local_md5(tojson(definition, sort_keys=true))) -}}
{%- endmacro %}

{#-
    The test's mark as a timestamptz literal, or none (check everything): only when this
    invocation's on-run-start recorded the test's definition and the mark is for that
    definition. Commands that run no hooks (compile, show, docs) read whole tables.

    All marks are read with one query per invocation and kept in the graph dict, which dbt
    shares between the nodes of an invocation (a query per test costs more than most of the
    scoped tests themselves). Should a dbt version copy it per node, each test simply reads
    them again: the cache is keyed by invocation and never decides anything.
-#}
{% macro test_checked_through(node) -%}
    {%- if not execute or flags.FULL_REFRESH or flags.WHICH not in ['build', 'test'] -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set cached = graph.get('_wearable_test_marks') -%}
    {%- if cached is none or cached.invocation_id != invocation_id -%}
        {%- set query -%}
            select
                marks.test_id,
                to_char(marks.checked_through at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
            from {{ test_marks_relation() }} as marks
            inner join dbt_state.test_definitions as defined
                on defined.test_id = marks.test_id
                and defined.definition_hash = marks.definition_hash
            where defined.invocation_id = '{{ invocation_id }}'
        {%- endset -%}
        {%- set table = run_query(query) -%}
        {%- set cached = {
            'invocation_id': invocation_id,
            'marks': dict(zip(table.columns[0].values(), table.columns[1].values())),
        } -%}
        {%- do graph.update({'_wearable_test_marks': cached}) -%}
    {%- endif -%}
    {{- return(cached.marks.get(node.unique_id)) -}}
{%- endmacro %}

{#-
    Overrides dbt's get_where_subquery, which wraps the tested model of every generic test
    (`where` config): the same, plus the incremental scope above.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scope = test_scope_filter(relation) -%}
    {%- if where and scope -%}
        {%- do return('(select * from (' ~ scope ~ ') dbt_scoped where ' ~ where ~ ') dbt_subquery') -%}
    {%- elif scope -%}
        {%- do return('(' ~ scope ~ ') dbt_subquery') -%}
    {%- elif where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- The rows a generic test reads (a select), or none for the whole relation. -#}
{% macro test_scope_filter(relation) -%}
    {%- set node = graph.nodes.get(model.unique_id) if execute else none -%}
    {%- if node is none or node.resource_type != 'test' or not node.test_metadata -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set attached = graph.nodes.get(node.attached_node) if node.attached_node else none -%}
    {%- set stamp = attached.config.meta.get('row_stamp') if attached else none -%}
    {%- set kind = node.test_metadata.name -%}
    {%- set row_tests = ['not_null', 'accepted_values', 'range', 'expression_is_true', 'relationships'] -%}
    {%- set key_tests = ['unique', 'unique_combination_of_columns'] -%}
    {%- if not stamp or kind not in row_tests + key_tests -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set since = test_checked_through(node) -%}
    {%- if since is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set is_new = stamp ~ " > cast('" ~ since ~ "' as timestamp with time zone)" -%}
    {%- if kind in row_tests -%}
        {{- return('select * from ' ~ relation ~ ' where ' ~ is_new) -}}
    {%- endif -%}
    {%- set kwargs = node.test_metadata.kwargs -%}
    {%- set keys = kwargs.combination_of_columns if kind == 'unique_combination_of_columns' else [kwargs.column_name] -%}
    {%- set key_list = keys | join(', ') -%}
    {%- set any_null = [] -%}
    {%- for key in keys -%}{%- do any_null.append(key ~ ' is null') -%}{%- endfor -%}
    {%- set scope -%}
        -- every row of a key that a new row has (the key columns' index serves the lookup)
        select * from {{ relation }}
        where ({{ key_list }}) in (select {{ key_list }} from {{ relation }} where {{ is_new }})
        union all
        -- new rows whose key has a null, which no IN matches
        select * from {{ relation }}
        where {{ is_new }} and ({{ any_null | join(' or ') }})
    {%- endset -%}
    {{- return(scope) -}}
{%- endmacro %}

{#-
    on-run-end: every data test that ran and passed moves its mark to this invocation's start,
    for the definition it ran with. Nothing else moves: see the top of this file.
-#}
{% macro advance_test_marks(results) -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set passed = [] -%}
    {%- for result in results -%}
        {%- if result.node.resource_type == 'test' and result.status == 'pass' -%}
            {%- do passed.append("'" ~ result.node.unique_id ~ "'") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not passed -%}
        {{- return('') -}}
    {%- endif -%}
    insert into {{ test_marks_relation() }}
        (test_id, definition_hash, checked_through, invocation_id)
    select test_id, definition_hash, {{ run_timestamp() }}, invocation_id
    from dbt_state.test_definitions
    where invocation_id = '{{ invocation_id }}'
      and test_id in ({{ passed | join(', ') }})
    on conflict (test_id) do update set
        definition_hash = excluded.definition_hash,
        checked_through = excluded.checked_through,
        invocation_id = excluded.invocation_id,
        updated_at = now()
{%- endmacro %}
