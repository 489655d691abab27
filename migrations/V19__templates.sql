-- Page templates (global when space_id is NULL, else of one space), in
-- storage format with template variables (at:declarations, at:var), and
-- which blueprints each space offers (all of them unless switched off).
-- Expand-only.
CREATE TABLE templates (
    id          BIGSERIAL PRIMARY KEY,
    space_id    BIGINT REFERENCES spaces(id) ON DELETE CASCADE,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    description TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    labels      TEXT[] NOT NULL DEFAULT '{}',
    version     INT NOT NULL DEFAULT 1,
    creator_id  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    modifier_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    modified_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX templates_name ON templates (coalesce(space_id, 0), lower(name));
SELECT cairn_fence_table('templates');

CREATE TABLE space_blueprints (
    space_id  BIGINT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    blueprint TEXT NOT NULL,
    enabled   BOOLEAN NOT NULL,
    PRIMARY KEY (space_id, blueprint)
);
SELECT cairn_fence_table('space_blueprints');
