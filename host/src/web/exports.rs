//! Downloads of static exports: a space or a page tree as a zip of HTML
//! pages (`/spaces/{key}/export/html`, `/pages/{id}/export/html`), and a page
//! or page tree as PDF (`/pages/{id}/export/pdf[?tree=1]`). What the viewer
//! may see is what is exported (`static_export`).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::{OrLogin, UiResult};
use crate::error::Error;
use crate::perms::Viewer;
use crate::static_export::{self, Root};
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/spaces/{key}/export/html", get(space_html))
        .route("/pages/{id}/export/html", get(tree_html))
        .route("/pages/{id}/export/pdf", get(pdf))
}

fn download(bytes: Vec<u8>, media_type: &'static str, name: &str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

async fn zip_of(app: &AppState, viewer: &Viewer, root: Root) -> Result<Vec<u8>, Error> {
    let path = std::env::temp_dir().join(format!(
        "cairn-export-{}-{}.zip",
        std::process::id(),
        crate::auth::random_token(8)
    ));
    let r = static_export::html_zip(app, viewer, root, &path).await;
    let bytes = match r {
        Ok(_) => tokio::fs::read(&path).await.map_err(Error::internal),
        Err(e) => Err(e),
    };
    let _ = tokio::fs::remove_file(&path).await;
    bytes
}

async fn space_html(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
) -> UiResult {
    let here = format!("/spaces/{key}/export/html");
    let bytes = zip_of(&app, &viewer, Root::Space(key.clone()))
        .await
        .or_login(&viewer, &here)?;
    Ok(download(
        bytes,
        "application/zip",
        &format!("{key}-html.zip"),
    ))
}

async fn tree_html(State(app): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> UiResult {
    let here = format!("/pages/{id}/export/html");
    let bytes = zip_of(&app, &viewer, Root::Tree(id))
        .await
        .or_login(&viewer, &here)?;
    Ok(download(
        bytes,
        "application/zip",
        &format!("page-{id}-html.zip"),
    ))
}

#[derive(Deserialize)]
struct PdfQ {
    tree: Option<String>,
}

async fn pdf(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<PdfQ>,
) -> UiResult {
    let here = format!("/pages/{id}/export/pdf");
    let root = if matches!(q.tree.as_deref(), Some("1" | "true")) {
        Root::Tree(id)
    } else {
        Root::Page(id)
    };
    let bytes = static_export::pdf(&app, &viewer, root)
        .await
        .or_login(&viewer, &here)?;
    Ok(download(
        bytes,
        "application/pdf",
        &format!("page-{id}.pdf"),
    ))
}
