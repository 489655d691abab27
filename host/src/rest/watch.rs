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

async fn content_target(on: &On) -> Result<(deadpool_postgres::Object, i64, Target)> {
    on.hint(require_use(&on.viewer))?;
    let id = on.id()?;
    let db = on.db().await?;
    let (user, as_user) = subject(&db, &on.viewer, &on.params).await?;
    // Both the caller and the subject must see it.
    watches::watchable(&db, &on.viewer, id).await?;
    watches::watchable(&db, &as_user, id).await?;
    Ok((db, user.id, Target::Content(id)))
}

async fn space_target(on: &On) -> Result<(deadpool_postgres::Object, i64, Target)> {
    on.hint(require_use(&on.viewer))?;
    let db = on.db().await?;
    let (user, as_user) = subject(&db, &on.viewer, &on.params).await?;
    content::space(&db, &on.viewer, &on.name).await?;
    let s = content::space(&db, &as_user, &on.name).await?;
    let blog_only = matches!(on.params.get("type"), Some("blogpost"));
    Ok((
        db,
        user.id,
        Target::Space {
            id: s.id,
            blog_only,
        },
    ))
}

/// POST: watch the target; DELETE: stop watching it; GET (and HEAD):
/// whether the subject watches it.
async fn watch_call(
    method: &Method,
    (db, uid, t): (deadpool_postgres::Object, i64, Target),
) -> Api {
    match *method {
        Method::POST => watches::watch(&db, uid, t).await?,
        Method::DELETE => {
            watches::unwatch(&db, uid, t).await?;
        }
        _ => {
            return ok(shapes::Watching {
                watching: watches::is_watching(&db, uid, t).await?,
            })
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `/user/watch/content/{id}` (GET, POST, DELETE).
#[utoipa::path(method(get, post, delete), path = "/rest/api/user/watch/content/{id}",
    params(("id" = String, Path), ("username" = Option<String>, Query, description = "someone else (administrators only)"),
        ("key" = Option<String>, Query, description = "someone else, by user key (administrators only)")),
    responses((status = 200, description = "GET: whether the user watches the page or blog post", body = shapes::Watching),
        (status = 204, description = "POST: now watching; DELETE: no longer watching")))]
pub(super) async fn watch_content(method: Method, on: On) -> Api {
    watch_call(&method, content_target(&on).await?).await
}

/// `/user/watch/space/{key}` (GET, POST, DELETE).
#[utoipa::path(method(get, post, delete), path = "/rest/api/user/watch/space/{key}",
    params(("key" = String, Path), ("username" = Option<String>, Query, description = "someone else (administrators only)"),
        ("type" = Option<String>, Query, description = "`blogpost`: the space's blog only")),
    responses((status = 200, description = "GET: whether the user watches the space", body = shapes::Watching),
        (status = 204, description = "POST: now watching; DELETE: no longer watching")))]
pub(super) async fn watch_space(method: Method, on: On) -> Api {
    watch_call(&method, space_target(&on).await?).await
}

/// Who watches the content (`space`: its space) the path names.
async fn watchers(on: &On, space: bool) -> Api {
    let id = on.id()?;
    let db = on.db().await?;
    let people = on.hint(watches::watchers(&db, &on.viewer, id, space).await)?;
    let results: Vec<shapes::Watch> = people
        .iter()
        .map(|p| shapes::Watch {
            kind: "watch",
            watcher: shapes::User::brief(&p.username, &p.user_key, &p.display_name),
            content_id: id.to_string(),
        })
        .collect();
    let n = results.len() as i64;
    ok(List::all(results, n).with_links(Links::base(&on.base())))
}

/// Who watches the page itself.
#[utoipa::path(get, path = "/rest/api/content/{id}/notification/created", params(("id" = String, Path)),
    responses((status = 200, description = "the page's watchers (`results`: `type` `watch`, `watcher`, `contentId`)", body = List<shapes::Watch>)))]
pub(super) async fn notification_created(on: On) -> Api {
    watchers(&on, false).await
}

/// Who watches the page's space.
#[utoipa::path(get, path = "/rest/api/content/{id}/notification/child-created", params(("id" = String, Path)),
    responses((status = 200, description = "the space's watchers (`results`: `type` `watch`, `watcher`, `contentId`)", body = List<shapes::Watch>)))]
pub(super) async fn notification_child_created(on: On) -> Api {
    watchers(&on, true).await
}

/// `GET /rest/cairn/1.0/notifications[?unread=true&limit=N]`.
pub(super) async fn notifications_list(call: Call) -> Api {
    let (viewer, params) = (&call.viewer, &call.params);
    viewer.require_user()?;
    let limit = params.int("limit", 50, 500)?;
    let unread = matches!(params.get("unread"), Some("true" | "1"));
    let db = call.db().await?;
    let items = crate::notify::inapp::list(&db, viewer, unread, limit).await?;
    let count = crate::notify::inapp::unread_count(&db, viewer).await?;
    let results: Vec<shapes::Notification> = items
        .iter()
        .map(|n| shapes::Notification {
            id: n.id,
            page_id: n.page_id.to_string(),
            title: n.page_title.clone(),
            space_key: n.space_key.clone(),
            event: n.kind.as_str(),
            reason: n.reason.as_str(),
            comment_id: n.comment_id.map(|c| c.to_string()),
            version: n.version,
            actor: n.actor_username.clone(),
            text: n.sentence(),
            url: n.url(),
            created: n.at,
            read: n.read,
        })
        .collect();
    ok(shapes::Notifications {
        size: results.len(),
        results,
        unread: count,
    })
}

/// `POST /rest/cairn/1.0/notifications/read` with `{"id": N}`, or `{}`
/// for all.
pub(super) async fn notifications_read(call: Call, Body(body): Body) -> Api {
    let viewer = &call.viewer;
    viewer.require_user()?;
    let id = match body.get("id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(id_value(v, "id")?),
    };
    let db = call.db().await?;
    let n = crate::notify::inapp::mark_read(&db, viewer, id).await?;
    ok(shapes::Marked { marked: n })
}
