-- WebAssembly plugins. The component itself lives in the shared home,
-- content-addressed by `component_hash`; this table is the registry every
-- node loads (and reloads when `plugin_generation` moves).
CREATE TABLE plugins (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    version        TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    author         TEXT NOT NULL DEFAULT '',
    manifest       JSONB NOT NULL,
    component_hash TEXT NOT NULL,
    component_size BIGINT NOT NULL,
    -- Capabilities an administrator granted (a subset of what the manifest requests).
    capabilities   TEXT[] NOT NULL DEFAULT '{}',
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    -- Installed by Cairn itself (first-party plugins).
    builtin        BOOLEAN NOT NULL DEFAULT FALSE,
    -- The plugin's configuration (capability `config`), string to string.
    config         JSONB NOT NULL DEFAULT '{}',
    -- Administrator overrides of the manifest's limits (NULL = manifest or default).
    timeout_ms     INT,
    memory_mib     INT,
    installed_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by     BIGINT REFERENCES users(id) ON DELETE SET NULL
);

-- Every install, upgrade, enable, disable, removal and setting change.
CREATE TABLE plugin_history (
    id             BIGSERIAL PRIMARY KEY,
    plugin_id      TEXT NOT NULL,
    action         TEXT NOT NULL,
    version        TEXT NOT NULL,
    component_hash TEXT NOT NULL,
    detail         TEXT NOT NULL DEFAULT '',
    actor_id       BIGINT REFERENCES users(id) ON DELETE SET NULL,
    at             TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row: bumped in the same transaction as every registry change, so a
-- node reloads by comparing one number.
CREATE TABLE plugin_generation (
    only_row   BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    generation BIGINT NOT NULL
);
INSERT INTO plugin_generation (generation) VALUES (1);

-- Capability `kv`.
CREATE TABLE plugin_kv (
    plugin_id TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     BYTEA NOT NULL,
    PRIMARY KEY (plugin_id, key)
);

-- Content events for admin extensions, written by triggers in the same
-- transaction as the change; delivered once per cluster, in order, to each
-- plugin from its own position.
CREATE TABLE plugin_events (
    seq        BIGSERIAL PRIMARY KEY,
    kind       TEXT NOT NULL,
    content_id BIGINT,
    user_id    BIGINT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE plugin_event_positions (
    plugin_id TEXT PRIMARY KEY REFERENCES plugins(id) ON DELETE CASCADE,
    seq       BIGINT NOT NULL
);

CREATE FUNCTION cairn_plugin_content_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE k TEXT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        k := CASE WHEN NEW.content_type = 'comment' THEN 'comment-added' ELSE 'content-created' END;
        INSERT INTO plugin_events (kind, content_id) VALUES (k, NEW.id);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO plugin_events (kind, content_id) VALUES ('content-deleted', OLD.id);
    ELSIF NEW.status = 'trashed' AND OLD.status <> 'trashed' THEN
        INSERT INTO plugin_events (kind, content_id) VALUES ('content-deleted', NEW.id);
    ELSIF NEW.status = 'current' AND OLD.status = 'trashed' THEN
        INSERT INTO plugin_events (kind, content_id) VALUES ('content-created', NEW.id);
    ELSIF NEW.parent_id IS DISTINCT FROM OLD.parent_id OR NEW.space_id <> OLD.space_id
          OR NEW.position <> OLD.position THEN
        INSERT INTO plugin_events (kind, content_id) VALUES ('content-moved', NEW.id);
    ELSIF NEW.version <> OLD.version OR NEW.title <> OLD.title THEN
        INSERT INTO plugin_events (kind, content_id) VALUES ('content-updated', NEW.id);
    ELSE
        RETURN NULL;
    END IF;
    PERFORM pg_notify('cairn_plugin_events', '');
    RETURN NULL;
END $$;

CREATE TRIGGER content_plugin_events AFTER INSERT OR UPDATE OR DELETE ON content
    FOR EACH ROW EXECUTE FUNCTION cairn_plugin_content_event();

CREATE FUNCTION cairn_plugin_user_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO plugin_events (kind, user_id) VALUES ('user-created', NEW.id);
    PERFORM pg_notify('cairn_plugin_events', '');
    RETURN NULL;
END $$;

CREATE TRIGGER users_plugin_events AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION cairn_plugin_user_event();
