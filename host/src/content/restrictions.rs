//! Page view and edit restrictions.
//!
//! Invariant: restrictions are inherited down the tree (read) or apply to the page
//! they are set on (update), as in Confluence; only viewers with `restrict` change them.

use super::*;

pub(crate) struct Restrictions {
    pub read: Vec<Grant>,
    pub update: Vec<Grant>,
}

pub(crate) async fn restrictions(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
) -> Result<Restrictions> {
    get(db, viewer, id).await?;
    let rows = crate::db::query(db,
            "SELECT r.operation AS permission, u.username AS uname, g.name AS gname FROM content_restrictions r
             LEFT JOIN users u ON u.id = r.user_id LEFT JOIN groups g ON g.id = r.group_id
             WHERE r.content_id = $1 ORDER BY 2 NULLS LAST, 3",
            &[&id],
        )
        .await?;
    let all: Vec<Grant> = rows.iter().map(grant_from_row).collect();
    let (read, update) = all.into_iter().partition(|g| g.permission == "read");
    Ok(Restrictions { read, update })
}

/// Adds or removes one restriction. A user who adds a restriction is always
/// kept inside it, so nobody locks themselves out by accident.
pub async fn set_restriction(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    operation: &str,
    who: &Principal,
    add: bool,
) -> Result<()> {
    let c = get(db, viewer, id).await?;
    let user = viewer.require_user()?;
    if !matches!(c.content_type, ContentType::Page | ContentType::BlogPost) {
        return Err(Error::BadRequest(
            "only pages and blog posts carry restrictions".into(),
        ));
    }
    if !["read", "update"].contains(&operation) {
        return Err(Error::BadRequest(format!(
            "unknown restriction {operation:?}; use read or update"
        )));
    }
    require_restrict(db, viewer, c.space_id).await?;
    let (u, g) = who.ids();
    if u.is_none() && g.is_none() {
        return Err(Error::BadRequest(
            "restrictions name a user or a group".into(),
        ));
    }
    if add {
        crate::db::execute(
            db,
            "INSERT INTO content_restrictions (content_id, operation, user_id) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&id, &operation, &user.id],
        )
        .await?;
        crate::db::execute(db,
            "INSERT INTO content_restrictions (content_id, operation, user_id, group_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[&id, &operation, &u, &g],
        )
        .await?;
    } else {
        crate::db::execute(
            db,
            "DELETE FROM content_restrictions WHERE content_id = $1 AND operation = $2
             AND user_id IS NOT DISTINCT FROM $3 AND group_id IS NOT DISTINCT FROM $4",
            &[&id, &operation, &u, &g],
        )
        .await?;
    }
    journal(db, id, "restrictions").await?;
    Ok(())
}

/// Removes all restrictions of one kind from a page.
pub(crate) async fn clear_restrictions(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    operation: &str,
) -> Result<()> {
    let c = get(db, viewer, id).await?;
    require_restrict(db, viewer, c.space_id).await?;
    crate::db::execute(
        db,
        "DELETE FROM content_restrictions WHERE content_id = $1 AND operation = $2",
        &[&id, &operation],
    )
    .await?;
    journal(db, id, "restrictions").await?;
    Ok(())
}

/// Whether the content or any ancestor carries a restriction (the lock icon).
pub(crate) async fn is_restricted(db: &impl GenericClient, c: &Content) -> Result<bool> {
    Ok(crate::db::query_one(
        db,
        "SELECT EXISTS (SELECT 1 FROM content_restrictions WHERE content_id = ANY($1))",
        &[&c.restriction_chain()],
    )
    .await?
    .get(0))
}

/// The viewer may restrict pages in the space (Restrict or Admin there).
async fn require_restrict(db: &impl GenericClient, viewer: &Viewer, space_id: i64) -> Result<()> {
    let allowed = viewer
        .has_space_perm(db, space_id, SpacePerm::Restrict)
        .await?
        || viewer
            .has_space_perm(db, space_id, SpacePerm::Admin)
            .await?;
    if !allowed {
        return Err(Error::Forbidden(
            "you do not have permission to restrict pages in this space".into(),
        ));
    }
    Ok(())
}

/// The restrictions of one operation a write names.
pub(crate) struct RestrictionChange {
    /// `read` or `update`.
    pub operation: String,
    pub principals: Vec<Principal>,
}

/// Writes restrictions of page or blog post `id` in one transaction: with
/// `replace`, each named operation ends with exactly its principals (plus
/// the writer, as [`set_restriction`] keeps them); otherwise they are added.
/// Every operation is checked before the first change.
pub(crate) async fn write_restrictions(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
    changes: &[RestrictionChange],
    replace: bool,
) -> Result<()> {
    for ch in changes {
        if !["read", "update"].contains(&ch.operation.as_str()) {
            return Err(Error::BadRequest(format!(
                "unknown restriction operation {:?}; use read or update",
                ch.operation
            )));
        }
    }
    let c = get(&*db, viewer, id).await?;
    if !matches!(c.content_type, ContentType::Page | ContentType::BlogPost) {
        return Err(Error::BadRequest(
            "only pages and blog posts carry restrictions".into(),
        ));
    }
    require_restrict(&*db, viewer, c.space_id).await?;
    let tx = db.transaction().await?;
    for ch in changes {
        if replace {
            clear_restrictions(&tx, viewer, id, &ch.operation).await?;
        }
        for who in &ch.principals {
            set_restriction(&tx, viewer, id, &ch.operation, who, true).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Whether `who` is named by the `operation` restriction of `id` itself.
pub(crate) async fn has_restriction(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    operation: &str,
    who: &Principal,
) -> Result<bool> {
    get(db, viewer, id).await?;
    let (u, g) = who.ids();
    Ok(crate::db::query_one(
        db,
        "SELECT EXISTS (SELECT 1 FROM content_restrictions WHERE content_id = $1 AND operation = $2
         AND user_id IS NOT DISTINCT FROM $3 AND group_id IS NOT DISTINCT FROM $4)",
        &[&id, &operation, &u, &g],
    )
    .await?
    .get(0))
}

/// Gives page `to` the restrictions page `from` has (a copy's, written by
/// someone who could see `from`); how many.
pub(crate) async fn copy_restrictions(db: &impl GenericClient, from: i64, to: i64) -> Result<u64> {
    Ok(crate::db::execute(
        db,
        "INSERT INTO content_restrictions (content_id, operation, user_id, group_id)
         SELECT $2, operation, user_id, group_id FROM content_restrictions WHERE content_id = $1
         ON CONFLICT DO NOTHING",
        &[&from, &to],
    )
    .await?)
}
