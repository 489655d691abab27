//! Attachments: bytes in the shared home, content-addressed by SHA-256;
//! metadata and versions in PostgreSQL (an attachment is content whose
//! versions carry `file_sha256`).
//!
//! Invariants: a file becomes visible under its hash only after it was
//! completely written and fsynced (temp file, fsync, rename, fsync dir), so
//! a crash mid-upload leaves at most a temp file that nothing references;
//! the size limit is enforced while streaming, before anything is kept;
//! reads verify the hash and refuse a damaged file.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use deadpool_postgres::GenericClient;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::content::{self, Content, ContentType, VersionInfo};
use crate::error::{is_unique_violation, Error, Result};
use crate::perms::{SpacePerm, Viewer};

#[derive(Clone, Debug)]
pub struct Store {
    shared_home: PathBuf,
    root: PathBuf,
    max_size: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    pub sha256: String,
    pub size: u64,
}

impl Store {
    pub fn new(shared_home: &Path, max_size: u64) -> Store {
        Store {
            shared_home: shared_home.to_owned(),
            root: shared_home.join("attachments"),
            max_size: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(max_size)),
        }
    }

    /// Largest accepted attachment, in bytes (a live setting).
    pub(crate) fn max_size(&self) -> u64 {
        self.max_size.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_max_size(&self, bytes: u64) {
        self.max_size
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn shared_home(&self) -> &Path {
        &self.shared_home
    }

    pub(crate) fn path_of(&self, sha: &str) -> PathBuf {
        self.root.join(&sha[0..2]).join(&sha[2..4]).join(sha)
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Streams `data` into the store. Fails with 413 as soon as the limit
    /// is passed; the partial temp file is removed.
    pub(crate) async fn put<S, E>(&self, data: S) -> Result<Stored>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let tmp_dir = self.tmp_dir();
        tokio::fs::create_dir_all(&tmp_dir)
            .await
            .map_err(|e| Error::Internal(format!("cannot create {}: {e}", tmp_dir.display())))?;
        let tmp = tmp_dir.join(format!("upload-{}", crate::auth::random_token(12)));
        let result = self.write_tmp(&tmp, data).await;
        match result {
            Ok(stored) => {
                let dest = self.path_of(&stored.sha256);
                if let Some(dir) = dest.parent() {
                    tokio::fs::create_dir_all(dir).await.map_err(|e| {
                        Error::Internal(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                if tokio::fs::try_exists(&dest).await.unwrap_or(false) {
                    // Same bytes already stored (content addressing).
                    let _ = tokio::fs::remove_file(&tmp).await;
                } else {
                    tokio::fs::rename(&tmp, &dest)
                        .await
                        .map_err(|e| Error::Internal(format!("cannot store attachment: {e}")))?;
                    if let Some(dir) = dest.parent() {
                        sync_dir(dir).await;
                    }
                }
                Ok(stored)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    async fn write_tmp<S, E>(&self, tmp: &Path, mut data: S) -> Result<Stored>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut f = tokio::fs::File::create(tmp)
            .await
            .map_err(|e| Error::Internal(format!("cannot create {}: {e}", tmp.display())))?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let limit = self.max_size();
        while let Some(chunk) = data.next().await {
            let chunk =
                chunk.map_err(|e| Error::BadRequest(format!("the upload was interrupted: {e}")))?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(Error::TooLarge(format!(
                    "the file is larger than the attachment size limit of {limit} bytes"
                )));
            }
            hasher.update(&chunk);
            f.write_all(&chunk)
                .await
                .map_err(|e| Error::Internal(format!("cannot write attachment: {e}")))?;
        }
        f.sync_all()
            .await
            .map_err(|e| Error::Internal(format!("cannot fsync attachment: {e}")))?;
        Ok(Stored {
            sha256: hex::encode(hasher.finalize()),
            size,
        })
    }

    /// Like [`Store::put`] for a blocking reader (imports copy files out of
    /// a zip on a blocking thread); no size limit: the administrator chose
    /// the file. Same rules: temp file, fsync, rename, fsync(dir).
    pub(crate) fn put_blocking(&self, data: &mut dyn std::io::Read) -> Result<Stored> {
        use std::io::Write;
        let tmp_dir = self.tmp_dir();
        std::fs::create_dir_all(&tmp_dir)
            .map_err(|e| Error::Internal(format!("cannot create {}: {e}", tmp_dir.display())))?;
        let tmp = tmp_dir.join(format!("import-{}", crate::auth::random_token(12)));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)
                .map_err(|e| Error::Internal(format!("cannot create {}: {e}", tmp.display())))?;
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = data
                    .read(&mut buf)
                    .map_err(|e| Error::BadRequest(format!("the file cannot be read: {e}")))?;
                if n == 0 {
                    break;
                }
                size += n as u64;
                hasher.update(&buf[..n]);
                f.write_all(&buf[..n])
                    .map_err(|e| Error::Internal(format!("cannot write attachment: {e}")))?;
            }
            f.sync_all()
                .map_err(|e| Error::Internal(format!("cannot fsync attachment: {e}")))?;
            Ok(Stored {
                sha256: hex::encode(hasher.finalize()),
                size,
            })
        })();
        let stored = match result {
            Ok(s) => s,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let dest = self.path_of(&stored.sha256);
        let dir = dest.parent().map(Path::to_owned).unwrap_or_default();
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
        if dest.exists() {
            let _ = std::fs::remove_file(&tmp);
        } else {
            std::fs::rename(&tmp, &dest)
                .map_err(|e| Error::Internal(format!("cannot store attachment: {e}")))?;
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
        }
        Ok(stored)
    }

    /// Reads a stored file whole and checks its hash.
    pub async fn read_verified(&self, sha: &str) -> Result<Bytes> {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Internal(format!("bad attachment hash {sha:?}")));
        }
        let path = self.path_of(sha);
        let mut f = tokio::fs::File::open(&path).await.map_err(|e| {
            Error::Internal(format!(
                "attachment file {} is missing: {e}",
                path.display()
            ))
        })?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)
            .await
            .map_err(|e| Error::Internal(format!("cannot read {}: {e}", path.display())))?;
        let got = hex::encode(Sha256::digest(&buf));
        if got != sha {
            return Err(Error::Internal(format!(
                "attachment file {} is damaged (its SHA-256 is {got})",
                path.display()
            )));
        }
        Ok(Bytes::from(buf))
    }
}

