//! Index snapshots in the shared home: a new node starts from the newest
//! one and replays the journal from its position.
//!
//! Invariant: a snapshot directory is written under a temporary name and
//! renamed when complete, so a reader never sees half a snapshot; its
//! name is the journal position it contains.

use super::{schema::SCHEMA_VERSION, snapshots, Payload, SearchIndex};
use crate::error::{Error, Result};
use crate::search::failed;
use crate::sync::Recover;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where snapshots live in the shared home.
pub fn snapshot_root(shared_home: &Path) -> PathBuf {
    shared_home.join("index-snapshots")
}

/// The newest complete snapshot of this schema: (journal position,
/// directory). Whether it may be restored is [`SearchIndex::settle`]'s call.
pub fn newest_snapshot(shared_home: &Path) -> Option<(i64, PathBuf)> {
    snapshots(shared_home).into_iter().next()
}

pub(super) fn copy_dir_files(
    from: &Path,
    to: &Path,
    only: Option<&dyn Fn(&str) -> bool>,
) -> std::io::Result<u64> {
    std::fs::create_dir_all(to)?;
    let mut n = 0;
    for e in std::fs::read_dir(from)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !e.path().is_file() || name.ends_with(".lock") {
            continue;
        }
        if let Some(f) = only {
            if !f(&name) {
                continue;
            }
        }
        n += std::fs::copy(e.path(), to.join(&name))?;
        std::fs::File::open(to.join(&name))?.sync_all()?;
    }
    if let Ok(d) = std::fs::File::open(to) {
        let _ = d.sync_all();
    }
    Ok(n)
}

impl SearchIndex {
    /// Writes a snapshot of the committed index, with its journal position,
    /// to the shared home: files are copied to a temp directory, fsynced,
    /// then renamed into place, so a snapshot is complete or absent. Keeps
    /// the two newest. Returns the position.
    pub fn snapshot(&self, shared_home: &Path) -> Result<i64> {
        if self.is_placeholder() {
            return Err(Error::Conflict(
                "this node's index is being rebuilt; no snapshot of it now".into(),
            ));
        }
        // Holding the writer means no commit (and no garbage collection of
        // the committed files) happens while we copy.
        let live = self.live();
        let _w = live.writer.lock().recover();
        let metas = live
            .index
            .load_metas()
            .map_err(|e| failed("reading the commit metadata", e))?;
        let seq = Payload::parse(metas.payload.as_deref()).seq;
        let segments: Vec<String> = metas
            .segments
            .iter()
            .map(|s| s.id().uuid_string())
            .collect();
        let root = snapshot_root(shared_home);
        let tmp = root.join(format!(
            "tmp-{}-{}",
            std::process::id(),
            crate::auth::random_token(6)
        ));
        let keep = |name: &str| {
            name == "meta.json"
                || name == ".managed.json"
                || segments.iter().any(|s| name.starts_with(s.as_str()))
        };
        copy_dir_files(&live.dir, &tmp, Some(&keep)).map_err(|e| {
            failed(
                format!("copying {} to {}", live.dir.display(), tmp.display()),
                e,
            )
        })?;
        std::fs::write(tmp.join("cairn-schema-version"), SCHEMA_VERSION).map_err(|e| {
            failed(
                format!("writing the schema version into {}", tmp.display()),
                e,
            )
        })?;
        let dest = root.join(format!("snapshot-{seq}"));
        if dest.exists() {
            let _ = std::fs::remove_dir_all(&tmp);
        } else {
            std::fs::rename(&tmp, &dest).map_err(|e| {
                failed(
                    format!("renaming {} to {}", tmp.display(), dest.display()),
                    e,
                )
            })?;
        }
        let mut all: Vec<(i64, PathBuf)> = std::fs::read_dir(&root)
            .map_err(|e| failed(format!("listing {}", root.display()), e))?
            .flatten()
            .filter_map(|e| {
                let seq: i64 = e
                    .file_name()
                    .to_string_lossy()
                    .strip_prefix("snapshot-")?
                    .parse()
                    .ok()?;
                Some((seq, e.path()))
            })
            .collect();
        all.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
        for (_, old) in all.into_iter().skip(2) {
            let _ = std::fs::remove_dir_all(old);
        }
        Ok(seq)
    }

    /// Writes a snapshot, then trims the journal up to what both the newest
    /// snapshot and every live node have passed: the leader's
    /// `index-snapshot` job (one node at a time, also by advisory lock).
    pub async fn snapshot_and_trim(
        self: &Arc<Self>,
        pool: &deadpool_postgres::Pool,
        shared_home: &Path,
    ) -> Result<i64> {
        const LOCK: i64 = 0x6361_6972_6e00_0002;
        let db = pool.get().await?;
        let got: bool = crate::db::query_one(&db, "SELECT pg_try_advisory_lock($1)", &[&LOCK])
            .await?
            .get(0);
        if !got {
            return Ok(0);
        }
        let r = async {
            let me = self.clone();
            let home = shared_home.to_owned();
            let started = std::time::Instant::now();
            let seq = tokio::task::spawn_blocking(move || me.snapshot(&home)).await.map_err(|e| failed("writing a snapshot (task panicked)", e))??;
            tracing::info!(position = seq, ms = started.elapsed().as_millis() as u64, "search index snapshot written");
            let trimmed = crate::db::execute(
                &db,
                // The entry at the boundary stays: it is what a node at that
                // position (or the snapshot) is verified against.
                "DELETE FROM index_journal WHERE seq < LEAST($1::bigint,
                   coalesce((SELECT min(seq) FROM index_positions WHERE updated_at > now() - interval '1 day'), $1::bigint))",
                &[&seq],
            )
            .await?;
            tracing::info!(trimmed, "index journal trimmed");
            Ok::<i64, Error>(seq)
        }
        .await;
        let _ = crate::db::execute(&db, "SELECT pg_advisory_unlock($1)", &[&LOCK]).await;
        r
    }
}
