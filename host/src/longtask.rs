//! Long tasks: work too long for one request (deleting a space, copying a
//! page tree) runs in the background of the node that was asked, writing its
//! progress to `long_tasks` so every node can show it (`/tasks/{id}` in the
//! UI, Confluence's `/rest/api/longtask/{id}` in REST).
//!
//! Invariants: a task is created before the request answers, so its id is
//! valid at once; it ends `done` or `failed` with a message, never silently
//! (a node that dies mid-task leaves it `running`, and the reader sees how
//! long ago it last moved); only its owner and administrators read it.

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool};

use crate::error::{Error, Result};
use crate::perms::Viewer;

/// A task as readers see it.
#[derive(Debug, Clone)]
pub struct LongTask {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub status: String,
    pub done: i64,
    pub total: i64,
    pub message: String,
    /// Where the result is (the copy, the space directory), when done.
    pub result_url: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl LongTask {
    pub fn percent(&self) -> i64 {
        match (self.status.as_str(), self.total) {
            ("done", _) => 100,
            (_, 0) => 0,
            _ => (self.done * 100 / self.total).clamp(0, 99),
        }
    }
}

/// The handle the running work reports through.
pub struct Progress {
    pool: Pool,
    pub id: i64,
}

impl Progress {
    pub async fn set(&self, done: i64, total: i64) -> Result<()> {
        let db = self.pool.get().await?;
        crate::db::execute(
            &db,
            "UPDATE long_tasks SET done = $2, total = $3 WHERE id = $1",
            &[&self.id, &done, &total],
        )
        .await?;
        Ok(())
    }
}

/// Starts `work` in the background as task `kind` named `name`; returns its
/// id at once. `work` answers the result's URL and a closing message.
pub async fn start<F, Fut>(
    pool: &Pool,
    node_id: &str,
    viewer: &Viewer,
    kind: &str,
    name: &str,
    work: F,
) -> Result<i64>
where
    F: FnOnce(Progress) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(String, String)>> + Send + 'static,
{
    let owner = viewer.require_user()?.id;
    let db = pool.get().await?;
    let id: i64 = crate::db::query_one(
        &db,
        "INSERT INTO long_tasks (kind, name, owner_id, node_id) VALUES ($1, $2, $3, $4) RETURNING id",
        &[&kind, &name, &owner, &node_id],
    )
    .await?
    .get(0);
    drop(db);
    let pool = pool.clone();
    tokio::spawn(async move {
        let outcome = work(Progress {
            pool: pool.clone(),
            id,
        })
        .await;
        let (status, url, message) = match outcome {
            Ok((url, message)) => ("done", url, message),
            Err(e) => {
                tracing::warn!(task = id, error = %e, "long task failed");
                ("failed", String::new(), e.public_message())
            }
        };
        match pool.get().await {
            Ok(db) => {
                let r = crate::db::execute(
                    &db,
                    "UPDATE long_tasks SET status = $2, result_url = $3, message = $4, finished_at = now(),
                         done = CASE WHEN $2 = 'done' THEN greatest(total, done) ELSE done END WHERE id = $1",
                    &[&id, &status, &url, &message],
                )
                .await;
                if let Err(e) = r {
                    tracing::error!(task = id, error = %e, "recording a long task's end");
                }
            }
            Err(e) => tracing::error!(task = id, error = %e, "recording a long task's end"),
        }
    });
    Ok(id)
}

/// A task its owner (or an administrator) may read.
pub async fn get(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<LongTask> {
    let not_found = || Error::NotFound(format!("No long task with id {id}"));
    let r = crate::db::query_opt(
        db,
        "SELECT id, kind, name, status, done, total, message, result_url, started_at, finished_at, owner_id
         FROM long_tasks WHERE id = $1",
        &[&id],
    )
    .await?
    .ok_or_else(not_found)?;
    let owner: Option<i64> = r.get(10);
    if !(viewer.is_admin || (owner.is_some() && owner == viewer.user_id())) {
        return Err(not_found());
    }
    Ok(LongTask {
        id: r.get(0),
        kind: r.get(1),
        name: r.get(2),
        status: r.get(3),
        done: r.get(4),
        total: r.get(5),
        message: r.get(6),
        result_url: r.get(7),
        started_at: r.get(8),
        finished_at: r.get(9),
    })
}

/// The viewer's tasks (everyone's for an administrator), newest first.
pub async fn list(db: &impl GenericClient, viewer: &Viewer, limit: i64) -> Result<Vec<LongTask>> {
    let uid = viewer.require_user()?.id;
    let ids: Vec<i64> = crate::db::query(
        db,
        "SELECT id FROM long_tasks WHERE owner_id = $1 OR $2 ORDER BY started_at DESC LIMIT $3",
        &[&uid, &viewer.is_admin, &limit],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    let mut out = Vec::new();
    for id in ids {
        out.push(get(db, viewer, id).await?);
    }
    Ok(out)
}
