ALTER TABLE companies ADD COLUMN sso_enforced BOOLEAN NOT NULL DEFAULT 0;

-- A sign-in identity at an external provider, keyed by (issuer, subject), never by email.
CREATE TABLE identities (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    provider TEXT NOT NULL,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    UNIQUE (issuer, subject)
);
CREATE INDEX identities_user ON identities (user_id);

CREATE TABLE saml_configs (
    company_id TEXT PRIMARY KEY NOT NULL REFERENCES companies(id),
    idp_entity_id TEXT NOT NULL,
    idp_sso_url TEXT NOT NULL,
    metadata_xml TEXT NOT NULL,
    allow_sha1 BOOLEAN NOT NULL DEFAULT 0,
    allow_idp_initiated BOOLEAN NOT NULL DEFAULT 0,
    updated_at TIMESTAMP NOT NULL
);

-- Pending OIDC authorizations and SAML AuthnRequests: single use, short-lived, bound to the
-- browser that started them (browser_hash is an HMAC of a cookie value).
CREATE TABLE sso_requests (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    purpose TEXT NOT NULL,
    browser_hash TEXT NOT NULL,
    nonce TEXT,
    link_user_id TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX sso_requests_expiry ON sso_requests (expires_at);

-- Assertion ids already accepted, kept until they expire, so none is accepted twice.
CREATE TABLE saml_seen_assertions (
    company_id TEXT NOT NULL,
    assertion_id TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (company_id, assertion_id)
);
