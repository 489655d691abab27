//! The outbox: events written by content changes, in the change's own
//! transaction.
//!
//! Invariant: [`record`] only inserts rows through the caller's transaction
//! (no I/O of its own, no reads of other content), so an event exists iff
//! its change committed and the save pays one or two small inserts; all the
//! expensive work (recipients, diffs, permissions) happens later in
//! `fanout`.

use deadpool_postgres::GenericClient;
use serde_json::json;

use super::Kind;
use crate::error::Result;

/// A change worth telling people about.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: Kind,
    /// The page or blog post.
    pub page_id: i64,
    /// The comment, for [`Kind::Commented`].
    pub subject_id: Option<i64>,
    /// The page's version after the change (for comments: the comment's).
    pub version: i32,
    pub actor_id: i64,
    pub message: String,
    /// Confluence's minor edit: watchers are not notified.
    pub minor_edit: bool,
    /// The comment replied to.
    pub reply_to: Option<i64>,
}

/// Writes `ev` to the outbox and, when the actor's preference says so,
/// makes the actor watch the page (Confluence's auto-watch on create, edit
/// and comment). Call inside the change's transaction.
pub(crate) async fn record(tx: &impl GenericClient, ev: &Event) -> Result<()> {
    if ev.kind.for_watchers() {
        super::watches::auto_watch(tx, ev.actor_id, ev.page_id).await?;
    }
    if ev.minor_edit {
        return Ok(());
    }
    let detail = json!({
        "message": ev.message,
        "replyTo": ev.reply_to,
    });
    crate::db::execute(
        tx,
        "INSERT INTO notify_outbox (kind, page_id, subject_id, version, actor_id, detail)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &ev.kind.as_str(),
            &ev.page_id,
            &ev.subject_id,
            &ev.version,
            &ev.actor_id,
            &detail,
        ],
    )
    .await?;
    Ok(())
}

/// A page shared with `to` (user ids) and `guests` (addresses without an
/// account) by `actor_id`, with a note.
pub(crate) async fn record_share(
    db: &impl GenericClient,
    page_id: i64,
    version: i32,
    actor_id: i64,
    to: &[i64],
    guests: &[String],
    note: &str,
) -> Result<()> {
    crate::db::execute(
        db,
        "INSERT INTO notify_outbox (kind, page_id, version, actor_id, detail) VALUES ($1, $2, $3, $4, $5)",
        &[
            &super::Kind::Shared.as_str(),
            &page_id,
            &version,
            &actor_id,
            &json!({ "message": note, "to": to, "guests": guests }),
        ],
    )
    .await?;
    Ok(())
}

/// Events not yet fanned out (the admin page's first queue).
pub(crate) async fn pending(db: &impl GenericClient) -> Result<i64> {
    Ok(crate::db::query_one(
        db,
        "SELECT count(*) FROM notify_outbox WHERE processed_at IS NULL",
        &[],
    )
    .await?
    .get(0))
}
