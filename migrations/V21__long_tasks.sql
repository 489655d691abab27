-- Long tasks (deleting a space, copying a page tree): run by one node, their
-- progress readable on every node (the UI's progress screen and REST's
-- /rest/api/longtask/{id}). Expand-only.
CREATE TABLE long_tasks (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    owner_id    BIGINT REFERENCES users(id) ON DELETE SET NULL,
    node_id     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    done        BIGINT NOT NULL DEFAULT 0,
    total       BIGINT NOT NULL DEFAULT 0,
    message     TEXT NOT NULL DEFAULT '',
    result_url  TEXT NOT NULL DEFAULT '',
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);
CREATE INDEX long_tasks_owner ON long_tasks (owner_id, started_at DESC);
