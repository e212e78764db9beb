ALTER TABLE sessions DROP COLUMN last_seen_at;
ALTER TABLE sessions DROP COLUMN ip;
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE companies DROP COLUMN require_two_factor;
DROP TABLE two_factor_recovery_codes;
DROP TABLE two_factor_authenticators;
