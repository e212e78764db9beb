DROP INDEX appointments_host_id;
DROP INDEX meeting_types_owner_id;
