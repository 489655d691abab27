-- A space's logo (a picture in the attachment store, checked by its first
-- bytes: PNG, JPEG, GIF or WebP) and its categories (Confluence's "team"
-- labels of a space), by which the space directory filters.
ALTER TABLE spaces ADD COLUMN logo_sha256 TEXT, ADD COLUMN logo_type TEXT;

CREATE TABLE space_categories (
    space_id BIGINT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    name     TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    PRIMARY KEY (space_id, name)
);
CREATE INDEX space_categories_name ON space_categories (name);

SELECT cairn_fence_table('space_categories');
SELECT cairn_change_table('space_categories');
