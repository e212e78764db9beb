-- The personal-data export (services/export.rs) reads a person's meeting types and
-- appointments in pages ordered by id (keyset pagination): these indexes let each page start
-- where the last one ended instead of sorting all of the person's rows again.
CREATE INDEX meeting_types_owner_id ON meeting_types (owner_id, id);
CREATE INDEX appointments_host_id ON appointments (host_id, id);
