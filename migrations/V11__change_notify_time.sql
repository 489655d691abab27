-- The change notification names when its transaction started (microseconds
-- since the epoch), so every node can measure how long notifications take
-- to reach it (`cairn_change_notify_delay_seconds`): an upper bound of the
-- time another node may serve a cached page after a write, for requests
-- that carry no consistency token. Within one transaction the payload is
-- the same, so PostgreSQL still folds a transaction's notifications into
-- one. Expand-only: a release that ignores the payload works unchanged.
CREATE OR REPLACE FUNCTION cairn_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cairn_change',
        (extract(epoch FROM transaction_timestamp()) * 1000000)::bigint::text);
    RETURN NULL;
END $$;
