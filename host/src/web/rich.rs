//! What the rich-text editor (`host/editor/`, served as `/assets/editor.js`)
//! asks the server while someone writes: Markdown converted to storage
//! format (switching modes, pasting Markdown), page titles for `[` links,
//! and the installed macros with their parameters for the macro browser.
//!
//! Invariant: every answer is as the signed-in viewer may see it (titles
//! are permission-filtered); the conversion is a POST with the form's CSRF
//! token and stores nothing.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::content;
use crate::error::Error;
use crate::perms::Viewer;
use crate::web::FormData;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/convert", post(convert))
        .route("/ui/pages/complete", get(complete))
        .route("/ui/macros", get(macros))
}

/// Markdown (`body`, `format=markdown`) to storage format, `@username`
/// becoming a mention as on save; a storage body comes back unchanged.
async fn convert(State(app): State<AppState>, viewer: Viewer, form: FormData) -> Response {
    let r: Result<String, Error> = async {
        form.check_csrf(&viewer)?;
        viewer.require_user()?;
        let db = app.pool.get().await?;
        let body = form.text("body");
        if form.text("format") == "markdown" {
            super::mentions::storage_from_markdown(&db, body).await
        } else {
            Ok(body.to_owned())
        }
    }
    .await;
    match r {
        Ok(s) => {
            let mut resp = s.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            resp
        }
        Err(e) => e.into_response(),
    }
}

#[derive(serde::Deserialize)]
struct CompleteQ {
    #[serde(default)]
    q: String,
    /// The space being written in: its pages come first.
    #[serde(default)]
    space: String,
}

/// Pages and blog posts by title for `[` links: `{results: [{id, title, spaceKey, type}]}`.
async fn complete(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(q): Query<CompleteQ>,
) -> Result<Response, Error> {
    viewer.require_user()?;
    let q_text = q.q.trim();
    if q_text.is_empty() || !viewer.can_use {
        return Ok(Json(json!({ "results": [] })).into_response());
    }
    let db = app.pool.get().await?;
    let list = content::complete_titles(&db, &viewer, &q.space, q_text, 10).await?;
    let results: Vec<Value> = list
        .into_iter()
        .map(|c| {
            json!({
                "id": c.id,
                "title": c.title,
                "spaceKey": c.space_key,
                "spaceName": c.space_name,
                "type": c.content_type.as_str(),
            })
        })
        .collect();
    Ok(Json(json!({ "results": results })).into_response())
}

/// The enabled macros of the installed plugins with their declared
/// parameters (`param-spec`), sorted by title: the macro browser's list.
async fn macros(State(app): State<AppState>, viewer: Viewer) -> Result<Response, Error> {
    viewer.require_user()?;
    let mut list: Vec<Value> = app
        .plugins
        .registry()
        .macro_specs()
        .into_iter()
        .map(|(s, plugin)| crate::rest::plugins::macro_json(&s, &plugin))
        .collect();
    list.sort_by_key(|m| {
        m["title"]
            .as_str()
            .or(m["name"].as_str())
            .unwrap_or("")
            .to_lowercase()
    });
    Ok(Json(json!({ "results": list })).into_response())
}
