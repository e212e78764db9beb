-- Expiry reminders (14, 7 and 1 days before, and on expiry): one row per (credential,
-- threshold in days), inserted to claim the mail before it is sent, so of several instances
-- (or runs) exactly one mails it. `sent_at` is set once the mail went out; `skipped` marks a
-- threshold that had already passed when the credential was first seen (never mailed late).
-- No foreign key: `credential_id` names a personal access token or a Platform API key.
CREATE TABLE credential_reminders (
    credential_id TEXT NOT NULL,
    threshold_days INTEGER NOT NULL,
    credential_kind TEXT NOT NULL,
    claimed_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    skipped BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (credential_id, threshold_days)
);
-- The runner looks for credentials close to expiry.
CREATE INDEX reminders_pat_expiry ON personal_access_tokens (expires_at) WHERE revoked_at IS NULL;
CREATE INDEX reminders_api_key_expiry ON platform_api_keys (expires_at) WHERE revoked_at IS NULL;
