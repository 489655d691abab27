//! Search: a tantivy index in this node's local home, fed by the index
//! journal (written by triggers in the same transaction as every content
//! change), queried with CQL.
//!
//! Invariants:
//! - the journal position is stored in the index commit's payload, so a
//!   crash between applying entries and committing re-applies them (every
//!   application is idempotent: delete by id, then add the current state),
//!   and nothing is lost or applied twice in effect;
//! - permission filtering happens inside the query: a document carries its
//!   space and the ids of the read-restricted pages on its chain; a viewer's
//!   filter is "space among mine and no restricted page I fail", so results,
//!   counts and excerpts never include what the viewer may not see;
//! - an index is used only while it indexes this database's history
//!   (`integrity.rs`: identity and journal stamp in every commit payload),
//!   and a hit is shown only when PostgreSQL confirms its id, version and
//!   visibility, so a wrong index can make search incomplete, never wrong.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cairn_cql::{
    Clause, Cql, Direction, Field as CqlField, Op, OrderField, Query as CqlQuery, Value,
};
use deadpool_postgres::GenericClient;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, Query, RangeQuery,
    RegexQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value as _,
    FAST, INDEXED, STORED, STRING,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DateTime as TDate, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term,
};

use crate::error::{Error, Result};
use crate::perms::Viewer;

mod integrity;
use integrity::Mark;
pub use integrity::{
    snapshots, verify_dir, DriftReport, Health, Identity, Payload, Settled, VerifyReport,
    DRIFT_SAMPLE,
};

/// Index schema version: a different one on disk means rebuild.
const SCHEMA_VERSION: &str = "5";
const BATCH: i64 = 500;

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    kind: Field,
    space_id: Field,
    space_key: Field,
    title: Field,
    title_raw: Field,
    body: Field,
    label: Field,
    creator: Field,
    contributor: Field,
    created: Field,
    modified: Field,
    ancestor: Field,
    parent: Field,
    container: Field,
    rset: Field,
    /// Usernames (lower case) mentioned in the body.
    mention: Field,
    /// Title, body and labels, stemmed (not stored); `body` is only stored.
    all: Field,
    /// The content's version when indexed: a hit is shown only while it
    /// is still the current one (see [`SearchIndex::search`]).
    version: Field,
    /// A digest of everything indexed for the document, compared with
    /// PostgreSQL's by the drift check (`integrity.rs`).
    digest: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("en_stem")
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let num = NumericOptions::default().set_indexed().set_fast();
    // The exact title, indexed with frequencies (unlike STRING) so that a
    // one-word `text ~` query is a union of term queries only, which
    // tantivy answers with block-max WAND instead of scoring every match.
    let raw = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    // Title, body and labels in one field (Confluence's `text`): each word
    // of a `text ~` query is one term here, not a union over three fields.
    let all = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("en_stem")
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let f = Fields {
        id: b.add_u64_field("id", INDEXED | FAST | STORED),
        kind: b.add_text_field("type", STRING | STORED),
        space_id: b.add_u64_field("space_id", num.clone()),
        space_key: b.add_text_field("space", STRING | STORED),
        title: b.add_text_field("title", text.clone()),
        title_raw: b.add_text_field("title_raw", raw),
        body: b.add_text_field("body", STORED),
        label: b.add_text_field("label", STRING | STORED),
        creator: b.add_text_field("creator", STRING),
        contributor: b.add_text_field("contributor", STRING),
        created: b.add_date_field("created", INDEXED | FAST | STORED),
        modified: b.add_date_field("modified", INDEXED | FAST | STORED),
        ancestor: b.add_u64_field("ancestor", INDEXED),
        parent: b.add_u64_field("parent", INDEXED),
        container: b.add_u64_field("container", INDEXED),
        rset: b.add_u64_field("rset", num),
        mention: b.add_text_field("mention", STRING),
        all: b.add_text_field("all", all),
        version: b.add_u64_field("version", FAST | STORED),
        digest: b.add_u64_field("digest", FAST | STORED),
    };
    (b.build(), f)
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("search index: {e}"))
}

/// One node's search index.
pub struct SearchIndex {
    /// The index searches use; replaced whole by an online rebuild.
    live: std::sync::RwLock<Arc<Live>>,
    f: Fields,
    local_home: PathBuf,
    /// Held while journal entries are applied, so a rebuilt index is
    /// swapped in between two batches, never during one.
    apply_lock: tokio::sync::Mutex<()>,
    /// What an online rebuild is doing, for the admin page.
    rebuild: Mutex<RebuildState>,
    /// Set when the journal asked for a rebuild (see [`REBUILD_MARKER`]).
    rebuild_requested: std::sync::atomic::AtomicBool,
    /// The last attempt to apply the journal failed (`/status` says ERROR
    /// until one succeeds).
    failing: std::sync::atomic::AtomicBool,
    /// The node's data generation, once `cairn serve` sets it: keys the
    /// cache of each viewer's blocked restrictions.
    generation: std::sync::OnceLock<crate::changes::Generation>,
    /// (generation, user, groups) -> read-restricted pages the viewer does not pass.
    blocked: quick_cache::sync::Cache<BlockedKey, Arc<ViewerFilter>>,
    /// What this node's database is ([`Identity`]), once known: written
    /// into every commit's payload beside the journal position.
    identity: std::sync::RwLock<Option<Identity>>,
    /// Whether search is degraded (and why), and the drift checks' figures.
    health: Mutex<Health>,
    /// The live index is an empty stand-in while a rebuild replaces an
    /// index that could not be trusted: the tailer leaves it alone.
    placeholder: std::sync::atomic::AtomicBool,
    /// Documents found to differ from PostgreSQL (by a search's hit check),
    /// re-applied by the tailer's next pass. Bounded.
    repairs: Mutex<std::collections::BTreeSet<i64>>,
}

/// (data generation, user, groups)
type BlockedKey = (u64, Option<i64>, Vec<i64>);

/// The least time between two index commits of the tailer while writes
/// keep coming (an idle index applies an edit at once).
const COMMIT_PACE: Duration = Duration::from_millis(50);

/// A journal entry for this content id asks every node to rebuild its index
/// beside the live one (`cairn index rebuild`); no content has id 0.
pub const REBUILD_MARKER: i64 = 0;

/// One tantivy index on disk with its reader and writer.
struct Live {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    dir: PathBuf,
    /// The first missing journal number seen after our position, and when
    /// (see [`SearchIndex::catch_up`]).
    gap: Mutex<Option<(i64, std::time::Instant)>>,
}

