//! Login and logout, the user's profile and access tokens, and the admin
//! pages (users, groups, global permissions).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::{fmt_time, see_other, FormData, IntoHtml, Layout, UiResult, WithNext};
use crate::auth;
use crate::error::Error;
use crate::perms::Viewer;
use crate::users;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/users/{name}", get(profile))
        .route("/profile/tokens", get(tokens).post(create_token))
        .route("/profile/tokens/{id}/revoke", post(revoke_token))
        .route("/profile/password", post(change_password))
        .route("/admin", get(|| async { see_other("/admin/users") }))
        .route("/admin/users", get(admin_users).post(admin_create_user))
        .route("/admin/users/{id}/active", post(admin_user_active))
        .route("/admin/users/{id}/ratelimit", post(admin_user_ratelimit))
        .route("/admin/groups", get(admin_groups).post(admin_groups_post))
        .route(
            "/admin/permissions",
            get(admin_perms).post(admin_perms_post),
        )
        .route("/admin/search", get(admin_search).post(admin_search_post))
}

#[derive(Deserialize)]
struct NextQ {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    next: String,
    token: String,
    error: String,
    username: String,
}

/// Only same-site paths are followed after login (no open redirect).
fn safe_next(n: Option<&str>) -> String {
    match n {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_owned(),
        _ => "/".into(),
    }
}

