-- A credential's owner may add a note (what uses it, who to ask) beside its name.
ALTER TABLE personal_access_tokens ADD COLUMN note TEXT;
ALTER TABLE platform_api_keys ADD COLUMN note TEXT;
