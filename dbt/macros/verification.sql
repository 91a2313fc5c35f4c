{#-
    Which rows a data test reads: a test whose config says
    `where: "{{ var('unverified_rows') }}"` (dbt_project.yml) reads the rows written since the
    project's data tests last all passed - `dbt_write_id >= ` the newest verified horizon -
    instead of every row on every run. Every other test reads its whole model, as dbt's tests
    do by default.

    The bookkeeping, in schema dbt_state (dropping it is safe: the next run reads everything):
    - on-run-start, `begin_verification()` records this invocation with the current horizon
      (every transaction below it has committed; see macros/incremental.sql) and a hash of
      every data test's definition, and forgets verified horizons of other definitions (a
      changed, added or removed test reads every row once);
    - on-run-end, `end_verification(results)`: when this invocation ran every data test of the
      project and none failed or errored (warnings pass), its start horizon becomes verified.
      Every row below it had committed before any of its tests read, so each test read it -
      or an earlier verified run did.

    So a failing test keeps failing until its rows are fixed, a `--select`ed run never moves
    the horizon, a changed or new test re-reads every row once, and overlapping invocations
    (a plain `dbt build` beside `wearable run`) cannot skip a row: the horizon only ever moves
    over rows that were committed before the tests that verified them started.

    Uniqueness tests read new rows only too: the models they guard are delete+insert on that
    key, so a new row can only collide with another new row, which is read.
-#}


{#- on-run-start: the state tables (also those of macros/incremental.sql and
    macros/model_inputs.sql) and this invocation's record. -#}
{% macro begin_verification() -%}
    {{ return(adapter.dispatch('begin_verification', 'wearable')()) }}
{%- endmacro %}

{% macro postgres__begin_verification() -%}
    create schema if not exists dbt_state;
    create table if not exists dbt_state.invocations (
        invocation_id    text        primary key,
        command          text        not null,
        horizon          bigint      not null,
        tests_hash       text        not null,
        started_at       timestamptz not null default now()
    );
    create table if not exists dbt_state.verified_horizons (
        horizon          bigint      not null,
        tests_hash       text        not null,
        invocation_id    text        not null,
        verified_at      timestamptz not null default now()
    );
    create table if not exists {{ horizons_relation() }} (
        model_name       text        not null,
        horizon          bigint      not null,
        invocation_id    text        not null,
        recorded_at      timestamptz not null default now()
    );
    create index if not exists model_horizons_model
        on {{ horizons_relation() }} (model_name, horizon);
    create table if not exists dbt_state.model_inputs (
        model_name       text        primary key,
        input_hash       text        not null,
        updated_at       timestamptz not null default now()
    );
    {%- if execute %}
    {%- set tests_hash = data_tests_hash() %}
    insert into dbt_state.invocations (invocation_id, command, horizon, tests_hash)
    values (
        '{{ invocation_id }}',
        '{{ flags.WHICH }}',
        {{ current_horizon() }},
        '{{ tests_hash }}'
    )
    on conflict (invocation_id) do nothing;
    delete from dbt_state.verified_horizons
    where tests_hash <> '{{ tests_hash }}';
    {%- endif %}
{%- endmacro %}

