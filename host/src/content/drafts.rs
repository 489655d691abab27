//! Drafts: what an author typed in the editor and has not published (the
//! `drafts` table, V22). One draft per author and existing page or blog
//! post, remembering the version it started from; a new page's drafts have
//! ids from the content sequence, and publishing gives the page that id.
//!
//! Invariants: a draft is its author's alone — every statement here names
//! the author, and another user's draft is "not found", never "forbidden";
//! drafts live outside `content`, so no listing, tree, count, export or the
//! search journal can see one; a draft is deleted in the transaction that
//! publishes it (`pages::create_with` / `update_with`) and when its page is
//! trashed or purged; text is stored as typed (a half-written body need not
//! be well-formed until it is published).

use super::*;

/// One author's unpublished text for a page or blog post.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub id: i64,
    /// The existing page or blog post the draft edits; `None` for a new one.
    pub page_id: Option<i64>,
    pub space_id: i64,
    pub space_key: String,
    pub space_name: String,
    pub content_type: ContentType,
    pub parent_id: Option<i64>,
    pub title: String,
    pub body: String,
    /// `storage` or `markdown`, as the editor's format field.
    pub format: String,
    /// The page version the draft started from (`None` for a new page).
    pub base_version: Option<i32>,
    pub labels: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Draft {
    /// The id REST and the UI address it by: the page's id for a draft of
    /// an existing page (as Confluence), else the draft's own.
    pub(crate) fn content_id(&self) -> i64 {
        self.page_id.unwrap_or(self.id)
    }

    /// The body as storage format (a Markdown draft converted, without
    /// resolving mentions: that happens when it is published from the UI).
    pub(crate) fn storage_body(&self) -> String {
        if self.format == "markdown" {
            cairn_render::markdown_to_storage(&self.body)
        } else {
            self.body.clone()
        }
    }

    /// The draft as content of status `draft`, for REST's shapes: version
    /// is the base version (so `version.number + 1` publishes it exactly when
    /// the page has not moved on), 1 for a new page.
    pub(crate) fn as_content(&self, author: &crate::perms::User) -> Content {
        let me = Person {
            username: author.username.clone(),
            display_name: author.display_name.clone(),
            user_key: author.user_key.clone(),
        };
        Content {
            id: self.content_id(),
            content_type: self.content_type,
            space_id: self.space_id,
            space_key: self.space_key.clone(),
            space_name: self.space_name.clone(),
            parent_id: self.parent_id,
            container_id: None,
            ancestors: Vec::new(),
            position: 0,
            status: "draft".into(),
            title: self.title.clone(),
            version: self.base_version.unwrap_or(1),
            body: self.storage_body(),
            creator: me.clone(),
            created_at: self.created_at,
            modifier: me,
            modified_at: self.updated_at,
            posting_day: None,
            version_message: String::new(),
            minor_edit: false,
        }
    }
}

const DRAFT_SELECT: &str = "
SELECT d.id, d.page_id, d.space_id, s.space_key, s.name AS space_name, d.content_type,
       d.parent_id, d.title, d.body, d.format, d.base_version, d.labels, d.created_at, d.updated_at
FROM drafts d JOIN spaces s ON s.id = d.space_id";

