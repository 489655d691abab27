-- A plugin's key-value store is read by page views only through that
-- plugin's macros (the `kv` capability is per plugin). The statement trigger
-- of V8 moved every node's data generation on every `plugin_kv` write, so an
-- admin extension that keeps a summary up to date from content events (the
-- content report) emptied every response cache for as long as it worked.
-- Now a write notifies only when its plugin provides macros (worlds
-- macro-plugin or full-plugin). A plugin's worlds change only by an upgrade,
-- which writes `plugins` and so notifies on its own.
-- Expand-only: the previous release reads the same tables.
CREATE FUNCTION cairn_notify_kv_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    plugin TEXT := CASE WHEN TG_OP = 'DELETE' THEN OLD.plugin_id ELSE NEW.plugin_id END;
BEGIN
    IF EXISTS (
        SELECT 1 FROM plugins p
        WHERE p.id = plugin
          AND (p.manifest->'worlds' ? 'macro-plugin' OR p.manifest->'worlds' ? 'full-plugin')
    ) OR (TG_OP = 'UPDATE' AND OLD.plugin_id <> NEW.plugin_id) THEN
        PERFORM pg_notify('cairn_change',
            (extract(epoch FROM transaction_timestamp()) * 1000000)::bigint::text);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER cairn_change ON plugin_kv;
CREATE TRIGGER cairn_change AFTER INSERT OR UPDATE OR DELETE ON plugin_kv
    FOR EACH ROW EXECUTE FUNCTION cairn_notify_kv_change();
CREATE TRIGGER cairn_change_truncate AFTER TRUNCATE ON plugin_kv
    FOR EACH STATEMENT EXECUTE FUNCTION cairn_notify_change();
