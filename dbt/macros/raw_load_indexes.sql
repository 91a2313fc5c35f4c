{#-
    Bring the raw tables' `_load_id` BRIN indexes up to date with the loads appended since the
    last run, before any model reads by load.

    BRIN summarises a page range only when VACUUM reaches it, and an unsummarised range
    matches every search: without this, each incremental read of a new load would also scan
    every page loaded since the table was last vacuumed. Summarising here, not in the load,
    keeps index upkeep off `wearable ingest` (it is the readers' index) and out of the load
    transaction, where its lock would serialise concurrent loads of one table. The first read
    of a load needs no summary: its pages are the unsummarised tail this summarises anyway.

    PostgreSQL only; the spark target reads Parquet partitioned by load (macros/spark_lake.sql).
-#}

{% macro summarize_raw_load_indexes() -%}
    {{ return(adapter.dispatch('summarize_raw_load_indexes', 'wearable')()) }}
{%- endmacro %}

{% macro default__summarize_raw_load_indexes() -%}
{%- endmacro %}

{% macro postgres__summarize_raw_load_indexes() -%}
    {#- Only the commands that build models read raw tables by load. -#}
    {%- if flags.WHICH not in ['run', 'build'] -%}
        {{- return('') -}}
    {%- endif -%}
    select count(brin_summarize_new_values(index_class.oid))
    from pg_catalog.pg_index as index_info
    inner join pg_catalog.pg_class as index_class
        on index_class.oid = index_info.indexrelid
    inner join pg_catalog.pg_namespace as index_schema
        on index_schema.oid = index_class.relnamespace
    inner join pg_catalog.pg_am as access_method
        on access_method.oid = index_class.relam
    inner join pg_catalog.pg_attribute as indexed_column
        on indexed_column.attrelid = index_info.indrelid
        and indexed_column.attnum = index_info.indkey[0]
    where index_schema.nspname = 'raw'
      and access_method.amname = 'brin'
      and indexed_column.attname = '_load_id'
{%- endmacro %}
