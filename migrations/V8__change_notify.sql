-- Every node keeps caches of whole page views keyed by a "data generation"
-- (host/src/changes.rs). A statement trigger on every table a page view
-- reads sends NOTIFY cairn_change in the writing transaction; PostgreSQL
-- delivers it at commit (identical notifications of one transaction are
-- folded into one), and every node moves its generation when it arrives.
-- A migration that adds such a table calls cairn_change_table() for it.
CREATE FUNCTION cairn_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cairn_change', '');
    RETURN NULL;
END $$;

CREATE FUNCTION cairn_change_table(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER cairn_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s
             FOR EACH STATEMENT EXECUTE FUNCTION cairn_notify_change()', t);
END $$;

-- Not here: the index journal and positions, login throttling, plugin
-- events and history, and the cluster tables: page views do not read them
-- (and the index tables change all the time).
SELECT cairn_change_table(t) FROM unnest(ARRAY[
    'users', 'groups', 'group_members', 'spaces', 'sessions', 'api_tokens',
    'global_permissions', 'space_permissions', 'content', 'content_versions',
    'labels', 'content_restrictions', 'plugins', 'plugin_generation',
    'plugin_kv', 'settings', 'likes'
]::regclass[]) AS t;
