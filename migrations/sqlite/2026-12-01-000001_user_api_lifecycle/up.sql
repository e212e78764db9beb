-- POST /v4/user takes the person's IANA time zone; people created before keep UTC.
ALTER TABLE users ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
-- DELETE /v4/meeting-type/{id} is a soft delete: the row stays for history (appointments
-- refer to it, its slug stays taken so old links never point at another meeting type).
ALTER TABLE meeting_types ADD COLUMN deleted_at TIMESTAMP;