/// Progress of `cairn index rebuild` on this node.
#[derive(Debug, Clone, Default)]
pub struct RebuildState {
    pub running: bool,
    pub done: u64,
    pub total: u64,
    pub last: Option<String>,
}

/// Every query pays per segment (a term lookup and a scorer per term,
/// a count pass), so segments merge sooner than tantivy's default (4 of a
/// size rather than 8), and a segment a third deleted (edits delete and
/// re-add) is merged away.
fn merge_policy() -> tantivy::merge_policy::LogMergePolicy {
    let mut p = tantivy::merge_policy::LogMergePolicy::default();
    p.set_min_num_segments(4);
    p.set_del_docs_ratio_before_merge(0.3);
    p
}

impl Live {
    fn open(dir: &Path, create: Option<Schema>) -> Result<Live> {
        let index = match create {
            Some(schema) => Index::create_in_dir(dir, schema).map_err(internal)?,
            None => Index::open_in_dir(dir).map_err(internal)?,
        };
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(internal)?;
        let writer: IndexWriter = index
            .writer_with_num_threads(1, 32_000_000)
            .map_err(internal)?;
        writer.set_merge_policy(Box::new(merge_policy()));
        Ok(Live {
            index,
            reader,
            writer: Mutex::new(writer),
            dir: dir.to_owned(),
            gap: Mutex::new(None),
        })
    }

    /// The newest commit's payload: journal position and identity.
    fn payload(&self) -> Payload {
        Payload::parse(
            self.index
                .load_metas()
                .ok()
                .and_then(|m| m.payload)
                .as_deref(),
        )
    }

    fn position(&self) -> i64 {
        self.payload().seq
    }
}

/// How long a hole in the journal's numbering is waited for before it is
/// taken to be a rolled-back transaction.
const GAP_WAIT: Duration = Duration::from_secs(3);

/// A search hit the viewer may see.
pub struct Hit {
    pub id: i64,
    pub score: f32,
    /// Safe HTML: the body's text, HTML-escaped, with `<b>` around the
    /// matched words; it needs no further sanitizing.
    pub excerpt: String,
}

pub struct Results {
    pub total: usize,
    pub hits: Vec<Hit>,
}

/// Where snapshots live in the shared home.
pub fn snapshot_root(shared_home: &Path) -> PathBuf {
    shared_home.join("index-snapshots")
}

/// The newest complete snapshot of this schema: (journal position,
/// directory). Whether it may be restored is [`SearchIndex::settle`]'s call.
pub fn newest_snapshot(shared_home: &Path) -> Option<(i64, PathBuf)> {
    snapshots(shared_home).into_iter().next()
}

