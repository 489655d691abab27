//! `cairn import FILE.zip [--as KEY]`: runs an import in this process with a
//! progress line on standard error (read back from the run's row, as any
//! node would show it) and returns the report as text. Run again after the
//! process died, it takes over the interrupted run from its checkpoints.
//! `cairn imports [ID] [--follow]`: the runs any node started, or one run's
//! progress bar until it ends.
//!
//! Invariant: the CLI imports through exactly the same path as REST.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use super::{export_space, import_zip, run_status, ImportError, Options, Report};
use crate::config::Config;

pub async fn cli(
    url: &str,
    config: &Config,
    file: &Path,
    as_key: Option<String>,
) -> Result<String, ImportError> {
    crate::db::migrate(url)
        .await
        .map_err(|e| ImportError::Db(e.to_string()))?;
    let pool = crate::db::pool(url, 4).map_err(|e| ImportError::Db(e.to_string()))?;
    let store = crate::attach::Store::new(&config.shared_home, u64::MAX);
    let (tell, mut told) = tokio::sync::mpsc::unbounded_channel();
    let opts = Options {
        as_key,
        node_id: config.node_id.clone(),
        file_name: None,
        on_start: Some(tell),
        upload_owned: false,
    };
    let p = pool.clone();
    let watcher = tokio::spawn(async move {
        if let Some(id) = told.recv().await {
            follow(&p, id).await;
        }
    });
    let r = import_zip(&pool, &store, file, &opts).await;
    watcher.abort();
    eprintln!();
    Ok(summary(&r?))
}

/// `cairn imports [ID] [--follow]`.
pub async fn imports_cli(
    url: &str,
    id: Option<i64>,
    follow_it: bool,
) -> Result<String, ImportError> {
    crate::db::migrate(url)
        .await
        .map_err(|e| ImportError::Db(e.to_string()))?;
    let pool = crate::db::pool(url, 2).map_err(|e| ImportError::Db(e.to_string()))?;
    if let (Some(id), true) = (id, follow_it) {
        follow(&pool, id).await;
        eprintln!();
    }
    let db = pool.get().await?;
    let runs = run_status(&db, id, 20).await?;
    if id.is_some() && runs.is_empty() {
        return Err(ImportError::Invalid(format!(
            "no import with id {}",
            id.unwrap_or_default()
        )));
    }
    let mut s = String::new();
    for r in &runs {
        let _ = write!(
            s,
            "import {} {} [{}] {} on node {}{}: {}",
            r.id,
            r.file_name,
            r.space_keys.join(", "),
            r.status,
            r.node_id,
            if r.attempt > 1 {
                format!(" (attempt {})", r.attempt)
            } else {
                String::new()
            },
            line(r)
        );
        if let Some(e) = &r.error {
            let _ = write!(s, " — {e}");
        }
        s.push('\n');
    }
    if runs.is_empty() {
        s.push_str("no imports yet\n");
    }
    Ok(s)
}

/// Phase, bar, counts, rate and time left.
fn line(r: &super::RunStatus) -> String {
    let mut s = format!("{:>9}", r.phase);
    if r.total > 0 {
        let f = (r.done as f64 / r.total as f64).clamp(0.0, 1.0);
        let _ = write!(
            s,
            " [{:<30}] {}/{}",
            "#".repeat((f * 30.0) as usize),
            r.done,
            r.total
        );
    }
    if let Some(rate) = r.rate {
        let _ = write!(s, " {rate:.0}/s");
    }
    if let Some(eta) = r.eta_seconds {
        let _ = write!(s, " ~{}:{:02} left", eta / 60, eta % 60);
    }
    s
}

