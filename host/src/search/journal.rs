//! The index journal and each node's position in it, as the admin screens,
//! the CLI and the metrics read and drive it.
//!
//! Invariant: the journal is only ever appended to here (a rebuild marker or
//! content ids to re-apply), always followed by the `cairn_index`
//! notification, so every node's tailer wakes for what was added; nothing
//! outside `search` reads or writes the journal's tables.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use super::REBUILD_MARKER;
use crate::db;
use crate::error::Result;

/// One node's published position in the journal.
#[derive(Debug, Clone)]
pub struct NodePosition {
    pub node_id: String,
    pub position: i64,
    /// Journal entries the node has not applied yet.
    pub lag: i64,
    pub docs: i64,
    pub updated: DateTime<Utc>,
}

/// The journal as a whole: its range, every node's position and the
/// database history epoch the indexes are bound to.
#[derive(Debug, Clone)]
pub struct JournalStatus {
    /// The newest entry (0 when the journal is empty).
    pub head: i64,
    /// The oldest entry still kept (0 when the journal is empty).
    pub oldest: i64,
    pub nodes: Vec<NodePosition>,
    /// `(epoch, reason, changed_at)` of `index_history`.
    pub history: Option<(String, String, DateTime<Utc>)>,
}

/// The newest journal entry (0 when the journal is empty).
pub(crate) async fn head(db: &impl GenericClient) -> Result<i64> {
    let r = db::query_one(db, "SELECT coalesce(max(seq), 0) FROM index_journal", &[]).await?;
    Ok(r.get(0))
}

pub async fn status(db: &impl GenericClient) -> Result<JournalStatus> {
    let r = db::query_one(
        db,
        "SELECT coalesce(max(seq), 0), coalesce(min(seq), 0) FROM index_journal",
        &[],
    )
    .await?;
    let (head, oldest): (i64, i64) = (r.get(0), r.get(1));
    let nodes = db::query(
        db,
        "SELECT node_id, seq, doc_count, updated_at FROM index_positions ORDER BY node_id",
        &[],
    )
    .await?
    .iter()
    .map(|r| NodePosition {
        node_id: r.get(0),
        position: r.get(1),
        lag: (head - r.get::<_, i64>(1)).max(0),
        docs: r.get(2),
        updated: r.get(3),
    })
    .collect();
    let history = db::query_opt(
        db,
        "SELECT epoch, reason, changed_at FROM index_history",
        &[],
    )
    .await?
    .map(|r| (r.get(0), r.get(1), r.get(2)));
    Ok(JournalStatus {
        head,
        oldest,
        nodes,
        history,
    })
}

/// Asks every node to rebuild its index online (the rebuild marker).
pub async fn request_rebuild(db: &impl GenericClient) -> Result<()> {
    db::execute(
        db,
        "INSERT INTO index_journal (content_id) VALUES ($1)",
        &[&REBUILD_MARKER],
    )
    .await?;
    notify(db).await
}

/// Journals content ids again, so every node re-applies their current state.
pub async fn requeue(db: &impl GenericClient, ids: &[i64]) -> Result<()> {
    db::execute(
        db,
        "INSERT INTO index_journal (content_id) SELECT unnest($1::bigint[]) ORDER BY 1",
        &[&ids],
    )
    .await?;
    notify(db).await
}

async fn notify(db: &impl GenericClient) -> Result<()> {
    db::execute(db, "SELECT pg_notify('cairn_index', '')", &[]).await?;
    Ok(())
}