fn copy_dir_files(
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
        let _w = live
            .writer
            .lock()
            .map_err(|_| internal("writer lock poisoned"))?;
        let metas = live.index.load_metas().map_err(internal)?;
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
        copy_dir_files(&live.dir, &tmp, Some(&keep)).map_err(internal)?;
        std::fs::write(tmp.join("cairn-schema-version"), SCHEMA_VERSION).map_err(internal)?;
        let dest = root.join(format!("snapshot-{seq}"));
        if dest.exists() {
            let _ = std::fs::remove_dir_all(&tmp);
        } else {
            std::fs::rename(&tmp, &dest).map_err(internal)?;
        }
        let mut all: Vec<(i64, PathBuf)> = std::fs::read_dir(&root)
            .map_err(internal)?
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

    /// Opens the index in `local_home/index`, or creates it. An index from
    /// another schema version, or one that fails to open (corrupt), is set
    /// aside and rebuilt from the journal. Not yet trusted: call
    /// [`SearchIndex::settle`] before applying the journal to it (the
    /// tailer's first identity check distrusts, and rebuilds, an index that
    /// has applied entries without carrying the database's identity).
    pub fn open(local_home: &Path) -> Result<Arc<SearchIndex>> {
        let dir = local_home.join("index");
        let (schema, f) = schema();
        let version_file = dir.join("cairn-schema-version");
        let current = std::fs::read_to_string(&version_file).ok();
        let index = match (current.as_deref(), Index::open_in_dir(&dir)) {
            (Some(SCHEMA_VERSION), Ok(i)) => i,
            (v, r) => {
                if dir.exists() {
                    tracing::warn!(dir = %dir.display(), version = ?v, error = ?r.err().map(|e| e.to_string()),
                        "search index unusable or from another version; rebuilding from the journal");
                    let aside = local_home.join(format!("index.old-{}", std::process::id()));
                    let _ = std::fs::remove_dir_all(&aside);
                    std::fs::rename(&dir, &aside).map_err(internal)?;
                    let _ = std::fs::remove_dir_all(&aside);
                }
                std::fs::create_dir_all(&dir).map_err(internal)?;
                let i = Index::create_in_dir(&dir, schema).map_err(internal)?;
                std::fs::write(&version_file, SCHEMA_VERSION).map_err(internal)?;
                i
            }
        };
        drop(index);
        let live = Live::open(&dir, None)?;
        Ok(Arc::new(SearchIndex {
            live: std::sync::RwLock::new(Arc::new(live)),
            f,
            local_home: local_home.to_owned(),
            apply_lock: tokio::sync::Mutex::new(()),
            rebuild: Mutex::new(RebuildState::default()),
            rebuild_requested: std::sync::atomic::AtomicBool::new(false),
            failing: std::sync::atomic::AtomicBool::new(false),
            generation: std::sync::OnceLock::new(),
            blocked: quick_cache::sync::Cache::new(1024),
            identity: std::sync::RwLock::new(None),
            health: Mutex::new(Health::default()),
            placeholder: std::sync::atomic::AtomicBool::new(false),
            repairs: Mutex::new(std::collections::BTreeSet::new()),
        }))
    }

    fn live(&self) -> Arc<Live> {
        self.live.read().expect("index pointer poisoned").clone()
    }

    pub fn dir(&self) -> PathBuf {
        self.live().dir.clone()
    }

    /// The last journal entry applied (from the newest commit's payload).
    pub fn position(&self) -> i64 {
        self.live().position()
    }

    pub fn doc_count(&self) -> u64 {
        self.live().reader.searcher().num_docs()
    }

    pub fn rebuild_state(&self) -> RebuildState {
        self.rebuild.lock().map(|r| r.clone()).unwrap_or_default()
    }

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
    async fn catch_up_into(
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
                    let mut gap = live.gap.lock().map_err(|_| internal("gap lock poisoned"))?;
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
                .map_err(internal)??;
            applied += rows.len();
        }
    }

    fn apply(&self, live: &Live, ids: &[i64], docs: Vec<IndexDoc>, mark: &Mark) -> Result<()> {
        let f = self.f;
        let mut w = live
            .writer
            .lock()
            .map_err(|_| internal("writer lock poisoned"))?;
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
            w.add_document(doc).map_err(internal)?;
        }
        let mut c = w.prepare_commit().map_err(internal)?;
        c.set_payload(&Payload::new(mark, self.identity()).to_string());
        c.commit().map_err(internal)?;
        drop(w);
        live.reader.reload().map_err(internal)?;
        Ok(())
    }

    /// Whether the index can serve: the last attempt to apply the journal
    /// succeeded (or none has failed yet).
    pub fn is_usable(&self) -> bool {
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

    /// `cairn index rebuild`: builds a new index from PostgreSQL beside the
    /// live one (which keeps answering and applying the journal), catches it
    /// up with the journal, swaps it in between two batches, and returns
    /// what it did. Progress is in [`SearchIndex::rebuild_state`] and the log.
    pub async fn rebuild_online(
        self: &Arc<Self>,
        pool: &deadpool_postgres::Pool,
        store: &crate::attach::Store,
    ) -> Result<String> {
        self.rebuild_guarded(pool, store, false).await
    }

    /// Like [`SearchIndex::rebuild_online`]; `fresh` when the live index is
    /// not trusted, so the new one's starting position comes from the
    /// database rather than from it.
    async fn rebuild_guarded(
        self: &Arc<Self>,
        pool: &deadpool_postgres::Pool,
        store: &crate::attach::Store,
        fresh: bool,
    ) -> Result<String> {
        self.begin_rebuild()?;
        let r = self.rebuild_inner(pool, store, fresh).await;
        self.end_rebuild(&r);
        r
    }

    /// Marks a rebuild as running (one at a time per node).
    fn begin_rebuild(&self) -> Result<()> {
        let mut st = self
            .rebuild
            .lock()
            .map_err(|_| internal("rebuild state poisoned"))?;
        if st.running {
            return Err(Error::Conflict(
                "a rebuild of this node's index is already running".into(),
            ));
        }
        st.running = true;
        st.done = 0;
        st.total = 0;
        Ok(())
    }

    fn end_rebuild(&self, r: &Result<String>) {
        if let Ok(mut st) = self.rebuild.lock() {
            st.running = false;
            st.last = Some(match r {
                Ok(m) => m.clone(),
                Err(e) => format!("failed: {e}"),
            });
        }
    }

    async fn rebuild_inner(
        self: &Arc<Self>,
        pool: &deadpool_postgres::Pool,
        store: &crate::attach::Store,
        fresh: bool,
    ) -> Result<String> {
        let started = std::time::Instant::now();
        let next_dir = self.local_home.join("index.next");
        let _ = std::fs::remove_dir_all(&next_dir);
        std::fs::create_dir_all(&next_dir).map_err(internal)?;
        let next = Arc::new(Live::open(&next_dir, Some(schema().0))?);
        let mut db = pool.get().await?;
        if self.identity().is_none() || fresh {
            let id = integrity::Identity::load(&db).await?;
            self.set_identity(id);
        }
        // Everything the live index has applied was committed before this
        // snapshot; whatever comes after is replayed from the journal below
        // (re-applying an entry is harmless: it writes the current state).
        let live_mark = self.live().payload().mark();
        let tx = db
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        // An untrusted live index says nothing: start a little behind the
        // journal head this snapshot sees, so entries of transactions still
        // open (numbered earlier, visible later) are replayed, not skipped.
        let start = if fresh {
            integrity::replay_start(&tx).await?
        } else {
            live_mark
        };
        let total: i64 = crate::db::query_one(&tx, "SELECT count(*) FROM content", &[])
            .await?
            .get(0);
        if let Ok(mut st) = self.rebuild.lock() {
            st.total = total as u64;
        }
        tracing::info!(
            documents = total,
            position = start.seq,
            fresh,
            "index rebuild started beside the live index"
        );
        let mut after = 0i64;
        let mut done = 0u64;
        loop {
            let ids: Vec<i64> = crate::db::query(
                &tx,
                "SELECT id FROM content WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after, &BATCH],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
            let Some(last) = ids.last().copied() else {
                break;
            };
            after = last;
            let docs = load_docs(&tx, store, &ids).await?;
            done += ids.len() as u64;
            let (me, target, mark) = (self.clone(), next.clone(), start.clone());
            tokio::task::spawn_blocking(move || me.apply(&target, &ids, docs, &mark))
                .await
                .map_err(internal)??;
            if let Ok(mut st) = self.rebuild.lock() {
                st.done = done;
            }
            if done % 10_000 < BATCH as u64 {
                tracing::info!(done, total, "index rebuild progress");
            }
        }
        tx.commit().await?;
        if done == 0 {
            let (me, target, mark) = (self.clone(), next.clone(), start.clone());
            tokio::task::spawn_blocking(move || me.apply(&target, &[], Vec::new(), &mark))
                .await
                .map_err(internal)??;
        }
        // Catch up with what changed meanwhile, then once more with the
        // journal held still, and swap.
        self.catch_up_into(&next, &db, store).await?;
        let applying = self.apply_lock.lock().await;
        self.catch_up_into(&next, &db, store).await?;
        let docs = next.reader.searcher().num_docs();
        let pos = next.position();
        drop(next);
        self.swap_in(&next_dir)?;
        drop(applying);
        let msg = format!(
            "rebuilt {docs} documents beside the live index and swapped it in at journal position {pos} ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        tracing::info!("{msg}");
        Ok(msg)
    }

    /// Makes the index in `prepared` (closed, complete) the live one: the
    /// current directory is set aside (its open files keep serving until
    /// the pointer moves) and removed. The caller holds the apply lock or
    /// runs before the tailer.
    fn swap_in(&self, prepared: &Path) -> Result<()> {
        std::fs::write(prepared.join("cairn-schema-version"), SCHEMA_VERSION).map_err(internal)?;
        let dir = self.local_home.join("index");
        let aside = self
            .local_home
            .join(format!("index.replaced-{}", crate::auth::random_token(6)));
        if dir.exists() {
            std::fs::rename(&dir, &aside).map_err(internal)?;
        }
        std::fs::rename(prepared, &dir).map_err(internal)?;
        let fresh = Arc::new(Live::open(&dir, None)?);
        *self
            .live
            .write()
            .map_err(|_| internal("index pointer poisoned"))? = fresh;
        self.placeholder
            .store(false, std::sync::atomic::Ordering::Release);
        let _ = std::fs::remove_dir_all(&aside);
        Ok(())
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
            let seq = tokio::task::spawn_blocking(move || me.snapshot(&home)).await.map_err(internal)??;
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

    /// Runs a parsed CQL query for the viewer.
    pub async fn search(
        &self,
        db: &impl GenericClient,
        viewer: &Viewer,
        cql: &Cql,
        start: usize,
        limit: usize,
    ) -> Result<Results> {
        let (user_query, count_query): (Box<dyn Query>, Box<dyn Query>) = match &cql.query {
            Some(q) => (self.compile(q, false)?, self.compile(q, true)?),
            None => (Box::new(AllQuery), Box::new(AllQuery)),
        };
        let filter = self.blocked_for(db, viewer).await?;
        let f = self.f;
        let blocked: Vec<Term> = filter
            .blocked
            .iter()
            .map(|b| Term::from_field_u64(f.rset, *b as u64))
            .collect();
        // The space filter is part of the query (it skips whole spaces);
        // the few blocked restriction sets are checked per candidate in the
        // collector, so a viewer who may see every space runs the bare user
        // query, which tantivy can prune (block-max WAND).
        let spaces: Option<Box<dyn Query>> = (!filter.every_space).then(|| {
            term_filter(
                viewer
                    .view_spaces
                    .iter()
                    .map(|s| Term::from_field_u64(f.space_id, *s as u64))
                    .collect(),
            )
        });
        let in_spaces = |q: &dyn Query| -> Box<dyn Query> {
            match &spaces {
                None => q.box_clone(),
                Some(s) => Box::new(BooleanQuery::new(vec![
                    (Occur::Must, q.box_clone()),
                    (Occur::Must, s.box_clone()),
                ])),
            }
        };
        let (permitted, permitted_count) = (in_spaces(&*user_query), in_spaces(&*count_query));
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, permitted.box_clone())];
        if !blocked.is_empty() {
            clauses.push((Occur::MustNot, term_filter(blocked)));
        }
        let query = BooleanQuery::new(clauses);
        let live = self.live();
        let searcher = live.reader.searcher();
        let order = cql.order_by.first().copied();
        let fetch = start + limit;
        let (total, addrs): (usize, Vec<(f32, tantivy::DocAddress)>) = match order {
            Some((OrderField::Created | OrderField::LastModified, dir)) => {
                let field = if matches!(order, Some((OrderField::Created, _))) {
                    "created"
                } else {
                    "modified"
                };
                let ord = if dir == Direction::Desc {
                    tantivy::Order::Desc
                } else {
                    tantivy::Order::Asc
                };
                let (docs, total) = searcher
                    .search(
                        &query,
                        &(
                            TopDocs::with_limit(fetch.max(1))
                                .order_by_fast_field::<TDate>(field, ord),
                            Count,
                        ),
                    )
                    .map_err(internal)?;
                (total, docs.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
            _ => {
                let blocked_set: std::collections::HashSet<u64> =
                    filter.blocked.iter().map(|b| *b as u64).collect();
                let space_set: std::collections::HashSet<u64> =
                    viewer.view_spaces.iter().map(|s| *s as u64).collect();
                let permit = Permit {
                    blocked: &blocked_set,
                    spaces: (!filter.every_space).then_some(&space_set),
                    rset: "rset",
                    space_id: "space_id",
                };
                let split = match &cql.query {
                    Some(CqlQuery::Clause(c))
                        if c.field == CqlField::Text && c.op == Op::Contains =>
                    {
                        match &c.value {
                            Value::Text(v) => self.split_text(v, &*permitted)?,
                            _ => None,
                        }
                    }
                    _ => None,
                };
                top_by_score(
                    &searcher,
                    &*permitted,
                    &*permitted_count,
                    split.as_ref(),
                    &permit,
                    fetch.max(1),
                )?
            }
        };
        // Excerpts highlight the query's `text` words: the body is stored
        // as is and analysed like `all` when an excerpt is cut.
        let mut stems = Vec::new();
        user_query.query_terms(&mut |term, _| {
            if term.field() == f.all {
                if let Some(t) = term.value().as_str() {
                    stems.push(t.to_string());
                }
            }
        });
        let snippets = if stems.is_empty() {
            None
        } else {
            SnippetGenerator::create(&searcher, &*user_query, f.all).ok()
        };
        let mut hits = Vec::new();
        let mut indexed = Vec::new();
        for (score, addr) in addrs.into_iter().skip(start).take(limit) {
            let doc: TantivyDocument = searcher.doc(addr).map_err(internal)?;
            let id = doc.get_first(f.id).and_then(|v| v.as_u64()).unwrap_or(0) as i64;
            let version = doc
                .get_first(f.version)
                .and_then(|v| v.as_u64())
                .unwrap_or(0) as i64;
            let modified = doc
                .get_first(f.modified)
                .and_then(|v| v.as_datetime())
                .map_or(0, |d| d.into_timestamp_micros());
            indexed.push((id, version, modified));
            let body = doc.get_first(f.body).and_then(|v| v.as_str()).unwrap_or("");
            let excerpt = match &snippets {
                Some(g) => excerpt(g, &stems, body),
                None => first_words(body),
            };
            hits.push(Hit { id, score, excerpt });
        }
        // The index may be wrong (a restore, a bug, a hand edit): a hit is
        // shown only when PostgreSQL has that id, current, in the version
        // and modification time indexed, and the viewer may see it now —
        // so its text is never another content's or an older version's.
        let stale = self.stale_hits(db, viewer, &indexed).await?;
        let total = if stale.is_empty() {
            total
        } else {
            hits.retain(|h| !stale.contains(&h.id));
            self.queue_repairs(&stale);
            total.saturating_sub(stale.len())
        };
        if let Some((OrderField::Title | OrderField::Space, _)) = order {
            // Sorted by the caller from the loaded content (rare orders).
        }
        Ok(Results { total, hits })
    }

    /// Title suggestions for the search box: titles starting with (or
    /// containing a word starting with) `prefix`.
    pub async fn suggest(
        &self,
        db: &impl GenericClient,
        viewer: &Viewer,
        prefix: &str,
    ) -> Result<Vec<i64>> {
        let words: Vec<String> = prefix
            .split_whitespace()
            .map(|w| {
                w.to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric())
                    .collect::<String>()
            })
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let text = words
            .iter()
            .map(|w| format!("{w}*"))
            .collect::<Vec<_>>()
            .join(" ");
        let cql = Cql {
            query: Some(CqlQuery::And(vec![
                CqlQuery::Clause(Clause {
                    field: CqlField::Title,
                    op: Op::Contains,
                    value: Value::Text(text),
                }),
                CqlQuery::Clause(Clause {
                    field: CqlField::Type,
                    op: Op::In,
                    value: Value::List(vec![
                        Value::Text("page".into()),
                        Value::Text("blogpost".into()),
                    ]),
                }),
            ])),
            order_by: Vec::new(),
        };
        Ok(self
            .search(db, viewer, &cql, 0, 8)
            .await?
            .hits
            .into_iter()
            .map(|h| h.id)
            .collect())
    }

    fn terms_of(&self, field: Field, text: &str) -> Result<Vec<String>> {
        let mut tok = self
            .live()
            .index
            .tokenizer_for_field(field)
            .map_err(internal)?;
        let mut out = Vec::new();
        let mut stream = tok.token_stream(text);
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        Ok(out)
    }

    /// `~` on a text field: every word must match (stemmed), `*`/`?` are
    /// wildcards within a word.
    fn contains(&self, field: Field, value: &str) -> Result<Box<dyn Query>> {
        let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in value.split_whitespace() {
            if word.contains(['*', '?']) {
                let pattern: String = word
                    .to_lowercase()
                    .chars()
                    .map(|c| match c {
                        '*' => ".*".to_owned(),
                        '?' => ".".to_owned(),
                        c if c.is_alphanumeric() => c.to_string(),
                        _ => String::new(),
                    })
                    .collect();
                if pattern.is_empty() || pattern == ".*" {
                    continue;
                }
                let q = RegexQuery::from_pattern(&pattern, field)
                    .map_err(|e| Error::BadRequest(format!("invalid wildcard {word:?}: {e}")))?;
                parts.push((Occur::Must, Box::new(q)));
            } else {
                for t in self.terms_of(field, word)? {
                    parts.push((
                        Occur::Must,
                        Box::new(TermQuery::new(
                            Term::from_field_text(field, &t),
                            IndexRecordOption::WithFreqs,
                        )),
                    ));
                }
            }
        }
        if parts.is_empty() {
            return Ok(Box::new(AllQuery));
        }
        Ok(Box::new(BooleanQuery::new(parts)))
    }

    /// `text ~ …`: every word must appear somewhere — title, body or
    /// labels, as in Confluence's combined text field (`all`) — ranked with
    /// title matches boosted (×3 per word, ×3 more for every word in the
    /// title) and an exact title first (×10).
    ///
    /// The shapes are chosen for tantivy's fast paths: one plain word is a
    /// union of term queries only (its matches are the `all` term's; the
    /// title terms are subsets), pruned with block-max WAND; several words
    /// are an intersection of `all` terms (skip lists, not unions seeking)
    /// with the title boosts as optional clauses.
    fn text_contains(&self, value: &str, count: bool) -> Result<Box<dyn Query>> {
        let f = self.f;
        let term = |field: Field, text: &str, boost: f32| -> Box<dyn Query> {
            let q: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::WithFreqs,
            ));
            if boost == 1.0 {
                q
            } else {
                Box::new(BoostQuery::new(q, boost))
            }
        };
        let words: Vec<&str> = value.split_whitespace().collect();
        let exact = term(f.title_raw, &value.trim().to_lowercase(), 10.0);
        if let [word] = words[..] {
            if !word.contains(['*', '?']) {
                let (all, title) = (self.terms_of(f.all, word)?, self.terms_of(f.title, word)?);
                if let ([a], [t]) = (&all[..], &title[..]) {
                    if count {
                        return Ok(term(f.all, a, 1.0));
                    }
                    return Ok(Box::new(BooleanQuery::new(vec![
                        (Occur::Should, term(f.all, a, 1.0)),
                        (Occur::Should, term(f.title, t, 6.0)),
                        (Occur::Should, exact),
                    ])));
                }
            }
        }
        let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in &words {
            if word.contains(['*', '?']) {
                parts.push((Occur::Must, self.contains(f.all, word)?));
            } else {
                for t in self.terms_of(f.all, word)? {
                    parts.push((Occur::Must, term(f.all, &t, 1.0)));
                }
            }
            parts.push((
                Occur::Should,
                Box::new(BoostQuery::new(self.contains(f.title, word)?, 3.0)),
            ));
        }
        if !parts.iter().any(|(o, _)| *o == Occur::Must) {
            return Ok(Box::new(AllQuery));
        }
        if count {
            parts.retain(|(o, _)| *o == Occur::Must);
            return Ok(Box::new(BooleanQuery::new(parts)));
        }
        // The whole phrase in the title (all words) ranks above words spread
        // over title and body.
        parts.push((
            Occur::Should,
            Box::new(BoostQuery::new(self.contains(f.title, value)?, 3.0)),
        ));
        parts.push((Occur::Should, exact));
        Ok(Box::new(BooleanQuery::new(parts)))
    }

    /// The [`Split`] of `text ~ value` (the full query being `full`), when
    /// the value is two or more plain terms: the title terms' union marks
    /// the documents that may earn title boosts; all others score exactly
    /// the bare intersection of the `text` terms.
    fn split_text(&self, value: &str, full: &dyn Query) -> Result<Option<Split>> {
        let f = self.f;
        if value.contains(['*', '?']) {
            return Ok(None);
        }
        let all = self.terms_of(f.all, value)?;
        if all.len() < 2 {
            return Ok(None);
        }
        let title = self.terms_of(f.title, value)?;
        let term = |field: Field, t: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, t),
                IndexRecordOption::WithFreqs,
            ))
        };
        let any_title: Box<dyn Query> = if title.is_empty() {
            Box::new(EmptyQuery)
        } else {
            Box::new(ConstScoreQuery::new(
                Box::new(BooleanQuery::new(
                    title
                        .iter()
                        .map(|t| (Occur::Should, term(f.title, t)))
                        .collect(),
                )),
                0.0,
            ))
        };
        Ok(Some(Split {
            titled: Box::new(BooleanQuery::new(vec![
                (Occur::Must, full.box_clone()),
                (Occur::Must, any_title),
            ])),
            plain: Box::new(BooleanQuery::new(
                all.iter().map(|t| (Occur::Must, term(f.all, t))).collect(),
            )),
        }))
    }

    /// The tantivy query of a CQL query. With `count`, the same matches
    /// without the clauses that only rank (title boosts): what counting
    /// needs, often a bare term whose count is its document frequency.
    fn compile(&self, q: &CqlQuery, count: bool) -> Result<Box<dyn Query>> {
        Ok(match q {
            CqlQuery::And(v) => Box::new(BooleanQuery::new(
                v.iter()
                    .map(|q| Ok((Occur::Must, self.compile(q, count)?)))
                    .collect::<Result<Vec<_>>>()?,
            )),
            CqlQuery::Or(v) => Box::new(BooleanQuery::new(
                v.iter()
                    .map(|q| Ok((Occur::Should, self.compile(q, count)?)))
                    .collect::<Result<Vec<_>>>()?,
            )),
            CqlQuery::Not(q) => negate(self.compile(q, count)?),
            CqlQuery::Clause(c) => self.clause(c, count)?,
        })
    }

    fn clause(&self, c: &Clause, count: bool) -> Result<Box<dyn Query>> {
        let f = self.f;
        let values: Vec<&Value> = match &c.value {
            Value::List(l) => l.iter().collect(),
            v => vec![v],
        };
        let one = |v: &Value| -> Result<Box<dyn Query>> {
            let text = |v: &Value| match v {
                Value::Text(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            let num = |v: &Value| match v {
                Value::Number(n) => Ok(*n as u64),
                other => Err(Error::BadRequest(format!(
                    "{} needs a number, not {other:?}",
                    c.field.as_str()
                ))),
            };
            let term_text = |field: Field, s: String| -> Box<dyn Query> {
                Box::new(TermQuery::new(
                    Term::from_field_text(field, &s),
                    IndexRecordOption::Basic,
                ))
            };
            let term_u64 = |field: Field, n: u64| -> Box<dyn Query> {
                Box::new(TermQuery::new(
                    Term::from_field_u64(field, n),
                    IndexRecordOption::Basic,
                ))
            };
            Ok(match c.field {
                CqlField::Type => term_text(f.kind, text(v).to_lowercase()),
                CqlField::Space => term_text(f.space_key, text(v).to_lowercase()),
                CqlField::Title if matches!(c.op, Op::Contains | Op::NotContains) => {
                    self.contains(f.title, &text(v))?
                }
                CqlField::Title => term_text(f.title_raw, text(v).to_lowercase()),
                CqlField::Text => self.text_contains(&text(v), count)?,
                CqlField::Label => term_text(f.label, text(v).to_lowercase()),
                CqlField::Creator => term_text(f.creator, text(v).to_lowercase()),
                CqlField::Contributor => term_text(f.contributor, text(v).to_lowercase()),
                CqlField::Mention => term_text(f.mention, text(v).to_lowercase()),
                CqlField::Ancestor => term_u64(f.ancestor, num(v)?),
                CqlField::Parent => term_u64(f.parent, num(v)?),
                CqlField::Container => term_u64(f.container, num(v)?),
                CqlField::Id => match c.op {
                    Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                        let n = num(v)?;
                        let (lo, hi) = bounds(c.op, Term::from_field_u64(f.id, n));
                        Box::new(RangeQuery::new(lo, hi))
                    }
                    _ => term_u64(f.id, num(v)?),
                },
                CqlField::Created | CqlField::LastModified => {
                    let field = if c.field == CqlField::Created {
                        f.created
                    } else {
                        f.modified
                    };
                    let Value::Date(d) = v else {
                        return Err(Error::BadRequest(format!(
                            "{} needs a date",
                            c.field.as_str()
                        )));
                    };
                    let t = Term::from_field_date(
                        field,
                        TDate::from_timestamp_micros(d.timestamp_micros()),
                    );
                    match c.op {
                        Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                            let (lo, hi) = bounds(c.op, t);
                            Box::new(RangeQuery::new(lo, hi))
                        }
                        _ => Box::new(RangeQuery::new(
                            std::ops::Bound::Included(t.clone()),
                            std::ops::Bound::Included(t),
                        )),
                    }
                }
            })
        };
        let positive: Box<dyn Query> = if values.len() == 1 {
            one(values[0])?
        } else {
            Box::new(BooleanQuery::new(
                values
                    .iter()
                    .map(|v| Ok((Occur::Should, one(v)?)))
                    .collect::<Result<Vec<_>>>()?,
            ))
        };
        Ok(match c.op {
            Op::Ne | Op::NotContains | Op::NotIn => negate(positive),
            _ => positive,
        })
    }
}

