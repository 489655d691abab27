//! Comments and their threads.
//!
//! Invariant: a comment is read through its container's permissions; only its author
//! (or a space administrator) edits or deletes it.

use super::*;

/// Comments of a page the caller has already loaded as this viewer,
/// oldest first; `parent_id` links replies.
pub(crate) async fn comments_of(
    db: &impl GenericClient,
    viewer: &Viewer,
    page: &Content,
) -> Result<Vec<Content>> {
    let container = page.id;
    let sql = format!(
        "{CONTENT_SELECT} WHERE c.container_id = $1 AND c.content_type = 'comment' AND c.status = 'current'
         AND {{visible}} ORDER BY c.created_at, c.id"
    );
    let rows = viewer.query_visible(db, &sql, &container, &[]).await?;
    Ok(rows.iter().map(content_from).collect())
}

pub(crate) async fn add_comment(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    container: i64,
    reply_to: Option<i64>,
    body: &str,
) -> Result<Content> {
    add_comment_at(db, viewer, container, reply_to, body, None).await
}

/// [`add_comment`], anchored to text of the page when `inline` is given
/// (a reply to an inline comment is inline either way).
pub(crate) async fn add_comment_at(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    container: i64,
    reply_to: Option<i64>,
    body: &str,
    inline: Option<&InlineProps>,
) -> Result<Content> {
    if let Some(p) = inline {
        p.validate()?;
    }
    let user = viewer.require_user()?.clone();
    let page = get(&*db, viewer, container).await?;
    if !matches!(page.content_type, ContentType::Page | ContentType::BlogPost) {
        return Err(Error::BadRequest(
            "comments belong to pages and blog posts".into(),
        ));
    }
    viewer
        .require_space_perm(&*db, page.space_id, SpacePerm::Comment)
        .await?;
    if body.trim().is_empty() {
        return Err(Error::BadRequest("a comment must not be empty".into()));
    }
    validate_body(body)?;
    if let Some(r) = reply_to {
        let parent = get(&*db, viewer, r).await?;
        if parent.container_id != Some(container) || parent.content_type != ContentType::Comment {
            return Err(Error::BadRequest(format!(
                "comment {r} is not on this page"
            )));
        }
    }
    let tx = db.transaction().await?;
    let id = insert_comment(&tx, &page, user.id, reply_to, body, inline).await?;
    tx.commit().await?;
    get(&*db, viewer, id).await
}

/// Writes a checked comment on `page` in the caller's transaction: the
/// content row, its first version, the search journal, the inline anchor
/// and the notification event.
pub(super) async fn insert_comment(
    tx: &impl GenericClient,
    page: &Content,
    user_id: i64,
    reply_to: Option<i64>,
    body: &str,
    inline: Option<&InlineProps>,
) -> Result<i64> {
    let mut chain = page.ancestors.clone();
    chain.push(page.id);
    let title = format!("Re: {}", page.title);
    let id: i64 = crate::db::query_one(
        tx,
        "INSERT INTO content (content_type, space_id, parent_id, container_id, ancestors, title, body,
             creator_id, modifier_id) VALUES ('comment', $1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        &[&page.space_id, &reply_to, &page.id, &chain, &title, &body, &user_id],
    )
    .await?
    .get(0);
    crate::db::execute(
        tx,
        "INSERT INTO content_versions (content_id, version, title, body, author_id) VALUES ($1, 1, $2, $3, $4)",
        &[&id, &title, &body, &user_id],
    )
    .await?;
    journal(tx, id, "created").await?;
    if inline.is_some() || reply_to.is_some() {
        super::inline::record_inline(tx, id, reply_to, inline).await?;
    }
    crate::notify::outbox::record(
        tx,
        &crate::notify::Event {
            kind: crate::notify::Kind::Commented,
            page_id: page.id,
            subject_id: Some(id),
            version: 1,
            actor_id: user_id,
            message: String::new(),
            minor_edit: false,
            reply_to,
        },
    )
    .await?;
    Ok(id)
}

/// Only the author or a space administrator edits or deletes a comment.
async fn require_comment_owner(
    db: &impl GenericClient,
    viewer: &Viewer,
    c: &Content,
) -> Result<()> {
    let user = viewer.require_user()?;
    if c.content_type != ContentType::Comment {
        return Err(Error::BadRequest(format!("{} is not a comment", c.id)));
    }
    if c.creator.user_key == user.user_key
        || viewer
            .has_space_perm(db, c.space_id, SpacePerm::Admin)
            .await?
    {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only the author or a space administrator may change this comment".into(),
        ))
    }
}

pub(crate) async fn edit_comment(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
    body: &str,
    base_version: i32,
) -> Result<Content> {
    let c = get(&*db, viewer, id).await?;
    require_comment_owner(&*db, viewer, &c).await?;
    if body.trim().is_empty() {
        return Err(Error::BadRequest("a comment must not be empty".into()));
    }
    match update(
        db,
        viewer,
        id,
        Update {
            title: None,
            body: Some(body),
            base_version,
            message: "",
            minor_edit: false,
        },
    )
    .await?
    {
        Saved::NewVersion(c) | Saved::Unchanged(c) => Ok(c),
    }
}

/// Deletes a comment; its replies stay, shown as replies to a deleted comment.
pub(crate) async fn delete_comment(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
) -> Result<()> {
    let c = get(db, viewer, id).await?;
    require_comment_owner(db, viewer, &c).await?;
    crate::db::execute(
        db,
        "UPDATE content SET parent_id = $2 WHERE parent_id = $1 AND content_type = 'comment'",
        &[&id, &c.parent_id],
    )
    .await?;
    crate::db::execute(db, "DELETE FROM content WHERE id = $1", &[&id]).await?;
    journal(db, id, "deleted").await?;
    Ok(())
}
