-- An OIDC sign-in started from an invitation link accepts that invitation and no other.
ALTER TABLE sso_requests ADD COLUMN invitation_hash TEXT;
