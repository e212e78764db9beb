DROP TABLE credential_ips;
DROP TABLE credential_usage_daily;
