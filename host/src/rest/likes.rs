//! Likes over REST (`/rest/likes/1.0/content/{id}/likes`, the shape of Confluence
//! Server's likes resource).
//!
//! Invariant: likes of content the caller may not view are a 404.

use super::*;

/// The shape of Confluence Server's `/rest/likes/1.0` resource.
pub(super) fn likes_json(id: i64, l: content::Likes) -> Api {
    let likes: Vec<Value> = l
        .users
        .iter()
        .map(|u| {
            json!({"user": {
                "name": u.username,
                "fullName": u.display_name,
                "userKey": u.user_key,
                "url": format!("/users/{}", u.username),
            }})
        })
        .collect();
    ok(json!({
        "likes": likes,
        "content_id": id,
        "content_type": l.content_type.as_str(),
    }))
}

pub(super) async fn likes_get(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Api {
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    let l = content::likes(&db, &viewer, id)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    likes_json(id, l)
}

pub(super) async fn likes_post(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Api {
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    let l = content::set_like(&db, &viewer, id, true)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    likes_json(id, l)
}

pub(super) async fn likes_delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Api {
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    content::set_like(&db, &viewer, id, false)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
