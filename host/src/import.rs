//! Importing Confluence XML exports (space exports and site backups):
//! `cairn import FILE.zip [--as KEY]`, REST `POST /rest/cairn/1.0/import`.
//!
//! Invariants: the import is all or nothing — every visible database
//! change of one import (users, groups, spaces, content, versions, labels,
//! permissions, restrictions, likes, the id map and the run's "done")
//! commits in one final transaction, so a failure leaves no half space
//! behind (attachment files written before a failure are content-addressed
//! and unreferenced, as after a failed upload; staged bodies are in the
//! run's own table, dropped when it ends); it is resumable — a run whose
//! node died is taken over by the leader from its checkpoints (`run`,
//! `stage`), never started over or written twice; memory is bounded by the
//! export's metadata, never by its bodies or files (two streaming passes
//! over entities.xml); every object is imported, knowingly skipped with a
//! count, or named in an error or warning of the report; content reaches
//! the search index through the same journal triggers as any other write.
//!
//! Layout: `archive` (the zip), `xml` (the streaming reader), `model` (the
//! first pass), `plan` (tree, versions, titles), `wiki` (wiki markup to
//! storage format), `files` (attachments, checkpointed), `stage` (the
//! second pass: bodies staged in checkpointed chunks), `write` (the final
//! transaction), `run` (phases, taking over a dead node's run),
//! `export` (the way back: a space as a Confluence XML export).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

mod archive;
mod cli;
mod export;
mod files;
mod lookup;
mod model;
mod plan;
mod progress;
mod relations;
mod run;
mod stage;
mod wiki;
mod write;
pub(crate) mod xml;

pub use cli::{cli, export_cli, imports_cli};
pub use export::{export_space, ExportReport};

pub use archive::parse_properties;
pub use lookup::{decode_tiny, old_id_target, run_status, RunStatus};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Not a zip, or a truncated or damaged one.
    #[error("{0}")]
    NotZip(String),
    /// A zip, but not a Confluence XML export.
    #[error("{0}")]
    NotConfluence(String),
    /// entities.xml is not well-formed.
    #[error("{0}")]
    Xml(String),
    /// An object the importer cannot take, named.
    #[error("{0}")]
    Invalid(String),
    /// A space key that exists already.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Io(String),
    #[error("database error: {0}")]
    Db(String),
    /// Another node took the run over (this one was thought dead): stop
    /// without touching the run.
    #[error("{0}")]
    Superseded(String),
}

/// A run and the attempt that owns it (bumped by each takeover).
#[derive(Debug, Clone)]
pub(crate) struct RunRef {
    pub id: i64,
    pub attempt: i32,
}

impl RunRef {
    /// The error that stops this attempt once a later one owns the run.
    pub(crate) fn superseded(&self) -> ImportError {
        ImportError::Superseded(format!(
            "import {} was taken over by another node (attempt {} stopped)",
            self.id, self.attempt
        ))
    }
}

impl From<tokio_postgres::Error> for ImportError {
    fn from(e: tokio_postgres::Error) -> Self {
        ImportError::Db(crate::error::Error::Db(e).to_string())
    }
}

impl From<deadpool_postgres::PoolError> for ImportError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        ImportError::Db(e.to_string())
    }
}

impl From<crate::error::Error> for ImportError {
    fn from(e: crate::error::Error) -> Self {
        ImportError::Db(e.to_string())
    }
}

impl From<ImportError> for crate::error::Error {
    fn from(e: ImportError) -> Self {
        use crate::error::Error;
        match e {
            ImportError::Conflict(m) => Error::Conflict(m),
            ImportError::Db(m) | ImportError::Io(m) => Error::Internal(m),
            ImportError::Superseded(m) => Error::Unavailable(m),
            other => Error::BadRequest(other.to_string()),
        }
    }
}

/// What to import and how.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Import the (single) space under this key instead of its own.
    pub as_key: Option<String>,
    /// Recorded on the run, for the admin pages.
    pub node_id: String,
    /// The file's name as the administrator knows it (uploads are stored
    /// under a random name); the path's file name when `None`.
    pub file_name: Option<String>,
    /// Told the run's id once the import passed its checks and runs.
    pub on_start: Option<tokio::sync::mpsc::UnboundedSender<i64>>,
    /// The file is Cairn's copy of an upload: deleted when the run ends.
    pub upload_owned: bool,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SpaceReport {
    pub key: String,
    pub source_key: String,
    pub id: i64,
    pub name: String,
}

