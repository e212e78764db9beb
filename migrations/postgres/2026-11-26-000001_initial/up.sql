-- Ids are UUIDs as text, times are UTC timestamps: the same types on both backends.
CREATE TABLE companies (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    require_invitation BOOLEAN NOT NULL DEFAULT FALSE,
    allowed_domains TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    company_id TEXT NOT NULL REFERENCES companies(id),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    status TEXT NOT NULL CHECK (status IN ('active', 'deactivated', 'removed')),
    password_hash TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_sign_in_at TIMESTAMP
);
-- Emails are stored lower-cased; a removed user's email is free for a new account.
CREATE UNIQUE INDEX users_email_live ON users (email) WHERE status <> 'removed';
CREATE INDEX users_company ON users (company_id, created_at);

CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    company_id TEXT NOT NULL REFERENCES companies(id),
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX invitations_company ON invitations (company_id, created_at);

CREATE TABLE meeting_types (
    id TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    slug TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (owner_id, slug)
);

CREATE TABLE appointments (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_type_id TEXT NOT NULL REFERENCES meeting_types(id),
    host_id TEXT NOT NULL REFERENCES users(id),
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    attendee_name TEXT NOT NULL,
    attendee_email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX appointments_host ON appointments (host_id, starts_at);
CREATE INDEX appointments_meeting_type ON appointments (meeting_type_id, starts_at);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT REFERENCES users(id),
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE personal_access_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    last_used_ip TEXT,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX pat_name_live ON personal_access_tokens (user_id, name) WHERE revoked_at IS NULL;

CREATE TABLE platform_api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    company_id TEXT NOT NULL REFERENCES companies(id),
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    last_used_ip TEXT,
    deactivated_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX api_keys_company ON platform_api_keys (company_id, created_at);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    company_id TEXT REFERENCES companies(id),
    actor_id TEXT,
    credential_id TEXT,
    kind TEXT NOT NULL,
    target TEXT,
    detail TEXT,
    ip TEXT,
    user_agent TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_company ON audit_events (company_id, created_at);
