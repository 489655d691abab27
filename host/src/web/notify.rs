//! Notification screens: the list behind the bell (grouped by page), its
//! unread count for the header, preferences and the "watching" list, the
//! Watch buttons of pages and spaces, the unsubscribe link of mails, and
//! the admin's mail queue page.
//!
//! Invariants: every form but the unsubscribe one is CSRF-checked; the
//! unsubscribe link's token is itself the secret (it was mailed only to the
//! watcher), so it needs no session and names no title; the bell's count
//! is fetched by the page's script (`/ui/notifications/count`), so cached
//! page views stay the same for every unread count.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use axum::Router;

use super::notice::{self, Notice};
use super::{fmt_time, see_other, IntoHtml, Layout, OnField, Posted, UiResult, WithNext};
use crate::content;
use crate::error::Error;
use crate::notify::{self, inapp, queue, watches};
use crate::perms::Viewer;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list))
        .route("/notifications/{id}/read", post(read_one))
        .route("/notifications/read-all", post(read_all))
        .route("/ui/notifications/count", get(count))
        .route("/notifications/settings", get(settings).post(settings_post))
        .route(
            "/notifications/unsubscribe/{token}",
            get(unsubscribe_form).post(unsubscribe),
        )
        .route("/pages/{id}/watch", post(watch_page))
        .route("/spaces/{key}/watch", post(watch_space))
        .route("/admin/mail", get(admin_mail))
}

struct ItemView {
    id: i64,
    text: String,
    url: String,
    when: String,
    message: String,
    read: bool,
}

