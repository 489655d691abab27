//! The journal tailer: applies the index journal to the index in
//! position order, woken by NOTIFY and by a poll.
//!
//! Invariant: the journal position is committed in the same index commit
//! as the documents it covers; a hole in the journal (a transaction still
//! open, or rolled back) is waited for, never skipped early.

use super::{
    documents::{load_docs, IndexDoc},
    integrity,
    integrity::Mark,
    Live, Payload, SearchIndex, REBUILD_MARKER,
};
use crate::error::Result;
use crate::search::failed;
use crate::sync::Recover;
use deadpool_postgres::GenericClient;
use std::sync::Arc;
use std::time::Duration;
use tantivy::{DateTime as TDate, TantivyDocument, Term};

pub(super) const BATCH: i64 = 500;

/// The least time between two index commits of the tailer while writes
/// keep coming (an idle index applies an edit at once).
pub(super) const COMMIT_PACE: Duration = Duration::from_millis(50);

/// How long a hole in the journal's numbering is waited for before it is
/// taken to be a rolled-back transaction.
pub(super) const GAP_WAIT: Duration = Duration::from_secs(3);

impl SearchIndex {
    /// Applies every journal entry after our position; returns how many.
    pub async fn catch_up(
        self: &Arc<Self>,
        db: &impl GenericClient,
        store: &crate::attach::Store,
    ) -> Result<usize> {
        let _applying = self.apply_lock.lock().await;
        let live = self.live();
        let n = self.catch_up_into(&live, db, store).await?;
        self.apply_repairs(&live, db, store).await?;
        Ok(n)
    }

    /// Applies the journal after `live`'s position to `live`; returns how
    /// many entries, and whether a rebuild was requested among them.
    pub(super) async fn catch_up_into(
        self: &Arc<Self>,
        live: &Arc<Live>,
        db: &impl GenericClient,
        store: &crate::attach::Store,
    ) -> Result<usize> {
        let mut applied = 0;
        loop {
            let pos = live.position();
            let rows = crate::db::query(
                db,
                &format!("SELECT seq, content_id, {} FROM index_journal WHERE seq > $1 ORDER BY seq LIMIT $2", integrity::STAMP_SQL),
                &[&pos, &BATCH],
            )
            .await?;
            if rows.is_empty() {
                return Ok(applied);
            }
            // Numbers are taken when a transaction inserts its entry but seen
            // when it commits, so a later number can be visible before an
            // earlier one. Stop at a hole until it fills — or, after GAP_WAIT,
            // take it for a rolled-back transaction — so no entry is skipped.
            let mut take = 0;
            let mut expected = pos + 1;
            for r in &rows {
                let seq: i64 = r.get(0);
                if seq != expected && pos > 0 {
                    let mut gap = live.gap.lock().recover();
                    match *gap {
                        Some((g, since)) if g == expected && since.elapsed() >= GAP_WAIT => {
                            tracing::debug!(missing = expected, "journal hole taken as a rollback");
                            *gap = None;
                        }
                        Some((g, _)) if g == expected => break,
                        _ => {
                            *gap = Some((expected, std::time::Instant::now()));
                            break;
                        }
                    }
                }
                expected = seq + 1;
                take += 1;
            }
            if take == 0 {
                return Ok(applied);
            }
            let rows = &rows[..take];
            let last = rows.last().map_or_else(
                || live.payload().mark(),
                |r| Mark {
                    seq: r.get(0),
                    stamp: r.get(2),
                },
            );
            let mut ids: Vec<i64> = rows.iter().map(|r| r.get(1)).collect();
            ids.sort_unstable();
            ids.dedup();
            let docs = load_docs(db, store, &ids).await?;
            if ids.contains(&REBUILD_MARKER) && Arc::ptr_eq(live, &self.live()) {
                self.rebuild_requested
                    .store(true, std::sync::atomic::Ordering::Release);
            }
            let me = self.clone();
            let target = live.clone();
            tokio::task::spawn_blocking(move || me.apply(&target, &ids, docs, &last))
                .await
                .map_err(|e| failed("applying journal entries (task panicked)", e))??;
            applied += rows.len();
        }
    }

