-- Two-factor sign-in (TOTP): one authenticator per person. The secret is AES-256-GCM
-- encrypted under a key derived from SECRET_KEY; `confirmed_at` is NULL while enrolment
-- waits for its first code. `last_used_step` is the last accepted 30 s step: a code is
-- accepted only for a later step, so a used code cannot be replayed.
CREATE TABLE two_factor_authenticators (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret_encrypted TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    last_used_step BIGINT
);
-- Single-use recovery codes, kept as HMAC-SHA256 under the server key.
CREATE TABLE two_factor_recovery_codes (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX two_factor_recovery_codes_user ON two_factor_recovery_codes(user_id);
-- "Require two-factor for password sign-in" (Settings → Company).
ALTER TABLE companies ADD COLUMN require_two_factor BOOLEAN NOT NULL DEFAULT FALSE;
-- What the account page shows of each session: the device, where from, and when last used.
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMP;