fn login_page(next: &str, error: &str, username: &str, status: axum::http::StatusCode) -> Response {
    let token = auth::random_token(24);
    let page = LoginPage {
        layout: Layout::plain("Log in"),
        next: next.to_owned(),
        token: token.clone(),
        error: error.to_owned(),
        username: username.to_owned(),
    };
    let mut r = page.into_html();
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{}={token}; Path=/login; HttpOnly; SameSite=Strict",
        auth::PRELOGIN_CSRF_COOKIE
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn login_form(Query(q): Query<NextQ>) -> Response {
    login_page(
        &safe_next(q.next.as_deref()),
        "",
        "",
        axum::http::StatusCode::OK,
    )
}

async fn login(State(app): State<AppState>, headers: HeaderMap, form: FormData) -> UiResult {
    let next = safe_next(form.get("next"));
    let username = form.text("username").trim().to_owned();
    let cookie = auth::cookie(&headers, auth::PRELOGIN_CSRF_COOKIE).unwrap_or("");
    if cookie.is_empty() || !auth::same_secret(cookie, form.text("_csrf")) {
        return Ok(login_page(
            &next,
            "Your login form expired. Please try again.",
            &username,
            axum::http::StatusCode::FORBIDDEN,
        ));
    }
    let db = app.pool.get().await?;
    match auth::authenticate(&db, &username, form.text("password")).await {
        Ok(user) => {
            let token = auth::create_session(&db, user.id).await?;
            tracing::info!(user = %user.username, "login");
            let mut r = see_other(&next);
            let v = HeaderValue::from_str(&format!(
                "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=1209600",
                auth::SESSION_COOKIE
            ))
            .map_err(Error::internal)?;
            r.headers_mut().append(header::SET_COOKIE, v);
            r.headers_mut().append(
                header::SET_COOKIE,
                HeaderValue::from_static("cairn_csrf=; Path=/login; Max-Age=0"),
            );
            Ok(r)
        }
        Err(e @ (Error::Unauthorized(_) | Error::TooManyRequests(_))) => {
            let status = e.status();
            Ok(login_page(&next, &e.public_message(), &username, status))
        }
        Err(e) => Err(e.into()),
    }
}

async fn logout(
    State(app): State<AppState>,
    headers: HeaderMap,
    viewer: Viewer,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    if let Some(t) = auth::cookie(&headers, auth::SESSION_COOKIE) {
        let db = app.pool.get().await?;
        auth::delete_session(&db, t).await?;
    }
    let mut r = see_other("/login");
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("cairn_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(r)
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    layout: Layout,
    username: String,
    display_name: String,
    email: String,
    recent: Vec<(String, String, String)>,
}

async fn profile(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> UiResult {
    if !viewer.can_use {
        return Err(Error::Unauthorized("log in to see people".into()))
            .next(&format!("/users/{name}"));
    }
    let db = app.pool.get().await?;
    let u = users::by_name(&db, &name)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no user named {name:?}")))?;
    let recent = crate::content::recently_updated(&db, &viewer, None, None, 200)
        .await?
        .into_iter()
        .filter(|c| c.modifier.user_key == u.user_key)
        .take(20)
        .map(|c| {
            (
                crate::urls::page_url(&c.space_key, c.id, &c.title),
                c.title.clone(),
                fmt_time(&c.modified_at),
            )
        })
        .collect();
    Ok(ProfilePage {
        layout: Layout::new(&u.display_name, &viewer),
        email: if viewer.user.is_some() {
            u.email.clone()
        } else {
            String::new()
        },
        username: u.username,
        display_name: u.display_name,
        recent,
    }
    .into_html())
}

struct TokenRow {
    id: i64,
    name: String,
    created: String,
    expires: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenRow>,
    new_token: String,
    message: String,
}

async fn token_page(
    app: &AppState,
    viewer: &Viewer,
    new_token: String,
    message: String,
) -> UiResult {
    let user = viewer.require_user().cloned().next("/profile/tokens")?;
    let db = app.pool.get().await?;
    let tokens = auth::tokens_of(&db, user.id)
        .await?
        .iter()
        .rev()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name.clone(),
            created: fmt_time(&t.created),
            expires: t
                .expires
                .map(|e| fmt_time(&e))
                .unwrap_or_else(|| "never".into()),
            last_used: t
                .last_used
                .map(|e| fmt_time(&e))
                .unwrap_or_else(|| "never".into()),
        })
        .collect();
    Ok(TokensPage {
        layout: Layout::new("Personal access tokens", viewer),
        tokens,
        new_token,
        message,
    }
    .into_html())
}

async fn tokens(State(app): State<AppState>, viewer: Viewer) -> UiResult {
    token_page(&app, &viewer, String::new(), String::new()).await
}

async fn create_token(State(app): State<AppState>, viewer: Viewer, form: FormData) -> UiResult {
    form.check_csrf(&viewer)?;
    let user = viewer.require_user()?.clone();
    let db = app.pool.get().await?;
    let days = form.opt_int::<i64>("days")?;
    match auth::create_token(&db, user.id, form.text("name"), days).await {
        Ok((_, raw)) => token_page(&app, &viewer, raw, String::new()).await,
        Err(Error::BadRequest(m)) => token_page(&app, &viewer, String::new(), m).await,
        Err(e) => Err(e.into()),
    }
}

async fn revoke_token(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    let user = viewer.require_user()?.clone();
    let db = app.pool.get().await?;
    auth::revoke_token(&db, user.id, id).await?;
    Ok(see_other("/profile/tokens"))
}

async fn change_password(State(app): State<AppState>, viewer: Viewer, form: FormData) -> UiResult {
    form.check_csrf(&viewer)?;
    let user = viewer.require_user()?.clone();
    let db = app.pool.get().await?;
    let msg = match auth::authenticate(&db, &user.username, form.text("current")).await {
        Ok(_) => match users::set_password(&db, user.id, form.text("new")).await {
            Ok(()) => "Your password was changed.".to_owned(),
            Err(Error::BadRequest(m)) => m,
            Err(e) => return Err(e.into()),
        },
        Err(Error::Unauthorized(_)) => "The current password is not correct.".to_owned(),
        Err(e) => return Err(e.into()),
    };
    token_page(&app, &viewer, String::new(), msg).await
}

// ---------------------------------------------------------------- admin

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<users::UserRow>,
    message: String,
}

async fn users_page(app: &AppState, viewer: &Viewer, message: String) -> UiResult {
    viewer.require_admin().next("/admin/users")?;
    let db = app.pool.get().await?;
    Ok(UsersPage {
        layout: Layout::new("Users", viewer),
        users: users::list(&db).await?,
        message,
    }
    .into_html())
}

async fn admin_users(State(app): State<AppState>, viewer: Viewer) -> UiResult {
    users_page(&app, &viewer, String::new()).await
}

async fn admin_create_user(
    State(app): State<AppState>,
    viewer: Viewer,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    viewer.require_admin()?;
    let mut db = app.pool.get().await?;
    let r = users::create(
        &mut db,
        users::NewUser {
            username: form.text("username").trim(),
            display_name: form.get("display_name"),
            email: form.get("email"),
            password: form.text("password"),
            admin: form.checked("admin"),
        },
    )
    .await;
    drop(db);
    match r {
        Ok(u) => users_page(&app, &viewer, format!("User {} created.", u.username)).await,
        Err(Error::BadRequest(m)) => users_page(&app, &viewer, m).await,
        Err(e) => Err(e.into()),
    }
}

