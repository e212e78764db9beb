ALTER TABLE sessions DROP COLUMN method;
DROP TABLE password_resets;
