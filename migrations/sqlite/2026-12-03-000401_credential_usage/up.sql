-- Per-credential API usage, written in batches by the usage recorder (src/services/usage.rs).
-- `credential_id` is a PAT's or a Platform API Key's id (both UUIDs); no foreign key, so a
-- credential's history outlives nothing it refers to and the flush never waits on either table.
CREATE TABLE credential_usage_daily (
    credential_id TEXT NOT NULL,
    day DATE NOT NULL,
    -- '2xx', '4xx', '429' or '5xx'
    outcome TEXT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (credential_id, day, outcome)
);
CREATE INDEX credential_usage_daily_day ON credential_usage_daily (day);

CREATE TABLE credential_ips (
    credential_id TEXT NOT NULL,
    ip TEXT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    PRIMARY KEY (credential_id, ip)
);
CREATE INDEX credential_ips_last_seen ON credential_ips (credential_id, last_seen);
