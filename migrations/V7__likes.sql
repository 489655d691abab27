-- Likes on pages, blog posts and comments (Confluence's "Like" button and
-- /rest/likes/1.0). One row per user and content; gone with either.
CREATE TABLE likes (
    content_id BIGINT NOT NULL REFERENCES content(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (content_id, user_id)
);
CREATE INDEX likes_user ON likes (user_id);
SELECT cairn_fence_table('likes');
