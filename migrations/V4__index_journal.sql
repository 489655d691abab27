-- The search index journal. Triggers write it in the same transaction as
-- every change that affects what a search may return (content rows,
-- labels, read restrictions), so no code path can forget it. Each node
-- tails it in `seq` order and stores its position with its index commit.
CREATE TABLE index_journal (
    seq        BIGSERIAL PRIMARY KEY,
    content_id BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Where each node's index is, for trimming and for the admin pages.
CREATE TABLE index_positions (
    node_id    TEXT PRIMARY KEY,
    seq        BIGINT NOT NULL,
    doc_count  BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE FUNCTION cairn_journal_content() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO index_journal (content_id) VALUES (OLD.id);
    ELSE
        INSERT INTO index_journal (content_id) VALUES (NEW.id);
    END IF;
    PERFORM pg_notify('cairn_index', '');
    RETURN NULL;
END $$;

CREATE TRIGGER content_journal AFTER INSERT OR UPDATE OR DELETE ON content
    FOR EACH ROW EXECUTE FUNCTION cairn_journal_content();

CREATE FUNCTION cairn_journal_by_content_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO index_journal (content_id) VALUES (OLD.content_id);
    ELSE
        INSERT INTO index_journal (content_id) VALUES (NEW.content_id);
    END IF;
    PERFORM pg_notify('cairn_index', '');
    RETURN NULL;
END $$;

CREATE TRIGGER labels_journal AFTER INSERT OR DELETE ON labels
    FOR EACH ROW EXECUTE FUNCTION cairn_journal_by_content_id();

-- A read restriction changes who may see the page and everything below it.
CREATE FUNCTION cairn_journal_restriction() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE target BIGINT; op TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        target := OLD.content_id; op := OLD.operation;
    ELSE
        target := NEW.content_id; op := NEW.operation;
    END IF;
    IF op <> 'read' THEN RETURN NULL; END IF;
    INSERT INTO index_journal (content_id)
        SELECT id FROM content WHERE id = target OR target = ANY(ancestors);
    PERFORM pg_notify('cairn_index', '');
    RETURN NULL;
END $$;

CREATE TRIGGER restrictions_journal AFTER INSERT OR DELETE ON content_restrictions
    FOR EACH ROW EXECUTE FUNCTION cairn_journal_restriction();

-- Everything that exists today is indexed by the first tailer.
INSERT INTO index_journal (content_id) SELECT id FROM content ORDER BY id;
