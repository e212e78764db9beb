DROP INDEX reminders_api_key_expiry;
DROP INDEX reminders_pat_expiry;
DROP TABLE credential_reminders;
