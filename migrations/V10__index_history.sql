-- The history epoch the search indexes are bound to (issue 22). A random
-- value made once; a node that finds the database's journal behind or
-- different from what its index applied (a backup was restored: the same
-- epoch came back with an older history) draws a new one, so every other
-- node's index and every snapshot of the old history stop matching and are
-- rebuilt rather than trusted. Not fenced: a node must be able to record a
-- detected restore even while it is fenced.
CREATE TABLE index_history (
    singleton  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    epoch      TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT 'created',
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO index_history (epoch) VALUES (md5(random()::text || clock_timestamp()::text));
