DROP TABLE saml_seen_assertions;
DROP TABLE sso_requests;
DROP TABLE saml_configs;
DROP TABLE identities;
ALTER TABLE companies DROP COLUMN sso_enforced;
