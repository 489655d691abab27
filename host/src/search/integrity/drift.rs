//! The drift check: samples documents, compares them with PostgreSQL and
//! re-applies what differs; hits PostgreSQL contradicts are repaired too.
//!
//! Invariant: the comparison holds the apply lock and counts as drift only
//! documents without a pending journal entry, so a write in flight is never
//! mistaken for damage.

use super::digest;
use crate::error::{Error, Result};
use crate::search::documents::load_docs;
use crate::search::failed;
use crate::search::{Live, SearchIndex};
use crate::sync::Recover;
use deadpool_postgres::GenericClient;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tantivy::schema::Value as _;
use tantivy::{TantivyDocument, Term};

/// How many documents the periodic drift check compares in full.
pub const DRIFT_SAMPLE: usize = 200;

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

impl SearchIndex {
    /// Remembers documents a search found stale, for the tailer's next pass.
    pub(in crate::search) fn queue_repairs(&self, ids: &[i64]) {
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
    pub(in crate::search) async fn apply_repairs(
        self: &Arc<Self>,
        live: &Arc<Live>,
        db: &impl GenericClient,
        store: &crate::attach::Store,
    ) -> Result<usize> {
        let ids: Vec<i64> = std::mem::take(&mut *self.repairs.lock().recover())
            .into_iter()
            .collect();
        if ids.is_empty() {
            return Ok(0);
        }
        self.reapply(live, db, store, ids).await
    }

    pub(in crate::search) async fn reapply(
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
    pub(in crate::search) async fn stale_hits(
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
    pub(crate) fn spawn_drift_checker(
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
pub(in crate::search) fn count_by_space(
    searcher: &tantivy::Searcher,
) -> Result<(BTreeMap<i64, i64>, u64)> {
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

pub(in crate::search) fn ids_in_spaces(
    searcher: &tantivy::Searcher,
    spaces: &[i64],
) -> Result<BTreeSet<i64>> {
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
pub(in crate::search) fn random_ids(searcher: &tantivy::Searcher, n: usize) -> Result<Vec<i64>> {
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
pub(in crate::search) fn digests_of(
    searcher: &tantivy::Searcher,
    f: crate::search::schema::Fields,
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