/// Prints the run's progress line on standard error until it ends, read
/// from the database as every node shows it (so it follows a run any node
/// is running, and the node that takes it over).
async fn follow(pool: &crate::db::Pool, id: i64) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let Ok(db) = pool.get().await else { continue };
        let Ok(runs) = run_status(&db, Some(id), 1).await else {
            continue;
        };
        let Some(r) = runs.first() else { return };
        let node = if r.attempt > 1 {
            format!(" (node {}, attempt {})", r.node_id, r.attempt)
        } else {
            String::new()
        };
        eprint!("\r{}{node}   ", line(r));
        if r.status == "done" || r.status == "failed" {
            return;
        }
    }
}

/// The report as lines of text.
pub(crate) fn summary(r: &Report) -> String {
    let mut s = String::new();
    if r.already_imported {
        let _ = writeln!(
            s,
            "already imported (import {}): nothing changed",
            r.import_id
        );
    } else {
        let _ = writeln!(s, "import {} done in {:.1}s", r.import_id, r.seconds);
    }
    if let Some(resumed) = &r.resumed {
        let _ = writeln!(s, "taken over: {resumed}");
    }
    for sp in &r.spaces {
        let _ = writeln!(
            s,
            "space {} (from {}): {} [id {}]",
            sp.key, sp.source_key, sp.name, sp.id
        );
    }
    if r.already_imported {
        return s;
    }
    let _ = writeln!(
        s,
        "{} pages, {} blog posts, {} comments, {} attachments ({} trashed); {} versions ({} historical)",
        r.pages, r.blog_posts, r.comments, r.attachments, r.trashed, r.versions, r.historical_versions
    );
    let _ = writeln!(
        s,
        "{} attachment files ({} bytes), {} missing; {} labels, {} space labels (categories), {} likes, {} space permissions, {} restrictions, {} watches, {} content properties, {} templates, {} extras",
        r.attachment_files,
        r.bytes_copied,
        r.missing_files.len(),
        r.labels,
        r.space_labels,
        r.likes,
        r.space_permissions,
        r.restrictions,
        r.watches,
        r.content_properties,
        r.templates,
        r.extras
    );
    let _ = writeln!(
        s,
        "users: {} matched, {} created deactivated ({}); groups created: {}",
        r.users_matched.len(),
        r.users_created.len(),
        r.users_created.join(", "),
        r.groups_created.join(", ")
    );
    let _ = writeln!(
        s,
        "bodies: {} ({} wiki markup converted, {} CDATA repairs, {} not well-formed); drafts skipped: {}",
        r.bodies, r.wiki_bodies, r.cdata_repairs, r.bodies_not_well_formed, r.drafts_skipped
    );
    for (k, n) in &r.wiki_unconverted {
        let _ = writeln!(s, "  kept as unmigrated wiki markup: {k} ×{n}");
    }
    for (k, n) in &r.skipped {
        let _ = writeln!(s, "  skipped {k} ×{n}");
    }
    for w in &r.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    if r.warnings_total as usize > r.warnings.len() {
        let _ = writeln!(
            s,
            "… and {} more warnings",
            r.warnings_total as usize - r.warnings.len()
        );
    }
    s
}

/// `cairn export KEY FILE.zip`: the space as a Confluence XML space export.
pub async fn export_cli(
    url: &str,
    config: &Config,
    key: &str,
    file: &Path,
) -> Result<String, ImportError> {
    crate::db::migrate(url)
        .await
        .map_err(|e| ImportError::Db(e.to_string()))?;
    let pool = crate::db::pool(url, 2).map_err(|e| ImportError::Db(e.to_string()))?;
    let store = crate::attach::Store::new(&config.shared_home, u64::MAX);
    let r = export_space(&pool, &store, key, file).await?;
    Ok(format!(
        "exported space {} to {}: {} content objects, {} versions, {} files, {} labels, {} space permissions, {} restrictions, {} categories, {} watches, {} content properties, {} templates, {} Confluence properties",
        r.space_key,
        file.display(),
        r.contents,
        r.versions,
        r.files,
        r.labels,
        r.permissions,
        r.restrictions,
        r.categories,
        r.watches,
        r.content_properties,
        r.templates,
        r.extras
    ))
}
