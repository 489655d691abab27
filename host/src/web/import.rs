//! `/admin/import`: upload a Confluence export to import, and every run's
//! progress (phase, objects done / total, rate) and outcome, read from
//! `import_runs` so every node shows the same.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use tokio::io::AsyncWriteExt;

use super::{fmt_time, see_other, IntoHtml, Layout, UiResult};
use crate::error::Error;
use crate::import::{self, Options, Started};
use crate::perms::Viewer;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route(
        "/admin/import",
        get(page)
            .post(upload)
            .layer(axum::extract::DefaultBodyLimit::disable()),
    )
}

struct RunRow {
    id: i64,
    file: String,
    keys: String,
    status: String,
    phase: String,
    progress: String,
    started: String,
    node: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin_import.html")]
struct ImportPage {
    layout: Layout,
    message: String,
    error: bool,
    running: bool,
    runs: Vec<RunRow>,
}

async fn render(
    app: &AppState,
    viewer: &Viewer,
    message: String,
    error: bool,
    status: StatusCode,
) -> UiResult {
    viewer.require_admin()?;
    let db = app.pool.get().await?;
    let runs = import::run_status(&db, None, 25).await?;
    let running = runs.iter().any(|r| r.status == "running");
    let rows = runs
        .into_iter()
        .map(|r| {
            let mut progress = if r.total > 0 {
                format!("{} / {} ({:.0}%)", r.done, r.total, 100.0 * r.done as f64 / r.total as f64)
            } else {
                String::new()
            };
            if let Some(rate) = r.rate {
                progress.push_str(&format!(", {rate:.0}/s"));
            }
            if let Some(eta) = r.eta_seconds {
                progress.push_str(&format!(", about {}:{:02} left", eta / 60, eta % 60));
            }
            let detail = match (&r.error, &r.report) {
                (Some(e), _) => e.clone(),
                (None, Some(rep)) => format!(
                    "{} pages, {} blog posts, {} comments, {} attachments, {} versions; {} users created; {} warnings",
                    rep["pages"], rep["blogPosts"], rep["comments"], rep["attachments"], rep["versions"],
                    rep["usersCreated"].as_array().map(|a| a.len()).unwrap_or(0), rep["warningsTotal"]
                ),
                _ => String::new(),
            };
            RunRow {
                id: r.id,
                file: r.file_name,
                keys: r.space_keys.join(", "),
                status: r.status,
                phase: r.phase,
                progress,
                started: fmt_time(&r.started_at),
                node: if r.attempt > 1 {
                    format!("{} (attempt {}, taken over)", r.node_id, r.attempt)
                } else {
                    r.node_id
                },
                detail,
            }
        })
        .collect();
    let mut resp = ImportPage {
        layout: Layout::new("Import from Confluence", viewer),
        message,
        error,
        running,
        runs: rows,
    }
    .into_html();
    *resp.status_mut() = status;
    Ok(resp)
}

async fn page(State(app): State<AppState>, viewer: Viewer) -> UiResult {
    render(&app, &viewer, String::new(), false, StatusCode::OK).await
}

/// The form's parts in order: `_csrf`, `as`, then `file` (streamed to the
/// shared home, never held in memory).
async fn upload(State(app): State<AppState>, viewer: Viewer, mut mp: Multipart) -> UiResult {
    viewer.require_admin()?;
    let mut csrf_ok = false;
    let mut as_key = String::new();
    let path = import::upload_path(&app.files);
    let mut have_file = false;
    let mut file_name = None;
    let result: Result<(), Error> = async {
        while let Some(mut field) = mp
            .next_field()
            .await
            .map_err(|e| Error::BadRequest(format!("the upload failed: {e}")))?
        {
            match field.name().unwrap_or("") {
                "_csrf" => {
                    let v = field.text().await.unwrap_or_default();
                    csrf_ok = crate::web::csrf_matches(&viewer, &v);
                }
                "as" => as_key = field.text().await.unwrap_or_default().trim().to_owned(),
                "file" => {
                    file_name = field.file_name().map(str::to_owned);
                    if !csrf_ok {
                        return Err(crate::web::form_expired());
                    }
                    if let Some(dir) = path.parent() {
                        tokio::fs::create_dir_all(dir).await.map_err(|e| {
                            Error::Internal(format!("cannot create {}: {e}", dir.display()))
                        })?;
                    }
                    let mut f = tokio::fs::File::create(&path)
                        .await
                        .map_err(|e| Error::Internal(format!("cannot store the upload: {e}")))?;
                    while let Some(chunk) = field.chunk().await.map_err(|e| {
                        Error::BadRequest(format!("the upload was interrupted: {e}"))
                    })? {
                        have_file |= !chunk.is_empty();
                        f.write_all(&chunk).await.map_err(|e| {
                            Error::Internal(format!("cannot store the upload: {e}"))
                        })?;
                    }
                    f.sync_all()
                        .await
                        .map_err(|e| Error::Internal(format!("cannot store the upload: {e}")))?;
                }
                _ => {}
            }
        }
        if !csrf_ok {
            return Err(crate::web::form_expired());
        }
        if !have_file {
            return Err(Error::BadRequest("Choose the export's zip file.".into()));
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&path).await;
        let status = e.status();
        return render(&app, &viewer, e.public_message(), true, status).await;
    }
    let opts = Options {
        as_key: Some(as_key).filter(|k| !k.is_empty()),
        node_id: app.node_id.clone(),
        file_name,
        on_start: None,
        upload_owned: false,
    };
    match import::start_background(&app.pool, &app.files, path, opts).await {
        Ok(Started::Running(_)) => Ok(see_other("/admin/import")),
        Ok(Started::Finished(r)) => {
            let keys: Vec<&str> = r.spaces.iter().map(|s| s.key.as_str()).collect();
            render(
                &app,
                &viewer,
                format!(
                    "Already imported into {}: nothing changed.",
                    keys.join(", ")
                ),
                false,
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let e: Error = e.into();
            let status = e.status();
            render(&app, &viewer, e.public_message(), true, status).await
        }
    }
}
