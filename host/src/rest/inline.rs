//! Resolving inline comments: `PUT /rest/cairn/1.0/comments/{id}/resolution`
//! with `{"status": "resolved"}` or `{"status": "open"}` (reopen). Listing and
//! creating inline comments is Confluence's own API (`child/comment?location=
//! inline`, `extensions.inlineProperties` on create).
//!
//! Invariant: no SQL here (`content::set_resolution`).

use super::*;

pub(super) async fn comment_resolution(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Body(body): Body,
) -> Api {
    let id = parse_id(&id)?;
    let resolved = match str_at(&body, "status")? {
        Some("resolved") => true,
        Some("open" | "reopened") => false,
        _ => {
            return Err(Error::BadRequest(
                "status must be resolved, open or reopened".into(),
            ))
        }
    };
    let db = app.pool.get().await?;
    let i = content::set_resolution(&db, &viewer, id, resolved)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    ok(json!({"id": id.to_string(), "markerRef": i.marker_ref, "status": i.resolution}))
}
