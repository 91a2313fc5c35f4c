{#-
    The incremental scope of the file-load staging models (stg_daily_activity, stg_sleep), in
    one place.

    Which loads are new: the committed loads (ops.file_loads, status 'loaded') of the raw
    table that have no row in the model yet, among those that finished after the newest staged
    load's finish minus a look-back (var file_loads_late_commit_minutes).

    Why not "load_id above the newest staged one": load_id is a bigserial taken inside the
    load transaction, so ids are in start order, not commit order. With two ingests at once,
    load 11 can commit and be staged while load 10 is still copying; 10 then commits, but is
    never above 11 - its rows would never reach staging. Commit order is what decides what a
    run can see: finished_at is stamped just before the commit, and the anti-join on the
    load ids already in the model makes re-reading a load that is already staged impossible.
    The look-back covers a load whose commit lagged its finished_at stamp; it only bounds the
    cost of re-reading loads that left no row behind (every key superseded by a newer load,
    or every row rejected): those are re-read, harmlessly, until they fall out of the window.

    Re-reading is harmless because the winner of a key does not depend on the order in which
    loads are staged: per (user, date, source format) the highest load_id wins, and a run
    recomputes each key it touches from all of that key's raw rows (see load_scope_keys).
    So an incremental run writes exactly what a full refresh would for those keys.

    Evaluated once per model at compile time into a literal list, so the raw tables' _load_id
    index serves the reads.
-#}

{#- The ids of the loads this run stages; none outside incremental runs (= everything). -#}
{% macro new_load_ids(target_table) -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set query -%}
        with loads as (
            select load_id, finished_at
            -- named directly, not source(): a dependency only of incremental runs, which
            -- the models' unit tests (never incremental) should not have to feed
            from ops.file_loads
            where target_table = '{{ target_table }}'
              and status = 'loaded'
        ),
        newest_staged as (
            -- the newest finish among the loads already in the model (from the newest down,
            -- one index probe each, stopping at the first staged one)
            select finished_at
            from loads
            where exists (select 1 from {{ this }} as staged where staged.load_id = loads.load_id)
            order by finished_at desc nulls last
            limit 1
        )
        select loads.load_id
        from loads
        left join newest_staged on true
        where (
            -- nothing staged yet: every load is new
            newest_staged.finished_at is null
            -- (a load without a finish time, written by hand, is always looked at)
            or coalesce(loads.finished_at, 'infinity'::timestamptz)
                > newest_staged.finished_at
                  - interval '{{ var("file_loads_late_commit_minutes") }} minutes'
        )
          and not exists (
            select 1 from {{ this }} as staged where staged.load_id = loads.load_id
        )
        order by loads.load_id
    {%- endset -%}
    {%- set ids = [] -%}
    {%- for value in run_query(query).columns[0].values() -%}
        {%- do ids.append(value | int) -%}
    {%- endfor -%}
    {{- return(ids) -}}
{%- endmacro %}

{#-
    `column` is one of the new loads (false when there are none). The range lets the raw
    tables' BRIN index on _load_id serve the read (BRIN cannot search an IN list).
-#}
{% macro _in_loads(column, load_ids) -%}
    {%- if load_ids -%}
        {{ column }} between {{ load_ids | min }} and {{ load_ids | max }}
        and {{ column }} in ({{ load_ids | join(', ') }})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}

{#- `column` is not one of the new loads. -#}
{% macro _not_in_loads(column, load_ids) -%}
    {%- if load_ids -%}
        {{ column }} not in ({{ load_ids | join(', ') }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#-
    CTE `in_scope_source` (raw rows to map): on incremental runs the rows of the new loads
    plus every other row that may compete with them for a key - a cheap superset, whatever
    user column a format has; else the whole raw table. Expects a CTE named `source`.
-#}
{% macro load_scope_source(load_ids) -%}
{%- if load_ids is not none %}
new_loads as (

    -- rows of the loads this run stages (the raw tables index _load_id)
    select * from source
    where {{ _in_loads('_load_id', load_ids) }}

),

changed_users as (

    -- a cheap superset of the users whose keys change: whatever user column a format has
    select nullif(trim(id), '') as user_key from new_loads
    union
    select nullif(trim(user_id), '') from new_loads
    union
    select _user_id_hint from new_loads

),

in_scope_source as (

    -- new rows, and the rows of every other load that may compete with them for a key;
    -- only these are mapped and typed, so a run without new loads reads almost nothing
    select * from new_loads
    union all
    select * from source
    where {{ _not_in_loads('_load_id', load_ids) }}
      and (
        nullif(trim(id), '') in (select user_key from changed_users)
        or nullif(trim(user_id), '') in (select user_key from changed_users)
        or _user_id_hint in (select user_key from changed_users)
      )

),
{%- else %}
in_scope_source as (

    select * from source

),
{%- endif %}
{%- endmacro %}

{#-
    CTE `in_scope` (mapped rows to deduplicate): on incremental runs the rows of the new loads
    (also those whose key does not parse, so the tests see them) and every other row of the
    keys they touch, whichever load it came from; else everything. Expects a CTE `unioned`
    with user_id, source_format, load_id and the date column `date_column`.
-#}
{% macro load_scope_keys(load_ids, date_column) -%}
{%- if load_ids is not none %}
changed_keys as (

    select distinct
        user_id,
        {{ date_column }},
        source_format
    from unioned
    where {{ _in_loads('load_id', load_ids) }}

),

in_scope as (

    select * from unioned
    where {{ _in_loads('load_id', load_ids) }}

    union all

    select unioned.*
    from unioned
    inner join changed_keys
        on unioned.user_id = changed_keys.user_id
        and unioned.{{ date_column }} = changed_keys.{{ date_column }}
        and unioned.source_format = changed_keys.source_format
    where {{ _not_in_loads('unioned.load_id', load_ids) }}

),
{%- else %}
in_scope as (

    select * from unioned

),
{%- endif %}
{%- endmacro %}