async fn sync_dir(dir: &Path) {
    if let Ok(d) = tokio::fs::File::open(dir).await {
        let _ = d.sync_all().await;
    }
}

pub(crate) fn validate_filename(name: &str) -> Result<&str> {
    let n = name.trim();
    if n.is_empty() || n.len() > 255 {
        return Err(Error::BadRequest("a file name needs 1 to 255 bytes".into()));
    }
    if n == "." || n == ".." || n.contains(['/', '\\']) || n.chars().any(char::is_control) {
        return Err(Error::BadRequest(format!(
            "file name {name:?} must not contain slashes or control characters"
        )));
    }
    Ok(n)
}

/// A media type from the client when it looks like one, else from the
/// file extension.
pub(crate) fn media_type(filename: &str, given: Option<&str>) -> String {
    if let Some(g) = given {
        let g = g.trim().to_ascii_lowercase();
        let valid = g.split_once('/').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && g.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/.+-_;= ".contains(c))
        });
        if valid && g != "application/octet-stream" {
            return g;
        }
    }
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        "txt" | "log" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "json" => "application/json",
        "xml" => "application/xml",
        "html" | "htm" => "text/html",
        "zip" => "application/zip",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ => "application/octet-stream",
    }
    .to_owned()
}

/// Whether a browser may show the file inline without risk (no active
/// content such as HTML or SVG with scripts).
pub(crate) fn inline_safe(media_type: &str) -> bool {
    matches!(
        media_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "application/pdf" | "text/plain"
    )
}

#[derive(Debug, Clone)]
pub(crate) struct Attachment {
    pub content: Content,
    pub size: i64,
    pub media_type: String,
    pub sha256: String,
    pub comment: String,
}

async fn latest_file(
    db: &impl GenericClient,
    id: i64,
    version: i32,
) -> Result<(i64, String, String, String)> {
    let r = crate::db::query_one(db,
            "SELECT coalesce(file_size, 0), coalesce(media_type, ''), coalesce(file_sha256, ''), message
             FROM content_versions WHERE content_id = $1 AND version = $2",
            &[&id, &version],
        )
        .await?;
    Ok((r.get(0), r.get(1), r.get(2), r.get(3)))
}

async fn attachment_of(db: &impl GenericClient, c: Content) -> Result<Attachment> {
    let (size, media_type, sha256, comment) = latest_file(db, c.id, c.version).await?;
    Ok(Attachment {
        content: c,
        size,
        media_type,
        sha256,
        comment,
    })
}

