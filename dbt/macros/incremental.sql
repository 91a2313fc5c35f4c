{#-
    How incremental models find what changed, safely when dbt invocations overlap.

    Every incremental model stamps its rows with `dbt_write_id`: the id of the transaction that
    wrote them (PostgreSQL xid8, as a bigint). Before it reads its inputs, a model records a
    horizon (pre-hook `record_horizon()`, in the model's own transaction): the oldest
    transaction still running at that moment. Everything below the horizon had committed, so
    the model saw it; anything committed later - even by an invocation that started earlier,
    or by a plain `dbt build` beside `wearable run` - has a write id at or above it. The next
    run of the model reads upstream rows with a write id at or above that horizon:
    it never misses a late commit, and re-reads at most the few rows written while it last ran
    (harmless: every model recomputes whole keys).

    Timestamps cannot do this: a row stamped with its invocation's start can commit after a
    later invocation has read and moved its watermark past it.

    Staging models read the raw tables by load instead (new_loads_filter): a load is staged
    once its rows are in the model, which an anti-join on load_id checks directly.

    Engines without transaction ids (Spark) fall back to the invocation's start time, which is
    safe there because invocations on one warehouse do not overlap (adapter.dispatch).

    Models that recompute whole keys are `materialized=keyed_materialization()` with
    `incremental_strategy='delete+insert'`: incremental on PostgreSQL; rebuilt whole on Spark,
    whose plain Parquet tables can neither delete nor merge (docs/scaling.md says why that is
    the honest choice there, and what Delta or Iceberg would change).
-#}

{#- The materialization of a model that replaces whole keys (see above). Called in config():
    it must not query anything. -#}
{% macro keyed_materialization() -%}
    {{ return(adapter.dispatch('keyed_materialization', 'wearable')()) }}
{%- endmacro %}

{% macro default__keyed_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__keyed_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{#- The write id of the current transaction, stamped on every row a model writes. -#}
{% macro write_id() -%}
    {{ return(adapter.dispatch('write_id', 'wearable')()) }}
{%- endmacro %}

{#- Read from the transaction's setting `wearable.write_id`, which every model's pre-hook
    stamp_write_id() sets (dbt_project.yml): pg_current_xact_id() is parallel-unsafe, and one
    call anywhere in a query keeps PostgreSQL from running any part of it on a second core;
    current_setting is parallel-safe. Where no hook ran - `dbt show`, a unit test, compiled
    SQL run by hand - the stamp is null (tests/dbt checks every built row has its own). A
    scalar subquery: evaluated once per statement, not once per row. -#}
{% macro postgres__write_id() -%}
    (select cast(nullif(current_setting('wearable.write_id', true), '') as bigint))
{%- endmacro %}

{% macro default__write_id() -%}
    cast({{ (run_started_at.timestamp() * 1000000) | int }} as bigint)
{%- endmacro %}

{#- Pre-hook of every model (dbt_project.yml): the transaction's id, for write_id() to read.
    Local to the transaction (set_config's third argument), so it is gone when the model's
    build commits or fails. -#}
{% macro stamp_write_id() -%}
    {{ return(adapter.dispatch('stamp_write_id', 'wearable')()) }}
{%- endmacro %}

{% macro postgres__stamp_write_id() -%}
    select set_config('wearable.write_id', cast(pg_current_xact_id() as text), true)
{%- endmacro %}

{#- Elsewhere write_id() needs nothing set (the invocation's start time). -#}
{% macro default__stamp_write_id() -%}
{%- endmacro %}

{#- The horizon now: every transaction below it has committed (see the top of this file). -#}
{% macro current_horizon() -%}
    {{ return(adapter.dispatch('current_horizon', 'wearable')()) }}
{%- endmacro %}

{% macro postgres__current_horizon() -%}
    cast(cast(pg_snapshot_xmin(pg_current_snapshot()) as text) as bigint)
{%- endmacro %}

{% macro default__current_horizon() -%}
    {{ write_id() }}
{%- endmacro %}

{#-
    Pre-hook of incremental models: remember the horizon of this build, committed with the
    rows it writes (a build that fails records nothing).
-#}
{% macro record_horizon() -%}
    {{ return(adapter.dispatch('record_horizon', 'wearable')()) }}
{%- endmacro %}

{% macro default__record_horizon() -%}
    insert into {{ horizons_relation() }} (model_name, horizon, invocation_id)
    select '{{ this }}', {{ current_horizon() }}, '{{ invocation_id }}'
{%- endmacro %}

{#- Spark: recorded by the on-run-end hook for the models that built (macros/verification.sql):
    without a transaction, a pre-hook's insert would stay when the build fails. -#}
{% macro spark__record_horizon() -%}
{%- endmacro %}

{% macro horizons_relation() -%}
    dbt_state.model_horizons
{%- endmacro %}

{#-
    The horizon of this model's last successful build, as a literal: upstream rows with a
    write id at or above it are new to the model. 0 (read everything) outside incremental
    runs, or when no horizon is recorded (dropping schema dbt_state is safe: the next run
    recomputes every key, as a full refresh would).
-#}
{% macro previous_horizon() -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return(0) -}}
    {%- endif -%}
    {%- set query -%}
        select coalesce(max(horizon), 0)
        from {{ horizons_relation() }}
        where model_name = '{{ this }}'
    {%- endset -%}
    {{- return(run_query(query).columns[0].values()[0] | int) -}}
{%- endmacro %}

{#-
    Staging: `column` (a raw table's _load_id) is one of the committed loads of
    `source_format` that are not in this model yet. On a full build, every row is new.

    The load ids are looked up when the model compiles and written into the SQL as a list
    and a range, so the raw table's BRIN index on _load_id finds their rows without a scan.
-#}
{% macro new_loads_filter(column, source_format) -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return('true') -}}
    {%- endif -%}
    {%- set query -%}
        select loads.load_id
        from {{ source('ops', 'file_loads') }} as loads
        where loads.source_format = '{{ source_format }}'
          and loads.status = 'loaded'
          and loads.rows_loaded > 0
          and not exists (
            select 1 from {{ this }} as staged where staged.load_id = loads.load_id
          )
        order by loads.load_id
    {%- endset -%}
    {{- return(in_load_ids(column, run_query(query).columns[0].values())) -}}
{%- endmacro %}

{#-
    `column` is one of `load_ids` (a list looked up at compile time; none: no condition). The
    range lets a raw table's BRIN index on _load_id serve the read (BRIN cannot search a list).
-#}
{% macro in_load_ids(column, load_ids) -%}
    {%- if load_ids is none -%}
        {{- return('true') -}}
    {%- endif -%}
    {%- set ids = load_ids | map('int') | list -%}
    {%- if not ids -%}
        {{- return('false') -}}
    {%- endif -%}
    {{- return(column ~ ' between ' ~ ids | min ~ ' and ' ~ ids | max ~ ' and ' ~ column ~ ' in (' ~ ids | join(', ') ~ ')') -}}
{%- endmacro %}

{#- A column's maximum in this model as a literal (`default` when empty or not incremental). -#}
{% macro max_in_this(column, default) -%}
    {%- if execute and is_incremental() -%}
        {%- set value = run_query('select max(' ~ column ~ ') from ' ~ this).columns[0].values()[0] -%}
        {{- return(default if value is none else value) -}}
    {%- endif -%}
    {{- return(default) -}}
{%- endmacro %}
