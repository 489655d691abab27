-- Content model, auth and permissions. See ARCHITECTURE.md ("Permissions")
-- for how the permission tables are read.

ALTER TABLE users ADD COLUMN user_key TEXT NOT NULL DEFAULT md5(random()::text || clock_timestamp()::text);
ALTER TABLE users ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
CREATE UNIQUE INDEX users_user_key ON users (user_key);

ALTER TABLE groups ADD COLUMN description TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX groups_name_lower ON groups (lower(name));
INSERT INTO groups (name, description) VALUES
    ('cairn-users', 'Every user; new users join it'),
    ('cairn-administrators', 'System administrators');

-- Server-side sessions: any node can serve any request. Only a hash of the
-- cookie value is stored, so a database dump does not hand out sessions.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failed logins per lower(username); a burst locks the name for a while.
CREATE TABLE login_failures (
    username     TEXT PRIMARY KEY,
    failures     INT NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ
);

-- Personal access tokens, stored as SHA-256 of the raw token.
CREATE TABLE api_tokens (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ,
    last_used   TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- A grant goes to exactly one principal: a user, a group, or (both NULL)
-- anonymous visitors.
CREATE TABLE global_permissions (
    id         BIGSERIAL PRIMARY KEY,
    permission TEXT NOT NULL CHECK (permission IN ('use', 'create_space', 'admin')),
    user_id    BIGINT REFERENCES users(id) ON DELETE CASCADE,
    group_id   BIGINT REFERENCES groups(id) ON DELETE CASCADE,
    CHECK (user_id IS NULL OR group_id IS NULL)
);
CREATE UNIQUE INDEX global_permissions_unique
    ON global_permissions (permission, coalesce(user_id, 0), coalesce(group_id, 0));
INSERT INTO global_permissions (permission, group_id)
    SELECT p, g.id FROM groups g, unnest(ARRAY['use', 'create_space']) p WHERE g.name = 'cairn-users';
INSERT INTO global_permissions (permission, group_id)
    SELECT p, g.id FROM groups g, unnest(ARRAY['use', 'create_space', 'admin']) p
    WHERE g.name = 'cairn-administrators';

ALTER TABLE spaces ADD COLUMN homepage_id BIGINT;
ALTER TABLE spaces ADD COLUMN creator_id BIGINT REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE spaces ADD COLUMN space_type TEXT NOT NULL DEFAULT 'global';

CREATE TABLE space_permissions (
    id         BIGSERIAL PRIMARY KEY,
    space_id   BIGINT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    permission TEXT NOT NULL CHECK (permission IN
        ('view', 'edit', 'comment', 'attach', 'delete', 'restrict', 'admin')),
    user_id    BIGINT REFERENCES users(id) ON DELETE CASCADE,
    group_id   BIGINT REFERENCES groups(id) ON DELETE CASCADE,
    CHECK (user_id IS NULL OR group_id IS NULL)
);
CREATE UNIQUE INDEX space_permissions_unique
    ON space_permissions (space_id, permission, coalesce(user_id, 0), coalesce(group_id, 0));

-- Pages, blog posts, comments and attachments are all content, as in
-- Confluence: one id space, one permission check.
--   page:       parent_id = parent page (NULL at space root), ancestors = root..parent
--   blogpost:   ancestors = {}
--   comment:    container_id = page/blogpost, parent_id = comment replied to
--   attachment: container_id = page/blogpost, title = file name
-- For comments and attachments `ancestors` is the container's chain including
-- the container, so one expression, ancestors || id, covers every
-- restriction that can hide a row.
CREATE TABLE content (
    id            BIGSERIAL PRIMARY KEY,
    content_type  TEXT NOT NULL CHECK (content_type IN ('page', 'blogpost', 'comment', 'attachment')),
    space_id      BIGINT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    parent_id     BIGINT REFERENCES content(id) ON DELETE SET NULL,
    container_id  BIGINT REFERENCES content(id) ON DELETE CASCADE,
    ancestors     BIGINT[] NOT NULL DEFAULT '{}',
    position      INT NOT NULL DEFAULT 0,
    status        TEXT NOT NULL DEFAULT 'current' CHECK (status IN ('current', 'trashed')),
    title         TEXT NOT NULL,
    version       INT NOT NULL DEFAULT 1,
    body          TEXT NOT NULL DEFAULT '',
    creator_id    BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    modifier_id   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    modified_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    posting_day   DATE,
    trashed_at    TIMESTAMPTZ,
    trashed_by    BIGINT REFERENCES users(id) ON DELETE SET NULL
);
ALTER TABLE spaces ADD CONSTRAINT spaces_homepage_fk
    FOREIGN KEY (homepage_id) REFERENCES content(id) ON DELETE SET NULL;
-- Titles are unique per space among current pages (case-insensitive);
-- blog posts per posting day.
CREATE UNIQUE INDEX content_page_title ON content (space_id, lower(title))
    WHERE content_type = 'page' AND status = 'current';
CREATE UNIQUE INDEX content_blog_title ON content (space_id, posting_day, lower(title))
    WHERE content_type = 'blogpost' AND status = 'current';
CREATE UNIQUE INDEX content_attachment_name ON content (container_id, lower(title))
    WHERE content_type = 'attachment' AND status = 'current';
CREATE INDEX content_children ON content (parent_id, position, id) WHERE content_type = 'page';
CREATE INDEX content_space_roots ON content (space_id, position, id)
    WHERE content_type = 'page' AND parent_id IS NULL;
CREATE INDEX content_container ON content (container_id, content_type, created_at);
CREATE INDEX content_space_modified ON content (space_id, modified_at DESC);
CREATE INDEX content_modified ON content (modified_at DESC) WHERE content_type IN ('page', 'blogpost');
CREATE INDEX content_ancestors ON content USING gin (ancestors);
CREATE INDEX content_trash ON content (space_id, trashed_at) WHERE status = 'trashed';

-- Every save is an immutable version. For attachments the file lives in the
-- shared home under its SHA-256; `body` is empty.
CREATE TABLE content_versions (
    content_id   BIGINT NOT NULL REFERENCES content(id) ON DELETE CASCADE,
    version      INT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    author_id    BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    message      TEXT NOT NULL DEFAULT '',
    minor_edit   BOOLEAN NOT NULL DEFAULT FALSE,
    file_sha256  TEXT,
    file_size    BIGINT,
    media_type   TEXT,
    PRIMARY KEY (content_id, version)
);
CREATE INDEX content_versions_file ON content_versions (file_sha256) WHERE file_sha256 IS NOT NULL;

CREATE TABLE labels (
    content_id BIGINT NOT NULL REFERENCES content(id) ON DELETE CASCADE,
    prefix     TEXT NOT NULL DEFAULT 'global',
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (content_id, prefix, name)
);
CREATE INDEX labels_name ON labels (name);

-- Page restrictions. `read` restrictions are inherited by the whole subtree
-- (a viewer must pass every restricted page on the chain); `update`
-- restrictions apply to the page they are set on, as in Confluence.
CREATE TABLE content_restrictions (
    id         BIGSERIAL PRIMARY KEY,
    content_id BIGINT NOT NULL REFERENCES content(id) ON DELETE CASCADE,
    operation  TEXT NOT NULL CHECK (operation IN ('read', 'update')),
    user_id    BIGINT REFERENCES users(id) ON DELETE CASCADE,
    group_id   BIGINT REFERENCES groups(id) ON DELETE CASCADE,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX content_restrictions_unique
    ON content_restrictions (content_id, operation, coalesce(user_id, 0), coalesce(group_id, 0));

-- True when the viewer (user id or NULL for anonymous, plus its group ids)
-- passes every read restriction on `chain`. Used inside every query that can
-- return content, so filtering happens in the database, before paging.
CREATE FUNCTION cairn_passes_restrictions(chain BIGINT[], viewer BIGINT, viewer_groups BIGINT[])
RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
    SELECT NOT EXISTS (
        SELECT 1 FROM content_restrictions r
        WHERE r.operation = 'read' AND r.content_id = ANY(chain)
        GROUP BY r.content_id
        -- IS TRUE: a NULL comparison (anonymous viewer, the other principal
        -- column) must count as "not allowed", never as unknown.
        HAVING NOT bool_or((r.user_id = viewer) IS TRUE OR (r.group_id = ANY(viewer_groups)) IS TRUE)
    )
$$;
