//! Cluster-wide jobs: run by the leader only, each idempotent, each run
//! recorded in `cluster_jobs` so the admin page shows the last runs and a
//! new leader continues the schedule where the old one stopped.
//!
//! - `index-snapshot`: snapshot the search index to the shared home, then
//!   trim the journal (every `index_snapshot_interval`; at once when the
//!   cluster has none);
//! - `trash-purge`: purge content trashed longer than `trash_retention_days`
//!   (hourly);
//! - `attachment-cleanup`: delete attachment files no version refers to,
//!   and abandoned uploads, older than an hour (hourly);
//! - `plugin-events`: deliver content events to admin extensions (every
//!   half second; recorded when something was delivered);
//! - `notify-delivery`: fan out notification events and send the mail
//!   queue (`notify/deliver.rs`; every half second, recorded when it did
//!   something);
//! - `import-resume`: take over a Confluence import whose node died (its
//!   heartbeat stopped) and run it on from its checkpoints (`import/run.rs`;
//!   checked every 5 s, recorded when it took one over).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::Cluster;
use crate::error::{Error, Result};

pub(crate) const JOBS: &[&str] = &[
    "index-snapshot",
    "trash-purge",
    "attachment-cleanup",
    "plugin-events",
    "notify-delivery",
    "import-resume",
];

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct JobRun {
    pub job: String,
    pub node_id: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub ok: Option<bool>,
    pub detail: String,
}

pub(crate) async fn last_runs(db: &impl deadpool_postgres::GenericClient) -> Result<Vec<JobRun>> {
    Ok(crate::db::query(
        db,
        "SELECT job, node_id, started_at, finished_at, ok, detail FROM cluster_jobs ORDER BY job",
        &[],
    )
    .await?
    .iter()
    .map(|r| JobRun {
        job: r.get(0),
        node_id: r.get(1),
        started_at: r.get(2),
        finished_at: r.get(3),
        ok: r.get(4),
        detail: r.get(5),
    })
    .collect())
}

/// What the jobs work on.
#[derive(Clone)]
pub struct JobContext {
    pub cluster: Cluster,
    pub pool: deadpool_postgres::Pool,
    pub index: Option<Arc<crate::search::SearchIndex>>,
    pub plugins: crate::plugins::Plugins,
    pub shared_home: PathBuf,
}

/// Starts the scheduler; it does nothing while this node is not the leader.
pub fn spawn(ctx: JobContext) {
    tokio::spawn(async move {
        let mut tick: u64 = 0;
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            tick += 1;
            if !ctx.cluster.is_leader() {
                continue;
            }
            match ctx.plugins.dispatch_events().await {
                Ok(0) => {}
                Ok(n) => {
                    let _ = record(
                        &ctx,
                        "plugin-events",
                        chrono::Utc::now(),
                        Ok(format!("{n} events delivered")),
                    )
                    .await;
                }
                Err(e) => tracing::warn!("plugin event delivery failed: {e}"),
            }
            let settings = ctx.cluster.settings();
            match crate::notify::deliver::run(&ctx.pool, &settings).await {
                Ok(s) if s.is_empty() => {}
                Ok(s) => {
                    let _ = record(
                        &ctx,
                        "notify-delivery",
                        chrono::Utc::now(),
                        Ok(s.describe()),
                    )
                    .await;
                }
                Err(e) => tracing::warn!("notification delivery failed: {e}"),
            }
            // The schedule is checked every 5 s.
            if tick % 10 != 1 {
                continue;
            }
            match resume_import(&ctx).await {
                Ok(None) => {}
                Ok(Some(d)) => {
                    let _ = record(&ctx, "import-resume", chrono::Utc::now(), Ok(d)).await;
                }
                Err(e) => tracing::warn!("import takeover failed: {e}"),
            }
            let settings = ctx.cluster.settings();
            for (job, every) in [
                ("index-snapshot", settings.index_snapshot_interval),
                ("trash-purge", Duration::from_secs(3600)),
                ("attachment-cleanup", Duration::from_secs(3600)),
            ] {
                match due(&ctx, job, every).await {
                    Ok(true) => {
                        let _ = run(&ctx, job).await;
                    }
                    Ok(false) => {}
                    Err(e) => tracing::debug!(job, error = %e, "job schedule unreadable"),
                }
            }
        }
    });
}

async fn resume_import(ctx: &JobContext) -> Result<Option<String>> {
    let store = crate::attach::Store::new(&ctx.shared_home, u64::MAX);
    Ok(crate::import::resume_stale(&ctx.pool, &store, ctx.cluster.node_id()).await?)
}

