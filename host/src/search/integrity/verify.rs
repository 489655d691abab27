//! `cairn index verify`: a full comparison of an index directory with
//! PostgreSQL, offline from the node.
//!
//! Invariant: verification only reads (the index read-only, the database in
//! one snapshot); repairs go through the journal like any other change.

use super::{
    digest,
    identity::{judge, Facts},
};
use crate::error::{Error, Result};
use crate::search::documents::load_docs;
use crate::search::failed;
use crate::search::Payload;
use deadpool_postgres::GenericClient;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use tantivy::Index;

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
    let f = crate::search::schema::schema().1;
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
