-- Resumable imports (issue 18). See ARCHITECTURE.md ("import").
--
-- A run keeps what it needs to be resumed by another node: the export's
-- path in the shared home, the key it imports as, and which attempt owns
-- it (every write of a run checks its attempt, so a node that was thought
-- dead cannot write over the one that took over). The second pass stages
-- bodies in `import_stage_<run>` (an unlogged table per run, dropped by
-- the final transaction) and checkpoints how many BodyContent objects it
-- has read; copied attachment files are checkpointed in `import_files`.
ALTER TABLE import_runs
    ADD COLUMN upload        TEXT,
    -- The upload is Cairn's own copy (REST, admin page): deleted when the
    -- run ends. A CLI import names the administrator's own file.
    ADD COLUMN upload_owned  BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN as_key        TEXT,
    ADD COLUMN attempt       INT NOT NULL DEFAULT 1,
    -- BodyContent objects of entities.xml already read and staged.
    ADD COLUMN staged_objects BIGINT NOT NULL DEFAULT 0,
    -- The second pass's counters at that point, and the rows staged.
    ADD COLUMN staged        JSONB NOT NULL DEFAULT '{}',
    -- When the current phase began: rate and time left for every node.
    ADD COLUMN phase_started_at TIMESTAMPTZ;

CREATE TABLE import_files (
    import_id  BIGINT NOT NULL REFERENCES import_runs(id) ON DELETE CASCADE,
    -- The Confluence id of the attachment version.
    old_id     BIGINT NOT NULL,
    sha256     TEXT NOT NULL,
    size       BIGINT NOT NULL,
    PRIMARY KEY (import_id, old_id)
);
SELECT cairn_fence_table('import_files');
