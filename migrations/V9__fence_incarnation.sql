-- Fencing per process, not only per node id. Each `cairn serve` process
-- picks a random incarnation at start; its connections carry it as
-- `cairn.incarnation` and its fence row records it. When a node's process
-- is paused past its lease and the same node id is started again elsewhere,
-- the new process takes the row over (only once the old fence has lapsed),
-- and the old process's late writes no longer match it, even though the
-- row is valid again. Expand-only: a release that does not set
-- `cairn.incarnation` is checked by the lease alone, as before.
ALTER TABLE cluster_fence ADD COLUMN incarnation TEXT NOT NULL DEFAULT '';

CREATE OR REPLACE FUNCTION cairn_fence_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    node TEXT := current_setting('cairn.node_id', true);
    mine TEXT := current_setting('cairn.incarnation', true);
    ok   BOOLEAN;
BEGIN
    -- Standalone nodes and command-line tools do not set it.
    IF node IS NULL OR node = '' THEN RETURN NULL; END IF;
    -- One check per transaction is enough: the rest of its rows commit
    -- together with the first.
    IF current_setting('cairn.fence_ok', true) = txid_current()::text THEN RETURN NULL; END IF;
    SELECT lease_until > clock_timestamp()
           AND (mine IS NULL OR mine = '' OR incarnation = mine)
      INTO ok FROM cluster_fence WHERE node_id = node;
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'node % is fenced: its cluster membership has lapsed or passed to another process, so it may not write', node
            USING ERRCODE = 'CR001';
    END IF;
    PERFORM set_config('cairn.fence_ok', txid_current()::text, true);
    RETURN NULL;
END $$;
