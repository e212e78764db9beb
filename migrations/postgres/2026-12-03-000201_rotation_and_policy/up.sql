-- Regeneration with an overlap window: a successor names its predecessor (`replaces`) and the
-- predecessor its successor (`replaced_by`). `superseded_at` is the predecessor's cut-over: set
-- to the end of the grace at regeneration, moved to the successor's first use if earlier.
-- `rotation_alerted_at`: the last "used after rotation" alert, so an attacker hammering an old
-- credential is not a mail bomb (one alert an hour).
ALTER TABLE personal_access_tokens ADD COLUMN replaces TEXT;
ALTER TABLE personal_access_tokens ADD COLUMN replaced_by TEXT;
ALTER TABLE personal_access_tokens ADD COLUMN superseded_at TIMESTAMP;
ALTER TABLE personal_access_tokens ADD COLUMN rotation_alerted_at TIMESTAMP;
ALTER TABLE platform_api_keys ADD COLUMN replaces TEXT;
ALTER TABLE platform_api_keys ADD COLUMN replaced_by TEXT;
ALTER TABLE platform_api_keys ADD COLUMN superseded_at TIMESTAMP;
ALTER TABLE platform_api_keys ADD COLUMN rotation_alerted_at TIMESTAMP;
-- A successor takes its predecessor's name while the predecessor still works in its grace.
DROP INDEX pat_name_live;
CREATE UNIQUE INDEX pat_name_live ON personal_access_tokens (user_id, name)
    WHERE revoked_at IS NULL AND replaced_by IS NULL;
-- The company's credential policy (owners): NULL is no limit.
ALTER TABLE companies ADD COLUMN max_pat_lifetime_days INTEGER;
ALTER TABLE companies ADD COLUMN members_may_create_pats BOOLEAN NOT NULL DEFAULT TRUE;
