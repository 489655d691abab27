//! Version history: listing, reading one version, restoring an old one.
//!
//! Invariant: versions are immutable; restoring writes a new version.

use super::*;

#[derive(Debug, Clone)]
pub struct VersionInfo {
    pub number: i32,
    pub title: String,
    pub author: Person,
    pub created_at: DateTime<Utc>,
    pub message: String,
    pub minor_edit: bool,
    pub body: String,
    pub file_size: Option<i64>,
    pub file_sha256: Option<String>,
    pub media_type: Option<String>,
}

fn version_from(r: &Row) -> VersionInfo {
    VersionInfo {
        number: r.get("version"),
        title: r.get("title"),
        author: person(r, "a_user", "a_name", "a_key"),
        created_at: r.get("created_at"),
        message: r.get("message"),
        minor_edit: r.get("minor_edit"),
        body: r.get("body"),
        file_size: r.get("file_size"),
        file_sha256: r.get("file_sha256"),
        media_type: r.get("media_type"),
    }
}

const VERSION_SELECT: &str =
    "SELECT v.version, v.title, v.body, v.created_at, v.message, v.minor_edit,
    v.file_size, v.file_sha256, v.media_type,
    u.username AS a_user, u.display_name AS a_name, u.user_key AS a_key
  FROM content_versions v LEFT JOIN users u ON u.id = v.author_id";

/// All versions, newest first (bodies included; history pages are rare).
pub async fn history(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
) -> Result<Vec<VersionInfo>> {
    get_any(db, viewer, id).await?;
    let rows = crate::db::query(
        db,
        &format!("{VERSION_SELECT} WHERE v.content_id = $1 ORDER BY v.version DESC"),
        &[&id],
    )
    .await?;
    Ok(rows.iter().map(version_from).collect())
}

pub(crate) async fn version(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    n: i32,
) -> Result<VersionInfo> {
    get_any(db, viewer, id).await?;
    let row = crate::db::query_opt(
        db,
        &format!("{VERSION_SELECT} WHERE v.content_id = $1 AND v.version = $2"),
        &[&id, &n],
    )
    .await?;
    row.map(|r| version_from(&r))
        .ok_or_else(|| Error::NotFound(format!("content {id} has no version {n}")))
}

/// Restores version `n` as a new version on top of `base_version`.
pub(crate) async fn restore_version(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
    n: i32,
    base_version: i32,
) -> Result<Saved> {
    restore_version_saying(db, viewer, id, n, base_version, "").await
}

/// [`restore_version`] with the new version's message (empty: "Restored
/// version N").
pub(crate) async fn restore_version_saying(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
    n: i32,
    base_version: i32,
    message: &str,
) -> Result<Saved> {
    let v = version(&*db, viewer, id, n).await?;
    let msg = if message.trim().is_empty() {
        format!("Restored version {n}")
    } else {
        message.to_owned()
    };
    update(
        db,
        viewer,
        id,
        Update {
            title: Some(&v.title),
            body: Some(&v.body),
            base_version,
            message: &msg,
            minor_edit: false,
        },
    )
    .await
}

/// Deletes historical version `n` of a page or blog post: its row goes, the
/// versions before and after it keep their numbers (the next version holds
/// the content as it was after both). The current version cannot be
/// deleted. Needs the edit checks and space administration, as deleting a
/// version in Confluence does.
pub(crate) async fn delete_version(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    n: i32,
) -> Result<()> {
    let c = get_to_edit(db, viewer, id).await?;
    if !matches!(c.content_type, ContentType::Page | ContentType::BlogPost) {
        return Err(Error::BadRequest(
            "only versions of pages and blog posts can be deleted".into(),
        ));
    }
    viewer
        .require_space_perm(db, c.space_id, SpacePerm::Admin)
        .await?;
    if n == c.version {
        return Err(Error::BadRequest(format!(
            "version {n} is the current version of content {id}; only historical versions can be deleted"
        )));
    }
    let deleted = crate::db::execute(
        db,
        "DELETE FROM content_versions WHERE content_id = $1 AND version = $2 AND version < $3",
        &[&id, &n, &c.version],
    )
    .await?;
    if deleted == 0 {
        return Err(Error::NotFound(format!("content {id} has no version {n}")));
    }
    Ok(())
}

/// What one version of an attachment holds.
pub(crate) struct FileVersion {
    pub size: i64,
    pub media_type: String,
    pub comment: String,
}

/// Size, media type and comment of version `version` of attachment `id`
/// (the caller may already see it).
pub(crate) async fn file_version(
    db: &impl GenericClient,
    id: i64,
    version: i32,
) -> Result<FileVersion> {
    let r = crate::db::query_one(
        db,
        "SELECT coalesce(file_size, 0), coalesce(media_type, ''), message FROM content_versions
         WHERE content_id = $1 AND version = $2",
        &[&id, &version],
    )
    .await?;
    Ok(FileVersion {
        size: r.get(0),
        media_type: r.get(1),
        comment: r.get(2),
    })
}