fn bounds(op: Op, t: Term) -> (std::ops::Bound<Term>, std::ops::Bound<Term>) {
    use std::ops::Bound::*;
    match op {
        Op::Gt => (Excluded(t), Unbounded),
        Op::Ge => (Included(t), Unbounded),
        Op::Lt => (Unbounded, Excluded(t)),
        _ => (Unbounded, Included(t)),
    }
}

fn negate(q: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, Box::new(AllQuery)),
        (Occur::MustNot, q),
    ]))
}

/// Which documents a viewer may see, checked per candidate on fast fields:
/// none of the `blocked` restriction sets, and (when `spaces` is set and
/// the query does not already filter them) a space among `spaces`.
struct Permit<'a> {
    blocked: &'a std::collections::HashSet<u64>,
    spaces: Option<&'a std::collections::HashSet<u64>>,
    rset: &'a str,
    space_id: &'a str,
}

/// A multi-word `text ~` query split for pruning (see [`top_by_score`]):
/// `titled` is the full query restricted to documents with a query word in
/// the title, `plain` the bare intersection of the words' `text` terms.
struct Split {
    titled: Box<dyn Query>,
    plain: Box<dyn Query>,
}

/// The `k` best documents of `query` by score that the viewer may see, and
/// how many documents `count_query` (the same matches without the ranking
/// clauses) has that the viewer may see.
///
/// The permit is checked on each candidate the scorer offers, so pruning
/// (block-max WAND) still applies; the threshold carries over from one
/// segment to the next. The count is a second pass without scoring, which
/// for a viewer with nothing blocked is tantivy's own count (a term's
/// document frequency, an intersection's skip-list walk).
///
/// With a `split`, the documents with a query word in the title are scored
/// exhaustively first (they are few, and only they can earn title boosts);
/// every other match scores exactly its `text` terms' sum, so the rest is
/// found by a pruned pass over the bare term intersection (block-max WAND),
/// skipping the documents already scored. The result is the same top `k`.
fn top_by_score(
    searcher: &tantivy::Searcher,
    query: &dyn Query,
    count_query: &dyn Query,
    split: Option<&Split>,
    permit: &Permit,
    k: usize,
) -> Result<(usize, Vec<(f32, tantivy::DocAddress)>)> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    use tantivy::query::EnableScoring;
    use tantivy::DocAddress;

    /// Higher score first, then lower address, as tantivy's TopDocs.
    #[derive(PartialEq)]
    struct Entry(f32, DocAddress);
    impl Eq for Entry {}
    impl PartialOrd for Entry {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Entry {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            self.0.total_cmp(&o.0).then_with(|| o.1.cmp(&self.1))
        }
    }

    let scoring = EnableScoring::enabled_from_searcher(searcher);
    let scored = query.weight(scoring).map_err(internal)?;
    let split = match split {
        Some(s) => Some((
            s.titled.weight(scoring).map_err(internal)?,
            s.plain.weight(scoring).map_err(internal)?,
        )),
        None => None,
    };
    let unscored = count_query
        .weight(EnableScoring::disabled_from_searcher(searcher))
        .map_err(internal)?;
    let mut heap: BinaryHeap<Reverse<Entry>> = BinaryHeap::with_capacity(k + 1);
    let mut threshold = f32::MIN;
    let mut total = 0usize;
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let alive = reader.alive_bitset();
        let sets = if permit.blocked.is_empty() {
            None
        } else {
            Some(reader.fast_fields().u64(permit.rset).map_err(internal)?)
        };
        let space_col = match permit.spaces {
            Some(_) if split.is_some() => Some(
                reader
                    .fast_fields()
                    .u64(permit.space_id)
                    .map_err(internal)?,
            ),
            _ => None,
        };
        // Deleted, or in a blocked restriction set.
        let permitted = |doc: tantivy::DocId| -> bool {
            if alive.is_some_and(|a| a.is_deleted(doc)) {
                return false;
            }
            match &sets {
                Some(col) => !col.values_for_doc(doc).any(|r| permit.blocked.contains(&r)),
                None => true,
            }
        };
        let mut offer = |doc: tantivy::DocId, score: f32, threshold: &mut f32| {
            heap.push(Reverse(Entry(score, DocAddress::new(ord as u32, doc))));
            if heap.len() > k {
                heap.pop();
            }
            if heap.len() == k {
                *threshold = heap.peek().map_or(f32::MIN, |e| e.0 .0);
            }
        };
        match &split {
            None => scored
                .for_each_pruning(threshold, reader, &mut |doc, score| {
                    if permitted(doc) {
                        offer(doc, score, &mut threshold);
                    }
                    threshold
                })
                .map_err(internal)?,
            Some((titled, plain)) => {
                let mut seen = std::collections::HashSet::new();
                titled
                    .for_each(reader, &mut |doc, score| {
                        seen.insert(doc);
                        if permitted(doc) && score > threshold {
                            offer(doc, score, &mut threshold);
                        }
                    })
                    .map_err(internal)?;
                let in_space = |doc: tantivy::DocId| match (&space_col, permit.spaces) {
                    (Some(col), Some(spaces)) => {
                        col.first(doc).is_some_and(|s| spaces.contains(&s))
                    }
                    _ => true,
                };
                plain
                    .for_each_pruning(threshold, reader, &mut |doc, score| {
                        if !seen.contains(&doc) && permitted(doc) && in_space(doc) {
                            offer(doc, score, &mut threshold);
                        }
                        threshold
                    })
                    .map_err(internal)?;
            }
        }
        total += match &sets {
            None => unscored.count(reader).map_err(internal)? as usize,
            Some(_) => {
                let mut n = 0usize;
                unscored
                    .for_each_no_score(reader, &mut |docs| {
                        n += docs.iter().filter(|d| permitted(**d)).count();
                    })
                    .map_err(internal)?;
                n
            }
        };
    }
    let mut top: Vec<(f32, DocAddress)> = heap
        .into_iter()
        .map(|Reverse(Entry(s, a))| (s, a))
        .collect();
    top.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok((total, top))
}

