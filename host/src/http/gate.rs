//! The request gate: counts running requests (for draining), refuses
//! writes on a fenced node and content writes in read-only mode, and sets
//! the page chrome (site title, banners) every HTML page shows.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::chrome::{Chrome, CHROME};
use crate::cluster::NodeState;
use crate::error::Error;
use crate::AppState;

pub(crate) const READ_ONLY_MESSAGE: &str = "This site is in read-only mode: content cannot be changed right now (an administrator set access_mode to read-only). Reading and searching work as usual.";

/// Paths that still take writes in read-only mode: signing in and out,
/// personal tokens, and administration (including turning it off).
fn allowed_in_read_only(path: &str) -> bool {
    path == "/login"
        || path == "/logout"
        || path.starts_with("/admin")
        || path.starts_with("/profile")
        || path.starts_with("/rest/cairn/")
}

fn refuse(path: &str, err: Error) -> Response {
    if path.starts_with("/rest/") {
        // Confluence's envelope says whether the call works in read-only mode.
        let mut r = crate::error::envelope_with(err.status(), &err.public_message(), false);
        r.headers_mut()
            .insert("Retry-After", axum::http::HeaderValue::from_static("5"));
        r
    } else {
        // A form post from the browser: say that nothing was saved and
        // how to keep what was typed.
        let msg = format!(
            "{} Your changes were not saved: go back to keep your text, and save it again when the site accepts changes.",
            err.public_message()
        );
        crate::web::UiError::from(Error::Unavailable(msg)).into_response()
    }
}

pub(crate) async fn layer(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let _running = app.cluster.request_started();
    let settings = app.cluster.settings();
    let state = app.cluster.state();
    let path = req.uri().path().to_owned();
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && path != "/login" && path != "/logout" {
        if !app.cluster.may_write() {
            return refuse(
                &path,
                Error::Unavailable(crate::error::FENCED_MESSAGE.into()),
            );
        }
        if settings.read_only() && !allowed_in_read_only(&path) {
            return refuse(&path, Error::Unavailable(READ_ONLY_MESSAGE.into()));
        }
    }
    let mut banners = Vec::new();
    if !settings.announcement.is_empty() {
        banners.push(("info".to_owned(), settings.announcement.clone()));
    }
    if settings.read_only() {
        banners.push((
            "warning".to_owned(),
            "Read-only mode: pages can be read and searched but not changed.".to_owned(),
        ));
    }
    match state {
        NodeState::Draining | NodeState::Left => banners.push((
            "warning".to_owned(),
            "This node is leaving the cluster; reload to continue on another node.".to_owned(),
        )),
        // Fenced, or its deadline just passed (the watchdog marks it).
        _ if !app.cluster.may_write() => banners.push((
            "error".to_owned(),
            "This node has lost contact with the cluster and is read-only until it rejoins."
                .to_owned(),
        )),
        _ => {}
    }
    let chrome = Chrome {
        site_title: settings.site_title.clone(),
        banners,
    };
    // A request after a write (through any node) reads that write.
    if let Some(token) = crate::consistency::token_of(req.headers()) {
        app.consistency
            .catch_up(&app.pool, &app.generation, token)
            .await;
    }
    let mut resp = CHROME.scope(chrome, next.run(req)).await;
    // A POST that changed nothing readers see (a user's own view history)
    // keeps every cache and needs no token.
    let no_change = resp.extensions_mut().remove::<NoDataChange>().is_some();
    if !safe && !no_change {
        // Whatever it wrote, this node's caches see it before the response
        // leaves; other nodes hear it through NOTIFY cairn_change, or at
        // once from the token the response carries.
        app.generation.bump();
        // A refused write committed nothing; and when the database is
        // down, the token could only add a wait.
        if resp.status().as_u16() < 400 {
            if let Some(token) = app.consistency.issue(&app.pool).await {
                crate::consistency::attach(resp.headers_mut(), token);
            }
        }
    }
    resp
}

/// Marks the response of an unsafe request that changed nothing any page,
/// list or cached response shows (e.g. recording a user's recent view):
/// the gate then neither retires the caches nor issues a token.
#[derive(Clone, Copy)]
pub(crate) struct NoDataChange;
