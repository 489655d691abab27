-- Clustering: the cluster's identity, database-enforced fencing, live
-- settings (standalone storage and everyone's audit trail) and the last
-- runs of cluster-wide jobs. See ARCHITECTURE.md ("Clustering").

-- Which cluster owns this database. etcd holds the same id under the
-- cluster's prefix; a node refuses to start when the two disagree.
CREATE TABLE cluster_info (
    singleton  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    cluster_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Fencing. A clustered node's connections carry `cairn.node_id`; every
-- write it commits is checked against its row here, whose `lease_until`
-- the node moves forward after each etcd keep-alive, always ending before
-- its etcd lease can expire. A node that lost etcd (partitioned, paused)
-- stops renewing, so the database itself rejects its late writes.
CREATE TABLE cluster_fence (
    node_id     TEXT PRIMARY KEY,
    lease_id    BIGINT NOT NULL,
    lease_until TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE FUNCTION cairn_fence_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    node TEXT := current_setting('cairn.node_id', true);
    ok   BOOLEAN;
BEGIN
    -- Standalone nodes and command-line tools do not set it.
    IF node IS NULL OR node = '' THEN RETURN NULL; END IF;
    -- One check per transaction is enough: the rest of its rows commit
    -- together with the first.
    IF current_setting('cairn.fence_ok', true) = txid_current()::text THEN RETURN NULL; END IF;
    SELECT lease_until > clock_timestamp() INTO ok FROM cluster_fence WHERE node_id = node;
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'node % is fenced: its cluster membership has lapsed, so it may not write', node
            USING ERRCODE = 'CR001';
    END IF;
    PERFORM set_config('cairn.fence_ok', txid_current()::text, true);
    RETURN NULL;
END $$;

-- Deferred to commit, so a transaction that began while the node was a
-- member cannot commit after its membership lapsed. Only connections that
-- name a node queue the check (migrations and tools queue nothing, so they
-- may still ALTER a table they changed in the same transaction).
CREATE FUNCTION cairn_fence_table(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE CONSTRAINT TRIGGER cairn_fence AFTER INSERT OR UPDATE OR DELETE ON %s
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
             WHEN (coalesce(current_setting(''cairn.node_id'', true), '''') <> '''')
             EXECUTE FUNCTION cairn_fence_check()', t);
END $$;

-- Every table that holds wiki or admin state. Not fenced: sessions and
-- login throttling (a fenced node still lets people log in to read),
-- index positions (a fenced node keeps its own index current) and the
-- cluster tables themselves. A migration that adds a table calls
-- cairn_fence_table() for it.
SELECT cairn_fence_table(t) FROM unnest(ARRAY[
    'users', 'groups', 'group_members', 'spaces', 'api_tokens',
    'global_permissions', 'space_permissions', 'content', 'content_versions',
    'labels', 'content_restrictions', 'index_journal', 'plugins',
    'plugin_history', 'plugin_generation', 'plugin_kv', 'plugin_events',
    'plugin_event_positions'
]::regclass[]) AS t;

-- Live settings of a standalone node (a cluster keeps them in etcd).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Who changed which setting, when, from what to what (both modes).
CREATE TABLE settings_audit (
    id         BIGSERIAL PRIMARY KEY,
    key        TEXT NOT NULL,
    old_value  TEXT,
    new_value  TEXT,
    changed_by TEXT NOT NULL,
    node_id    TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX settings_audit_changed ON settings_audit (changed_at DESC);

-- The last run of each cluster-wide job, for the cluster admin page.
CREATE TABLE cluster_jobs (
    job         TEXT PRIMARY KEY,
    node_id     TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    ok          BOOLEAN,
    detail      TEXT NOT NULL DEFAULT ''
);
