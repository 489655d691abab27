//! The mail queue: rows `fanout` wrote, claimed, sent and marked by
//! `deliver`.
//!
//! Invariant: a row is claimed (`sending`, under this process's mark) in
//! one statement before anything is sent for it, and leaves `sending` only
//! through [`set_state`] or [`release`]; rows found in `sending` under
//! another mark are put back by [`recover`] and counted as resent.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use super::Reason;
use crate::error::Result;

/// This process's claim mark: rows claimed under another mark were left by
/// a process that stopped (or lost leadership) mid-send.
static CLAIM: LazyLock<String> =
    LazyLock::new(|| format!("{}-{}", std::process::id(), crate::auth::random_token(8)));

/// Rows claimed per round (digests of their users come whole on top).
const BATCH: i64 = 48;

/// Puts back the rows a stopped process left in `sending`; how many.
pub(super) async fn recover(db: &impl GenericClient) -> Result<u64> {
    Ok(crate::db::execute(
        db,
        "UPDATE mail_queue SET state = 'pending', resent = resent + 1, claimed_by = NULL
         WHERE state = 'sending' AND claimed_by <> $1",
        &[&*CLAIM],
    )
    .await?)
}

/// Claims up to [`BATCH`] due rows.
pub(super) async fn claim(db: &impl GenericClient) -> Result<Vec<Claimed>> {
    // The oldest due rows, plus every due digest row of their users (a
    // digest is never split between claims).
    let rows = crate::db::query(
        db,
        "WITH pick AS (
             SELECT id, user_id, mode FROM mail_queue
             WHERE state = 'pending' AND next_attempt <= now() AND due_at <= now()
             ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED),
         more AS (
             SELECT m.id FROM mail_queue m
             WHERE m.state = 'pending' AND m.next_attempt <= now() AND m.due_at <= now()
               AND m.mode <> 'immediate'
               AND m.user_id IN (SELECT user_id FROM pick WHERE mode <> 'immediate')
             FOR UPDATE SKIP LOCKED)
         UPDATE mail_queue SET state = 'sending', claimed_by = $1, attempts = attempts + 1
         WHERE id IN (SELECT id FROM pick UNION SELECT id FROM more)
         RETURNING id, user_id, event_id, page_id, reason, watch_id, mode, idem_key, to_address",
        &[&*CLAIM, &BATCH],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| Claimed {
            id: r.get(0),
            user_id: r.get(1),
            event_id: r.get(2),
            page_id: r.get(3),
            reason: Reason::parse(r.get(4)),
            watch_id: r.get(5),
            digest: r.get::<_, &str>(6) != "immediate",
            key: r.get(7),
            guest: r.get(8),
        })
        .collect())
}

/// A claimed queue row.
#[derive(Debug, Clone)]
pub(super) struct Claimed {
    pub(super) id: i64,
    pub(super) user_id: i64,
    pub(super) event_id: i64,
    pub(super) page_id: i64,
    pub(super) reason: Reason,
    pub(super) watch_id: Option<i64>,
    pub(super) digest: bool,
    pub(super) key: String,
    /// An address without an account a page was shared with (`user_id`
    /// is then the sharer).
    pub(super) guest: Option<String>,
}

pub(super) async fn set_state(
    db: &impl GenericClient,
    ids: &[i64],
    state: &str,
    err: Option<&str>,
) -> Result<()> {
    crate::db::execute(
        db,
        "UPDATE mail_queue SET state = $2, last_error = coalesce($3, last_error), claimed_by = NULL,
             sent_at = CASE WHEN $2 = 'sent' THEN now() END
         WHERE id = ANY($1)",
        &[&ids, &state, &err],
    )
    .await?;
    Ok(())
}

/// Back to `pending`. `attempted`: the next try waits 5 s × 2^(attempts−1),
/// at most an hour; otherwise the claim's attempt is given back.
pub(super) async fn release(
    db: &impl GenericClient,
    ids: &[i64],
    err: &str,
    attempted: bool,
) -> Result<()> {
    crate::db::execute(
        db,
        "UPDATE mail_queue SET state = 'pending', claimed_by = NULL, last_error = $2,
             attempts = CASE WHEN $3 THEN attempts ELSE attempts - 1 END,
             next_attempt = CASE WHEN $3
                 THEN now() + least(3600, 5 * power(2, least(attempts - 1, 20))) * interval '1 second'
                 ELSE next_attempt END
         WHERE id = ANY($1)",
        &[&ids, &err, &attempted],
    )
    .await?;
    Ok(())
}

/// The queue as the admin page shows it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct QueueStatus {
    pub events_pending: i64,
    pub pending: i64,
    pub retrying: i64,
    pub sent: i64,
    pub failed: i64,
    pub dropped: i64,
    pub resent: i64,
    pub oldest_pending: Option<DateTime<Utc>>,
    pub next_attempt: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

pub(crate) async fn status(db: &impl GenericClient) -> Result<QueueStatus> {
    let r = crate::db::query_one(
        db,
        "SELECT count(*) FILTER (WHERE state IN ('pending', 'sending')),
                count(*) FILTER (WHERE state = 'pending' AND attempts > 0),
                count(*) FILTER (WHERE state = 'sent'),
                count(*) FILTER (WHERE state = 'failed'),
                count(*) FILTER (WHERE state = 'dropped'),
                coalesce(sum(resent), 0)::bigint,
                min(created_at) FILTER (WHERE state = 'pending'),
                min(next_attempt) FILTER (WHERE state = 'pending' AND attempts > 0),
                (SELECT last_error FROM mail_queue WHERE last_error IS NOT NULL
                   AND state IN ('pending', 'failed') ORDER BY id DESC LIMIT 1)
         FROM mail_queue",
        &[],
    )
    .await?;
    Ok(QueueStatus {
        events_pending: super::outbox::pending(db).await?,
        pending: r.get(0),
        retrying: r.get(1),
        sent: r.get(2),
        failed: r.get(3),
        dropped: r.get(4),
        resent: r.get(5),
        oldest_pending: r.get(6),
        next_attempt: r.get(7),
        last_error: r.get(8),
    })
}
