-- Drafts: what an author typed in the editor and has not published. One
-- row per (author, page) for an existing page or blog post, or a new one's
-- draft (page_id NULL) whose id is taken from the content sequence, so REST
-- can address it as Confluence does and publishing gives the page that id.
--
-- Kept out of `content` on purpose: no listing, tree, count, export or the
-- search journal (its triggers are on content, labels and restrictions) can
-- ever see a draft. Not change-notified (no cached response shows a draft);
-- fenced like every other write. Expand-only: the previous release ignores
-- the table.
CREATE TABLE drafts (
    id           BIGINT PRIMARY KEY DEFAULT nextval(pg_get_serial_sequence('content', 'id')),
    author_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    page_id      BIGINT REFERENCES content(id) ON DELETE CASCADE,
    space_id     BIGINT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL CHECK (content_type IN ('page', 'blogpost')),
    parent_id    BIGINT REFERENCES content(id) ON DELETE SET NULL,
    title        TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    format       TEXT NOT NULL DEFAULT 'storage' CHECK (format IN ('storage', 'markdown')),
    -- The page version the draft started from (NULL for a new page): what
    -- publishing compares with, so a change by someone else is a conflict.
    base_version INT,
    labels       TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((page_id IS NULL) = (base_version IS NULL))
);
CREATE UNIQUE INDEX drafts_author_page ON drafts (author_id, page_id) WHERE page_id IS NOT NULL;
CREATE INDEX drafts_author ON drafts (author_id, updated_at DESC);
CREATE INDEX drafts_page ON drafts (page_id) WHERE page_id IS NOT NULL;
SELECT cairn_fence_table('drafts');
