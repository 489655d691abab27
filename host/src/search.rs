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

use crate::sync::Recover;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tantivy::schema::Schema;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy};

use crate::error::{Error, Result};

mod integrity;
pub use integrity::{
    snapshots, verify_dir, DriftReport, Health, Identity, Payload, Settled, VerifyReport,
    DRIFT_SAMPLE,
};

mod documents;
mod excerpts;
mod facets;
pub mod journal;
mod query;
mod ranking;
mod rebuild;
mod schema;
mod snapshot;
mod tailer;
mod visibility;
use crate::search::schema::merge_policy;
use crate::search::schema::schema;
use crate::search::schema::Fields;
use crate::search::schema::SCHEMA_VERSION;
use crate::search::visibility::BlockedKey;
use crate::search::visibility::ViewerFilter;
pub use facets::Facets;
pub use ranking::Hit;
pub use ranking::Results;
pub use rebuild::RebuildState;
pub use snapshot::newest_snapshot;
pub use snapshot::snapshot_root;

/// An index operation that failed, said with what it was doing and, where
/// there is one, the path it worked on.
fn failed(doing: impl std::fmt::Display, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("search index: {doing}: {e}"))
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
    generation: std::sync::OnceLock<crate::generation::Generation>,
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

/// A journal entry for this content id asks every node to rebuild its index
/// beside the live one (`cairn index rebuild`); no content has id 0.
pub(crate) const REBUILD_MARKER: i64 = 0;

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

impl Live {
    fn open(dir: &Path, create: Option<Schema>) -> Result<Live> {
        let index = match create {
            Some(schema) => Index::create_in_dir(dir, schema)
                .map_err(|e| failed(format!("creating an index in {}", dir.display()), e))?,
            None => Index::open_in_dir(dir)
                .map_err(|e| failed(format!("opening the index in {}", dir.display()), e))?,
        };
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| failed(format!("opening a reader on {}", dir.display()), e))?;
        let writer: IndexWriter = index
            .writer_with_num_threads(1, 32_000_000)
            .map_err(|e| failed(format!("opening a writer on {}", dir.display()), e))?;
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

impl SearchIndex {
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
                    std::fs::rename(&dir, &aside).map_err(|e| {
                        failed(
                            format!("moving {} aside to {}", dir.display(), aside.display()),
                            e,
                        )
                    })?;
                    let _ = std::fs::remove_dir_all(&aside);
                }
                std::fs::create_dir_all(&dir)
                    .map_err(|e| failed(format!("creating {}", dir.display()), e))?;
                let i = Index::create_in_dir(&dir, schema)
                    .map_err(|e| failed(format!("creating an index in {}", dir.display()), e))?;
                std::fs::write(&version_file, SCHEMA_VERSION)
                    .map_err(|e| failed(format!("writing {}", version_file.display()), e))?;
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
        self.live.read().recover().clone()
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
        self.rebuild.lock().recover().clone()
    }
}

impl SearchIndex {}
