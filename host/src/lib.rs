//! Cairn: a clustered wiki whose macros and admin extensions are WebAssembly
//! components. This crate is the `cairn` binary's library: configuration,
//! storage, and the HTTP surface. See ARCHITECTURE.md for the code map.

pub mod config;
pub mod db;
pub mod status;

use axum::routing::get;

/// Everything a request handler may reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: deadpool_postgres::Pool,
    pub readiness: status::Readiness,
}

/// The node's whole HTTP surface.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/status", get(status::status))
        .with_state(state)
}

pub use axum::Router;

/// Serves `app` on `listener` until the listener fails.
///
/// # Errors
/// When accepting connections fails.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(listener, app).await
}
