//! Keeping the index honest: what it indexes (its identity), whether that
//! is still this database's history, and whether its documents still equal
//! PostgreSQL's.
//!
//! Invariants:
//! - every commit's payload carries the journal position, the journal
//!   entry found there (its time and content id: the *stamp*), and the
//!   database's identity (cluster id, PostgreSQL system identifier, history
//!   epoch); snapshots carry the same payload in their `meta.json`;
//! - an index or snapshot is kept or restored only when its identity equals
//!   the database's, the journal reaches its position, and the entry there
//!   has the stamp it recorded. Anything else (a restored backup, another
//!   cluster's or database's files, a missing entry) means a rebuild from
//!   PostgreSQL — never a skip, never a guess;
//! - a detected regression of this database's history (identity equal,
//!   journal behind or different) draws a new history epoch, so every other
//!   node's index and every older snapshot stop matching too;
//! - while a rebuild replaces an untrusted index, searches answer from an
//!   empty stand-in (incomplete, never wrong) and the node reports search
//!   as degraded (`/status`, `/metrics`, the admin pages);
//! - the drift check compares with PostgreSQL while holding the apply lock,
//!   and counts as drift only documents without a pending journal entry.

use crate::sync::Recover;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tantivy::schema::Value as _;
use tantivy::{Index, TantivyDocument, Term};

use super::documents::{load_docs, IndexDoc};
use super::schema::SCHEMA_VERSION;
use super::{Live, SearchIndex};
use crate::error::{Error, Result};
use crate::search::failed;

/// How often the tailer checks that its index still belongs to the
/// database's history (a few cheap lookups by primary key).
pub(super) const IDENTITY_CHECK: Duration = Duration::from_secs(5);

/// How many documents the periodic drift check compares in full.
pub const DRIFT_SAMPLE: usize = 200;

/// A journal entry's stamp: its creation time (µs) and content id. Two
/// histories that reuse a number practically never agree on both.
pub(super) const STAMP_SQL: &str =
    "((extract(epoch FROM created_at) * 1000000)::bigint::text || ':' || content_id::text)";

/// What a database is, as far as an index is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Identity {
    /// `cluster_info.cluster_id` (empty for a database no cluster joined).
    pub cluster: String,
    /// PostgreSQL's system identifier (`pg_control_system()`), or
    /// `unavailable` when the role may not read it.
    pub system: String,
    /// `index_history.epoch`.
    pub epoch: String,
}

impl Identity {
    pub async fn load(db: &impl GenericClient) -> Result<Identity> {
        let r = crate::db::query_one(
            db,
            "SELECT coalesce((SELECT cluster_id FROM cluster_info), ''),
                    coalesce((SELECT epoch FROM index_history), '')",
            &[],
        )
        .await?;
        let system = match db
            .query_one(
                "SELECT system_identifier::text FROM pg_control_system()",
                &[],
            )
            .await
        {
            Ok(r) => r.get(0),
            Err(e) => {
                tracing::debug!(error = %e, "pg_control_system() not readable; the system identifier is not part of the index identity");
                "unavailable".to_owned()
            }
        };
        Ok(Identity {
            cluster: r.get(0),
            system,
            epoch: r.get(1),
        })
    }
}

/// A journal position with the stamp of the entry there ("" for none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Mark {
    pub seq: i64,
    pub stamp: String,
}

/// An index commit's payload. Older releases wrote the bare position.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub seq: i64,
    #[serde(default)]
    pub stamp: String,
    #[serde(default)]
    pub identity: Option<Identity>,
}

impl Payload {
    pub(super) fn new(mark: &Mark, identity: Option<Identity>) -> Payload {
        Payload {
            seq: mark.seq,
            stamp: mark.stamp.clone(),
            identity,
        }
    }

