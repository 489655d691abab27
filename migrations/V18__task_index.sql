-- The task index (host/src/content/task_index.rs): every task (`ac:task`)
-- of the current body of each page and blog post, rewritten in the
-- transaction of every save (ticks included), so "My tasks" and the task
-- report query rows instead of parsing bodies. Trash and restore need no
-- upkeep: readers join `content` and keep `status = 'current'` rows that
-- pass the viewer's filter; a purge cascades. Existing pages are indexed
-- when a node starts (`task_index::backfill`). Expand-only.
CREATE TABLE task_index (
    page_id      BIGINT NOT NULL REFERENCES content(id) ON DELETE CASCADE,
    -- `ac:task-id`, unique within the page.
    task_id      TEXT NOT NULL,
    -- Document order in the page.
    position     INT NOT NULL,
    -- The task body as plain text (without nested task lists), at most 500 characters.
    body_text    TEXT NOT NULL,
    complete     BOOLEAN NOT NULL,
    -- `ri:user` in the task body: the key (or username) as written, and the
    -- user it named when indexed.
    assignee_key TEXT,
    assignee_id  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    -- The first `<time datetime>` in the task body.
    due_date     DATE,
    -- When the task first appeared on the page (kept across saves).
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- When it was last ticked complete.
    completed_at TIMESTAMPTZ,
    PRIMARY KEY (page_id, task_id)
);
CREATE INDEX task_index_assignee ON task_index (assignee_id, complete, due_date) WHERE assignee_id IS NOT NULL;
SELECT cairn_fence_table('task_index');
SELECT cairn_change_table('task_index');