/// Matches documents holding any of `terms`, without scoring. A
/// `TermSetQuery` builds an FST per search, whose builder zeroes about a
/// megabyte (18 % of a search's CPU at 10k pages); a union of term queries
/// is cheaper for the few spaces and restriction sets a viewer usually has.
fn term_filter(terms: Vec<Term>) -> Box<dyn Query> {
    const UNION_MAX: usize = 128;
    match terms.len() {
        0 => Box::new(EmptyQuery),
        n if n <= UNION_MAX => Box::new(ConstScoreQuery::new(
            Box::new(BooleanQuery::new(
                terms
                    .into_iter()
                    .map(|t| {
                        (
                            Occur::Should,
                            Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as Box<dyn Query>,
                        )
                    })
                    .collect(),
            )),
            0.0,
        )),
        _ => Box::new(TermSetQuery::new(terms)),
    }
}

/// The excerpt of one hit: the best fragment of its body. Stemming every
/// hit's whole body was a third of a search's CPU, so the generator only
/// sees windows around the first few word-start places where a query stem
/// (or the stem less its last letter, for `happy` → `happi`) occurs: a stem
/// is nearly always a prefix of the words it came from. A hit whose body
/// holds none (it matched on its title or a label) gets its first words,
/// without stemming the body at all.
fn excerpt(g: &SnippetGenerator, stems: &[String], body: &str) -> String {
    // A fragment is at most 150 characters (the generator's default).
    const BEFORE: usize = 60;
    const AFTER: usize = 240;
    const WINDOWS: usize = 4;
    let floor = |mut i: usize| {
        while !body.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    if stems.is_empty() {
        // Nothing of the query is in the body (a title-only or wildcard
        // query): the generator would tokenize it all to find nothing.
        return first_words(body);
    }
    let highlighted = |text: &str| {
        let s = g.snippet(text);
        (!s.highlighted().is_empty()).then(|| s.to_html())
    };
    if body.len() <= BEFORE + AFTER {
        return highlighted(body).unwrap_or_else(|| first_words(body));
    }
    // ASCII lowercasing keeps byte offsets.
    let lower = body.to_ascii_lowercase();
    let at_word_start = |i: &usize| {
        lower[..*i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric())
    };
    let mut places: Vec<usize> = Vec::new();
    for stem in stems.iter().filter(|s| !s.is_empty()) {
        let shorter = stem
            .char_indices()
            .last()
            .map(|(i, _)| &stem[..i])
            .filter(|p| p.chars().count() >= 3);
        for needle in std::iter::once(stem.as_str()).chain(shorter) {
            places.extend(
                lower
                    .match_indices(needle)
                    .map(|(i, _)| i)
                    .filter(at_word_start)
                    .take(WINDOWS),
            );
        }
    }
    places.sort_unstable();
    places.dedup();
    for at in places.into_iter().take(WINDOWS) {
        let mut start = floor(at.saturating_sub(BEFORE));
        if start > 0 {
            // Begin at a word, not inside one.
            start = body[start..at]
                .find(char::is_whitespace)
                .map_or(start, |i| start + i + 1);
        }
        let end = floor((at + AFTER).min(body.len()));
        if let Some(html) = highlighted(&body[start..end]) {
            return html;
        }
    }
    first_words(body)
}

fn first_words(body: &str) -> String {
    let s: String = body.chars().take(240).collect();
    crate::content::xml_escape(&s)
}

impl SearchIndex {
    /// Caches [`blocked_restrictions`] per viewer until the data generation
    /// moves (restrictions and group memberships both move it).
    pub fn set_generation(&self, g: crate::changes::Generation) {
        let _ = self.generation.set(g);
    }

    async fn blocked_for(
        &self,
        db: &impl GenericClient,
        viewer: &Viewer,
    ) -> Result<Arc<ViewerFilter>> {
        // Read before the query, so a change racing it moves the key.
        let generation = self.generation.get().and_then(|g| g.current());
        let Some(generation) = generation else {
            return Ok(Arc::new(ViewerFilter::load(db, viewer).await?));
        };
        let key = (generation, viewer.user_id(), (*viewer.groups).clone());
        if let Some(hit) = self.blocked.get(&key) {
            return Ok(hit);
        }
        let v = Arc::new(ViewerFilter::load(db, viewer).await?);
        self.blocked.insert(key, v.clone());
        Ok(v)
    }
}

/// What a viewer's searches are filtered by.
struct ViewerFilter {
    /// Read-restriction sets the viewer does not pass.
    blocked: Vec<i64>,
    /// Whether the viewer may view every space, so results need no space
    /// filter (intersecting with it was a quarter of a search's CPU).
    every_space: bool,
}

impl ViewerFilter {
    async fn load(db: &impl GenericClient, viewer: &Viewer) -> Result<ViewerFilter> {
        let every_space = crate::db::query_one(
            db,
            "SELECT NOT EXISTS (SELECT 1 FROM spaces WHERE id <> ALL($1))",
            &[&*viewer.view_spaces],
        )
        .await?
        .get(0);
        Ok(ViewerFilter {
            blocked: blocked_restrictions(db, viewer).await?,
            every_space,
        })
    }
}

/// Read-restricted pages this viewer does not pass.
async fn blocked_restrictions(db: &impl GenericClient, viewer: &Viewer) -> Result<Vec<i64>> {
    let rows = crate::db::query(
        db,
        "SELECT content_id FROM content_restrictions WHERE operation = 'read' GROUP BY content_id
         HAVING NOT bool_or((user_id = $1) IS TRUE OR (group_id = ANY($2)) IS TRUE)",
        &[&viewer.user_id(), &*viewer.groups],
    )
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

struct IndexDoc {
    id: i64,
    version: i64,
    kind: String,
    space_id: i64,
    space_key: String,
    title: String,
    body: String,
    labels: Vec<String>,
    creator: String,
    contributors: Vec<String>,
    created: chrono::DateTime<chrono::Utc>,
    modified: chrono::DateTime<chrono::Utc>,
    ancestors: Vec<i64>,
    parent: Option<i64>,
    container: Option<i64>,
    rset: Vec<i64>,
    mentions: Vec<String>,
}

/// The current, indexable state of `ids` (trashed or deleted ones are
/// simply absent, so applying removes them).
async fn load_docs(
    db: &impl GenericClient,
    store: &crate::attach::Store,
    ids: &[i64],
) -> Result<Vec<IndexDoc>> {
    let rows = crate::db::query(
        db,
        "SELECT c.id, c.content_type, c.space_id, s.space_key, c.title, c.body, c.created_at, c.modified_at,
                c.ancestors, c.parent_id, c.container_id, coalesce(u.username, ''),
                coalesce((SELECT array_agg(name ORDER BY name) FROM labels l WHERE l.content_id = c.id), '{}'),
                coalesce((SELECT array_agg(DISTINCT a.username) FROM content_versions v JOIN users a ON a.id = v.author_id
                          WHERE v.content_id = c.id), '{}'),
                coalesce((SELECT array_agg(DISTINCT r.content_id) FROM content_restrictions r
                          WHERE r.operation = 'read' AND r.content_id = ANY(c.ancestors || c.id)), '{}'),
                v.media_type, v.file_sha256, v.file_size, c.version
         FROM content c JOIN spaces s ON s.id = c.space_id
         LEFT JOIN users u ON u.id = c.creator_id
         LEFT JOIN content_versions v ON v.content_id = c.id AND v.version = c.version
         WHERE c.id = ANY($1) AND c.status = 'current'",
        &[&ids],
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let kind: String = r.get(1);
        let body: String = r.get(5);
        let title: String = r.get(4);
        let text = match kind.as_str() {
            "attachment" => {
                let mt: Option<String> = r.get(15);
                let sha: Option<String> = r.get(16);
                let size: Option<i64> = r.get(17);
                let textual = mt.as_deref().is_some_and(|m| {
                    m.starts_with("text/") || m == "application/json" || m == "application/xml"
                });
                match (textual, sha, size) {
                    (true, Some(sha), Some(n)) if n <= 1_000_000 => store
                        .read_verified(&sha)
                        .await
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default(),
                    _ => String::new(),
                }
            }
            _ => cairn_render::text(&body).unwrap_or_default(),
        };
        let ancestors: Vec<i64> = r.get(8);
        out.push(IndexDoc {
            id: r.get(0),
            version: r.get::<_, i32>(18) as i64,
            space_id: r.get(2),
            space_key: r.get(3),
            title,
            body: text,
            created: r.get(6),
            modified: r.get(7),
            parent: if kind == "page" { r.get(9) } else { None },
            container: r.get(10),
            creator: r.get(11),
            labels: r.get(12),
            contributors: r.get(13),
            rset: r.get(14),
            mentions: cairn_render::references(&body)
                .map(|refs| refs.users.into_iter().collect())
                .unwrap_or_default(),
            ancestors,
            kind,
        });
    }
    // Mentions are written as user keys (or usernames): index usernames.
    let written: Vec<String> = out
        .iter()
        .flat_map(|d| d.mentions.iter().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !written.is_empty() {
        let lower: Vec<String> = written.iter().map(|w| w.to_lowercase()).collect();
        let names: std::collections::HashMap<String, String> = crate::db::query(
            db,
            "SELECT user_key, lower(username) FROM users WHERE user_key = ANY($1) OR lower(username) = ANY($2)",
            &[&written, &lower],
        )
        .await?
        .iter()
        .flat_map(|r| {
            let (key, name): (String, String) = (r.get(0), r.get(1));
            [(key, name.clone()), (name.clone(), name)]
        })
        .collect();
        for d in &mut out {
            d.mentions = d
                .mentions
                .iter()
                .filter_map(|m| {
                    names
                        .get(m)
                        .or_else(|| names.get(&m.to_lowercase()))
                        .cloned()
                })
                .collect();
        }
    }
    Ok(out)
}

/// Keeps one LISTEN connection open and wakes the tailer on each NOTIFY.
async fn listen(
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