    pub fn parse(text: Option<&str>) -> Payload {
        let Some(text) = text else {
            return Payload::default();
        };
        if let Ok(p) = serde_json::from_str::<Payload>(text) {
            return p;
        }
        Payload {
            seq: text.trim().parse().unwrap_or(0),
            ..Payload::default()
        }
    }

    pub(super) fn mark(&self) -> Mark {
        Mark {
            seq: self.seq,
            stamp: self.stamp.clone(),
        }
    }

    /// The payload of the index (or snapshot) in `dir`, from its `meta.json`.
    pub fn of_dir(dir: &Path) -> Payload {
        let meta: serde_json::Value = std::fs::read_to_string(dir.join("meta.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null);
        Payload::parse(meta["payload"].as_str())
    }
}

impl std::fmt::Display for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| std::fmt::Error)?)
    }
}

/// A stable digest of everything indexed for a document.
pub(super) fn digest(d: &IndexDoc) -> u64 {
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update(s.as_bytes());
        h.update([0x1f]);
    };
    put(&d.id.to_string());
    put(&d.version.to_string());
    put(&d.kind);
    put(&d.space_id.to_string());
    put(&d.space_key);
    put(&d.title);
    put(&d.body);
    put(&d.labels.join("\u{1e}"));
    put(&d.creator);
    let mut contributors = d.contributors.clone();
    contributors.sort();
    put(&contributors.join("\u{1e}"));
    put(&d.created.timestamp_micros().to_string());
    put(&d.modified.timestamp_micros().to_string());
    put(&format!(
        "{:?}/{:?}/{:?}",
        d.ancestors, d.parent, d.container
    ));
    let mut rset = d.rset.clone();
    rset.sort_unstable();
    put(&format!("{rset:?}"));
    let mut mentions = d.mentions.clone();
    mentions.sort();
    put(&mentions.join("\u{1e}"));
    let out = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&out[..8]);
    u64::from_le_bytes(b)
}

/// Where a rebuild from an untrusted index starts replaying the journal:
/// 1000 entries behind the head the repeatable-read snapshot `tx` sees,
/// since entries of transactions still open were numbered earlier but are
/// not visible yet (re-applying an entry is harmless).
pub(super) async fn replay_start(tx: &impl GenericClient) -> Result<Mark> {
    let row = crate::db::query_opt(
        tx,
        &format!(
            "SELECT seq, {STAMP_SQL} FROM index_journal ORDER BY seq DESC OFFSET 1000 LIMIT 1"
        ),
        &[],
    )
    .await?;
    Ok(row.map_or_else(Mark::default, |r| Mark {
        seq: r.get(0),
        stamp: r.get(1),
    }))
}

/// What the database says about a position.
struct Facts {
    identity: Identity,
    head: i64,
    oldest: Option<i64>,
    /// The stamp of the entry at the position asked about.
    stamp: Option<String>,
    has_content: bool,
}

impl Facts {
    async fn load(db: &impl GenericClient, seq: i64) -> Result<Facts> {
        let identity = Identity::load(db).await?;
        let r = crate::db::query_one(
            db,
            &format!(
                "SELECT coalesce((SELECT max(seq) FROM index_journal), 0),
                        (SELECT min(seq) FROM index_journal),
                        (SELECT {STAMP_SQL} FROM index_journal WHERE seq = $1),
                        EXISTS (SELECT 1 FROM content)"
            ),
            &[&seq],
        )
        .await?;
        Ok(Facts {
            identity,
            head: r.get(0),
            oldest: r.get(1),
            stamp: r.get(2),
            has_content: r.get(3),
        })
    }
}

/// Why an index (or snapshot) cannot be trusted.
#[derive(Debug, Clone)]
pub struct Untrusted {
    pub reason: String,
    /// This database's own history went back (a restore): the epoch must
    /// change so that other nodes and older snapshots notice too.
    pub regression: bool,
}

fn untrusted(reason: String, regression: bool) -> std::result::Result<(), Untrusted> {
    Err(Untrusted { reason, regression })
}

