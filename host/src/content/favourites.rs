//! "Save for later" (favourite pages, blog posts and spaces) and what a user
//! viewed last.
//!
//! Invariant: a user's lists are theirs alone and are read through their
//! current permissions (a saved page they lost access to is not shown); a
//! view is recorded only for content the viewer may see, and each user keeps
//! their last 100.

use super::*;

/// How many views each user keeps.
const KEEP_VIEWS: i64 = 100;

/// Saves (or unsaves) a page or blog post for later.
pub(crate) async fn set_favourite_content(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    on: bool,
) -> Result<()> {
    let user = viewer.require_user()?;
    let c = get(db, viewer, id).await?;
    if !matches!(c.content_type, ContentType::Page | ContentType::BlogPost) {
        return Err(Error::BadRequest(
            "only pages and blog posts can be saved".into(),
        ));
    }
    let sql = if on {
        "INSERT INTO favourites (user_id, content_id) VALUES ($1, $2)
         ON CONFLICT (user_id, content_id) WHERE content_id IS NOT NULL DO NOTHING"
    } else {
        "DELETE FROM favourites WHERE user_id = $1 AND content_id = $2"
    };
    crate::db::execute(db, sql, &[&user.id, &id]).await?;
    Ok(())
}

/// Makes a space one of the viewer's favourites (or not).
pub(crate) async fn set_favourite_space(
    db: &impl GenericClient,
    viewer: &Viewer,
    key: &str,
    on: bool,
) -> Result<()> {
    let user = viewer.require_user()?;
    let s = space(db, viewer, key).await?;
    let sql = if on {
        "INSERT INTO favourites (user_id, space_id) VALUES ($1, $2)
         ON CONFLICT (user_id, space_id) WHERE space_id IS NOT NULL DO NOTHING"
    } else {
        "DELETE FROM favourites WHERE user_id = $1 AND space_id = $2"
    };
    crate::db::execute(db, sql, &[&user.id, &s.id]).await?;
    Ok(())
}

/// Whether the viewer saved the content, and whether they favour its space.
pub(crate) async fn is_favourite(
    db: &impl GenericClient,
    viewer: &Viewer,
    c: &Content,
) -> Result<(bool, bool)> {
    let Some(uid) = viewer.user_id() else {
        return Ok((false, false));
    };
    let r = crate::db::query_one(
        db,
        "SELECT EXISTS (SELECT 1 FROM favourites WHERE user_id = $1 AND content_id = $2),
                EXISTS (SELECT 1 FROM favourites WHERE user_id = $1 AND space_id = $3)",
        &[&uid, &c.id, &c.space_id],
    )
    .await?;
    Ok((r.get(0), r.get(1)))
}

/// The pages and blog posts the viewer saved for later, newest first, that
/// they may still see.
pub(crate) async fn saved_for_later(
    db: &impl GenericClient,
    viewer: &Viewer,
    limit: i64,
) -> Result<Vec<Content>> {
    let Some(uid) = viewer.user_id() else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "{CONTENT_SELECT} JOIN favourites f ON f.content_id = c.id AND f.user_id = $1
         WHERE c.status = 'current' AND {{visible}} ORDER BY f.created_at DESC LIMIT $5"
    );
    let rows = viewer.query_visible(db, &sql, &uid, &[&limit]).await?;
    Ok(rows.iter().map(content_from).collect())
}

/// The ids of the viewer's favourite spaces.
pub(crate) async fn favourite_spaces(db: &impl GenericClient, viewer: &Viewer) -> Result<Vec<i64>> {
    let Some(uid) = viewer.user_id() else {
        return Ok(Vec::new());
    };
    Ok(crate::db::query(
        db,
        "SELECT space_id FROM favourites WHERE user_id = $1 AND space_id IS NOT NULL ORDER BY created_at",
        &[&uid],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

/// Records that the viewer looked at a page or blog post.
pub(crate) async fn record_view(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<()> {
    let Some(uid) = viewer.user_id() else {
        return Ok(());
    };
    let c = get(db, viewer, id).await?;
    if !matches!(c.content_type, ContentType::Page | ContentType::BlogPost) {
        return Ok(());
    }
    crate::db::execute(
        db,
        "INSERT INTO recent_views (user_id, content_id) VALUES ($1, $2)
         ON CONFLICT (user_id, content_id) DO UPDATE SET viewed_at = now()",
        &[&uid, &id],
    )
    .await?;
    crate::db::execute(
        db,
        "DELETE FROM recent_views WHERE user_id = $1 AND content_id IN (
             SELECT content_id FROM recent_views WHERE user_id = $1 ORDER BY viewed_at DESC OFFSET $2)",
        &[&uid, &KEEP_VIEWS],
    )
    .await?;
    Ok(())
}

/// What the viewer looked at last, newest first, that they may still see.
pub(crate) async fn recently_viewed(
    db: &impl GenericClient,
    viewer: &Viewer,
    limit: i64,
) -> Result<Vec<Content>> {
    let Some(uid) = viewer.user_id() else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "{CONTENT_SELECT} JOIN recent_views rv ON rv.content_id = c.id AND rv.user_id = $1
         WHERE c.status = 'current' AND {{visible}} ORDER BY rv.viewed_at DESC LIMIT $5"
    );
    let rows = viewer.query_visible(db, &sql, &uid, &[&limit]).await?;
    Ok(rows.iter().map(content_from).collect())
}
