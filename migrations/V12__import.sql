-- Confluence imports (issue 18). See ARCHITECTURE.md ("import").

-- One row per import: what was imported, by whom, how far it got. Progress
-- is written from outside the import's transaction, so every node (and the
-- CLI) can show it while the import runs.
CREATE TABLE import_runs (
    id           BIGSERIAL PRIMARY KEY,
    -- CRC and size of entities.xml and the descriptor: identifies an export.
    fingerprint  TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    space_keys   TEXT[] NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    phase        TEXT NOT NULL DEFAULT 'reading',
    done         BIGINT NOT NULL DEFAULT 0,
    total        BIGINT NOT NULL DEFAULT 0,
    node_id      TEXT NOT NULL DEFAULT '',
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ,
    report       JSONB,
    error        TEXT
);
CREATE INDEX import_runs_fingerprint ON import_runs (fingerprint) WHERE status = 'done';

-- Confluence ids of imported content → Cairn's: old links by id
-- (/pages/viewpage.action?pageId=OLD, tiny links) and re-import checks.
-- Historical versions map to their page and version number.
CREATE TABLE import_ids (
    old_id      BIGINT NOT NULL,
    content_id  BIGINT NOT NULL REFERENCES content(id) ON DELETE CASCADE,
    version     INT,
    space_id    BIGINT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    import_id   BIGINT NOT NULL REFERENCES import_runs(id) ON DELETE CASCADE,
    PRIMARY KEY (old_id, space_id)
);
CREATE INDEX import_ids_content ON import_ids (content_id);

-- Imported objects Cairn has no feature for yet (watches, content
-- properties, page templates, legacy drafts, space categories): kept, so
-- nothing is lost and later features (or an export) can use them.
CREATE TABLE import_extras (
    id          BIGSERIAL PRIMARY KEY,
    space_id    BIGINT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    content_id  BIGINT REFERENCES content(id) ON DELETE CASCADE,
    user_id     BIGINT REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    old_id      BIGINT,
    data        JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX import_extras_space ON import_extras (space_id, kind);
CREATE INDEX import_extras_content ON import_extras (content_id) WHERE content_id IS NOT NULL;

SELECT cairn_fence_table(t) FROM unnest(ARRAY['import_runs', 'import_ids', 'import_extras']::regclass[]) AS t;
