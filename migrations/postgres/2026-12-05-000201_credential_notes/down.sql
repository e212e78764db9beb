ALTER TABLE platform_api_keys DROP COLUMN note;
ALTER TABLE personal_access_tokens DROP COLUMN note;
