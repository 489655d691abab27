//! Watching over REST, as Confluence Server: `/rest/api/user/watch/content/{id}`
//! and `/rest/api/user/watch/space/{key}` (GET → `{"watching": bool}`,
//! POST/DELETE → 204; `?username=` or `?key=` for someone else, admins
//! only), `/rest/api/content/{id}/notification/created` and
//! `…/child-created` (who watches the page, its space); plus the in-app
//! notifications at `/rest/cairn/1.0/notifications`.
//!
//! Invariant: watching something the subject may not see is a 404, like
//! reading it; no SQL here (`notify::watches`, `notify::inapp`).

use super::*;
use crate::notify::watches::{self, Target};

/// The user a watch call is about (`username` or `key` parameter).
async fn subject(
    db: &impl deadpool_postgres::GenericClient,
    viewer: &Viewer,
    params: &Params,
) -> Result<(crate::perms::User, Viewer)> {
    let name = match (params.nonempty("username"), params.nonempty("key")) {
        (Some(u), _) => Some(u.to_owned()),
        (None, Some(k)) => Some(
            crate::users::by_key(db, k)
                .await?
                .ok_or_else(|| Error::NotFound(format!("no user with key {k:?}")))?
                .username,
        ),
        (None, None) => None,
    };
    watches::subject(db, viewer, name.as_deref()).await
}

async fn content_target(
    app: &AppState,
    viewer: &Viewer,
    id: &str,
    q: Option<String>,
) -> Result<(deadpool_postgres::Object, i64, Target)> {
    require_use(viewer).map_err(|e| auth_hint(e, viewer))?;
    let id = parse_id(id)?;
    let db = app.pool.get().await?;
    let params = Params::from(q);
    let (user, as_user) = subject(&db, viewer, &params).await?;
    // Both the caller and the subject must see it.
    watches::watchable(&db, viewer, id).await?;
    watches::watchable(&db, &as_user, id).await?;
    Ok((db, user.id, Target::Content(id)))
}

async fn space_target(
    app: &AppState,
    viewer: &Viewer,
    key: &str,
    q: Option<String>,
) -> Result<(deadpool_postgres::Object, i64, Target)> {
    require_use(viewer).map_err(|e| auth_hint(e, viewer))?;
    let db = app.pool.get().await?;
    let params = Params::from(q);
    let (user, as_user) = subject(&db, viewer, &params).await?;
    content::space(&db, viewer, key).await?;
    let s = content::space(&db, &as_user, key).await?;
    let blog_only = matches!(params.get("type"), Some("blogpost"));
    Ok((
        db,
        user.id,
        Target::Space {
            id: s.id,
            blog_only,
        },
    ))
}

pub(super) async fn watch_content_get(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    let (db, uid, t) = content_target(&app, &viewer, &id, q).await?;
    ok(json!({"watching": watches::is_watching(&db, uid, t).await?}))
}

pub(super) async fn watch_content_post(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    let (db, uid, t) = content_target(&app, &viewer, &id, q).await?;
    watches::watch(&db, uid, t).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn watch_content_delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    let (db, uid, t) = content_target(&app, &viewer, &id, q).await?;
    watches::unwatch(&db, uid, t).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn watch_space_get(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    let (db, uid, t) = space_target(&app, &viewer, &key, q).await?;
    ok(json!({"watching": watches::is_watching(&db, uid, t).await?}))
}

pub(super) async fn watch_space_post(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    let (db, uid, t) = space_target(&app, &viewer, &key, q).await?;
    watches::watch(&db, uid, t).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn watch_space_delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    let (db, uid, t) = space_target(&app, &viewer, &key, q).await?;
    watches::unwatch(&db, uid, t).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn watchers_json(app: &AppState, viewer: &Viewer, id: &str, space: bool) -> Api {
    let id = parse_id(id)?;
    let db = app.pool.get().await?;
    let people = watches::watchers(&db, viewer, id, space)
        .await
        .map_err(|e| auth_hint(e, viewer))?;
    let results: Vec<Value> = people
        .iter()
        .map(|p| {
            json!({
                "type": "watch",
                "watcher": {
                    "type": "known",
                    "username": p.username,
                    "userKey": p.user_key,
                    "displayName": p.display_name,
                },
                "contentId": id.to_string(),
            })
        })
        .collect();
    let n = results.len();
    ok(
        json!({"results": results, "start": 0, "limit": n, "size": n,
              "_links": {"base": json::base(app), "context": ""}}),
    )
}

pub(super) async fn notification_created(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Api {
    watchers_json(&app, &viewer, &id, false).await
}

pub(super) async fn notification_child_created(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Api {
    watchers_json(&app, &viewer, &id, true).await
}

/// `GET /rest/cairn/1.0/notifications[?unread=true&limit=N]`.
pub(super) async fn notifications_list(
    State(app): State<AppState>,
    viewer: Viewer,
    RawQuery(q): RawQuery,
) -> Api {
    viewer.require_user()?;
    let params = Params::from(q);
    let limit = params.int("limit", 50, 500)?;
    let unread = matches!(params.get("unread"), Some("true" | "1"));
    let db = app.pool.get().await?;
    let items = crate::notify::inapp::list(&db, &viewer, unread, limit).await?;
    let count = crate::notify::inapp::unread_count(&db, &viewer).await?;
    let results: Vec<Value> = items
        .iter()
        .map(|n| {
            json!({
                "id": n.id,
                "pageId": n.page_id.to_string(),
                "title": n.page_title,
                "spaceKey": n.space_key,
                "event": n.kind.as_str(),
                "reason": n.reason.as_str(),
                "commentId": n.comment_id.map(|c| c.to_string()),
                "version": n.version,
                "actor": n.actor_username,
                "text": n.sentence(),
                "url": n.url(),
                "created": n.at,
                "read": n.read,
            })
        })
        .collect();
    ok(json!({"results": results, "size": results.len(), "unread": count}))
}

/// `POST /rest/cairn/1.0/notifications/read` with `{"id": N}`, or `{}`
/// for all.
pub(super) async fn notifications_read(
    State(app): State<AppState>,
    viewer: Viewer,
    Body(body): Body,
) -> Api {
    viewer.require_user()?;
    let id = match body.get("id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(id_value(v, "id")?),
    };
    let db = app.pool.get().await?;
    let n = crate::notify::inapp::mark_read(&db, &viewer, id).await?;
    ok(json!({"marked": n}))
}