    pub(super) fn apply(
        &self,
        live: &Live,
        ids: &[i64],
        docs: Vec<IndexDoc>,
        mark: &Mark,
    ) -> Result<()> {
        let f = self.f;
        let mut w = live.writer.lock().recover();
        for id in ids {
            w.delete_term(Term::from_field_u64(f.id, *id as u64));
        }
        for d in docs {
            let mut doc = TantivyDocument::default();
            doc.add_u64(f.id, d.id as u64);
            doc.add_u64(f.version, d.version as u64);
            doc.add_u64(f.digest, integrity::digest(&d));
            doc.add_text(f.kind, &d.kind);
            doc.add_u64(f.space_id, d.space_id as u64);
            doc.add_text(f.space_key, d.space_key.to_lowercase());
            doc.add_text(f.title, &d.title);
            doc.add_text(f.title_raw, d.title.to_lowercase());
            doc.add_text(f.body, &d.body);
            doc.add_text(f.all, &d.title);
            doc.add_text(f.all, &d.body);
            for l in &d.labels {
                doc.add_text(f.label, l);
                doc.add_text(f.all, l);
            }
            doc.add_text(f.creator, d.creator.to_lowercase());
            for c in &d.contributors {
                doc.add_text(f.contributor, c.to_lowercase());
            }
            doc.add_date(
                f.created,
                TDate::from_timestamp_micros(d.created.timestamp_micros()),
            );
            doc.add_date(
                f.modified,
                TDate::from_timestamp_micros(d.modified.timestamp_micros()),
            );
            for a in &d.ancestors {
                doc.add_u64(f.ancestor, *a as u64);
            }
            if let Some(p) = d.parent {
                doc.add_u64(f.parent, p as u64);
            }
            if let Some(c) = d.container {
                doc.add_u64(f.container, c as u64);
            }
            if d.rset.is_empty() {
                doc.add_u64(f.rset, 0);
            }
            for r in &d.rset {
                doc.add_u64(f.rset, *r as u64);
            }
            for m in &d.mentions {
                doc.add_text(f.mention, m);
            }
            w.add_document(doc)
                .map_err(|e| failed("adding a document", e))?;
        }
        let mut c = w
            .prepare_commit()
            .map_err(|e| failed("preparing the commit", e))?;
        c.set_payload(&Payload::new(mark, self.identity()).to_string());
        c.commit().map_err(|e| failed("committing", e))?;
        drop(w);
        live.reader
            .reload()
            .map_err(|e| failed("reloading the reader", e))?;
        Ok(())
    }

