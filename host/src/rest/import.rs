//! Confluence imports over REST (administrators):
//!
//! - `POST /rest/cairn/1.0/import[?as=KEY2][&name=FILE.zip]` — the export zip as the raw
//!   request body. Answers 202 with the run (`id`, `_links.status`) once the
//!   import has passed its checks and runs; 200 with the report when it was
//!   imported before (nothing changed); the error envelope when refused
//!   (400 bad input naming the object, 409 a space key that exists).
//! - `GET /rest/cairn/1.0/import` — recent runs; `GET …/import/{id}` — one
//!   run: status, phase, objects done / total, report or error. Any node
//!   answers: the run lives in PostgreSQL.

use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result};
use crate::import::{self, Options};
use crate::AppState;

use super::shapes::Results;
use super::{Call, Limit};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/rest/cairn/1.0/import",
            get(list)
                .post(start)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/rest/cairn/1.0/import/{id}", get(one))
}

#[derive(Deserialize)]
struct StartQ {
    #[serde(rename = "as")]
    as_key: Option<String>,
    /// The export's file name, for the run's record.
    name: Option<String>,
}

async fn start(call: Call, Query(q): Query<StartQ>, body: Body) -> Result<Response> {
    let (app, viewer) = call.into_parts();
    viewer.require_admin()?;
    let path = import::upload_path(&app.files);
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut f = tokio::fs::File::create(&path)
        .await
        .map_err(|e| Error::Internal(format!("cannot create {}: {e}", path.display())))?;
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    let written: Result<()> = async {
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| Error::BadRequest(format!("the upload was interrupted: {e}")))?;
            size += chunk.len() as u64;
            f.write_all(&chunk)
                .await
                .map_err(|e| Error::Internal(format!("cannot write the upload: {e}")))?;
        }
        f.sync_all()
            .await
            .map_err(|e| Error::Internal(format!("cannot write the upload: {e}")))?;
        if size == 0 {
            return Err(Error::BadRequest(
                "send the export zip as the request body".into(),
            ));
        }
        Ok(())
    }
    .await;
    drop(f);
    if let Err(e) = written {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e);
    }
    let opts = Options {
        as_key: q.as_key.filter(|k| !k.trim().is_empty()),
        node_id: app.node_id.clone(),
        file_name: q.name.filter(|n| !n.trim().is_empty()),
        on_start: None,
        upload_owned: false,
    };
    match import::start_background(&app.pool, &app.files, path, opts).await? {
        import::Started::Running(id) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({
                "id": id,
                "status": "running",
                "_links": {"status": format!("/rest/cairn/1.0/import/{id}")},
            })),
        )
            .into_response()),
        import::Started::Finished(report) => Ok(Json(report).into_response()),
    }
}

async fn list(call: Call, Query(q): Query<Limit>) -> Result<Response> {
    call.viewer.require_admin()?;
    let runs = import::run_status(&call.db().await?, None, q.or(25, 200)).await?;
    Ok(Json(Results::of(runs)).into_response())
}

async fn one(call: Call, Path(id): Path<i64>) -> Result<Response> {
    let (app, viewer) = call.into_parts();
    viewer.require_admin()?;
    let db = app.pool.get().await?;
    let run = import::run_status(&db, Some(id), 1)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::NotFound(format!("no import with id {id}")))?;
    Ok(Json(run).into_response())
}
