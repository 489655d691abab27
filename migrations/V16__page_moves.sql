-- Every move of a page in the tree (by the Move screen, dragging in the
-- tree or REST): where it was and where it went, by whom and when. The page
-- history lists them beside the versions, each with an undo. Expand-only.
CREATE TABLE page_moves (
    id             BIGSERIAL PRIMARY KEY,
    content_id     BIGINT NOT NULL REFERENCES content(id) ON DELETE CASCADE,
    from_space_id  BIGINT NOT NULL,
    from_parent_id BIGINT,
    from_position  INT NOT NULL,
    to_space_id    BIGINT NOT NULL,
    to_parent_id   BIGINT,
    to_position    INT NOT NULL,
    actor_id       BIGINT REFERENCES users(id) ON DELETE SET NULL,
    moved_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX page_moves_content ON page_moves (content_id, moved_at DESC);
SELECT cairn_fence_table('page_moves');
