-- "Save for later": a user's favourite pages, blog posts and spaces (page
-- views show the star, so it feeds cairn_change), and what each user viewed
-- last (their own history: neither fenced nor change-notified, so reading a
-- page never retires cached responses). Expand-only.
CREATE TABLE favourites (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    content_id BIGINT REFERENCES content(id) ON DELETE CASCADE,
    space_id   BIGINT REFERENCES spaces(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((content_id IS NULL) <> (space_id IS NULL))
);
CREATE UNIQUE INDEX favourites_content ON favourites (user_id, content_id) WHERE content_id IS NOT NULL;
CREATE UNIQUE INDEX favourites_space ON favourites (user_id, space_id) WHERE space_id IS NOT NULL;
SELECT cairn_fence_table('favourites');
SELECT cairn_change_table('favourites');

CREATE TABLE recent_views (
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    content_id BIGINT NOT NULL REFERENCES content(id) ON DELETE CASCADE,
    viewed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, content_id)
);
CREATE INDEX recent_views_user ON recent_views (user_id, viewed_at DESC);
