//! Pages and blog posts: reads for a viewer, creation and saving a new version.
//!
//! Invariants: a hidden row is "not found"; every save writes an immutable version
//! in the same transaction as the content row, names the version it was based on
//! and is refused when that is no longer current; bodies are stored exactly as
//! submitted.

use super::*;

/// Current content the viewer may view; 404 otherwise.
pub async fn get(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<Content> {
    let c = get_any(db, viewer, id).await?;
    if c.status != "current" {
        return Err(not_found(id));
    }
    Ok(c)
}

/// Like [`get`] but also returns trashed content.
pub(crate) async fn get_any(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<Content> {
    let sql = format!("{CONTENT_SELECT} WHERE c.id = $1 AND {{visible}}");
    let row = viewer
        .query_visible(db, &sql, &id, &[])
        .await?
        .into_iter()
        .next();
    row.map(|r| content_from(&r)).ok_or_else(|| not_found(id))
}

/// Many rows by id, filtered for the viewer, in the order given.
pub(crate) async fn get_many(
    db: &impl GenericClient,
    viewer: &Viewer,
    ids: &[i64],
) -> Result<Vec<Content>> {
    get_many_with(db, viewer, ids, true).await
}

/// [`get_many`] without the bodies (left empty): for lists and search
/// results that show no body. 25 search hits' bodies were a third of the
/// statement's time and most of its bytes.
pub(crate) async fn get_many_meta(
    db: &impl GenericClient,
    viewer: &Viewer,
    ids: &[i64],
) -> Result<Vec<Content>> {
    get_many_with(db, viewer, ids, false).await
}

async fn get_many_with(
    db: &impl GenericClient,
    viewer: &Viewer,
    ids: &[i64],
    with_body: bool,
) -> Result<Vec<Content>> {
    let select = if with_body {
        std::borrow::Cow::Borrowed(CONTENT_SELECT)
    } else {
        std::borrow::Cow::Owned(CONTENT_SELECT.replace("c.body,", "''::text AS body,"))
    };
    let sql = format!("{select} WHERE c.id = ANY($1) AND c.status = 'current' AND {{visible}}");
    let rows = viewer.query_visible(db, &sql, &ids, &[]).await?;
    let mut out: Vec<Content> = rows.iter().map(content_from).collect();
    out.sort_by_key(|c| ids.iter().position(|i| *i == c.id));
    Ok(out)
}

/// Looks a page (or blog post) up by space key and title, as the viewer.
pub(crate) async fn by_title(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_key: &str,
    title: &str,
    ctype: ContentType,
) -> Result<Option<Content>> {
    let sql = format!(
        "{CONTENT_SELECT} WHERE upper(s.space_key) = upper($1) AND lower(c.title) = lower($2)
         AND c.content_type = $5 AND c.status = 'current' AND {}
         ORDER BY c.posting_day DESC NULLS LAST LIMIT 1",
        Viewer::content_filter(3, 4, 6)
    );
    let row = crate::db::query_opt(
        db,
        &sql,
        &[
            &space_key,
            &title,
            &viewer.user_id(),
            &*viewer.groups,
            &ctype.as_str(),
            &*viewer.view_spaces,
        ],
    )
    .await?;
    Ok(row.map(|r| content_from(&r)))
}

/// Pages and blog posts whose title contains `q` (case-insensitive), as the
/// viewer sees them: those of space `space_key` first, titles starting with
/// `q` before the others, at most `limit`. For the editor's `[` completion.
pub(crate) async fn complete_titles(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_key: &str,
    q: &str,
    limit: i64,
) -> Result<Vec<Content>> {
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let sql = CONTENT_SELECT.replace("c.body,", "''::text AS body,")
        + " WHERE c.title ILIKE $1 AND c.status = 'current'
              AND c.content_type IN ('page', 'blogpost') AND {visible}
            ORDER BY upper(s.space_key) = upper($5) DESC,
                     lower(c.title) LIKE lower($6) || '%' DESC, lower(c.title), c.id
            LIMIT $7";
    let rows = viewer
        .query_visible(db, &sql, &pattern, &[&space_key, &q, &limit])
        .await?;
    Ok(rows.iter().map(content_from).collect())
}

pub struct NewContent<'a> {
    pub content_type: ContentType,
    pub space_key: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub parent_id: Option<i64>,
    pub message: &'a str,
    pub labels: &'a [String],
    pub posting_day: Option<NaiveDate>,
}

/// Creates a page or blog post (version 1).
pub async fn create(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    n: NewContent<'_>,
) -> Result<Content> {
    create_with(db, viewer, n, None).await
}

/// [`create`], publishing the author's new-page draft `draft`: in the same
/// transaction the draft is deleted and its id becomes the page's (when it
/// was discarded meanwhile, the page gets a fresh id).
pub(crate) async fn create_with(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    n: NewContent<'_>,
    draft: Option<i64>,
) -> Result<Content> {
    let user = viewer.require_user()?.clone();
    if !matches!(n.content_type, ContentType::Page | ContentType::BlogPost) {
        return Err(Error::BadRequest(
            "only pages and blog posts are created this way".into(),
        ));
    }
    let title = validate_title(n.title)?;
    validate_body(n.body)?;
    let space = space(&*db, viewer, n.space_key).await?;
    viewer
        .require_space_perm(&*db, space.id, SpacePerm::Edit)
        .await?;
    let labels = normalize_labels(n.labels)?;
    let (parent_id, ancestors) = match (n.content_type, n.parent_id) {
        (ContentType::Page, Some(pid)) => {
            let p = get(&*db, viewer, pid).await?;
            if p.content_type != ContentType::Page || p.space_id != space.id {
                return Err(Error::BadRequest(format!(
                    "the parent {pid} is not a page in space {}",
                    space.key
                )));
            }
            let mut a = p.ancestors.clone();
            a.push(p.id);
            (Some(p.id), a)
        }
        (ContentType::Page, None) => (None, Vec::new()),
        _ => (None, Vec::new()),
    };
    let posting_day = match n.content_type {
        ContentType::BlogPost => Some(n.posting_day.unwrap_or_else(|| Utc::now().date_naive())),
        _ => None,
    };
    let tx = db.transaction().await?;
    let files = match draft {
        Some(d) => super::drafts::files_of_new_draft(&tx, user.id, d).await?,
        None => Vec::new(),
    };
    let id: Option<i64> = match draft {
        Some(d) if super::drafts::take_new_draft(&tx, user.id, d).await? => Some(d),
        _ => None,
    };
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO content (id, content_type, space_id, parent_id, ancestors, position, title, body,
                     creator_id, modifier_id, posting_day)
                 VALUES (coalesce($9, nextval(pg_get_serial_sequence('content', 'id'))), $1, $2, $3, $4,
                     coalesce((SELECT max(position) + 1 FROM content WHERE space_id = $2
                       AND {} AND content_type = 'page'), 0),
                     $5, $6, $7, $7, $8) RETURNING id",
                parent_is("parent_id", 3, parent_id)
            ),
            &[
                &n.content_type.as_str(),
                &space.id,
                &parent_id,
                &ancestors,
                &title,
                &n.body,
                &user.id,
                &posting_day,
                &id,
            ],
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                title_taken(title, &space.key)
            } else {
                e.into()
            }
        })?;
    let id: i64 = row.get(0);
    tx.execute(
        "INSERT INTO content_versions (content_id, version, title, body, author_id, message)
         VALUES ($1, 1, $2, $3, $4, $5)",
        &[&id, &title, &n.body, &user.id, &n.message],
    )
    .await?;
    for l in &labels {
        tx.execute(
            "INSERT INTO labels (content_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&id, l],
        )
        .await?;
    }
    // Files pasted into the draft become the page's attachments.
    let mut chain = ancestors.clone();
    chain.push(id);
    for f in &files {
        let row = crate::attach::NewRow {
            space_id: space.id,
            page_id: id,
            ancestors: &chain,
            name: &f.name,
            author_id: user.id,
            comment: "",
            minor_edit: false,
            sha256: &f.sha256,
            size: f.size,
            media_type: &f.media_type,
        };
        crate::attach::insert_new(&tx, &row).await?;
    }
    super::task_index::reindex(&tx, id, n.body).await?;
    journal(&tx, id, "created").await?;
    crate::notify::outbox::record(
        &tx,
        &crate::notify::Event {
            kind: crate::notify::Kind::Created,
            page_id: id,
            subject_id: None,
            version: 1,
            actor_id: user.id,
            message: n.message.to_owned(),
            minor_edit: false,
            reply_to: None,
        },
    )
    .await?;
    tx.commit().await?;
    get(&*db, viewer, id).await
}