/// Whether an index with payload `p` indexes exactly this database's
/// history up to its position.
fn judge(p: &Payload, f: &Facts) -> std::result::Result<(), Untrusted> {
    if let Some(id) = &p.identity {
        if id.cluster != f.identity.cluster {
            return untrusted(
                format!(
                    "it was built for cluster {:?}, but this database belongs to {:?}",
                    id.cluster, f.identity.cluster
                ),
                false,
            );
        }
        if id.system != f.identity.system {
            return untrusted(
                format!(
                    "it was built from another PostgreSQL database (system identifier {}, this one is {})",
                    id.system, f.identity.system
                ),
                false,
            );
        }
        if id.epoch != f.identity.epoch {
            return untrusted(
                format!(
                    "it was built from another history of this database (epoch {}, now {}: a restore was detected)",
                    id.epoch, f.identity.epoch
                ),
                false,
            );
        }
    }
    if p.seq == 0 {
        // Nothing applied yet: an index made by a rebuild of this database
        // is fine; an empty new one must replay a journal that starts at
        // the beginning.
        return match (&p.identity, f.oldest) {
            (Some(_), _) | (None, Some(1)) => Ok(()),
            (None, None) if !f.has_content => Ok(()),
            (None, _) => untrusted(
                "it is empty and the journal no longer holds every change from the start".into(),
                false,
            ),
        };
    }
    if p.identity.is_none() {
        return untrusted(
            "it carries no identity of the database it indexes (made by an older release)".into(),
            false,
        );
    }
    if f.head < p.seq {
        return untrusted(
            format!(
                "the journal ends at entry {}, before the index's position {}: the database went back in time (restored from a backup?)",
                f.head, p.seq
            ),
            true,
        );
    }
    match &f.stamp {
        None if f.oldest.is_some_and(|o| o > p.seq) => untrusted(
            format!(
                "the journal was trimmed past the index's position {} (oldest entry {})",
                p.seq,
                f.oldest.unwrap_or(0)
            ),
            false,
        ),
        None => untrusted(
            format!(
                "journal entry {}, the last one the index applied, is missing from the journal",
                p.seq
            ),
            false,
        ),
        Some(s) if *s != p.stamp => untrusted(
            format!(
                "journal entry {} is not the one the index applied (it was {}, it is {s}): the database's history was replaced (restored from a backup?)",
                p.seq, p.stamp
            ),
            true,
        ),
        Some(_) => Ok(()),
    }
}

/// Whether search on this node is right, and the drift checks' figures.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// Set while search answers from an incomplete index, with the reason.
    pub degraded: Option<String>,
    /// The last reason an index or snapshot was not trusted, and when.
    pub last_distrust: Option<(chrono::DateTime<chrono::Utc>, String)>,
    pub drift_checks: u64,
    /// Documents found to differ from PostgreSQL (and repaired), all checks.
    pub drift_repaired: u64,
    /// Search hits dropped because PostgreSQL disagreed with the index.
    pub stale_hits: u64,
    pub last_check: Option<DriftReport>,
}

/// One drift check's outcome.
#[derive(Debug, Clone, Default)]
pub struct DriftReport {
    pub at: chrono::DateTime<chrono::Utc>,
    pub ms: u64,
    pub spaces: usize,
    pub documents: u64,
    pub sampled: usize,
    /// Documents that differed (first few ids in `ids`).
    pub differing: usize,
    pub ids: Vec<i64>,
    pub repaired: usize,
}

