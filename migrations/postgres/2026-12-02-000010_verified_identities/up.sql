-- Issue 10: an email address counts once its owner followed a link sent to it.
-- People signed up before stay unverified: the banner asks them to confirm.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMP;

-- A link sent to an address: sign-up confirmation (email = the account's) or an email change
-- (email = the new address). Stored as the HMAC of the token, like invitations.
CREATE TABLE email_verifications (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX email_verifications_user ON email_verifications(user_id, created_at);

-- A claimed domain and its proof: pending (verified_at NULL) or verified. Several companies
-- may have a pending claim on one domain; only one can hold it verified.
CREATE TABLE company_domains (
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    dns_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    verified_at TIMESTAMP,
    PRIMARY KEY (company_id, domain)
);
CREATE UNIQUE INDEX company_domains_verified ON company_domains(domain) WHERE verified_at IS NOT NULL;

-- Domains claimed before this change were never proven: they become pending.
INSERT INTO company_domains (company_id, domain, dns_token, created_at, verified_at)
SELECT DISTINCT ON (c.id, lower(trim(d))) c.id, lower(trim(d)),
       md5(random()::text || clock_timestamp()::text || c.id || d), now()::timestamp, NULL
FROM companies c, regexp_split_to_table(c.allowed_domains, E'\n') AS d
WHERE trim(d) <> ''
ON CONFLICT DO NOTHING;