fn draft_from(r: &Row) -> Draft {
    Draft {
        id: r.get("id"),
        page_id: r.get("page_id"),
        space_id: r.get("space_id"),
        space_key: r.get("space_key"),
        space_name: r.get("space_name"),
        content_type: ContentType::parse(r.get("content_type")).unwrap_or(ContentType::Page),
        parent_id: r.get("parent_id"),
        title: r.get("title"),
        body: r.get("body"),
        format: r.get("format"),
        base_version: r.get("base_version"),
        labels: r.get("labels"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

pub(crate) fn draft_not_found(id: i64) -> Error {
    Error::NotFound(format!("No draft found with id: ContentId{{id={id}}}"))
}

/// What the editor (or a REST client) sends to save a draft.
pub(crate) struct DraftInput<'a> {
    /// A new page's draft being saved again (the id the first save answered).
    pub draft_id: Option<i64>,
    /// The existing page or blog post edited; `None` for a new one.
    pub page_id: Option<i64>,
    /// The space of a new page (ignored for an existing one).
    pub space_key: &'a str,
    pub content_type: ContentType,
    pub parent_id: Option<i64>,
    pub title: &'a str,
    pub body: &'a str,
    pub format: &'a str,
    /// The version the editor started from; `None` keeps the draft's (or
    /// takes the page's current version for a first save).
    pub base_version: Option<i32>,
    pub labels: &'a str,
}

/// The outcome of saving a draft.
pub(crate) enum DraftSaved {
    Saved(Box<Draft>),
    /// The text equals the page as published: there is nothing unpublished,
    /// so no draft is kept (e.g. an autosave that raced the Publish button).
    SameAsPage,
    /// The new page this draft was has been published meanwhile.
    Published(i64),
}

fn validate(i: &DraftInput<'_>) -> Result<()> {
    if i.title.chars().count() > MAX_TITLE {
        return Err(Error::BadRequest(format!(
            "the title is longer than {MAX_TITLE} characters"
        )));
    }
    if i.body.len() > MAX_BODY {
        return Err(Error::TooLarge(format!(
            "the body is larger than {} MiB",
            MAX_BODY / 1024 / 1024
        )));
    }
    if !matches!(i.format, "storage" | "markdown") {
        return Err(Error::BadRequest(format!(
            "format must be storage or markdown, not {:?}",
            i.format
        )));
    }
    if !matches!(i.content_type, ContentType::Page | ContentType::BlogPost) {
        return Err(Error::BadRequest(
            "only pages and blog posts have drafts".into(),
        ));
    }
    Ok(())
}

/// Saves (creates or replaces) the viewer's draft. Needs the permission to
/// edit the page, or to create in the space for a new page.
pub(crate) async fn save_draft(
    db: &impl GenericClient,
    viewer: &Viewer,
    i: &DraftInput<'_>,
) -> Result<DraftSaved> {
    let user_id = viewer.require_user()?.id;
    validate(i)?;
    if let Some(page_id) = i.page_id {
        let c = get(db, viewer, page_id).await?;
        require_edit(db, viewer, &c).await?;
        if !matches!(c.content_type, ContentType::Page | ContentType::BlogPost) {
            return Err(Error::BadRequest(
                "only pages and blog posts have drafts".into(),
            ));
        }
        if i.format == "storage" && i.title == c.title && i.body == c.body {
            discard_for_page(db, user_id, page_id).await?;
            return Ok(DraftSaved::SameAsPage);
        }
        let row = crate::db::query_one(
            db,
            "INSERT INTO drafts (author_id, page_id, space_id, content_type, title, body, format,
                 base_version, labels)
             VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8::int, $9::int), '')
             ON CONFLICT (author_id, page_id) WHERE page_id IS NOT NULL DO UPDATE
             SET title = $5, body = $6, format = $7,
                 base_version = coalesce($8::int, drafts.base_version), updated_at = now()
             RETURNING id",
            &[
                &user_id,
                &page_id,
                &c.space_id,
                &c.content_type.as_str(),
                &i.title,
                &i.body,
                &i.format,
                &i.base_version,
                &c.version,
            ],
        )
        .await?;
        let id: i64 = row.get(0);
        return Ok(DraftSaved::Saved(Box::new(by_id(db, user_id, id).await?)));
    }
    let space = space(db, viewer, i.space_key).await?;
    viewer
        .require_space_perm(db, space.id, SpacePerm::Edit)
        .await?;
    let parent_id = match (i.content_type, i.parent_id) {
        (ContentType::Page, Some(p)) => Some(get(db, viewer, p).await?.id),
        _ => None,
    };
    if let Some(did) = i.draft_id {
        let updated = crate::db::query_opt(
            db,
            "UPDATE drafts SET title = $3, body = $4, format = $5, labels = $6, parent_id = $7,
                 updated_at = now()
             WHERE id = $1 AND author_id = $2 AND page_id IS NULL RETURNING id",
            &[
                &did, &user_id, &i.title, &i.body, &i.format, &i.labels, &parent_id,
            ],
        )
        .await?;
        if updated.is_some() {
            return Ok(DraftSaved::Saved(Box::new(by_id(db, user_id, did).await?)));
        }
        let published =
            crate::db::query_opt(db, "SELECT 1 FROM content WHERE id = $1", &[&did]).await?;
        if published.is_some() {
            return Ok(DraftSaved::Published(did));
        }
        // Discarded meanwhile (another tab): what was typed is kept as a new draft.
    }
    let row = crate::db::query_one(
        db,
        "INSERT INTO drafts (author_id, space_id, content_type, parent_id, title, body, format, labels)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        &[
            &user_id,
            &space.id,
            &i.content_type.as_str(),
            &parent_id,
            &i.title,
            &i.body,
            &i.format,
            &i.labels,
        ],
    )
    .await?;
    let id: i64 = row.get(0);
    Ok(DraftSaved::Saved(Box::new(by_id(db, user_id, id).await?)))
}

