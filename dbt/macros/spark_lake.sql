{#-
    The lake as dbt sources, on engines that read Parquet where it lies (the spark target).

    `wearable lake export` writes every raw load, the events and ops.file_loads to Parquet
    under the lake (WEARABLE_LAKE_DIR, or var('lake_dir')), and a catalog of every table's
    columns (catalog/columns.parquet). On-run-start, `register_lake_sources()` declares each
    table of the catalog as an external table over its folder - `raw.<table>` partitioned by
    `_load_id`, `raw.raw_events` by `_write_id_from`, `ops.file_loads` - with exactly the
    catalog's columns, so the staging models read `source('raw', …)` on Spark as they do on
    PostgreSQL, and a table without files yet is empty rather than missing. Dropping an
    external table leaves its files alone; registering again picks up new columns and
    partitions (`recover partitions`), which is all a new export adds.

    PostgreSQL holds the raw tables itself: nothing to register there.
-#}

{% macro register_lake_sources() -%}
    {{ return(adapter.dispatch('register_lake_sources', 'wearable')()) }}
{%- endmacro %}

{% macro default__register_lake_sources() -%}
{%- endmacro %}

{% macro lake_location() -%}
    {%- set location = var('lake_dir', env_var('WEARABLE_LAKE_DIR', '')) | trim -%}
    {%- if not location -%}
        {{ exceptions.raise_compiler_error(
            "no lake to read: set WEARABLE_LAKE_DIR (or --vars 'lake_dir: …') to the folder"
            ~ " or URL `wearable lake export` writes to"
        ) }}
    {%- endif -%}
    {{- return(location.rstrip('/')) -}}
{%- endmacro %}

{% macro spark__register_lake_sources() -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set lake = lake_location() -%}
    {%- set catalog_query -%}
        select table_schema, table_name, location, column_name, data_type, is_partition_key
        from parquet.`{{ lake }}/catalog/columns.parquet`
        order by table_schema, table_name, ordinal
    {%- endset -%}
    {%- set tables = {} -%}
    {%- for row in run_query(catalog_query) -%}
        {%- set key = row['table_schema'] ~ '.' ~ row['table_name'] -%}
        {%- if key not in tables -%}
            {%- do tables.update({key: {'location': row['location'], 'columns': [], 'partition_by': []}}) -%}
        {%- endif -%}
        {%- do tables[key]['columns'].append('`' ~ row['column_name'] ~ '` ' ~ row['data_type']) -%}
        {%- if row['is_partition_key'] -%}
            {%- do tables[key]['partition_by'].append('`' ~ row['column_name'] ~ '`') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for key, table in tables.items() -%}
        {%- do run_query('create schema if not exists ' ~ key.split('.')[0]) -%}
        {%- do run_query('drop table if exists ' ~ key) -%}
        {%- set ddl -%}
            create table {{ key }} ({{ table['columns'] | join(', ') }})
            using parquet
            {%- if table['partition_by'] %}
            partitioned by ({{ table['partition_by'] | join(', ') }})
            {%- endif %}
            location '{{ lake }}/{{ table['location'] }}'
        {%- endset -%}
        {%- do run_query(ddl) -%}
        {%- if table['partition_by'] -%}
            {%- do run_query('alter table ' ~ key ~ ' recover partitions') -%}
        {%- endif -%}
    {%- endfor -%}
    {{- log('registered ' ~ tables | length ~ ' lake tables from ' ~ lake, info=true) -}}
{%- endmacro %}