async fn due(ctx: &JobContext, job: &str, every: Duration) -> Result<bool> {
    let db = ctx.pool.get().await?;
    let secs = every.as_secs_f64();
    let row = crate::db::query_opt(
        &db,
        "SELECT started_at < now() - $2 * interval '1 second' FROM cluster_jobs WHERE job = $1",
        &[&job, &secs],
    )
    .await?;
    Ok(match row {
        None => true,
        Some(r) => r.get::<_, bool>(0),
    })
}

/// Runs one job now (the scheduler, or an admin's "run now" on the leader).
pub(crate) async fn run(ctx: &JobContext, job: &str) -> Result<String> {
    let started = chrono::Utc::now();
    tracing::info!(job, "cluster job starting");
    let r = match job {
        "index-snapshot" => match &ctx.index {
            Some(index) => index
                .snapshot_and_trim(&ctx.pool, &ctx.shared_home)
                .await
                .map(|seq| format!("snapshot at journal position {seq}; journal trimmed")),
            None => Err(Error::Unavailable("this node has no search index".into())),
        },
        "trash-purge" => purge_trash(ctx).await,
        "attachment-cleanup" => clean_attachments(ctx).await,
        "plugin-events" => ctx
            .plugins
            .dispatch_events()
            .await
            .map(|n| format!("{n} events delivered")),
        "notify-delivery" => crate::notify::deliver::run(&ctx.pool, &ctx.cluster.settings())
            .await
            .map(|s| s.describe()),
        "import-resume" => resume_import(ctx)
            .await
            .map(|d| d.unwrap_or_else(|| "no interrupted import".into())),
        other => return Err(Error::NotFound(format!("no cluster job named {other:?}"))),
    };
    match &r {
        Ok(d) => tracing::info!(job, detail = %d, "cluster job done"),
        Err(e) => tracing::warn!(job, error = %e, "cluster job failed"),
    }
    let detail = r.as_ref().map(Clone::clone).map_err(|e| e.to_string());
    record(ctx, job, started, detail).await?;
    r
}

async fn record(
    ctx: &JobContext,
    job: &str,
    started: chrono::DateTime<chrono::Utc>,
    r: std::result::Result<String, String>,
) -> Result<()> {
    let db = ctx.pool.get().await?;
    let (ok, detail) = match r {
        Ok(d) => (true, d),
        Err(e) => (false, e),
    };
    crate::db::execute(
        &db,
        "INSERT INTO cluster_jobs (job, node_id, started_at, finished_at, ok, detail)
         VALUES ($1, $2, $3, now(), $4, $5)
         ON CONFLICT (job) DO UPDATE SET node_id = $2, started_at = $3, finished_at = now(), ok = $4, detail = $5",
        &[&job, &ctx.cluster.node_id(), &started, &ok, &detail],
    )
    .await?;
    Ok(())
}

async fn purge_trash(ctx: &JobContext) -> Result<String> {
    let days = ctx.cluster.settings().trash_retention_days;
    if days == 0 {
        return Ok("trash retention is 0 (never purge)".into());
    }
    let db = ctx.pool.get().await?;
    let n = crate::db::execute(
        &db,
        "DELETE FROM content WHERE status = 'trashed' AND trashed_at < now() - $1 * interval '1 day'",
        &[&f64::from(days)],
    )
    .await?;
    Ok(format!(
        "{n} items trashed more than {days} days ago purged"
    ))
}

async fn clean_attachments(ctx: &JobContext) -> Result<String> {
    let root = ctx.shared_home.join("attachments");
    let db = ctx.pool.get().await?;
    let used: std::collections::HashSet<String> = crate::db::query(
        &db,
        "SELECT file_sha256 FROM content_versions WHERE file_sha256 IS NOT NULL
         UNION SELECT avatar_sha256 FROM users WHERE avatar_sha256 IS NOT NULL
         UNION SELECT logo_sha256 FROM spaces WHERE logo_sha256 IS NOT NULL
         UNION SELECT sha256 FROM import_files
         UNION SELECT sha256 FROM draft_files",
        &[],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    let (removed, bytes) = tokio::task::spawn_blocking(move || sweep(&root, &used))
        .await
        .map_err(Error::internal)?;
    Ok(format!(
        "{removed} unreferenced files removed ({bytes} bytes)"
    ))
}

/// Removes files older than an hour that nothing refers to (the hour covers
/// an upload whose row is being committed right now).
fn sweep(root: &Path, used: &std::collections::HashSet<String>) -> (u64, u64) {
    let old = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .map(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(3600))
            .unwrap_or(false)
    };
    let (mut removed, mut bytes) = (0, 0);
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let in_tmp = dir.file_name().is_some_and(|n| n == "tmp");
            let orphan = in_tmp || (name.len() == 64 && !used.contains(&name));
            if orphan && old(&p) {
                let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                if std::fs::remove_file(&p).is_ok() {
                    removed += 1;
                    bytes += len;
                }
            }
        }
    }
    (removed, bytes)
}
