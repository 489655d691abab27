//! The sidebar's page tree: one level at a time as JSON (lazy, 200 per
//! request, so a page with thousands of children opens at once), and moving
//! a page by dragging it (before, after or into another page), with the
//! move's undo.
//!
//! Invariant: a move from the tree is `content::move_page`, the same service
//! and permission checks as the Move screen and REST; the tree only sends
//! where to.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::{OnField, Posted, UiResult};
use crate::content;
use crate::error::Error;
use crate::perms::Viewer;
use crate::urls::page_url;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/tree", get(tree))
        .route("/ui/tree/move", post(tree_move))
}

#[derive(Deserialize)]
struct TreeQ {
    space: String,
    parent: Option<i64>,
    offset: Option<i64>,
}

/// One level of the page tree, as JSON, for the sidebar's lazy loading.
async fn tree(State(app): State<AppState>, viewer: Viewer, Query(q): Query<TreeQ>) -> Response {
    let r: Result<_, Error> = async {
        let db = app.pool.get().await?;
        let s = content::space(&db, &viewer, &q.space).await?;
        let offset = q.offset.unwrap_or(0).max(0);
        let nodes = content::children(&db, &viewer, s.id, q.parent, offset, 201).await?;
        let more = nodes.len() > 200;
        let items: Vec<_> = nodes
            .iter()
            .take(200)
            .map(|n| {
                serde_json::json!({
                    "id": n.id.to_string(),
                    "title": n.title,
                    "url": page_url(&s.key, n.id, &n.title),
                    "hasChildren": n.has_children,
                    "position": n.position,
                })
            })
            .collect();
        Ok(serde_json::json!({"results": items, "more": more, "nextOffset": offset + 200}))
    }
    .await;
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Moves page `id` `before`, `after` or `inside` page `target`; or, to undo,
/// back to `parent` (empty = the space root) at `position`. Answers JSON:
/// where the page was, for the undo.
async fn tree_move(State(app): State<AppState>, Posted { viewer, form }: Posted) -> UiResult {
    let id: i64 = form.int("id")?;
    let mut db = app.pool.get().await?;
    let page = content::get(&db, &viewer, id).await?;
    let (parent, position) = match form.text("where") {
        "restore" => (
            form.opt_int::<i64>("parent")?,
            form.opt_int::<i32>("position")?,
        ),
        place @ ("before" | "after" | "inside") => {
            let target = content::get(&db, &viewer, form.int("target")?).await?;
            if target.space_id != page.space_id {
                return Err(Error::BadRequest(
                    "drag a page within its own space's tree; use Move to change its space".into(),
                )
                .into());
            }
            match place {
                "inside" => (Some(target.id), None),
                "before" => (target.parent_id, Some(target.position)),
                _ => (target.parent_id, Some(target.position + 1)),
            }
        }
        other => {
            return Err(Error::BadRequest(format!(
                "where must be before, after, inside or restore, not {other:?}"
            ))
            .into())
        }
    };
    let moved = content::move_page(&mut db, &viewer, id, None, parent, position)
        .await
        .on_field("target")?;
    Ok(Json(serde_json::json!({
        "id": moved.id.to_string(),
        "title": moved.title,
        "undo": {"parent": page.parent_id.map(|p| p.to_string()), "position": page.position},
    }))
    .into_response())
}
