//! Admin pages for plugins, one module per screen: `list.rs` (the list and
//! install/upgrade: multipart upload with capability grants), `detail.rs`
//! (one plugin: metrics, log, limits, config, history, enable/disable/remove)
//! and `ext.rs` (admin-extension pages mounted under
//! `/admin/plugins/{id}/ext/…`).
//!
//! Invariant: every screen is an administrator's; the services do the work
//! (`crate::plugins`), these modules parse, authorize, call and render.

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;

use crate::AppState;

mod detail;
mod ext;
mod list;

use detail::{detail, manage};
use ext::{ext, ext_root};
use list::{install, list};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/plugins",
            get(list).post(install).layer(DefaultBodyLimit::max(
                crate::plugins::MAX_COMPONENT_BYTES + 1024 * 1024,
            )),
        )
        .route("/admin/plugins/{id}", get(detail).post(manage))
        .route("/admin/plugins/{id}/ext", get(ext_root).post(ext_root))
        .route("/admin/plugins/{id}/ext/", get(ext_root).post(ext_root))
        .route("/admin/plugins/{id}/ext/{*path}", get(ext).post(ext))
}