/// Checks that the viewer may attach files to `page_id`; call before
/// reading the upload so refused uploads store nothing.
pub(crate) async fn check_can_attach(
    db: &impl GenericClient,
    viewer: &Viewer,
    page_id: i64,
) -> Result<Content> {
    viewer.require_user()?;
    let page = content::get(db, viewer, page_id).await?;
    if !matches!(page.content_type, ContentType::Page | ContentType::BlogPost) {
        return Err(Error::BadRequest(
            "files are attached to pages and blog posts".into(),
        ));
    }
    viewer
        .require_space_perm(db, page.space_id, SpacePerm::Attach)
        .await?;
    if !viewer.passes_update_restrictions(db, page.id).await? {
        return Err(Error::Forbidden(
            "this page has edit restrictions that do not include you".into(),
        ));
    }
    Ok(page)
}

pub(crate) struct NewFile<'a> {
    pub filename: &'a str,
    pub media_type: Option<&'a str>,
    pub comment: &'a str,
    pub minor_edit: bool,
    pub stored: Stored,
}

/// A new attachment's row and its first version.
pub(crate) struct NewRow<'a> {
    pub space_id: i64,
    pub page_id: i64,
    /// The page's ancestors and the page.
    pub ancestors: &'a [i64],
    pub name: &'a str,
    pub author_id: i64,
    pub comment: &'a str,
    pub minor_edit: bool,
    pub sha256: &'a str,
    pub size: i64,
    pub media_type: &'a str,
}

/// Writes a new attachment (content row and version 1) inside the
/// caller's transaction, which has checked the rights; its id.
pub(crate) async fn insert_new(
    tx: &impl GenericClient,
    a: &NewRow<'_>,
) -> std::result::Result<i64, tokio_postgres::Error> {
    let id: i64 = tx
        .query_one(
            "INSERT INTO content (content_type, space_id, container_id, ancestors, title, creator_id, modifier_id)
             VALUES ('attachment', $1, $2, $3, $4, $5, $5) RETURNING id",
            &[&a.space_id, &a.page_id, &a.ancestors, &a.name, &a.author_id],
        )
        .await?
        .get(0);
    tx.execute(
        "INSERT INTO content_versions (content_id, version, title, body, author_id, message, minor_edit,
           file_sha256, file_size, media_type) VALUES ($1, 1, $2, '', $3, $4, $5, $6, $7, $8)",
        &[&id, &a.name, &a.author_id, &a.comment, &a.minor_edit, &a.sha256, &a.size, &a.media_type],
    )
    .await?;
    Ok(id)
}

/// Records an uploaded file on a page: a new attachment, or — when a file
/// with the same name exists and `new_version_if_exists` — its next version.
pub(crate) async fn record(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    page_id: i64,
    f: NewFile<'_>,
    new_version_if_exists: bool,
) -> Result<Attachment> {
    let page = check_can_attach(&*db, viewer, page_id).await?;
    let user = viewer.require_user()?.clone();
    let name = validate_filename(f.filename)?;
    let mt = media_type(name, f.media_type);
    let size = f.stored.size as i64;
    let tx = db.transaction().await?;
    let existing: Option<(i64, i32)> = tx
        .query_opt(
            "SELECT id, version FROM content WHERE container_id = $1 AND content_type = 'attachment'
             AND status = 'current' AND lower(title) = lower($2) FOR UPDATE",
            &[&page_id, &name],
        )
        .await?
        .map(|r| (r.get(0), r.get(1)));
    let id = match existing {
        Some(_) if !new_version_if_exists => {
            return Err(Error::BadRequest(format!(
                "Cannot add a new attachment with same file name as an existing attachment: {name}"
            )))
        }
        Some((id, v)) => {
            tx.execute(
                "UPDATE content SET version = $2, modifier_id = $3, modified_at = now() WHERE id = $1",
                &[&id, &(v + 1), &user.id],
            )
            .await?;
            tx.execute(
                "INSERT INTO content_versions (content_id, version, title, body, author_id, message, minor_edit,
                   file_sha256, file_size, media_type) VALUES ($1, $2, $3, '', $4, $5, $6, $7, $8, $9)",
                &[&id, &(v + 1), &name, &user.id, &f.comment, &f.minor_edit, &f.stored.sha256, &size, &mt],
            )
            .await?;
            id
        }
        None => {
            let mut chain = page.ancestors.clone();
            chain.push(page.id);
            let row = NewRow {
                space_id: page.space_id,
                page_id,
                ancestors: &chain,
                name,
                author_id: user.id,
                comment: f.comment,
                minor_edit: f.minor_edit,
                sha256: &f.stored.sha256,
                size,
                media_type: &mt,
            };
            insert_new(&tx, &row).await.map_err(|e| {
                if is_unique_violation(&e) {
                    Error::BadRequest(format!(
                        "Cannot add a new attachment with same file name as an existing attachment: {name}"
                    ))
                } else {
                    e.into()
                }
            })?
        }
    };
    tx.execute(
        "SELECT pg_notify('cairn_content', $1)",
        &[&format!("attachment:{id}")],
    )
    .await?;
    tx.commit().await?;
    let c = content::get(&*db, viewer, id).await?;
    attachment_of(&*db, c).await
}