/// What an import did, for the CLI, REST and the admin UI.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub import_id: i64,
    /// Which attempt finished the run (more than 1: it was taken over).
    pub attempt: i32,
    /// What the earlier attempts had done, when the run was taken over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed: Option<String>,
    /// The same export was imported into the same keys before: nothing changed.
    pub already_imported: bool,
    pub export_type: String,
    pub created_by_build: String,
    pub spaces: Vec<SpaceReport>,
    pub objects: u64,
    pub pages: u64,
    pub blog_posts: u64,
    pub comments: u64,
    pub attachments: u64,
    pub trashed: u64,
    /// Every version row written (pages, blog posts, comments, attachments).
    pub versions: u64,
    pub historical_versions: u64,
    pub attachment_files: u64,
    pub bytes_copied: u64,
    pub missing_files: Vec<String>,
    pub drafts_skipped: u64,
    pub labels: u64,
    /// Labels on space descriptions (space categories), kept as extras.
    pub space_labels: u64,
    pub likes: u64,
    pub space_permissions: u64,
    pub restrictions: u64,
    pub watches: u64,
    /// JSON content properties (REST's).
    pub content_properties: u64,
    /// Page templates (their current versions).
    pub templates: u64,
    pub extras: u64,
    pub users_matched: Vec<String>,
    pub users_created: Vec<String>,
    pub groups_created: Vec<String>,
    pub wiki_bodies: u64,
    /// Wiki-markup constructs kept verbatim (unmigrated-wiki-markup), by kind.
    pub wiki_unconverted: BTreeMap<String, u64>,
    pub bodies: u64,
    pub bodies_not_well_formed: u64,
    pub cdata_repairs: u64,
    /// Objects knowingly not imported (derived, runtime or plugin state).
    pub skipped: BTreeMap<String, u64>,
    /// Classes this importer does not know (not content), by class.
    pub unknown_classes: BTreeMap<String, u64>,
    pub warnings: Vec<String>,
    pub warnings_total: u64,
    pub seconds: f64,
}

const MAX_WARNINGS: usize = 500;

impl Report {
    pub(crate) fn warn(&mut self, w: String) {
        self.warnings_total += 1;
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(w);
        }
    }
}

/// Imports the export at `path`. See the module invariants.
///
/// # Errors
/// [`ImportError`] naming the file or object at fault; nothing of the
/// import is left in the database then.
pub async fn import_zip(
    pool: &crate::db::Pool,
    store: &crate::attach::Store,
    path: &Path,
    opts: &Options,
) -> Result<Report, ImportError> {
    run::run(pool, store, path, opts).await
}

/// How a background import began.
pub(crate) enum Started {
    /// Passed its checks; runs on in the background under this run id.
    Running(i64),
    /// Finished before it could be handed off (already imported).
    Finished(Box<Report>),
}

/// Starts an import of `path` (an uploaded file in the shared home,
/// removed when the import ends, wherever it ends) as a background task,
/// and answers once it runs or was refused.
/// The REST resource and the admin page use it.
///
/// # Errors
/// Whatever the import's checks refuse (not a zip, a taken key, …).
pub(crate) async fn start_background(
    pool: &crate::db::Pool,
    store: &crate::attach::Store,
    path: std::path::PathBuf,
    mut opts: Options,
) -> Result<Started, ImportError> {
    let (tell, mut told) = tokio::sync::mpsc::unbounded_channel();
    opts.on_start = Some(tell);
    opts.upload_owned = true;
    let (pool, store) = (pool.clone(), store.clone());
    let mut task = tokio::spawn(async move { import_zip(&pool, &store, &path, &opts).await });
    tokio::select! {
        Some(id) = told.recv() => Ok(Started::Running(id)),
        r = &mut task => match r {
            Ok(Ok(report)) => Ok(Started::Finished(Box::new(report))),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(ImportError::Io(format!("the import task failed: {e}"))),
        },
    }
}

/// The leader's `import-resume` job: takes over one run whose node died
/// (its heartbeat stopped) and runs it to its end in the background.
/// Answers what it did, for the job's record; `None` when nothing waits.
pub(crate) async fn resume_stale(
    pool: &crate::db::Pool,
    store: &crate::attach::Store,
    node_id: &str,
) -> Result<Option<String>, ImportError> {
    let Some(run) = run::take_over_stale(pool, node_id).await? else {
        return Ok(None);
    };
    let msg = format!("import {} taken over (attempt {})", run.id, run.attempt);
    let (pool, store) = (pool.clone(), store.clone());
    tokio::spawn(async move {
        let id = run.id;
        match run::resume(&pool, &store, run).await {
            Ok(r) => tracing::info!(import = id, seconds = r.seconds, "resumed import done"),
            Err(e) => tracing::warn!(import = id, error = %e, "resumed import did not finish"),
        }
    });
    Ok(Some(msg))
}

/// Where uploads wait for their import (in the shared home: any node may
/// run it).
pub(crate) fn upload_path(store: &crate::attach::Store) -> std::path::PathBuf {
    store
        .shared_home()
        .join("import-uploads")
        .join(format!("{}.zip", crate::auth::random_token(12)))
}