async fn admin_user_active(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    viewer.require_admin()?;
    if viewer.user_id() == Some(id) {
        return users_page(&app, &viewer, "You cannot deactivate yourself.".into()).await;
    }
    let db = app.pool.get().await?;
    users::set_active(&db, id, form.checked("active")).await?;
    Ok(see_other("/admin/users"))
}

async fn admin_user_ratelimit(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    viewer.require_admin()?;
    let db = app.pool.get().await?;
    users::set_rate_limit_exempt(&db, id, form.checked("exempt")).await?;
    Ok(see_other("/admin/users"))
}

#[derive(Template)]
#[template(path = "admin_groups.html")]
struct GroupsPage {
    layout: Layout,
    groups: Vec<users::Group>,
    message: String,
}

async fn groups_page(app: &AppState, viewer: &Viewer, message: String) -> UiResult {
    viewer.require_admin().next("/admin/groups")?;
    let db = app.pool.get().await?;
    Ok(GroupsPage {
        layout: Layout::new("Groups", viewer),
        groups: users::groups(&db).await?,
        message,
    }
    .into_html())
}

async fn admin_groups(State(app): State<AppState>, viewer: Viewer) -> UiResult {
    groups_page(&app, &viewer, String::new()).await
}

async fn admin_groups_post(
    State(app): State<AppState>,
    viewer: Viewer,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    viewer.require_admin()?;
    let db = app.pool.get().await?;
    let r = match form.text("action") {
        "create" => users::create_group(&db, form.text("name"), form.text("description"))
            .await
            .map(|_| format!("Group {} created.", form.text("name").trim())),
        "add" => users::add_member(&db, form.text("group"), form.text("username").trim())
            .await
            .map(|_| {
                format!(
                    "{} added to {}.",
                    form.text("username").trim(),
                    form.text("group")
                )
            }),
        "remove" => users::remove_member(&db, form.text("group"), form.text("username"))
            .await
            .map(|_| {
                format!(
                    "{} removed from {}.",
                    form.text("username"),
                    form.text("group")
                )
            }),
        other => Err(Error::BadRequest(format!("unknown action {other:?}"))),
    };
    drop(db);
    match r {
        Ok(m) => groups_page(&app, &viewer, m).await,
        Err(Error::BadRequest(m) | Error::NotFound(m)) => groups_page(&app, &viewer, m).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin_permissions.html")]
struct PermsPage {
    layout: Layout,
    grants: Vec<users::Grant>,
    message: String,
}

async fn perms_page(app: &AppState, viewer: &Viewer, message: String) -> UiResult {
    viewer.require_admin().next("/admin/permissions")?;
    let db = app.pool.get().await?;
    Ok(PermsPage {
        layout: Layout::new("Global permissions", viewer),
        grants: users::global_grants(&db).await?,
        message,
    }
    .into_html())
}

async fn admin_perms(State(app): State<AppState>, viewer: Viewer) -> UiResult {
    perms_page(&app, &viewer, String::new()).await
}

async fn admin_perms_post(State(app): State<AppState>, viewer: Viewer, form: FormData) -> UiResult {
    form.check_csrf(&viewer)?;
    viewer.require_admin()?;
    let db = app.pool.get().await?;
    let r = async {
        let who = users::parse_principal(&db, form.text("kind"), form.text("name").trim()).await?;
        if form.text("grant") != "1"
            && who == users::Principal::Group(admin_group(&db).await?)
            && form.text("permission") == "admin"
        {
            return Err(Error::BadRequest(
                "the administrators group keeps the admin permission".into(),
            ));
        }
        users::set_global_grant(
            &db,
            form.text("permission"),
            &who,
            form.text("grant") == "1",
        )
        .await
    }
    .await;
    drop(db);
    match r {
        Ok(()) => perms_page(&app, &viewer, "Saved.".into()).await,
        Err(Error::BadRequest(m)) => perms_page(&app, &viewer, m).await,
        Err(e) => Err(e.into()),
    }
}

async fn admin_group(db: &impl deadpool_postgres::GenericClient) -> Result<i64, Error> {
    users::group_by_name(db, "cairn-administrators")
        .await?
        .ok_or_else(|| Error::Internal("the cairn-administrators group is missing".into()))
}

struct NodePosition {
    node: String,
    position: i64,
    lag: i64,
    docs: i64,
    updated: String,
}

#[derive(Template)]
#[template(path = "admin_search.html")]
struct SearchAdminPage {
    layout: Layout,
    head: i64,
    oldest: i64,
    local_position: i64,
    local_docs: u64,
    nodes: Vec<NodePosition>,
    snapshots: Vec<(i64, String)>,
    message: String,
    rebuild: String,
    /// Whether search is right on this node: degraded state, the last
    /// distrusted index or snapshot, the last drift check.
    integrity: Vec<String>,
}

async fn search_admin_page(app: &AppState, viewer: &Viewer, message: String) -> UiResult {
    viewer.require_admin().next("/admin/search")?;
    let db = app.pool.get().await?;
    let journal = crate::search::journal::status(&db).await?;
    let (head, oldest) = (journal.head, journal.oldest);
    let nodes = journal
        .nodes
        .into_iter()
        .map(|n| NodePosition {
            node: n.node_id,
            position: n.position,
            lag: n.lag,
            docs: n.docs,
            updated: fmt_time(&n.updated),
        })
        .collect();
    let snapshots: Vec<(i64, String)> = crate::search::snapshots(app.files.shared_home())
        .into_iter()
        .map(|(seq, path)| {
            let when = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .map(|t| fmt_time(&chrono::DateTime::<chrono::Utc>::from(t)))
                .unwrap_or_default();
            (seq, when)
        })
        .collect();
    let (local_position, local_docs) = app
        .search
        .as_ref()
        .map(|i| (i.position(), i.doc_count()))
        .unwrap_or((0, 0));
    Ok(SearchAdminPage {
        layout: Layout::new("Search index", viewer),
        head,
        oldest,
        local_position,
        local_docs,
        nodes,
        snapshots,
        message,
        integrity: app.search.as_ref().map_or_else(Vec::new, |i| {
            let h = i.health();
            let mut out = Vec::new();
            if let Some(d) = &h.degraded {
                out.push(format!("Search is degraded on this node: {d}."));
            }
            if let Some((at, why)) = &h.last_distrust {
                out.push(format!("Last index or snapshot not trusted ({}): {why}.", fmt_time(at)));
            }
            match &h.last_check {
                Some(c) => out.push(format!(
                    "Last drift check ({}): {c}. Checks: {}, documents repaired: {}, stale hits withheld: {}.",
                    fmt_time(&c.at),
                    h.drift_checks,
                    h.drift_repaired,
                    h.stale_hits
                )),
                None => out.push("No drift check has run on this node yet.".into()),
            }
            out
        }),
        rebuild: app.search.as_ref().map_or_else(String::new, |i| {
            let st = i.rebuild_state();
            if st.running {
                format!(
                    "Rebuilding beside the live index: {} of {} documents.",
                    st.done, st.total
                )
            } else {
                st.last
                    .map(|l| format!("Last rebuild: {l}."))
                    .unwrap_or_default()
            }
        }),
    }
    .into_html())
}

async fn admin_search(State(app): State<AppState>, viewer: Viewer) -> UiResult {
    search_admin_page(&app, &viewer, String::new()).await
}

async fn admin_search_post(
    State(app): State<AppState>,
    viewer: Viewer,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    viewer.require_admin()?;
    let msg = match form.text("action") {
        "rebuild" => {
            let db = app.pool.get().await?;
            crate::search::journal::request_rebuild(&db).await?;
            "Rebuild requested: every node builds a new index beside its live one and swaps it in; search keeps answering.".to_string()
        }
        "snapshot" => match &app.search {
            Some(i) => {
                let seq = i
                    .snapshot_and_trim(&app.pool, app.files.shared_home())
                    .await?;
                format!("Snapshot written at journal position {seq}.")
            }
            None => "This node has no search index.".into(),
        },
        other => return Err(Error::BadRequest(format!("unknown action {other:?}")).into()),
    };
    search_admin_page(&app, &viewer, msg).await
}