/// Gives page `to` a copy of each current attachment of `from` (its latest
/// version; the file itself is shared, the store being content-addressed);
/// how many.
pub(crate) async fn copy_all(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    from: &Content,
    to: i64,
) -> Result<usize> {
    let files = list_of(&*db, viewer, from).await?;
    for a in &files {
        record(
            db,
            viewer,
            to,
            NewFile {
                filename: &a.content.title,
                media_type: Some(&a.media_type),
                comment: &a.comment,
                minor_edit: true,
                stored: Stored {
                    sha256: a.sha256.clone(),
                    size: a.size as u64,
                },
            },
            false,
        )
        .await?;
    }
    Ok(files.len())
}

/// Current attachments of a page, by name (two queries whatever the count).
pub(crate) async fn list(
    db: &impl GenericClient,
    viewer: &Viewer,
    page_id: i64,
) -> Result<Vec<Attachment>> {
    let page = content::get(db, viewer, page_id).await?;
    list_of(db, viewer, &page).await
}

/// [`list`] for a page the caller has already loaded as this viewer.
pub(crate) async fn list_of(
    db: &impl GenericClient,
    viewer: &Viewer,
    page: &Content,
) -> Result<Vec<Attachment>> {
    let page_id = page.id;
    let rows = crate::db::query(db,
            "SELECT id FROM content WHERE container_id = $1 AND content_type = 'attachment' AND status = 'current'
             ORDER BY lower(title)",
            &[&page_id],
        )
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let visible = content::get_many_meta(db, viewer, &ids).await?;
    let files = crate::db::query(
        db,
        "SELECT v.content_id, coalesce(v.file_size, 0), coalesce(v.media_type, ''),
                    coalesce(v.file_sha256, ''), v.message
             FROM content_versions v JOIN content c ON c.id = v.content_id AND c.version = v.version
             WHERE v.content_id = ANY($1)",
        &[&ids],
    )
    .await?;
    Ok(visible
        .into_iter()
        .map(|c| {
            let f = files.iter().find(|r| r.get::<_, i64>(0) == c.id);
            Attachment {
                size: f.map(|r| r.get(1)).unwrap_or(0),
                media_type: f.map(|r| r.get(2)).unwrap_or_default(),
                sha256: f.map(|r| r.get(3)).unwrap_or_default(),
                comment: f.map(|r| r.get(4)).unwrap_or_default(),
                content: c,
            }
        })
        .collect())
}

pub(crate) async fn get(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<Attachment> {
    let c = content::get(db, viewer, id).await?;
    if c.content_type != ContentType::Attachment {
        return Err(Error::NotFound(format!(
            "No attachment found with id: {id}"
        )));
    }
    attachment_of(db, c).await
}

/// The attachment named `filename` on `page_id`, optionally at a version.
pub(crate) async fn by_name(
    db: &impl GenericClient,
    viewer: &Viewer,
    page_id: i64,
    filename: &str,
    version: Option<i32>,
) -> Result<(Attachment, VersionInfo)> {
    let id: Option<i64> = crate::db::query_opt(db,
            "SELECT id FROM content WHERE container_id = $1 AND content_type = 'attachment' AND status = 'current'
             AND lower(title) = lower($2)",
            &[&page_id, &filename],
        )
        .await?
        .map(|r| r.get(0));
    let not_found = || {
        Error::NotFound(format!(
            "no such attachment on content {page_id}, or you may not view it"
        ))
    };
    let id = id.ok_or_else(not_found)?;
    let a = get(db, viewer, id).await.map_err(|_| not_found())?;
    let v = content::version(db, viewer, id, version.unwrap_or(a.content.version)).await?;
    Ok((a, v))
}
