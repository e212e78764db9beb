-- SCIM provisioning per company: whether it is on, the one SCIM secret (kept as an HMAC, like
-- every credential), its last use, and who receives a deprovisioned person's work (NULL: the owner).
CREATE TABLE scim_configs (
    company_id TEXT PRIMARY KEY NOT NULL REFERENCES companies(id),
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    secret_id TEXT,
    secret_hash TEXT UNIQUE,
    secret_prefix TEXT,
    secret_created_at TIMESTAMP,
    secret_last_used_at TIMESTAMP,
    successor_id TEXT REFERENCES users(id),
    updated_at TIMESTAMP NOT NULL
);
-- People the identity provider manages: their externalId, the name parts it sent (the console
-- keeps one name), and when the IdP deleted them (then SCIM no longer shows them).
CREATE TABLE scim_users (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id),
    company_id TEXT NOT NULL REFERENCES companies(id),
    external_id TEXT,
    given_name TEXT,
    family_name TEXT,
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX scim_users_company ON scim_users (company_id, external_id);
