-- Sharing a page with an e-mail address that has no account here (only a
-- page anonymous readers may see). The mail row keeps `user_id` NOT NULL —
-- it holds the sharer — and `to_address` is the recipient. A release that
-- predates this column reads such a row as a mail to the sharer (a copy of
-- their own share), never as a broken row: that keeps rolling upgrades safe.
ALTER TABLE mail_queue ADD COLUMN to_address TEXT;