impl std::fmt::Display for DriftReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} documents in {} spaces counted, {} compared in full: {} differed, {} repaired ({} ms)",
            self.documents, self.spaces, self.sampled, self.differing, self.repaired, self.ms
        )
    }
}

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
    let root = super::snapshot_root(shared_home);
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
    pub(super) fn identity(&self) -> Option<Identity> {
        self.identity.read().recover().clone()
    }

    pub(super) fn set_identity(&self, id: Identity) {
        {
            let mut i = self.identity.write().recover();
            *i = Some(id);
        }
    }

    /// The live index's payload (position, stamp, identity).
    pub fn payload(&self) -> Payload {
        self.live().payload()
    }

    pub fn health(&self) -> Health {
        self.health.lock().recover().clone()
    }

    /// Why search is degraded on this node, if it is.
    pub fn degraded(&self) -> Option<String> {
        self.health.lock().recover().degraded.clone()
    }

    fn set_degraded(&self, reason: Option<String>) {
        {
            let mut h = self.health.lock().recover();
            if let Some(r) = &reason {
                h.last_distrust = Some((chrono::Utc::now(), r.clone()));
            }
            h.degraded = reason;
        }
    }

    pub(super) fn is_placeholder(&self) -> bool {
        self.placeholder.load(std::sync::atomic::Ordering::Acquire)
    }

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
    pub(super) async fn check_identity(
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
    async fn recover(
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
        drop(Live::open(&empty, Some(super::schema().0))?);
        self.swap_in(&empty)?;
        self.placeholder
            .store(true, std::sync::atomic::Ordering::Release);
        self.spawn_fresh_rebuild(pool, store);
        Ok(Settled::Rebuilding(u.reason))
    }

    fn spawn_fresh_rebuild(
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
    async fn trusted_snapshot(
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
    async fn restore_snapshot(&self, dir: &Path) -> Result<()> {
        let started = std::time::Instant::now();
        let tmp = self.local_home.join("index.restoring");
        let (from, to) = (dir.to_owned(), tmp.clone());
        tokio::task::spawn_blocking(move || {
            let _ = std::fs::remove_dir_all(&to);
            super::snapshot::copy_dir_files(&from, &to, None)
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

    /// Remembers documents a search found stale, for the tailer's next pass.
    pub(super) fn queue_repairs(&self, ids: &[i64]) {
        {
            let mut q = self.repairs.lock().recover();
            for id in ids {
                if q.len() < 10_000 {
                    q.insert(*id);
                }
            }
        }
        {
            let mut h = self.health.lock().recover();
            h.stale_hits += ids.len() as u64;
        }
    }

    /// Re-applies the queued documents' current state. Apply lock held.
    pub(super) async fn apply_repairs(
        self: &Arc<Self>,
        live: &Arc<Live>,
        db: &impl GenericClient,
        store: &crate::attach::Store,
    ) -> Result<usize> {
        let ids: Vec<i64> = match self.repairs.lock() {
            Ok(mut q) => std::mem::take(&mut *q).into_iter().collect(),
            Err(_) => return Ok(0),
        };
        if ids.is_empty() {
            return Ok(0);
        }
        self.reapply(live, db, store, ids).await
    }

    async fn reapply(
        self: &Arc<Self>,
        live: &Arc<Live>,
        db: &impl GenericClient,
        store: &crate::attach::Store,
        ids: Vec<i64>,
    ) -> Result<usize> {
        let n = ids.len();
        let docs = load_docs(db, store, &ids).await?;
        let mark = live.payload().mark();
        let (me, target) = (self.clone(), live.clone());
        tokio::task::spawn_blocking(move || me.apply(&target, &ids, docs, &mark))
            .await
            .map_err(|e| failed("applying repaired documents (task panicked)", e))??;
        Ok(n)
    }

    /// Hits of a search page that PostgreSQL contradicts: the id is gone,
    /// not current, in another version or modification time than indexed,
    /// or not visible to the viewer now.
    pub(super) async fn stale_hits(
        &self,
        db: &impl GenericClient,
        viewer: &crate::perms::Viewer,
        indexed: &[(i64, i64, i64)],
    ) -> Result<Vec<i64>> {
        if indexed.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = indexed.iter().map(|h| h.0).collect();
        let rows = crate::db::query(
            db,
            &format!(
                "SELECT c.id, c.version, (extract(epoch FROM c.modified_at) * 1000000)::bigint
                 FROM content c WHERE c.id = ANY($1) AND c.status = 'current' AND {}",
                crate::perms::Viewer::content_filter(2, 3, 4)
            ),
            &[
                &ids,
                &viewer.user_id(),
                &*viewer.groups,
                &*viewer.view_spaces,
            ],
        )
        .await?;
        let current: HashMap<i64, (i64, i64)> = rows
            .iter()
            .map(|r| (r.get(0), (r.get::<_, i32>(1) as i64, r.get(2))))
            .collect();
        Ok(indexed
            .iter()
            .filter(|(id, version, modified)| current.get(id) != Some(&(*version, *modified)))
            .map(|h| h.0)
            .collect())
    }

    /// The periodic drift check: documents per space against PostgreSQL
    /// (the ids of any space that differs are compared one by one), and
    /// `sample` documents — half chosen from PostgreSQL, half from the
    /// index — compared in full by digest. Documents that differ and have
    /// no journal entry pending are re-applied when `repair`.
    pub async fn check_drift(
        self: &Arc<Self>,
        pool: &deadpool_postgres::Pool,
        store: &crate::attach::Store,
        sample: usize,
        repair: bool,
    ) -> Result<DriftReport> {
        if self.is_placeholder() || self.rebuild_state().running {
            return Err(Error::Conflict(
                "this node's index is being rebuilt; no drift check now".into(),
            ));
        }
        let started = std::time::Instant::now();
        let _applying = self.apply_lock.lock().await;
        let db = pool.get().await?;
        let live = self.live();
        self.catch_up_into(&live, &db, store).await?;
        let pos = live.position();
        let searcher = live.reader.searcher();
        // Documents per space, both sides.
        let pg: BTreeMap<i64, i64> = crate::db::query(
            &db,
            "SELECT space_id, count(*) FROM content WHERE status = 'current' GROUP BY space_id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
        let (ix, documents) = {
            let searcher = searcher.clone();
            tokio::task::spawn_blocking(move || count_by_space(&searcher))
                .await
                .map_err(|e| failed("counting documents by space (task panicked)", e))??
        };
        let spaces: BTreeSet<i64> = pg.keys().chain(ix.keys()).copied().collect();
        let off: Vec<i64> = spaces
            .iter()
            .copied()
            .filter(|s| pg.get(s).copied().unwrap_or(0) != ix.get(s).copied().unwrap_or(0))
            .collect();
        let mut differing: BTreeSet<i64> = BTreeSet::new();
        if !off.is_empty() {
            let pg_ids: BTreeSet<i64> = crate::db::query(
                &db,
                "SELECT id FROM content WHERE status = 'current' AND space_id = ANY($1)",
                &[&off],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
            let ix_ids = {
                let (searcher, off) = (searcher.clone(), off.clone());
                tokio::task::spawn_blocking(move || ids_in_spaces(&searcher, &off))
                    .await
                    .map_err(|e| {
                        failed("listing documents of dropped spaces (task panicked)", e)
                    })??
            };
            differing.extend(pg_ids.symmetric_difference(&ix_ids));
        }
        // A sample compared in full.
        let mut ids: BTreeSet<i64> = BTreeSet::new();
        if sample > 0 {
            let bounds = crate::db::query_one(
                &db,
                "SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM content WHERE status = 'current'",
                &[],
            )
            .await?;
            let (lo, hi): (i64, i64) = (bounds.get(0), bounds.get(1));
            let from = if hi > lo {
                rand::Rng::gen_range(&mut rand::thread_rng(), lo..=hi)
            } else {
                lo
            };
            let half = (sample / 2).max(1) as i64;
            for r in crate::db::query(
                &db,
                "(SELECT id FROM content WHERE status = 'current' AND id >= $1 ORDER BY id LIMIT $2)
                 UNION ALL (SELECT id FROM content WHERE status = 'current' AND id < $1 ORDER BY id LIMIT $2)",
                &[&from, &half],
            )
            .await?
            .iter()
            .take(half as usize)
            {
                ids.insert(r.get(0));
            }
            let searcher2 = searcher.clone();
            let take = sample.saturating_sub(ids.len());
            ids.extend(
                tokio::task::spawn_blocking(move || random_ids(&searcher2, take))
                    .await
                    .map_err(|e| failed("sampling documents (task panicked)", e))??,
            );
        }
        let sampled = ids.len();
        if !ids.is_empty() {
            let ids: Vec<i64> = ids.into_iter().collect();
            let docs = load_docs(&db, store, &ids).await?;
            let want: HashMap<i64, u64> = docs.iter().map(|d| (d.id, digest(d))).collect();
            let (f, searcher2, ids2) = (self.f, searcher.clone(), ids.clone());
            let have = tokio::task::spawn_blocking(move || digests_of(&searcher2, f, &ids2))
                .await
                .map_err(|e| failed("reading sampled digests (task panicked)", e))??;
            for id in ids {
                if want.get(&id) != have.get(&id) {
                    differing.insert(id);
                }
            }
        }
        // Changes the tailer has not applied yet are not drift.
        if !differing.is_empty() {
            let list: Vec<i64> = differing.iter().copied().collect();
            for r in crate::db::query(
                &db,
                "SELECT DISTINCT content_id FROM index_journal WHERE seq > $1 AND content_id = ANY($2)",
                &[&pos, &list],
            )
            .await?
            {
                differing.remove(&r.get::<_, i64>(0));
            }
        }
        let list: Vec<i64> = differing.into_iter().collect();
        let repaired = if repair && !list.is_empty() {
            tracing::warn!(
                documents = list.len(),
                ids = ?&list[..list.len().min(20)],
                "search index drift: documents differ from PostgreSQL; re-applying them"
            );
            self.reapply(&live, &db, store, list.clone()).await?
        } else {
            0
        };
        let report = DriftReport {
            at: chrono::Utc::now(),
            ms: started.elapsed().as_millis() as u64,
            spaces: spaces.len(),
            documents,
            sampled,
            differing: list.len(),
            ids: list.iter().take(20).copied().collect(),
            repaired,
        };
        {
            let mut h = self.health.lock().recover();
            h.drift_checks += 1;
            h.drift_repaired += repaired as u64;
            h.last_check = Some(report.clone());
        }
        Ok(report)
    }

    /// Runs [`SearchIndex::check_drift`] (with repair) every `every`.
    pub fn spawn_drift_checker(
        self: &Arc<Self>,
        pool: deadpool_postgres::Pool,
        store: crate::attach::Store,
        every: Duration,
    ) {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match me.check_drift(&pool, &store, DRIFT_SAMPLE, true).await {
                    Ok(r) if r.differing > 0 => tracing::warn!(report = %r, "search drift check"),
                    Ok(r) => tracing::debug!(report = %r, "search drift check"),
                    Err(Error::Conflict(_)) => {}
                    Err(e) => tracing::warn!(error = %e, "search drift check failed"),
                }
            }
        });
    }
}

/// Documents per space (and in all) in the searcher's view.
fn count_by_space(searcher: &tantivy::Searcher) -> Result<(BTreeMap<i64, i64>, u64)> {
    let mut out: BTreeMap<i64, i64> = BTreeMap::new();
    let mut n = 0u64;
    for seg in searcher.segment_readers() {
        let col = seg
            .fast_fields()
            .u64("space_id")
            .map_err(|e| failed("reading the space_id column", e))?;
        for doc in seg.doc_ids_alive() {
            if let Some(s) = col.first(doc) {
                *out.entry(s as i64).or_default() += 1;
            }
            n += 1;
        }
    }
    Ok((out, n))
}

fn ids_in_spaces(searcher: &tantivy::Searcher, spaces: &[i64]) -> Result<BTreeSet<i64>> {
    let want: BTreeSet<u64> = spaces.iter().map(|s| *s as u64).collect();
    let mut out = BTreeSet::new();
    for seg in searcher.segment_readers() {
        let space = seg
            .fast_fields()
            .u64("space_id")
            .map_err(|e| failed("reading the space_id column", e))?;
        let id = seg
            .fast_fields()
            .u64("id")
            .map_err(|e| failed("reading the id column", e))?;
        for doc in seg.doc_ids_alive() {
            if space.first(doc).is_some_and(|s| want.contains(&s)) {
                if let Some(i) = id.first(doc) {
                    out.insert(i as i64);
                }
            }
        }
    }
    Ok(out)
}

/// Up to `n` ids of random live documents.
fn random_ids(searcher: &tantivy::Searcher, n: usize) -> Result<Vec<i64>> {
    use rand::Rng;
    let total = searcher.num_docs();
    if total == 0 || n == 0 {
        return Ok(Vec::new());
    }
    let mut rng = rand::thread_rng();
    let mut picks: BTreeSet<u64> = BTreeSet::new();
    for _ in 0..n.min(total as usize) * 2 {
        if picks.len() >= n {
            break;
        }
        picks.insert(rng.gen_range(0..total));
    }
    let mut out = Vec::with_capacity(picks.len());
    let mut base = 0u64;
    for seg in searcher.segment_readers() {
        let alive = seg.num_docs() as u64;
        let id = seg
            .fast_fields()
            .u64("id")
            .map_err(|e| failed("reading the id column", e))?;
        let wanted: Vec<u64> = picks.range(base..base + alive).map(|p| p - base).collect();
        if !wanted.is_empty() {
            for (k, doc) in seg.doc_ids_alive().enumerate() {
                if wanted.binary_search(&(k as u64)).is_ok() {
                    if let Some(i) = id.first(doc) {
                        out.push(i as i64);
                    }
                }
            }
        }
        base += alive;
    }
    Ok(out)
}

/// The indexed digest of each id present (a duplicate id counts as a
/// mismatch: digest 0).
fn digests_of(
    searcher: &tantivy::Searcher,
    f: super::Fields,
    ids: &[i64],
) -> Result<HashMap<i64, u64>> {
    let mut out = HashMap::new();
    for id in ids {
        let q = tantivy::query::TermQuery::new(
            Term::from_field_u64(f.id, *id as u64),
            tantivy::schema::IndexRecordOption::Basic,
        );
        let found: Vec<tantivy::DocAddress> = searcher
            .search(&q, &tantivy::collector::DocSetCollector)
            .map_err(|e| failed(format!("looking up document {id}"), e))?
            .into_iter()
            .collect();
        match found.as_slice() {
            [addr] => {
                let doc: TantivyDocument = searcher
                    .doc(*addr)
                    .map_err(|e| failed(format!("reading stored document {id}"), e))?;
                let d = doc
                    .get_first(f.digest)
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0);
                out.insert(*id, d);
            }
            [] => {}
            _ => {
                out.insert(*id, 0);
            }
        }
    }
    Ok(out)
}

/// `cairn index verify`: every document of the index in `local_home`
/// (opened read-only, beside a running node) against PostgreSQL.
#[derive(Debug)]
pub struct VerifyReport {
    pub position: i64,
    pub trusted: std::result::Result<(), String>,
    pub indexed: u64,
    pub current: u64,
    /// In PostgreSQL, not in the index.
    pub missing: Vec<i64>,
    /// In the index, not (or not current) in PostgreSQL.
    pub ghosts: Vec<i64>,
    /// In both, with different content.
    pub changed: Vec<i64>,
    /// Differing ids with a journal entry still to apply (not drift).
    pub pending: usize,
    pub ms: u64,
}

impl VerifyReport {
    pub fn differing(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .missing
            .iter()
            .chain(&self.ghosts)
            .chain(&self.changed)
            .copied()
            .collect();
        v.sort_unstable();
        v
    }
}

/// Compares every document of the index in `local_home/index` with
/// PostgreSQL.
pub async fn verify_dir(
    local_home: &Path,
    db: &impl GenericClient,
    store: &crate::attach::Store,
) -> Result<VerifyReport> {
    let started = std::time::Instant::now();
    let dir = local_home.join("index");
    let index = Index::open_in_dir(&dir)
        .map_err(|e| Error::BadRequest(format!("no usable index in {}: {e}", dir.display())))?;
    let reader = index
        .reader()
        .map_err(|e| failed(format!("opening a reader on {}", dir.display()), e))?;
    let searcher = reader.searcher();
    let payload = Payload::parse(
        index
            .load_metas()
            .map_err(|e| {
                failed(
                    format!("reading the commit metadata of {}", dir.display()),
                    e,
                )
            })?
            .payload
            .as_deref(),
    );
    let facts = Facts::load(db, payload.seq).await?;
    let trusted = judge(&payload, &facts).map_err(|u| u.reason);
    let f = super::schema().1;
    let indexed: HashMap<i64, u64> = {
        let searcher = searcher.clone();
        tokio::task::spawn_blocking(move || -> Result<HashMap<i64, u64>> {
            let mut out = HashMap::new();
            for seg in searcher.segment_readers() {
                let id = seg
                    .fast_fields()
                    .u64("id")
                    .map_err(|e| failed("reading the id column", e))?;
                let dg = seg
                    .fast_fields()
                    .u64("digest")
                    .map_err(|e| failed("reading the digest column", e))?;
                for doc in seg.doc_ids_alive() {
                    if let Some(i) = id.first(doc) {
                        // A duplicate id is drift too.
                        let d = dg.first(doc).unwrap_or(0);
                        out.entry(i as i64).and_modify(|v| *v = 0).or_insert(d);
                    }
                }
            }
            Ok(out)
        })
        .await
        .map_err(|e| failed(format!("verifying {} (task panicked)", dir.display()), e))??
    };
    let _ = f;
    let mut report = VerifyReport {
        position: payload.seq,
        trusted,
        indexed: searcher.num_docs(),
        current: 0,
        missing: Vec::new(),
        ghosts: Vec::new(),
        changed: Vec::new(),
        pending: 0,
        ms: 0,
    };
    let mut seen: BTreeSet<i64> = BTreeSet::new();
    let mut after = 0i64;
    loop {
        let ids: Vec<i64> = crate::db::query(
            db,
            "SELECT id FROM content WHERE status = 'current' AND id > $1 ORDER BY id LIMIT 500",
            &[&after],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        let Some(last) = ids.last().copied() else {
            break;
        };
        after = last;
        for d in load_docs(db, store, &ids).await? {
            seen.insert(d.id);
            report.current += 1;
            match indexed.get(&d.id) {
                None => report.missing.push(d.id),
                Some(h) if *h != digest(&d) => report.changed.push(d.id),
                Some(_) => {}
            }
        }
    }
    report.ghosts = indexed
        .keys()
        .filter(|id| !seen.contains(id))
        .copied()
        .collect();
    report.ghosts.sort_unstable();
    let differing = report.differing();
    if !differing.is_empty() {
        let pending: BTreeSet<i64> = crate::db::query(
            db,
            "SELECT DISTINCT content_id FROM index_journal WHERE seq > $1 AND content_id = ANY($2)",
            &[&payload.seq, &differing],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        report.pending = pending.len();
        for v in [&mut report.missing, &mut report.ghosts, &mut report.changed] {
            v.retain(|id| !pending.contains(id));
        }
    }
    report.ms = started.elapsed().as_millis() as u64;
    Ok(report)
}
