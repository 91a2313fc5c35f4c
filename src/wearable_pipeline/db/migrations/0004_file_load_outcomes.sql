-- ops.file_loads, outcomes told apart:
-- - 'unrecognised': a file whose header matches no known format (was recorded as 'skipped',
--   the status of content already loaded);
-- - `message`: a note about a file that is fine (a skip names the earlier load), so `error`
--   only ever holds what went wrong;
-- - size and sha256 may be unknown: a file that could not be read at all is still recorded
--   (as 'failed', with the error).
alter table ops.file_loads drop constraint file_loads_status_check;
alter table ops.file_loads add constraint file_loads_status_check
    check (status in ('loaded', 'skipped', 'unrecognised', 'rejected', 'failed'));
alter table ops.file_loads add column message text;
alter table ops.file_loads alter column size_bytes drop not null;
alter table ops.file_loads alter column sha256 drop not null;

-- Earlier rows in the new shape: an unrecognised file had no target table.
update ops.file_loads set status = 'unrecognised'
    where status = 'skipped' and target_table is null;
update ops.file_loads set message = error, error = null
    where status = 'skipped';
