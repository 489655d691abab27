//! The page tree: ancestors, children, moving and copying pages.
//!
//! Invariant: `ancestors` of every page, comment and attachment below a moved page
//! are rewritten in the same transaction, so inherited read restrictions hold at
//! every moment; a page is never moved below itself.

use super::*;

/// (id, title) of each ancestor, root first. Every ancestor of a viewable
/// page is viewable (read restrictions are inherited), so no filter is lost.
pub(crate) async fn breadcrumbs(
    db: &impl GenericClient,
    c: &Content,
) -> Result<Vec<(i64, String)>> {
    let rows = crate::db::query(
        db,
        "SELECT id, title FROM content WHERE id = ANY($1) AND content_type IN ('page', 'blogpost')",
        &[&c.ancestors],
    )
    .await?;
    let mut v: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    v.sort_by_key(|(id, _)| c.ancestors.iter().position(|a| a == id));
    Ok(v)
}

#[derive(Debug, Clone)]
pub(crate) struct TreeNode {
    pub id: i64,
    pub title: String,
    pub position: i32,
    pub has_children: bool,
}

/// Viewable child pages of `parent` (or the space's root pages), ordered
/// by position then title. `has_children` counts only viewable children.
pub(crate) async fn children(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_id: i64,
    parent: Option<i64>,
    offset: i64,
    limit: i64,
) -> Result<Vec<TreeNode>> {
    let filter = Viewer::content_filter(4, 5, 6);
    let child_filter = filter.replace("c.", "k.");
    let parent_cond = parent_is("c.parent_id", 2, parent);
    let sql = format!(
        "SELECT c.id, c.title, c.position, EXISTS (SELECT 1 FROM content k WHERE k.parent_id = c.id
            AND k.content_type = 'page' AND k.status = 'current' AND {child_filter}) AS has_children
         FROM content c WHERE c.space_id = $1 AND c.content_type = 'page' AND c.status = 'current'
           AND {parent_cond} AND {filter}
         ORDER BY c.position, lower(c.title), c.id OFFSET $3 LIMIT $7"
    );
    let rows = crate::db::query(
        db,
        &sql,
        &[
            &space_id,
            &parent,
            &offset,
            &viewer.user_id(),
            &*viewer.groups,
            &*viewer.view_spaces,
            &limit,
        ],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| TreeNode {
            id: r.get(0),
            title: r.get(1),
            position: r.get(2),
            has_children: r.get(3),
        })
        .collect())
}

/// Sets new ancestors for `id` and everything under it (pages, and the
/// comments and attachments of each).
pub(super) async fn reroot(db: &impl GenericClient, id: i64, new_ancestors: &[i64]) -> Result<()> {
    crate::db::execute(
        db,
        "UPDATE content SET ancestors = $2 WHERE id = $1",
        &[&id, &new_ancestors],
    )
    .await?;
    crate::db::execute(db,
        "UPDATE content SET ancestors = $2::bigint[] || $1::bigint || ancestors[array_position(ancestors, $1) + 1:]
         WHERE $1 = ANY(ancestors)",
        &[&id, &new_ancestors],
    )
    .await?;
    Ok(())
}

