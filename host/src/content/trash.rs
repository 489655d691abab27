//! The trash: trashing a page trashes its subtree; restore and purge.
//!
//! Invariant: children of a trashed page never become visible by being re-parented;
//! purge deletes for good and only from the trash.

use super::*;

/// Moves a page or blog post, with its subtree, comments and attachments,
/// to the trash. Trashing a whole subtree (rather than re-parenting the
/// children) keeps children of a restricted page hidden.
pub(crate) async fn trash(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
) -> Result<()> {
    let c = get(&*db, viewer, id).await?;
    let user = viewer.require_user()?.clone();
    match c.content_type {
        ContentType::Page | ContentType::BlogPost => {
            viewer
                .require_space_perm(&*db, c.space_id, SpacePerm::Delete)
                .await?;
            let home: Option<i64> = crate::db::query_one(
                db,
                "SELECT homepage_id FROM spaces WHERE id = $1",
                &[&c.space_id],
            )
            .await?
            .get(0);
            if home == Some(id) {
                return Err(Error::BadRequest(
                    "the space's home page cannot be deleted; choose another home page first"
                        .into(),
                ));
            }
        }
        ContentType::Comment => return delete_comment(&*db, viewer, id).await,
        ContentType::Attachment => {
            require_edit(&*db, viewer, &c).await?;
        }
    }
    let tx = db.transaction().await?;
    tx.execute(
        "UPDATE content SET status = 'trashed', trashed_at = now(), trashed_by = $2
         WHERE (id = $1 OR $1 = ANY(ancestors) OR container_id = $1) AND status = 'current'",
        &[&id, &user.id],
    )
    .await?;
    // A trashed page's drafts go with it (a purge would cascade; a restore
    // starts afresh rather than offering text written against a deleted page).
    tx.execute(
        "DELETE FROM drafts WHERE page_id IN
           (SELECT id FROM content WHERE id = $1 OR $1 = ANY(ancestors))",
        &[&id],
    )
    .await?;
    journal(&tx, id, "trashed").await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) struct TrashItem {
    pub id: i64,
    pub title: String,
    pub content_type: ContentType,
    pub trashed_at: DateTime<Utc>,
    pub trashed_by: String,
    pub descendants: i64,
}

/// Items trashed directly (not as part of a trashed parent), newest first.
pub(crate) async fn trash_list(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_id: i64,
) -> Result<Vec<TrashItem>> {
    viewer
        .require_space_perm(db, space_id, SpacePerm::Delete)
        .await?;
    let sql = "SELECT c.id, c.title, c.content_type, c.trashed_at, coalesce(u.display_name, ''),
           (SELECT count(*) FROM content d WHERE c.id = ANY(d.ancestors) AND d.content_type = 'page'
              AND d.status = 'trashed')
         FROM content c LEFT JOIN users u ON u.id = c.trashed_by
         WHERE c.space_id = $1 AND c.status = 'trashed' AND c.content_type IN ('page', 'blogpost', 'attachment')
           AND NOT EXISTS (SELECT 1 FROM content p WHERE (p.id = c.parent_id OR p.id = c.container_id)
                 AND p.status = 'trashed' AND p.trashed_at = c.trashed_at)
           AND {visible} ORDER BY c.trashed_at DESC";
    let rows = viewer.query_visible(db, sql, &space_id, &[]).await?;
    Ok(rows
        .iter()
        .map(|r| TrashItem {
            id: r.get(0),
            title: r.get(1),
            content_type: ContentType::parse(r.get(2)).unwrap_or(ContentType::Page),
            trashed_at: r.get(3),
            trashed_by: r.get(4),
            descendants: r.get(5),
        })
        .collect())
}

async fn trashed(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<Content> {
    let c = get_any(db, viewer, id).await?;
    if c.status != "trashed" {
        return Err(Error::BadRequest(format!(
            "content {id} is not in the trash"
        )));
    }
    viewer
        .require_space_perm(db, c.space_id, SpacePerm::Delete)
        .await?;
    Ok(c)
}

/// Restores what was trashed together with `id`. The page returns under
/// its old parent, or to the space root when that parent is gone.
pub(crate) async fn restore_from_trash(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
) -> Result<Content> {
    let c = trashed(&*db, viewer, id).await?;
    let at = trashed_at(&*db, id).await?;
    let tx = db.transaction().await?;
    if c.content_type == ContentType::Page {
        let parent_ok = match c.parent_id {
            Some(p) => tx
                .query_opt(
                    "SELECT ancestors FROM content WHERE id = $1 AND status = 'current'",
                    &[&p],
                )
                .await?
                .map(|r| {
                    let mut a: Vec<i64> = r.get(0);
                    a.push(p);
                    a
                }),
            None => Some(Vec::new()),
        };
        let ancestors = match parent_ok {
            Some(a) => a,
            None => {
                tx.execute("UPDATE content SET parent_id = NULL WHERE id = $1", &[&id])
                    .await?;
                Vec::new()
            }
        };
        reroot(&tx, id, &ancestors).await?;
    }
    tx.execute(
        "UPDATE content SET status = 'current', trashed_at = NULL, trashed_by = NULL
         WHERE (id = $1 OR $1 = ANY(ancestors) OR container_id = $1) AND status = 'trashed' AND trashed_at = $2",
        &[&id, &at],
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::Conflict(format!(
                "cannot restore \"{}\": a page with the same title now exists in space {}; rename or delete it first",
                c.title, c.space_key
            ))
        } else {
            e.into()
        }
    })?;
    journal(&tx, id, "restored").await?;
    tx.commit().await?;
    get(&*db, viewer, id).await
}

async fn trashed_at(db: &impl GenericClient, id: i64) -> Result<DateTime<Utc>> {
    Ok(
        crate::db::query_one(db, "SELECT trashed_at FROM content WHERE id = $1", &[&id])
            .await?
            .get(0),
    )
}

/// Deletes trashed content for good, with its subtree and versions. Files
/// in the shared home are left to the orphaned-attachment cleanup job, which
/// can tell whether another version still uses the same bytes.
pub(crate) async fn purge(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<()> {
    trashed(db, viewer, id).await?;
    crate::db::execute(
        db,
        "DELETE FROM content WHERE (id = $1 OR $1 = ANY(ancestors)) AND status = 'trashed'",
        &[&id],
    )
    .await?;
    journal(db, id, "purged").await?;
    Ok(())
}