struct Group {
    title: String,
    url: String,
    space_key: String,
    items: Vec<ItemView>,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct ListPage {
    layout: Layout,
    groups: Vec<Group>,
    unread: i64,
}

async fn list(State(app): State<AppState>, viewer: Viewer) -> UiResult {
    viewer.require_user().next("/notifications")?;
    let db = app.pool.get().await?;
    let items = inapp::list(&db, &viewer, false, 200).await?;
    let unread = inapp::unread_count(&db, &viewer).await?;
    let groups = inapp::group_by_page(items)
        .into_iter()
        .filter_map(|(_, items)| {
            let first = items.first()?;
            Some(Group {
                title: first.page_title.clone(),
                url: crate::urls::page_url(&first.space_key, first.page_id, &first.page_title),
                space_key: first.space_key.clone(),
                items: items
                    .iter()
                    .map(|n| ItemView {
                        id: n.id,
                        text: n.sentence(),
                        url: n.url(),
                        when: super::time_html(&n.at),
                        message: n.message.clone(),
                        read: n.read,
                    })
                    .collect(),
            })
        })
        .collect();
    Ok(ListPage {
        layout: Layout::new("Notifications", &viewer),
        groups,
        unread,
    }
    .into_html())
}

async fn read_one(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let db = app.pool.get().await?;
    inapp::mark_read(&db, &viewer, Some(id)).await?;
    Ok(see_other(
        form.get("next")
            .filter(|n| n.starts_with('/') && !n.starts_with("//"))
            .unwrap_or("/notifications"),
    ))
}

async fn read_all(State(app): State<AppState>, Posted { viewer, form: _ }: Posted) -> UiResult {
    let db = app.pool.get().await?;
    inapp::mark_read(&db, &viewer, None).await?;
    Ok(see_other("/notifications"))
}

/// The bell's number. Polled by the page script every 30 s (and when the
/// tab becomes visible): one indexed count per open tab, no connection held
/// open per user, and it works through any proxy; a server push would buy
/// seconds of latency that nobody needs for a notification.
async fn count(State(app): State<AppState>, viewer: Viewer) -> Result<Response, Error> {
    if viewer.is_anonymous() {
        return Ok(Json(serde_json::json!({"unread": 0})).into_response());
    }
    let db = app.pool.get().await?;
    let n = inapp::unread_count(&db, &viewer).await?;
    let mut r = Json(serde_json::json!({"unread": n})).into_response();
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(r)
}

#[derive(Template)]
#[template(path = "notify_settings.html")]
struct SettingsPage {
    layout: Layout,
    mode: &'static str,
    modes: Vec<&'static str>,
    auto_watch: bool,
    watching: Vec<watches::Watching>,
    message: String,
}

async fn settings_view(app: &AppState, viewer: &Viewer, message: String) -> UiResult {
    let user = viewer.require_user().next("/notifications/settings")?;
    let db = app.pool.get().await?;
    let p = inapp::prefs(&db, user.id).await?;
    Ok(SettingsPage {
        layout: Layout::new("Notification settings", viewer),
        mode: p.email.as_str(),
        modes: inapp::EmailMode::ALL.iter().map(|m| m.as_str()).collect(),
        auto_watch: p.auto_watch,
        watching: watches::watching(&db, viewer).await?,
        message,
    }
    .into_html())
}

async fn settings(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(n): Query<Notice>,
) -> UiResult {
    settings_view(&app, &viewer, n.message()).await
}

async fn settings_post(State(app): State<AppState>, Posted { viewer, form }: Posted) -> UiResult {
    let db = app.pool.get().await?;
    let p = notify::Prefs {
        email: inapp::EmailMode::parse(form.text("email")).on_field("email")?,
        auto_watch: form.checked("auto_watch"),
    };
    inapp::set_prefs(&db, &viewer, p).await?;
    Ok(notice::done("/notifications/settings", "saved"))
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    layout: Layout,
    token: String,
    /// "page", "space", or empty when the link is no longer valid.
    what: &'static str,
    done: bool,
}

async fn unsubscribe_form(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(token): Path<String>,
) -> UiResult {
    let db = app.pool.get().await?;
    let what = match watches::by_token(&db, &token).await? {
        Some((_, watches::Target::Content(_))) => "page",
        Some((_, watches::Target::Space { .. })) => "space",
        None => "",
    };
    Ok(UnsubscribePage {
        layout: Layout::new("Stop watching", &viewer),
        token,
        what,
        done: false,
    }
    .into_html())
}

/// Removes the watch. Also the RFC 8058 one-click POST mail clients send.
async fn unsubscribe(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(token): Path<String>,
) -> UiResult {
    let db = app.pool.get().await?;
    let done = watches::unsubscribe(&db, &token).await?;
    Ok(UnsubscribePage {
        layout: Layout::new("Stop watching", &viewer),
        token: String::new(),
        what: if done { "page" } else { "" },
        done,
    }
    .into_html())
}

/// The page's Watch button: `watch=1` watches, anything else stops.
async fn watch_page(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let user = viewer.require_user()?.clone();
    let db = app.pool.get().await?;
    let c = watches::watchable(&db, &viewer, id).await?;
    let t = watches::Target::Content(c.id);
    if form.text("watch") == "1" {
        watches::watch(&db, user.id, t).await?;
    } else {
        watches::unwatch(&db, user.id, t).await?;
    }
    Ok(see_other(&crate::urls::page_url(
        &c.space_key,
        c.id,
        &c.title,
    )))
}

/// The space's Watch button (`blog=1`: its blog only); returns to `next`.
async fn watch_space(
    State(app): State<AppState>,
    Path(key): Path<String>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let user = viewer.require_user()?.clone();
    let db = app.pool.get().await?;
    let s = content::space(&db, &viewer, &key).await?;
    let t = watches::Target::Space {
        id: s.id,
        blog_only: form.text("blog") == "1",
    };
    if form.text("watch") == "1" {
        watches::watch(&db, user.id, t).await?;
    } else {
        watches::unwatch(&db, user.id, t).await?;
    }
    let back = form
        .get("next")
        .filter(|n| n.starts_with('/') && !n.starts_with("//"))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("/spaces/{}", crate::urls::enc(&s.key)));
    Ok(see_other(&back))
}

#[derive(Template)]
#[template(path = "admin_mail.html")]
struct AdminMailPage {
    layout: Layout,
    configured: bool,
    server: String,
    q: queue::QueueStatus,
    oldest: String,
    next_attempt: String,
}

async fn admin_mail(State(app): State<AppState>, viewer: Viewer) -> UiResult {
    viewer.require_admin().next("/admin/mail")?;
    let db = app.pool.get().await?;
    let q = queue::status(&db).await?;
    let s = app.cluster.settings();
    let cfg = notify::mail::SmtpConfig::from_settings(&s);
    Ok(AdminMailPage {
        layout: Layout::new("Mail queue", &viewer),
        configured: cfg.is_some(),
        server: cfg
            .map(|c| format!("{}:{} ({})", c.host, c.port, c.security))
            .unwrap_or_default(),
        oldest: q.oldest_pending.as_ref().map(fmt_time).unwrap_or_default(),
        next_attempt: q.next_attempt.as_ref().map(fmt_time).unwrap_or_default(),
        q,
    }
    .into_html())
}
