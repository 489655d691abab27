//! Long tasks in the UI: their progress screen (`/tasks/{id}`, refreshing
//! itself while the task runs) and the list of one's tasks; and the space
//! deletion that starts one.
//!
//! Invariant: only a task's owner and administrators see it (`longtask`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;

use super::{see_other, IntoHtml, Layout, OnField, Posted, UiResult, WithNext};
use crate::error::Error;
use crate::longtask::{self, LongTask};
use crate::perms::Viewer;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(list))
        .route("/tasks/{id}", get(one))
        .route("/spaces/{key}/delete", post(delete_space))
}

#[derive(Template)]
#[template(path = "longtask.html")]
struct TaskPage {
    layout: Layout,
    t: LongTask,
}

async fn one(State(app): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> UiResult {
    viewer.require_user().next(&format!("/tasks/{id}"))?;
    let db = app.pool.get().await?;
    let t = longtask::get(&db, &viewer, id).await?;
    let running = t.status == "running";
    let mut r = TaskPage {
        layout: Layout::new(t.name.clone(), &viewer),
        t,
    }
    .into_html();
    if running {
        r.headers_mut()
            .insert(header::REFRESH, HeaderValue::from_static("1"));
    }
    Ok(r)
}

#[derive(Template)]
#[template(path = "longtasks.html")]
struct ListPage {
    layout: Layout,
    tasks: Vec<LongTask>,
}

async fn list(State(app): State<AppState>, viewer: Viewer) -> UiResult {
    viewer.require_user().next("/tasks")?;
    let db = app.pool.get().await?;
    Ok(ListPage {
        layout: Layout::new("Long tasks", &viewer),
        tasks: longtask::list(&db, &viewer, 50).await?,
    }
    .into_html())
}

/// Deletes a space once its key was typed again, as a long task.
async fn delete_space(
    State(app): State<AppState>,
    Path(key): Path<String>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    if !form.text("confirm").trim().eq_ignore_ascii_case(&key) {
        return Err(Error::BadRequest(format!(
            "type the space key {key} to confirm the deletion"
        )))
        .on_field("confirm");
    }
    let id = crate::content::delete_space(&app.pool, &app.node_id, &viewer, &key).await?;
    Ok(see_other(&format!("/tasks/{id}")))
}
