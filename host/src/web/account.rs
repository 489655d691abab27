//! Signing in and out, a user's profile, their password and access tokens.
//!
//! Invariant: a viewer changes only their own password and tokens here;
//! after a login the browser is sent only to a path on this site
//! ([`safe_next`]), never to another origin.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::notice::{self, Notice};
use super::{fmt_time, see_other, FormData, IntoHtml, Layout, OnField, Posted, UiResult, WithNext};
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
        .route("/profile/space", post(personal_space))
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

async fn logout(State(app): State<AppState>, headers: HeaderMap, _: Posted) -> UiResult {
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
    /// The person's personal space, if they have one.
    personal_space: Option<(String, String)>,
    /// Tasks assigned to this person on pages the viewer may see.
    tasks: super::tasks::AssignedTasks,
}

async fn profile(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    axum::extract::Query(tq): axum::extract::Query<super::tasks::TasksQuery>,
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
    let own = viewer.user.as_ref().is_some_and(|me| me.id == u.id);
    let heading = if own {
        "My tasks".to_owned()
    } else {
        format!("Tasks assigned to {}", u.display_name)
    };
    let tasks = super::tasks::assigned_tasks(
        &db,
        &viewer,
        &u.user_key,
        heading,
        &crate::urls::user_url(&u.username),
        &tq,
    )
    .await?;
    Ok(ProfilePage {
        tasks,
        layout: Layout::new(&u.display_name, &viewer),
        email: if viewer.user.is_some() {
            u.email.clone()
        } else {
            String::new()
        },
        personal_space: crate::content::personal_space_of(&db, u.id)
            .await?
            .filter(|s| viewer.view_spaces.contains(&s.id))
            .map(|s| (s.key, s.name)),
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
    /// A refused new token: what was typed, and why.
    typed: NewToken,
}

/// The create-token form's fields as typed, and its error.
#[derive(Default)]
struct NewToken {
    name: String,
    days: String,
    error: String,
    /// The field `error` is about.
    field: &'static str,
}

async fn token_page(
    app: &AppState,
    viewer: &Viewer,
    new_token: String,
    message: String,
    typed: NewToken,
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
        typed,
    }
    .into_html())
}

async fn tokens(State(app): State<AppState>, viewer: Viewer, Query(n): Query<Notice>) -> UiResult {
    token_page(
        &app,
        &viewer,
        String::new(),
        n.message(),
        NewToken::default(),
    )
    .await
}

/// Creates a token and shows it once. The screen is drawn again either way
/// (the secret cannot travel through a redirect); a refusal keeps what was
/// typed and says why beside the field.
async fn create_token(State(app): State<AppState>, Posted { viewer, form }: Posted) -> UiResult {
    let user = viewer.require_user()?.clone();
    let db = app.pool.get().await?;
    let r = match form.opt_int::<i64>("days") {
        Ok(days) => auth::create_token(&db, user.id, form.text("name"), days)
            .await
            .map_err(|e| (e, "name")),
        Err(e) => Err((e, "days")),
    };
    drop(db);
    match r {
        Ok((_, raw)) => token_page(&app, &viewer, raw, String::new(), NewToken::default()).await,
        Err((Error::BadRequest(m), field)) => {
            let typed = NewToken {
                name: form.text("name").to_owned(),
                days: form.text("days").to_owned(),
                error: super::errors::sentence(&m),
                field,
            };
            let mut r = token_page(&app, &viewer, String::new(), String::new(), typed).await?;
            *r.status_mut() = StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err((e, _)) => Err(e.into()),
    }
}

async fn revoke_token(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form: _ }: Posted,
) -> UiResult {
    let user = viewer.require_user()?.clone();
    let db = app.pool.get().await?;
    auth::revoke_token(&db, user.id, id).await?;
    Ok(see_other("/profile/tokens"))
}

/// Makes the viewer's personal space (or finds it) and goes there.
async fn personal_space(
    State(app): State<AppState>,
    Posted { viewer, form: _ }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    let s = crate::content::personal_space(&mut db, &viewer).await?;
    Ok(see_other(&format!("/spaces/{}", crate::urls::enc(&s.key))))
}

async fn change_password(State(app): State<AppState>, Posted { viewer, form }: Posted) -> UiResult {
    let user = viewer.require_user()?.clone();
    let db = app.pool.get().await?;
    match auth::authenticate(&db, &user.username, form.text("current")).await {
        Ok(_) => {}
        Err(Error::Unauthorized(_)) => {
            return Err(Error::BadRequest(
                "the current password is not correct".into(),
            ))
            .on_field("current")
        }
        Err(e) => return Err(e.into()),
    }
    users::set_password(&db, user.id, form.text("new"))
        .await
        .on_field("new")?;
    Ok(notice::done("/profile/tokens", "password"))
}

// ---------------------------------------------------------------- admin
