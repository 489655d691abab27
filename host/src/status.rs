//! `GET /status`: the load balancer's view of this node, Confluence's shape.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;

use crate::AppState;

/// Set once start-up work (migrations, caches) has finished.
#[derive(Debug, Default, Clone)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

pub async fn status(State(app): State<AppState>) -> impl IntoResponse {
    if !app.readiness.is_ready() {
        return (
            StatusCode::OK,
            Json(serde_json::json!({"state": "STARTING"})),
        );
    }
    match crate::db::ping(&app.pool, Duration::from_secs(2)).await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({"state": "RUNNING"})),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "status: database unreachable");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({"state": "ERROR"})),
            )
        }
    }
}
