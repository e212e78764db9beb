ALTER TABLE sso_requests DROP COLUMN invitation_hash;