pub struct Update<'a> {
    pub title: Option<&'a str>,
    pub body: Option<&'a str>,
    /// The version the edit started from; must still be current.
    pub base_version: i32,
    pub message: &'a str,
    pub minor_edit: bool,
}

/// The outcome of an update: a new version, or nothing to change.
pub enum Saved {
    NewVersion(Content),
    Unchanged(Content),
}

/// Saves a new version. Refused with a conflict when `base_version` is no
/// longer current: the caller keeps its text and can show what changed.
/// Saving an identical title and body creates no version.
pub async fn update(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
    u: Update<'_>,
) -> Result<Saved> {
    update_with(db, viewer, id, u, false).await
}

/// [`update`]; with `publishing_draft`, the saver's draft of the page is
/// deleted in the same transaction (also when nothing changed).
pub(crate) async fn update_with(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
    u: Update<'_>,
    publishing_draft: bool,
) -> Result<Saved> {
    let c = get(&*db, viewer, id).await?;
    require_edit(&*db, viewer, &c).await?;
    let user_id = viewer.require_user()?.id;
    let title = match u.title {
        Some(t) => validate_title(t)?.to_owned(),
        None => c.title.clone(),
    };
    let body = u.body.unwrap_or(&c.body);
    if u.body.is_some() {
        validate_body(body)?;
    }
    if u.base_version != c.version {
        return Err(Error::Conflict(format!(
            "Version must be incremented on update. Current version is: {}",
            c.version
        )));
    }
    if title == c.title && body == c.body {
        if publishing_draft {
            super::drafts::discard_published(&*db, user_id, id).await?;
        }
        return Ok(Saved::Unchanged(c));
    }
    let tx = db.transaction().await?;
    if publishing_draft {
        super::drafts::discard_published(&tx, user_id, id).await?;
    }
    let row = tx
        .query_opt(
            "UPDATE content SET version = version + 1, title = $3, body = $4, modifier_id = $5,
                 modified_at = now() WHERE id = $1 AND version = $2 AND status = 'current' RETURNING version",
            &[&id, &u.base_version, &title, &body, &user_id],
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                title_taken(&title, &c.space_key)
            } else {
                e.into()
            }
        })?;
    let Some(row) = row else {
        // Someone saved between our read and our write.
        let now: i32 = tx
            .query_one("SELECT version FROM content WHERE id = $1", &[&id])
            .await?
            .get(0);
        return Err(Error::Conflict(format!(
            "Version must be incremented on update. Current version is: {now}"
        )));
    };
    let version: i32 = row.get(0);
    tx.execute(
        "INSERT INTO content_versions (content_id, version, title, body, author_id, message, minor_edit)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&id, &version, &title, &body, &user_id, &u.message, &u.minor_edit],
    )
    .await?;
    journal(&tx, id, "updated").await?;
    if matches!(c.content_type, ContentType::Page | ContentType::BlogPost) {
        super::task_index::reindex(&tx, id, body).await?;
        crate::notify::outbox::record(
            &tx,
            &crate::notify::Event {
                kind: crate::notify::Kind::Updated,
                page_id: id,
                subject_id: None,
                version,
                actor_id: user_id,
                message: u.message.to_owned(),
                minor_edit: u.minor_edit,
                reply_to: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Saved::NewVersion(get(&*db, viewer, id).await?))
}

/// Recently updated pages and blog posts the viewer may see.
pub(crate) async fn recently_updated(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_id: Option<i64>,
    content_type: Option<ContentType>,
    limit: i64,
) -> Result<Vec<Content>> {
    // Two statements rather than `($1 IS NULL OR space_id = $1)`: plans are
    // generic (see `db::pool`), and only a plain equality lets the one in a
    // space use `content_space_modified`.
    let space_cond = if space_id.is_some() {
        "c.space_id = $1"
    } else {
        "$1::bigint IS NULL"
    };
    let sql = format!(
        "{CONTENT_SELECT} WHERE c.content_type IN ('page', 'blogpost') AND c.status = 'current'
         AND {space_cond} AND ($6::text IS NULL OR c.content_type = $6)
         AND {{visible}} ORDER BY c.modified_at DESC LIMIT $5"
    );
    let ct = content_type.map(|t| t.as_str());
    let rows = viewer
        .query_visible(db, &sql, &space_id, &[&limit, &ct])
        .await?;
    Ok(rows.iter().map(content_from).collect())
}

/// Blog posts of a space, newest first.
pub(crate) async fn blog_posts(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_id: i64,
    offset: i64,
    limit: i64,
) -> Result<Vec<Content>> {
    let sql = format!(
        "{CONTENT_SELECT} WHERE c.content_type = 'blogpost' AND c.status = 'current' AND c.space_id = $1
         AND {{visible}} ORDER BY c.posting_day DESC, c.created_at DESC OFFSET $5 LIMIT $6"
    );
    let rows = viewer
        .query_visible(db, &sql, &space_id, &[&offset, &limit])
        .await?;
    Ok(rows.iter().map(content_from).collect())
}