/// Moves a page (with its subtree) under `new_parent` (None = space root)
/// in the same or another space, at `position` among its new siblings
/// (None = last).
pub(crate) async fn move_page(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
    new_space_key: Option<&str>,
    new_parent: Option<i64>,
    position: Option<i32>,
) -> Result<Content> {
    let c = get(&*db, viewer, id).await?;
    if c.content_type != ContentType::Page {
        return Err(Error::BadRequest(
            "only pages can be moved in the tree".into(),
        ));
    }
    require_edit(&*db, viewer, &c).await?;
    let space = match new_space_key {
        Some(k) => space(&*db, viewer, k).await?,
        None => space(&*db, viewer, &c.space_key).await?,
    };
    if space.id != c.space_id {
        viewer
            .require_space_perm(&*db, space.id, SpacePerm::Edit)
            .await?;
        viewer
            .require_space_perm(&*db, c.space_id, SpacePerm::Delete)
            .await?;
    }
    let ancestors = match new_parent {
        Some(p) => {
            let parent = get(&*db, viewer, p).await?;
            if parent.content_type != ContentType::Page || parent.space_id != space.id {
                return Err(Error::BadRequest(format!(
                    "the new parent {p} is not a page in space {}",
                    space.key
                )));
            }
            if p == id || parent.ancestors.contains(&id) {
                return Err(Error::BadRequest(
                    "a page cannot be moved under itself or one of its descendants".into(),
                ));
            }
            let mut a = parent.ancestors.clone();
            a.push(p);
            a
        }
        None => Vec::new(),
    };
    let tx = db.transaction().await?;
    let pos: i32 = match position {
        Some(p) => {
            tx.execute(
                &format!(
                    "UPDATE content SET position = position + 1 WHERE space_id = $1 AND content_type = 'page'
                     AND {} AND position >= $3 AND id <> $4",
                    parent_is("parent_id", 2, new_parent)
                ),
                &[&space.id, &new_parent, &p, &id],
            )
            .await?;
            p
        }
        None => tx
            .query_one(
                &format!(
                    "SELECT coalesce(max(position) + 1, 0) FROM content WHERE space_id = $1
                     AND content_type = 'page' AND {} AND id <> $3",
                    parent_is("parent_id", 2, new_parent)
                ),
                &[&space.id, &new_parent, &id],
            )
            .await?
            .get(0),
    };
    tx.execute(
        "UPDATE content SET parent_id = $2, position = $3, space_id = $4 WHERE id = $1",
        &[&id, &new_parent, &pos, &space.id],
    )
    .await?;
    if space.id != c.space_id {
        tx.execute(
            "UPDATE content SET space_id = $2 WHERE $1 = ANY(ancestors)",
            &[&id, &space.id],
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                Error::BadRequest(format!(
                    "a page in this subtree has a title that already exists in space {}",
                    space.key
                ))
            } else {
                e.into()
            }
        })?;
    }
    reroot(&tx, id, &ancestors).await?;
    journal(&tx, id, "moved").await?;
    if c.space_id != space.id || c.parent_id != new_parent || c.position != pos {
        tx.execute(
            "INSERT INTO page_moves (content_id, from_space_id, from_parent_id, from_position,
                                     to_space_id, to_parent_id, to_position, actor_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &id,
                &c.space_id,
                &c.parent_id,
                &c.position,
                &space.id,
                &new_parent,
                &pos,
                &viewer.user_id(),
            ],
        )
        .await?;
    }
    if c.space_id != space.id || c.parent_id != ancestors.last().copied() {
        let actor = viewer.require_user()?.id;
        crate::notify::outbox::record(
            &tx,
            &crate::notify::Event {
                kind: crate::notify::Kind::Moved,
                page_id: id,
                subject_id: None,
                version: c.version,
                actor_id: actor,
                message: String::new(),
                minor_edit: false,
                reply_to: None,
            },
        )
        .await?;
    }
    tx.commit().await.map_err(|e| {
        if is_unique_violation(&e) {
            title_taken(&c.title, &space.key)
        } else {
            e.into()
        }
    })?;
    get(&*db, viewer, id).await
}

/// A move in a page's history.
pub(crate) struct Move {
    pub id: i64,
    pub from: String,
    pub to: String,
    pub by: String,
    pub at: chrono::DateTime<chrono::Utc>,
    /// Still where this move put it (so undoing it makes sense).
    pub current: bool,
}

/// The moves of page `id` (which the caller may see), newest first; the
/// places are named by parent title and space.
pub(crate) async fn moves(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<Vec<Move>> {
    let c = get(db, viewer, id).await?;
    let rows = crate::db::query(
        db,
        "SELECT m.id, fs.space_key, fp.title, ts.space_key, tp.title, coalesce(u.display_name, ''),
                m.moved_at, m.to_space_id, m.to_parent_id, m.to_position
         FROM page_moves m
         JOIN spaces fs ON fs.id = m.from_space_id JOIN spaces ts ON ts.id = m.to_space_id
         LEFT JOIN content fp ON fp.id = m.from_parent_id LEFT JOIN content tp ON tp.id = m.to_parent_id
         LEFT JOIN users u ON u.id = m.actor_id
         WHERE m.content_id = $1 ORDER BY m.moved_at DESC, m.id DESC LIMIT 50",
        &[&id],
    )
    .await?;
    let place = |space: String, parent: Option<String>| match parent {
        Some(t) => format!("under “{t}” in {space}"),
        None => format!("at the top of {space}"),
    };
    Ok(rows
        .iter()
        .map(|r| Move {
            id: r.get(0),
            from: place(r.get(1), r.get(2)),
            to: place(r.get(3), r.get(4)),
            by: r.get(5),
            at: r.get(6),
            current: r.get::<_, i64>(7) == c.space_id
                && r.get::<_, Option<i64>>(8) == c.parent_id
                && r.get::<_, i32>(9) == c.position,
        })
        .collect())
}

/// Undoes move `move_id` of page `id`: back where it was (same checks as
/// any move).
pub(crate) async fn undo_move(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
    move_id: i64,
) -> Result<Content> {
    let r = crate::db::query_opt(
        &*db,
        "SELECT s.space_key, m.from_parent_id, m.from_position FROM page_moves m
         JOIN spaces s ON s.id = m.from_space_id WHERE m.id = $1 AND m.content_id = $2",
        &[&move_id, &id],
    )
    .await?
    .ok_or_else(|| Error::NotFound(format!("page {id} has no move {move_id}")))?;
    let space_key: String = r.get(0);
    move_page(db, viewer, id, Some(&space_key), r.get(1), Some(r.get(2))).await
}
