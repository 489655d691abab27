//! Task lists tickable in view mode: the page script asks for the page's
//! tasks (`GET /pages/{id}/tasks`), enables the rendered checkboxes when
//! their number matches, and posts each tick (`POST /pages/{id}/tasks`).
//!
//! Invariant: a tick is CSRF-checked and saved through `content::set_task`
//! (edit permission, a new minor version, retried on a concurrent save).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

use super::{see_other, Posted, UiResult};
use crate::content;
use crate::error::Error;
use crate::perms::Viewer;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/pages/{id}/tasks", get(list).post(tick))
}

async fn list(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id).await?;
    let tasks: Vec<_> = content::tasks_of(&c.body)?
        .into_iter()
        .map(|t| json!({"id": t.id, "complete": t.complete}))
        .collect();
    let can_edit = content::may_edit(&db, &viewer, &c).await?;
    Ok(Json(json!({"version": c.version, "tasks": tasks, "canEdit": can_edit})).into_response())
}

/// `task` = the task id, `complete` = 1 or 0. Answers JSON to the page
/// script, a redirect to a plain form.
async fn tick(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    let c = content::set_task(
        &mut db,
        &viewer,
        id,
        form.required("task")?,
        form.text("complete") == "1",
    )
    .await?;
    let wants_json = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        return Ok(Json(json!({"version": c.version})).into_response());
    }
    Ok(see_other(&crate::urls::page_url(
        &c.space_key,
        c.id,
        &c.title,
    )))
}

/// "My tasks" on the dashboard and a profile: tasks assigned to one person
/// on pages the viewer may see (the task index filters in SQL).
pub(crate) struct AssignedTasks {
    pub heading: String,
    pub rows: Vec<TaskRow>,
    /// Completed ones are shown (`?tasks=done`) instead of open ones.
    pub done: bool,
    /// The link that switches between open and completed.
    pub toggle_url: String,
}

pub(crate) struct TaskRow {
    pub text: String,
    pub page_url: String,
    pub page_title: String,
    pub space_key: String,
    /// "5 Jan 2026", or "" without a due date.
    pub due: String,
    pub overdue: bool,
}

/// Query `?tasks=done` of the dashboard and profile.
#[derive(serde::Deserialize, Default)]
pub(crate) struct TasksQuery {
    #[serde(default)]
    pub tasks: String,
}

/// The tasks assigned to `user_key` that `viewer` may see; `path` is the
/// screen's own path (for the open/completed switch).
pub(crate) async fn assigned_tasks(
    db: &impl deadpool_postgres::GenericClient,
    viewer: &Viewer,
    user_key: &str,
    heading: String,
    path: &str,
    q: &TasksQuery,
) -> Result<AssignedTasks, Error> {
    let done = q.tasks == "done";
    let today = chrono::Utc::now().date_naive();
    let rows = content::task_index::assigned_to(db, viewer, user_key, done, 50)
        .await?
        .into_iter()
        .map(|t| TaskRow {
            text: if t.text.is_empty() {
                "(no description)".into()
            } else {
                t.text
            },
            page_url: t.page_url,
            page_title: t.page_title,
            space_key: t.space_key,
            due: t
                .due
                .map(|d| d.format("%-d %b %Y").to_string())
                .unwrap_or_default(),
            overdue: !t.complete && t.due.is_some_and(|d| d < today),
        })
        .collect();
    Ok(AssignedTasks {
        heading,
        rows,
        done,
        toggle_url: if done {
            format!("{path}#my-tasks")
        } else {
            format!("{path}?tasks=done#my-tasks")
        },
    })
}
