-- Files pasted or dropped into a page that was never saved (issue 21): they
-- wait with the author's draft (the draft's id becomes the page's) and
-- become the page's attachments when it is published; discarding the draft
-- drops them (the files themselves go with the hourly sweep).
CREATE TABLE draft_files (
    draft_id    BIGINT NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    sha256      TEXT NOT NULL,
    size        BIGINT NOT NULL,
    media_type  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX draft_files_name ON draft_files (draft_id, lower(name));
SELECT cairn_fence_table('draft_files');
