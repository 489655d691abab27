//! Drafts in the UI: the editor's autosave (`drafts.js` posts the editor's
//! form every few seconds while it changes and when the page is left), the
//! dashboard's "Drafts" list (read by script, so the dashboard stays one
//! cached response for everyone), and Discard. Resume is the editor itself
//! (`?draft=`, `pages/editor.rs`).
//!
//! Invariant: every call is the viewer's own — drafts are read and written
//! only through `content::drafts`, which names the author in every
//! statement; a save changes nothing another reader sees, so it neither
//! retires caches nor issues a consistency token (`gate::NoDataChange`).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use super::{fmt_time, see_other, Posted, UiResult};
use crate::content::{self, ContentType, Draft, DraftInput, DraftSaved};
use crate::error::Error;
use crate::perms::Viewer;
use crate::urls::enc;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/drafts", get(list).post(save))
        .route("/ui/drafts/{id}/discard", post(discard))
        .route(
            "/ui/drafts/{id}/files",
            post(add_file).layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

/// A file pasted or dropped into a page never saved (multipart `_csrf`,
/// then `file`): kept with the author's draft `id`, shown to the author at
/// `/download/attachments/{id}/{name}`, the page's attachment once it is
/// published. Answers `{"name": …, "url": …}`.
async fn add_file(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    mut mp: axum::extract::Multipart,
) -> Result<Response, Error> {
    viewer.require_user()?;
    // The draft must be the viewer's before a byte is stored.
    {
        let db = app.pool.get().await?;
        let d = content::draft(&db, &viewer, id).await?;
        if d.page_id.is_some() {
            return Err(Error::BadRequest(
                "this draft's page exists: add the file to the page".into(),
            ));
        }
    }
    let mut csrf_ok = false;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| Error::BadRequest(format!("the upload failed: {e}")))?
    {
        match field.name().unwrap_or("") {
            "_csrf" => {
                let v = field.text().await.unwrap_or_default();
                csrf_ok = crate::web::csrf_matches(&viewer, &v);
            }
            "file" => {
                if !csrf_ok {
                    return Err(crate::web::form_expired());
                }
                let name = field.file_name().unwrap_or("").to_owned();
                crate::attach::validate_filename(&name)?;
                let ct = field.content_type().map(str::to_owned);
                let stored = app.files.put(field).await?;
                let db = app.pool.get().await?;
                let f = content::add_draft_file(&db, &viewer, id, &name, ct.as_deref(), &stored)
                    .await?;
                return Ok(Json(json!({
                    "name": f.name,
                    "size": f.size,
                    "url": format!("/download/attachments/{id}/{}", enc(&f.name)),
                }))
                .into_response());
            }
            _ => {}
        }
    }
    Err(Error::BadRequest(
        "send the file as the form's `file` part".into(),
    ))
}

/// Where the editor resumes `d`.
pub(crate) fn resume_url(d: &Draft) -> String {
    match d.page_id {
        Some(p) => format!("/pages/{p}/edit?draft=resume"),
        None => {
            let blog = if d.content_type == ContentType::BlogPost {
                "&type=blogpost"
            } else {
                ""
            };
            format!("/spaces/{}/create?draft={}{blog}", enc(&d.space_key), d.id)
        }
    }
}

/// The editor `d` belongs to, without resuming it.
fn editor_url(d: &Draft) -> String {
    match d.page_id {
        Some(p) => format!("/pages/{p}/edit"),
        None => {
            let blog = if d.content_type == ContentType::BlogPost {
                "?type=blogpost"
            } else {
                ""
            };
            format!("/spaces/{}/create{blog}", enc(&d.space_key))
        }
    }
}

/// The editor's form as a draft: `id` names an existing page (0 for a new
/// one), `draft` a new page's draft saved before.
async fn save(State(app): State<AppState>, Posted { viewer, form }: Posted) -> UiResult<Response> {
    let db = app.pool.get().await?;
    let page_id = form.opt_int::<i64>("id")?.filter(|i| *i > 0);
    let input = DraftInput {
        draft_id: form.opt_int::<i64>("draft")?.filter(|i| *i > 0),
        page_id,
        space_key: form.text("space"),
        content_type: if form.text("type") == "blogpost" {
            ContentType::BlogPost
        } else {
            ContentType::Page
        },
        parent_id: form.opt_int("parent")?,
        title: form.text("title"),
        body: form.text("body"),
        format: match form.text("format") {
            "" => "storage",
            f => f,
        },
        base_version: match page_id {
            Some(_) => form.opt_int("base_version")?,
            None => None,
        },
        labels: form.text("labels"),
    };
    let v = match content::save_draft(&db, &viewer, &input).await? {
        DraftSaved::Saved(d) => json!({
            "state": "saved",
            "draft": d.id,
            "savedAt": d.updated_at.to_rfc3339(),
            "saved": fmt_time(&d.updated_at),
        }),
        DraftSaved::SameAsPage => json!({ "state": "unchanged" }),
        DraftSaved::Published(id) => json!({ "state": "published", "page": id }),
    };
    let mut r = Json(v).into_response();
    r.extensions_mut().insert(crate::http::gate::NoDataChange);
    Ok(r)
}

/// The viewer's drafts for the dashboard, newest first.
async fn list(State(app): State<AppState>, viewer: Viewer) -> Result<Response, Error> {
    viewer.require_user()?;
    let db = app.pool.get().await?;
    let (drafts, _) = content::list_drafts(&db, &viewer, None, &[], 0, 20).await?;
    let items: Vec<_> = drafts
        .iter()
        .map(|d| {
            json!({
                "id": d.content_id(),
                "title": if d.title.trim().is_empty() { "Untitled" } else { d.title.as_str() },
                "url": resume_url(d),
                "space": d.space_name,
                "new": d.page_id.is_none(),
                "savedAt": d.updated_at.to_rfc3339(),
                "saved": fmt_time(&d.updated_at),
            })
        })
        .collect();
    Ok(Json(json!({ "results": items })).into_response())
}

/// Discards the viewer's draft and goes back to its editor (empty or as
/// the page is).
async fn discard(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, .. }: Posted,
) -> UiResult {
    let db = app.pool.get().await?;
    let d = content::discard_draft(&db, &viewer, id).await?;
    let mut r = see_other(&editor_url(&d));
    r.extensions_mut().insert(crate::http::gate::NoDataChange);
    Ok(r)
}
