-- Per-load constants are kept once per load, in ops.file_loads, not on every raw row: a raw
-- table keeps _load_id and _row_number. _source_format is ops.file_loads.source_format,
-- _user_id_hint is ops.file_loads.user_id_hint, _loaded_at is ops.file_loads.started_at -
-- the same values, so dropping the copies loses nothing (a heart-rate sample shrinks by ~35
-- bytes, a quarter of its raw row). Dropping a column only changes the catalog; the space
-- comes back as rows are rewritten (VACUUM FULL, or never for an append-only table: it is
-- new rows that are smaller).
do $$
declare
    raw_table record;
begin
    for raw_table in
        select distinct table_name
        from information_schema.columns
        where table_schema = 'raw'
          and column_name in ('_source_format', '_user_id_hint', '_loaded_at')
    loop
        execute format(
            'alter table raw.%I drop column if exists _source_format,'
            ' drop column if exists _user_id_hint, drop column if exists _loaded_at',
            raw_table.table_name
        );
    end loop;
end
$$;
