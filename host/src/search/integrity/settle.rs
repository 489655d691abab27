//! Settling the index at start-up and on every identity check: keep it,
//! restore a trusted snapshot, or rebuild from PostgreSQL.
//!
//! Invariant: while an untrusted index is replaced, searches answer from an
//! empty stand-in (incomplete, never wrong) and the node reports search as
//! degraded; a regression of the database's history draws a new epoch.

use super::{
    identity::{judge, Facts},
    Untrusted,
};
use crate::error::Result;
use crate::search::failed;
use crate::search::schema::SCHEMA_VERSION;
use crate::search::Identity;
use crate::search::Payload;
use crate::search::{Live, SearchIndex};
use crate::sync::Recover;
use deadpool_postgres::GenericClient;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What start-up (or a failed identity check) did with the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The local index matches the database: kept.
    Kept,
    /// A snapshot of this history was restored (its position).
    Restored(i64),
    /// The index could not be trusted (why): a rebuild is running beside an
    /// empty stand-in.
    Rebuilding(String),
}

/// Snapshots in the shared home of this schema, newest first.
pub fn snapshots(shared_home: &Path) -> Vec<(i64, PathBuf)> {
    let root = crate::search::snapshot_root(shared_home);
    let mut all: Vec<(i64, PathBuf)> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let seq: i64 = name.strip_prefix("snapshot-")?.parse().ok()?;
                    let version = std::fs::read_to_string(e.path().join("cairn-schema-version"))
                        .unwrap_or_else(|_| "1".into());
                    (version.trim() == SCHEMA_VERSION).then(|| (seq, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    all.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    all
}

impl SearchIndex {
    /// Start-up: keeps the local index when it matches the database,
    /// restores the newest snapshot of this history when that is further
    /// ahead (or the local index is not trusted), and otherwise rebuilds
    /// from PostgreSQL in the background (search degraded until done).
    /// Says why in the log.
    pub async fn settle(
        self: &Arc<Self>,
        pool: &deadpool_postgres::Pool,
        store: &crate::attach::Store,
    ) -> Result<Settled> {
        let _applying = self.apply_lock.lock().await;
        let db = pool.get().await?;
        let p = self.live().payload();
        let facts = Facts::load(&db, p.seq).await?;
        self.set_identity(facts.identity.clone());
        match judge(&p, &facts) {
            Ok(()) => {
                if let Some((seq, dir)) = self.trusted_snapshot(&db, store.shared_home()).await? {
                    if seq > p.seq {
                        tracing::info!(
                            local = p.seq,
                            snapshot = seq,
                            "restoring the search index from the newest snapshot"
                        );
                        self.restore_snapshot(&dir).await?;
                        return Ok(Settled::Restored(seq));
                    }
                }
                tracing::info!(position = p.seq, "search index matches the database; kept");
                Ok(Settled::Kept)
            }
            Err(u) => {
                drop(db);
                self.recover(pool, store, u).await
            }
        }
    }

    /// The tailer's periodic check: the live index still belongs to the
    /// database's history; if not, [`SearchIndex::recover`].
    pub(in crate::search) async fn check_identity(
        self: &Arc<Self>,
        pool: &deadpool_postgres::Pool,
        store: &crate::attach::Store,
    ) -> Result<()> {
        let running = self.rebuild_state().running;
        if self.is_placeholder() {
            if !running {
                // The rebuild behind the stand-in failed: try again.
                self.spawn_fresh_rebuild(pool, store);
            }
            return Ok(());
        }
        if running {
            return Ok(());
        }
        let _applying = self.apply_lock.lock().await;
        let db = pool.get().await?;
        let p = self.live().payload();
        let facts = Facts::load(&db, p.seq).await?;
        self.set_identity(facts.identity.clone());
        if let Err(u) = judge(&p, &facts) {
            drop(db);
            self.recover(pool, store, u).await?;
        }
        Ok(())
    }

    /// Replaces an untrusted live index: draws a new epoch if this
    /// database's history went back, restores a snapshot of the present
    /// history if there is one, else swaps in an empty stand-in and
    /// rebuilds from PostgreSQL in the background. The caller holds the
    /// apply lock.
    pub(in crate::search) async fn recover(
        self: &Arc<Self>,
        pool: &deadpool_postgres::Pool,
        store: &crate::attach::Store,
        u: Untrusted,
    ) -> Result<Settled> {
        let p = self.live().payload();
        tracing::warn!(
            position = p.seq,
            reason = %u.reason,
            "the search index does not match the database; replacing it"
        );
        self.set_degraded(Some(format!(
            "the index was not trusted: {}; rebuilding",
            u.reason
        )));
        let db = pool.get().await?;
        if u.regression {
            let old = self.identity().map(|i| i.epoch).unwrap_or_default();
            let n = crate::db::execute(
                &db,
                "UPDATE index_history SET epoch = md5(random()::text || clock_timestamp()::text),
                        reason = $2, changed_at = now() WHERE epoch = $1",
                &[&old, &u.reason],
            )
            .await?;
            if n > 0 {
                tracing::warn!(
                    "new history epoch drawn: every other node's index and older snapshots will be rebuilt or ignored"
                );
            }
        }
        self.set_identity(Identity::load(&db).await?);
        if let Some((seq, dir)) = self.trusted_snapshot(&db, store.shared_home()).await? {
            tracing::info!(
                snapshot = seq,
                "restoring a snapshot of this history instead"
            );
            self.restore_snapshot(&dir).await?;
            self.set_degraded(None);
            return Ok(Settled::Restored(seq));
        }
        // An empty stand-in answers (incompletely, never wrongly) until the
        // rebuild is swapped in.
        let empty = self.local_home.join("index.empty");
        let _ = std::fs::remove_dir_all(&empty);
        std::fs::create_dir_all(&empty)
            .map_err(|e| failed(format!("creating {}", empty.display()), e))?;
        drop(Live::open(&empty, Some(crate::search::schema::schema().0))?);
        self.swap_in(&empty)?;
        self.placeholder
            .store(true, std::sync::atomic::Ordering::Release);
        self.spawn_fresh_rebuild(pool, store);
        Ok(Settled::Rebuilding(u.reason))
    }

    pub(in crate::search) fn spawn_fresh_rebuild(
        self: &Arc<Self>,
        pool: &deadpool_postgres::Pool,
        store: &crate::attach::Store,
    ) {
        // Marked running before the task starts, so the next identity check
        // cannot start a second one.
        if self.begin_rebuild().is_err() {
            return;
        }
        let (me, pool, store) = (self.clone(), pool.clone(), store.clone());
        tokio::spawn(async move {
            let r = me.rebuild_inner(&pool, &store, true).await;
            me.end_rebuild(&r);
            match r {
                Ok(_) => {
                    me.set_degraded(None);
                    if let Err(e) = me.snapshot_and_trim(&pool, store.shared_home()).await {
                        tracing::warn!(error = %e, "snapshot after the rebuild failed");
                    }
                }
                Err(e) => {
                    me.set_degraded(Some(format!("rebuilding the index failed: {e}; retrying")));
                    tracing::error!(error = %e, "index rebuild failed; retried by the next identity check");
                }
            }
        });
    }

    /// The newest snapshot in the shared home that indexes this database's
    /// present history; rejected ones are logged with the reason.
    pub(in crate::search) async fn trusted_snapshot(
        &self,
        db: &impl GenericClient,
        shared_home: &Path,
    ) -> Result<Option<(i64, PathBuf)>> {
        for (seq, dir) in snapshots(shared_home) {
            let p = Payload::of_dir(&dir);
            let facts = Facts::load(db, p.seq).await?;
            let verdict = if p.seq != seq || p.identity.is_none() {
                Err(Untrusted {
                    reason: "it carries no identity of the database it indexes".into(),
                    regression: false,
                })
            } else {
                judge(&p, &facts)
            };
            match verdict {
                Ok(()) => return Ok(Some((seq, dir))),
                Err(u) => {
                    tracing::warn!(snapshot = %dir.display(), reason = %u.reason, "snapshot not used");
                    {
                        let mut h = self.health.lock().recover();
                        h.last_distrust = Some((
                            chrono::Utc::now(),
                            format!("snapshot-{seq} not used: {}", u.reason),
                        ));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Copies a snapshot beside the live index and swaps it in. The caller
    /// holds the apply lock.
    pub(in crate::search) async fn restore_snapshot(&self, dir: &Path) -> Result<()> {
        let started = std::time::Instant::now();
        let tmp = self.local_home.join("index.restoring");
        let (from, to) = (dir.to_owned(), tmp.clone());
        tokio::task::spawn_blocking(move || {
            let _ = std::fs::remove_dir_all(&to);
            crate::search::snapshot::copy_dir_files(&from, &to, None)
        })
        .await
        .map_err(|e| failed("copying a snapshot (task panicked)", e))?
        .map_err(|e| failed("copying a snapshot", e))?;
        self.swap_in(&tmp)?;
        tracing::info!(
            position = self.position(),
            ms = started.elapsed().as_millis() as u64,
            "search index restored from a snapshot"
        );
        Ok(())
    }
}
