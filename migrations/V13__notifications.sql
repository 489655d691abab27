-- Watching and notifications (host/src/notify/).
--
-- The path of an event: a content change writes `notify_outbox` in its own
-- transaction; the leader's `notify-delivery` job fans each outbox row out
-- (one transaction per event) into `notifications` (in-app) and
-- `mail_queue` (e-mail), both unique per (event, user), then sends the mail
-- queue. Nothing stores a page title for a recipient: titles are read at
-- display or send time, through the recipient's permissions.

-- What a user watches: one page or blog post, or a space (all its content,
-- or only its blog). `token` is the secret of the unsubscribe link.
CREATE TABLE watches (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    content_id  BIGINT REFERENCES content(id) ON DELETE CASCADE,
    space_id    BIGINT REFERENCES spaces(id) ON DELETE CASCADE,
    blog_only   BOOLEAN NOT NULL DEFAULT FALSE,
    token       TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((content_id IS NULL) <> (space_id IS NULL)),
    CHECK (NOT blog_only OR space_id IS NOT NULL)
);
CREATE UNIQUE INDEX watches_content ON watches (content_id, user_id) WHERE content_id IS NOT NULL;
CREATE UNIQUE INDEX watches_space ON watches (space_id, user_id, blog_only) WHERE space_id IS NOT NULL;
CREATE INDEX watches_user ON watches (user_id);

-- Per-user preferences; a user without a row has the defaults.
CREATE TABLE notify_prefs (
    user_id     BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    email_mode  TEXT NOT NULL DEFAULT 'immediate'
                CHECK (email_mode IN ('immediate', 'batched', 'daily', 'off')),
    auto_watch  BOOLEAN NOT NULL DEFAULT TRUE
);

-- Events, written in the transaction of the change they describe.
CREATE TABLE notify_outbox (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    -- The page or blog post the event is about.
    page_id      BIGINT NOT NULL,
    -- The comment, for comment events.
    subject_id   BIGINT,
    version      INT,
    actor_id     BIGINT,
    detail       JSONB NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    processed_at TIMESTAMPTZ
);
CREATE INDEX notify_outbox_pending ON notify_outbox (id) WHERE processed_at IS NULL;
CREATE INDEX notify_outbox_processed ON notify_outbox (processed_at) WHERE processed_at IS NOT NULL;

-- In-app notifications.
CREATE TABLE notifications (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    event_id    BIGINT NOT NULL REFERENCES notify_outbox(id) ON DELETE CASCADE,
    page_id     BIGINT NOT NULL,
    -- Why this user hears of it: watch, mention, reply.
    reason      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    read_at     TIMESTAMPTZ,
    UNIQUE (event_id, user_id)
);
CREATE INDEX notifications_unread ON notifications (user_id, id) WHERE read_at IS NULL;
CREATE INDEX notifications_user ON notifications (user_id, id DESC);

-- E-mails to send. `idem_key` is the idempotency key (also the Message-ID):
-- one per (event, user), so a fan-out that runs twice queues nothing twice.
-- state: pending → sending (claimed, committed before the SMTP call) → sent,
-- or failed (refused for good), or dropped (the recipient may no longer see
-- the page, or turned mail off). A row found in `sending` by another
-- process is sent again and counted in `resent`: the one window where a
-- duplicate is possible (accepted by SMTP, not yet marked sent).
CREATE TABLE mail_queue (
    id           BIGSERIAL PRIMARY KEY,
    idem_key     TEXT NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    event_id     BIGINT NOT NULL REFERENCES notify_outbox(id) ON DELETE CASCADE,
    page_id      BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    watch_id     BIGINT,
    -- immediate, batched or daily (the preference when it was queued).
    mode         TEXT NOT NULL,
    due_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    next_attempt TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts     INT NOT NULL DEFAULT 0,
    resent       INT NOT NULL DEFAULT 0,
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'dropped')),
    claimed_by   TEXT,
    last_error   TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at      TIMESTAMPTZ
);
CREATE INDEX mail_queue_open ON mail_queue (next_attempt, id) WHERE state IN ('pending', 'sending');
CREATE INDEX mail_queue_event ON mail_queue (event_id);

SELECT cairn_fence_table(t) FROM unnest(ARRAY[
    'watches', 'notify_prefs', 'notify_outbox', 'notifications', 'mail_queue'
]::regclass[]) AS t;
-- Page views show the watch buttons; the other tables are read by
-- uncached requests only.
SELECT cairn_change_table('watches');

-- Inline comments, stored as Confluence does: the page body wraps the text
-- in `<ac:inline-comment-marker ac:ref="REF">`, the comment carries the ref,
-- the text selected and whether the thread is resolved. Replies share the
-- ref of the comment they answer.
CREATE TABLE inline_comments (
    comment_id         BIGINT PRIMARY KEY REFERENCES content(id) ON DELETE CASCADE,
    marker_ref         TEXT NOT NULL,
    original_selection TEXT NOT NULL DEFAULT '',
    resolution         TEXT NOT NULL DEFAULT 'open'
                       CHECK (resolution IN ('open', 'resolved', 'reopened')),
    resolved_by        BIGINT REFERENCES users(id) ON DELETE SET NULL,
    resolved_at        TIMESTAMPTZ
);
CREATE INDEX inline_comments_ref ON inline_comments (marker_ref);
SELECT cairn_fence_table('inline_comments');
SELECT cairn_change_table('inline_comments');
