ALTER TABLE meeting_types DROP COLUMN deleted_at;
ALTER TABLE users DROP COLUMN timezone;
