-- A user's uploaded picture: its content hash in the attachment store and
-- its media type. Without one, /users/{name}/avatar draws the initials.
-- Expand-only: the previous release ignores the columns.
ALTER TABLE users ADD COLUMN avatar_sha256 TEXT, ADD COLUMN avatar_type TEXT;
