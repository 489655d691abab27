//! "Save for later" and favourite spaces from the page, and the viewer's
//! recently viewed list: recorded by the page script after a view (so a
//! view served from the response cache counts too) and read by the
//! dashboard's script (so the cached dashboard stays the same for every
//! view).
//!
//! Invariant: the two `/ui/` calls need the custom `X-Cairn-View` header on
//! writes (a cross-site page cannot send it without CORS), and answer only
//! what the viewer may see.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use super::{see_other, Posted, UiResult};
use crate::content;
use crate::error::Error;
use crate::perms::Viewer;
use crate::urls::page_url;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/pages/{id}/favourite", post(page_favourite))
        .route("/spaces/{key}/favourite", post(space_favourite))
        .route("/ui/viewed/{id}", post(viewed))
        .route("/ui/recent", get(recent))
}

async fn page_favourite(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let db = app.pool.get().await?;
    content::set_favourite_content(&db, &viewer, id, form.text("on") == "1").await?;
    Ok(see_other(&format!("/pages/viewpage.action?pageId={id}")))
}

async fn space_favourite(
    State(app): State<AppState>,
    Path(key): Path<String>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let db = app.pool.get().await?;
    content::set_favourite_space(&db, &viewer, &key, form.text("on") == "1").await?;
    let back = form
        .get("next")
        .filter(|n| {
            n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
        })
        .map(str::to_owned)
        .unwrap_or_else(|| format!("/spaces/{}", crate::urls::enc(&key)));
    Ok(see_other(&back))
}

async fn viewed(
    State(app): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    if !headers.contains_key("x-cairn-view") {
        return Err(Error::Forbidden("send X-Cairn-View".into()));
    }
    viewer.require_user()?;
    let db = app.pool.get().await?;
    content::record_view(&db, &viewer, id).await?;
    let mut r = axum::http::StatusCode::NO_CONTENT.into_response();
    r.extensions_mut().insert(crate::http::gate::NoDataChange);
    Ok(r)
}

async fn recent(State(app): State<AppState>, viewer: Viewer) -> Result<Response, Error> {
    viewer.require_user()?;
    let db = app.pool.get().await?;
    let items: Vec<_> = content::recently_viewed(&db, &viewer, 10)
        .await?
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "title": c.title,
                "url": page_url(&c.space_key, c.id, &c.title),
                "space": c.space_name,
            })
        })
        .collect();
    Ok(Json(json!({ "results": items })).into_response())
}
