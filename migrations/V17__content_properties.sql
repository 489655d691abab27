-- Content properties (Confluence's /rest/api/content/{id}/property): a JSON
-- value per (content, key), with its own version number so that a stale
-- update is refused. They live and die with their content (trash keeps them,
-- purge deletes them). Cached REST reads embed them (metadata.properties),
-- so a change moves every node's data generation. Expand-only.
CREATE TABLE content_properties (
    id          BIGSERIAL PRIMARY KEY,
    content_id  BIGINT NOT NULL REFERENCES content(id) ON DELETE CASCADE,
    key         TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    value       JSONB NOT NULL,
    version     INT NOT NULL DEFAULT 1,
    message     TEXT NOT NULL DEFAULT '',
    minor_edit  BOOLEAN NOT NULL DEFAULT false,
    modifier_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    modified_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (content_id, key)
);
SELECT cairn_fence_table('content_properties');
SELECT cairn_change_table('content_properties');