async fn by_id(db: &impl GenericClient, user_id: i64, id: i64) -> Result<Draft> {
    let sql = format!("{DRAFT_SELECT} WHERE d.id = $1 AND d.author_id = $2");
    crate::db::query_opt(db, &sql, &[&id, &user_id])
        .await?
        .map(|r| draft_from(&r))
        .ok_or_else(|| draft_not_found(id))
}

/// The viewer's draft addressed as REST does: by the page's id for a
/// draft of an existing page, by its own id for a new one's.
pub(crate) async fn draft(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<Draft> {
    let Some(user_id) = viewer.user_id() else {
        return Err(draft_not_found(id));
    };
    let sql = format!(
        "{DRAFT_SELECT} WHERE d.author_id = $2 AND (d.page_id = $1 OR (d.id = $1 AND d.page_id IS NULL))"
    );
    crate::db::query_opt(db, &sql, &[&id, &user_id])
        .await?
        .map(|r| draft_from(&r))
        .ok_or_else(|| draft_not_found(id))
}

/// The viewer's draft of existing page `page_id`, if any.
pub(crate) async fn draft_of_page(
    db: &impl GenericClient,
    viewer: &Viewer,
    page_id: i64,
) -> Result<Option<Draft>> {
    let Some(user_id) = viewer.user_id() else {
        return Ok(None);
    };
    let sql = format!("{DRAFT_SELECT} WHERE d.author_id = $2 AND d.page_id = $1");
    Ok(crate::db::query_opt(db, &sql, &[&page_id, &user_id])
        .await?
        .map(|r| draft_from(&r)))
}

/// The viewer's newest draft of a new page (or blog post) in a space: what
/// the Create screen offers to resume.
pub(crate) async fn newest_new_draft(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_id: i64,
    content_type: ContentType,
) -> Result<Option<Draft>> {
    let Some(user_id) = viewer.user_id() else {
        return Ok(None);
    };
    let sql = format!(
        "{DRAFT_SELECT} WHERE d.author_id = $1 AND d.page_id IS NULL AND d.space_id = $2
         AND d.content_type = $3 ORDER BY d.updated_at DESC LIMIT 1"
    );
    Ok(
        crate::db::query_opt(db, &sql, &[&user_id, &space_id, &content_type.as_str()])
            .await?
            .map(|r| draft_from(&r)),
    )
}

/// The viewer's drafts, newest first, optionally of one space and types;
/// `(rows, more)` as REST pages them. Anonymous viewers have none.
pub(crate) async fn list_drafts(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_id: Option<i64>,
    types: &[ContentType],
    start: i64,
    limit: i64,
) -> Result<(Vec<Draft>, bool)> {
    let Some(user_id) = viewer.user_id() else {
        return Ok((Vec::new(), false));
    };
    let types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    let sql = format!(
        "{DRAFT_SELECT} WHERE d.author_id = $1 AND ($2::bigint IS NULL OR d.space_id = $2)
         AND (cardinality($3::text[]) = 0 OR d.content_type = ANY($3))
         ORDER BY d.updated_at DESC, d.id DESC OFFSET $4 LIMIT $5"
    );
    let rows = crate::db::query(
        db,
        &sql,
        &[&user_id, &space_id, &types, &start, &(limit + 1)],
    )
    .await?;
    let mut out: Vec<Draft> = rows.iter().map(draft_from).collect();
    let more = out.len() as i64 > limit;
    out.truncate(limit.max(0) as usize);
    Ok((out, more))
}

/// Deletes the viewer's draft (addressed as [`draft`]); returns it.
pub(crate) async fn discard_draft(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
) -> Result<Draft> {
    let d = draft(db, viewer, id).await?;
    crate::db::execute(db, "DELETE FROM drafts WHERE id = $1", &[&d.id]).await?;
    Ok(d)
}

async fn discard_for_page(db: &impl GenericClient, user_id: i64, page_id: i64) -> Result<()> {
    crate::db::execute(
        db,
        "DELETE FROM drafts WHERE author_id = $1 AND page_id = $2",
        &[&user_id, &page_id],
    )
    .await?;
    Ok(())
}

/// Inside a publishing transaction: the author's draft of `page_id` is done.
pub(super) async fn discard_published(
    tx: &impl GenericClient,
    user_id: i64,
    page_id: i64,
) -> Result<()> {
    discard_for_page(tx, user_id, page_id).await
}

/// Inside a creating transaction: takes the author's new-page draft
/// `draft_id`, returning whether it existed (its id becomes the page's).
pub(super) async fn take_new_draft(
    tx: &impl GenericClient,
    user_id: i64,
    draft_id: i64,
) -> Result<bool> {
    Ok(crate::db::query_opt(
        tx,
        "DELETE FROM drafts WHERE id = $1 AND author_id = $2 AND page_id IS NULL RETURNING id",
        &[&draft_id, &user_id],
    )
    .await?
    .is_some())
}

/// A file waiting with a new page's draft.
#[derive(Debug, Clone)]
pub(crate) struct DraftFile {
    pub name: String,
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
}

impl DraftFile {
    /// From `SELECT name, sha256, size, media_type …`.
    fn from_row(r: &tokio_postgres::Row) -> DraftFile {
        DraftFile {
            name: r.get(0),
            sha256: r.get(1),
            size: r.get(2),
            media_type: r.get(3),
        }
    }
}

/// Keeps a file pasted or dropped into a page never saved with the author's
/// draft `draft_id` (a file of the same name is replaced).
///
/// # Errors
/// `NotFound` unless `draft_id` is the viewer's own new-page draft; a bad
/// file name.
pub(crate) async fn add_draft_file(
    db: &impl GenericClient,
    viewer: &Viewer,
    draft_id: i64,
    name: &str,
    media_type: Option<&str>,
    stored: &crate::attach::Stored,
) -> Result<DraftFile> {
    let user_id = viewer.require_user()?.id;
    let name = crate::attach::validate_filename(name)?;
    let mt = crate::attach::media_type(name, media_type);
    let size = stored.size as i64;
    let n = crate::db::execute(
        db,
        "INSERT INTO draft_files (draft_id, name, sha256, size, media_type)
         SELECT id, $3, $4, $5, $6 FROM drafts WHERE id = $1 AND author_id = $2 AND page_id IS NULL
         ON CONFLICT (draft_id, lower(name)) DO UPDATE SET name = $3, sha256 = $4, size = $5, media_type = $6, created_at = now()",
        &[&draft_id, &user_id, &name, &stored.sha256, &size, &mt],
    )
    .await?;
    if n == 0 {
        return Err(Error::NotFound(format!(
            "no draft {draft_id} of yours for a new page"
        )));
    }
    Ok(DraftFile {
        name: name.to_owned(),
        sha256: stored.sha256.clone(),
        size,
        media_type: mt,
    })
}

/// One of the viewer's own draft files, by name (the editor shows pasted
/// images before the page exists; nobody else can read them).
pub(crate) async fn draft_file(
    db: &impl GenericClient,
    viewer: &Viewer,
    draft_id: i64,
    name: &str,
) -> Result<Option<DraftFile>> {
    let Some(user) = viewer.user.as_ref() else {
        return Ok(None);
    };
    Ok(crate::db::query_opt(
        db,
        "SELECT f.name, f.sha256, f.size, f.media_type FROM draft_files f JOIN drafts d ON d.id = f.draft_id
         WHERE d.id = $1 AND d.author_id = $2 AND lower(f.name) = lower($3)",
        &[&draft_id, &user.id, &name],
    )
    .await?
    .map(|r| DraftFile::from_row(&r)))
}

/// Inside the creating transaction, before the draft is taken: its files.
pub(super) async fn files_of_new_draft(
    tx: &impl GenericClient,
    user_id: i64,
    draft_id: i64,
) -> Result<Vec<DraftFile>> {
    Ok(crate::db::query(
        tx,
        "SELECT f.name, f.sha256, f.size, f.media_type FROM draft_files f JOIN drafts d ON d.id = f.draft_id
         WHERE d.id = $1 AND d.author_id = $2 AND d.page_id IS NULL ORDER BY f.created_at, f.name",
        &[&draft_id, &user_id],
    )
    .await?
    .iter()
    .map(DraftFile::from_row)
    .collect())
}
