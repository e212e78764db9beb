-- Single-use "forgot password" links, kept as an HMAC of the link's secret.
CREATE TABLE password_resets (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX password_resets_user ON password_resets (user_id);
-- How a session was started (password, oidc, saml), so turning on Enforce SSO can end the
-- password and OIDC ones. Sessions from before this change have none and count as password.
ALTER TABLE sessions ADD COLUMN method TEXT;
