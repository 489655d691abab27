//! Likes of pages, blog posts and comments.
//!
//! Invariant: likes of content the viewer may not see are not found.

use super::*;

/// Who likes a piece of content, oldest first.
pub(crate) struct Likes {
    pub users: Vec<crate::perms::User>,
    /// Whether the viewer is one of them.
    pub mine: bool,
    /// What was liked (`page`, `blogpost`, `comment`).
    pub content_type: ContentType,
}

/// The likes of content the viewer may see.
pub(crate) async fn likes(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<Likes> {
    let c = get(db, viewer, id).await?;
    likes_of(db, viewer, &c).await
}

/// [`likes`] for content the caller has already loaded as this viewer.
pub(crate) async fn likes_of(
    db: &impl GenericClient,
    viewer: &Viewer,
    c: &Content,
) -> Result<Likes> {
    let rows = crate::db::query(
        db,
        "SELECT u.id, u.username, u.display_name, u.user_key, u.email
           FROM likes l JOIN users u ON u.id = l.user_id
          WHERE l.content_id = $1 ORDER BY l.created_at, u.id",
        &[&c.id],
    )
    .await?;
    let users: Vec<crate::perms::User> = rows
        .iter()
        .map(|r| crate::perms::User {
            id: r.get(0),
            username: r.get(1),
            display_name: r.get(2),
            user_key: r.get(3),
            email: r.get(4),
        })
        .collect();
    let mine = viewer
        .user_id()
        .is_some_and(|me| users.iter().any(|u| u.id == me));
    Ok(Likes {
        users,
        mine,
        content_type: c.content_type,
    })
}

/// Likes (`true`) or unlikes content as the viewer; liking twice is one like.
/// Pages, blog posts and comments can be liked, by anyone who can see them.
pub(crate) async fn set_like(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    like: bool,
) -> Result<Likes> {
    let user = viewer.require_user()?.id;
    let c = get(db, viewer, id).await?;
    if c.content_type == ContentType::Attachment {
        return Err(Error::BadRequest("attachments cannot be liked".into()));
    }
    if like {
        crate::db::execute(
            db,
            "INSERT INTO likes (content_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&id, &user],
        )
        .await?;
    } else {
        crate::db::execute(
            db,
            "DELETE FROM likes WHERE content_id = $1 AND user_id = $2",
            &[&id, &user],
        )
        .await?;
    }
    likes_of(db, viewer, &c).await
}