    /// Whether the index can serve: the last attempt to apply the journal
    /// succeeded (or none has failed yet).
    pub(crate) fn is_usable(&self) -> bool {
        !self.failing.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Records whether applying the journal just failed.
    pub fn set_failing(&self, failing: bool) {
        self.failing
            .store(failing, std::sync::atomic::Ordering::Release);
    }

    /// Keeps the index current: woken by NOTIFY on `cairn_index`, with a
    /// polling fallback; reports its position for trimming and admin pages.
    pub fn spawn_tailer(
        self: &Arc<Self>,
        pool: deadpool_postgres::Pool,
        database_url: String,
        store: crate::attach::Store,
        node_id: String,
    ) {
        let me = self.clone();
        let wake = Arc::new(tokio::sync::Notify::new());
        let listener_wake = wake.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = listen(&database_url, &listener_wake).await {
                    tracing::debug!(error = %e, "index LISTEN connection lost; polling until it is back");
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
        tokio::spawn(async move {
            // Checked at once, then every IDENTITY_CHECK: that the index
            // still belongs to this database's history (see `integrity.rs`).
            let mut checked: Option<std::time::Instant> = None;
            // What index_positions last said, so a swapped-in index is
            // reported even when no entry follows it.
            let mut reported: Option<(i64, i64)> = None;
            loop {
                let _ = tokio::time::timeout(Duration::from_millis(500), wake.notified()).await;
                if checked.is_none_or(|t| t.elapsed() >= integrity::IDENTITY_CHECK) {
                    checked = Some(std::time::Instant::now());
                    if let Err(e) = me.check_identity(&pool, &store).await {
                        tracing::warn!(error = %e, "checking the search index's identity failed; will retry");
                    }
                }
                if me.is_placeholder() {
                    continue;
                }
                let Ok(db) = pool.get().await else { continue };
                let applied = me.catch_up(&db, &store).await;
                me.set_failing(applied.is_err());
                let now = (me.position(), me.doc_count() as i64);
                if applied.is_ok() && reported != Some(now) {
                    let _ = crate::db::execute(
                        &db,
                        "INSERT INTO index_positions (node_id, seq, doc_count, updated_at) VALUES ($1, $2, $3, now())
                         ON CONFLICT (node_id) DO UPDATE SET seq = $2, doc_count = $3, updated_at = now()",
                        &[&node_id, &now.0, &now.1],
                    )
                    .await;
                    reported = Some(now);
                }
                match applied {
                    Ok(n) if n > 0 => {
                        // Under a stream of writes, let the next entries
                        // gather for a moment: one commit (and one new
                        // segment to merge) per batch instead of per edit.
                        drop(db);
                        tokio::time::sleep(COMMIT_PACE).await;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "applying the index journal failed; will retry")
                    }
                }
                if me
                    .rebuild_requested
                    .swap(false, std::sync::atomic::Ordering::AcqRel)
                {
                    let (me, pool, store) = (me.clone(), pool.clone(), store.clone());
                    tokio::spawn(async move {
                        match me.rebuild_online(&pool, &store).await {
                            // A fresh index is worth a snapshot (one node at a
                            // time; the others find the lock taken).
                            Ok(_) => {
                                if let Err(e) =
                                    me.snapshot_and_trim(&pool, store.shared_home()).await
                                {
                                    tracing::warn!(error = %e, "snapshot after the rebuild failed");
                                }
                            }
                            Err(e) => {
                                tracing::error!(error = %e, "index rebuild failed; the live index stays")
                            }
                        }
                    });
                }
            }
        });
    }

    /// When the journal was trimmed past this index's position (a node that
    /// was away longer than the retention and has no snapshot to restore),
    /// journals every row again so this node rebuilds; the others just
    /// re-apply idempotently.
    pub async fn ensure_no_gap(&self, db: &impl GenericClient) -> Result<bool> {
        let pos = self.position();
        let min: Option<i64> = crate::db::query_one(db, "SELECT min(seq) FROM index_journal", &[])
            .await?
            .get(0);
        match min {
            Some(m) if m > pos + 1 => {
                tracing::warn!(
                    position = pos,
                    oldest = m,
                    "the index journal was trimmed past this index; re-journaling all content"
                );
                crate::db::execute(
                    db,
                    "INSERT INTO index_journal (content_id) SELECT id FROM content ORDER BY id",
                    &[],
                )
                .await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// Keeps one LISTEN connection open and wakes the tailer on each NOTIFY.
pub(super) async fn listen(
    url: &str,
    wake: &tokio::sync::Notify,
) -> std::result::Result<(), tokio_postgres::Error> {
    let (client, mut conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(16);
    let driver = tokio::spawn(async move {
        let mut stream = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
        use futures_util::StreamExt;
        while let Some(msg) = stream.next().await {
            match msg {
                Ok(tokio_postgres::AsyncMessage::Notification(_)) => {
                    let _ = tx.try_send(());
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    client.batch_execute("LISTEN cairn_index").await?;
    while rx.recv().await.is_some() {
        wake.notify_one();
    }
    driver.abort();
    Ok(())
}