{#- on-run-end: verify this invocation's start horizon when every data test ran and passed. -#}
{% macro end_verification(results) -%}
    {{ return(adapter.dispatch('end_verification', 'wearable')(results)) }}
{%- endmacro %}

{% macro postgres__end_verification(results) -%}
    {%- if not all_data_tests_passed(results) -%}
        {{- return('') -}}
    {%- endif -%}
    insert into dbt_state.verified_horizons (horizon, tests_hash, invocation_id)
    select horizon, tests_hash, invocation_id
    from dbt_state.invocations
    where invocation_id = '{{ invocation_id }}'
{%- endmacro %}

{#- Whether this invocation ran every data test of the project and none failed or errored
    (warnings pass). -#}
{% macro all_data_tests_passed(results) -%}
    {%- if not execute -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set expected = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'test' -%}
        {%- do expected.append(node.unique_id) -%}
    {%- endfor -%}
    {%- set passed = [] -%}
    {%- for result in results -%}
        {%- if result.node.resource_type == 'test' and result.status in ['pass', 'warn'] -%}
            {%- do passed.append(result.node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(expected and (expected | sort) == (passed | unique | sort)) -}}
{%- endmacro %}

{#-
    A hash of everything that decides what the data tests check: each test's arguments,
    config and code, the project's macros (generic tests included) and the dbt version.
-#}
{% macro data_tests_hash() -%}
    {%- set tests = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id') if node.resource_type == 'test' -%}
        {%- do tests.append({
            'id': node.unique_id,
            'test_metadata': node.test_metadata,
            'raw_code': node.raw_code,
            'config': node.config,
            'attached_node': node.attached_node,
            'column_name': node.column_name,
            'depends_on': node.depends_on,
        }) -%}
    {%- endfor -%}
    {%- set macros = [] -%}
    {%- for name in context.keys() | sort -%}
        {%- set macro = context[name].macro if context[name].macro is defined else none -%}
        {%- if macro is not none and macro.package_name == project_name -%}
            {%- do macros.append(macro.unique_id ~ '\n' ~ macro.macro_sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(local_md5(tojson({'tests': tests, 'macros': macros, 'dbt': dbt_version}, sort_keys=true))) -}}
{%- endmacro %}


{#-
    Spark (plain Parquet tables): the same bookkeeping with what such tables allow - no
    DELETE, no upsert, no transaction, one statement per call. So:
    - verified horizons are kept in dbt_state.verified_horizon_log for every tests hash,
      and dbt_state.verified_horizons is a view of those of the current hash, redefined by
      each invocation: what PostgreSQL's delete of other hashes' rows does;
    - incremental models record their horizon here, at the end, for the models that built
      (macros/incremental.sql: a pre-hook's insert cannot be undone when the build fails).
      The horizon is the invocation's start, which every row it wrote carries as write id.
-#}
{% macro spark__begin_verification() -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set statements = [
        'create schema if not exists dbt_state',
        'create table if not exists dbt_state.invocations (invocation_id string,'
            ~ ' command string, horizon bigint, tests_hash string, started_at timestamp)'
            ~ ' using parquet',
        'create table if not exists dbt_state.verified_horizon_log (horizon bigint,'
            ~ ' tests_hash string, invocation_id string, verified_at timestamp) using parquet',
        'create table if not exists ' ~ horizons_relation() ~ ' (model_name string,'
            ~ ' horizon bigint, invocation_id string, recorded_at timestamp) using parquet',
        'create table if not exists dbt_state.model_inputs (model_name string,'
            ~ ' input_hash string, updated_at timestamp) using parquet',
    ] -%}
    {%- for statement in statements -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {%- set tests_hash = data_tests_hash() -%}
    {%- do run_query(
        "insert into dbt_state.invocations select '" ~ invocation_id ~ "', '" ~ flags.WHICH
        ~ "', " ~ current_horizon() ~ ", '" ~ tests_hash ~ "', current_timestamp()"
    ) -%}
    {%- do run_query(
        "create or replace view dbt_state.verified_horizons as"
        ~ " select horizon, tests_hash, invocation_id, verified_at"
        ~ " from dbt_state.verified_horizon_log where tests_hash = '" ~ tests_hash ~ "'"
    ) -%}
{%- endmacro %}

{% macro spark__end_verification(results) -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- for result in results
        if result.node.resource_type == 'model'
        and result.status == 'success'
        and result.node.config.materialized == 'incremental' -%}
        {%- set relation = api.Relation.create(
            database=result.node.database,
            schema=result.node.schema,
            identifier=result.node.alias,
        ) -%}
        {%- do run_query(
            "insert into " ~ horizons_relation() ~ " select '" ~ relation ~ "', horizon,"
            ~ " invocation_id, current_timestamp() from dbt_state.invocations"
            ~ " where invocation_id = '" ~ invocation_id ~ "'"
        ) -%}
    {%- endfor -%}
    {%- if all_data_tests_passed(results) -%}
        {%- do run_query(
            "insert into dbt_state.verified_horizon_log select horizon, tests_hash,"
            ~ " invocation_id, current_timestamp() from dbt_state.invocations"
            ~ " where invocation_id = '" ~ invocation_id ~ "'"
        ) -%}
    {%- endif -%}
{%- endmacro %}
