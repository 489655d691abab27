-- Users exempt from the REST rate limit (integration accounts).
ALTER TABLE users ADD COLUMN rate_limit_exempt BOOLEAN NOT NULL DEFAULT FALSE;
