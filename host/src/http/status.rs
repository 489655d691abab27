//! `GET /status`: the load balancer's view of this node, Confluence's shape.
//!
//! Invariant: the answer depends only on this node's readiness, cluster
//! state, database and index health, never on a request's credentials.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;

use crate::cluster::NodeState;
use crate::AppState;

/// Confluence's states: `STARTING` until start-up work (migrations, index
/// catch-up, joining the cluster) is done; `MAINTENANCE` (503) while the node
/// is fenced or draining, so load balancers stop sending it work; `ERROR`
/// (500) when the database does not answer or the search index cannot apply
/// the journal; otherwise `RUNNING` — with `"searchDegraded": true` and a
/// reason while this node's search index is being rebuilt because it did
/// not match the database (see `search/integrity.rs`).
pub(crate) async fn status(State(app): State<AppState>) -> impl IntoResponse {
    let body = |state: &str| Json(serde_json::json!({ "state": state }));
    if !app.readiness.is_ready() {
        return (StatusCode::OK, body("STARTING"));
    }
    match app.cluster.state() {
        NodeState::Fenced | NodeState::Draining | NodeState::Left => {
            return (StatusCode::SERVICE_UNAVAILABLE, body("MAINTENANCE"));
        }
        NodeState::Active if !app.cluster.may_write() => {
            return (StatusCode::SERVICE_UNAVAILABLE, body("MAINTENANCE"));
        }
        NodeState::Active => {}
    }
    if let Some(index) = &app.search {
        if !index.is_usable() {
            tracing::warn!("status: the search index cannot apply the journal");
            return (StatusCode::INTERNAL_SERVER_ERROR, body("ERROR"));
        }
    }
    match crate::db::ping(&app.pool, Duration::from_secs(2)).await {
        // The wiki works while search is rebuilt, so the node stays in
        // rotation; the flag tells balancers and monitors that search is
        // incomplete (never wrong) on this node, and why.
        Ok(()) => match app.search.as_ref().and_then(|i| i.degraded()) {
            Some(why) => (
                StatusCode::OK,
                Json(serde_json::json!({
                    "state": "RUNNING",
                    "searchDegraded": true,
                    "searchDegradedReason": why,
                })),
            ),
            None => (StatusCode::OK, body("RUNNING")),
        },
        Err(e) => {
            tracing::warn!(error = %e, "status: database unreachable");
            (StatusCode::INTERNAL_SERVER_ERROR, body("ERROR"))
        }
    }
}
