//! Likes over REST (`/rest/likes/1.0/content/{id}/likes`, the shape of Confluence
//! Server's likes resource).
//!
//! Invariant: likes of content the caller may not view are a 404.

use super::*;

/// The shape of Confluence Server's `/rest/likes/1.0` resource.
pub(super) fn likes_json(id: i64, l: content::Likes) -> Api {
    ok(shapes::Likes {
        likes: l
            .users
            .iter()
            .map(|u| shapes::Like {
                user: shapes::LikeUser {
                    name: u.username.clone(),
                    full_name: u.display_name.clone(),
                    user_key: u.user_key.clone(),
                    url: format!("/users/{}", u.username),
                },
            })
            .collect(),
        content_id: id,
        content_type: l.content_type.as_str(),
    })
}

/// POST: like the content; DELETE: stop liking it; GET (and HEAD): who
/// likes it.
pub(super) async fn likes(method: Method, on: On) -> Api {
    let id = on.id()?;
    let db = on.db().await?;
    let l = on.hint(match method {
        Method::POST => content::set_like(&db, &on.viewer, id, true).await,
        Method::DELETE => content::set_like(&db, &on.viewer, id, false).await,
        _ => content::likes(&db, &on.viewer, id).await,
    })?;
    if method == Method::DELETE {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    likes_json(id, l)
}
