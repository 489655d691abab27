//! Resolving inline comments: `PUT /rest/cairn/1.0/comments/{id}/resolution`
//! with `{"status": "resolved"}` or `{"status": "open"}` (reopen). Listing and
//! creating inline comments is Confluence's own API (`child/comment?location=
//! inline`, `extensions.inlineProperties` on create).
//!
//! Invariant: no SQL here (`content::set_resolution`).

use super::*;

pub(super) async fn comment_resolution(on: On, Body(body): Body) -> Api {
    let id = on.id()?;
    let resolved = match str_at(&body, "status")? {
        Some("resolved") => true,
        Some("open" | "reopened") => false,
        _ => {
            return Err(Error::BadRequest(
                "status must be resolved, open or reopened".into(),
            ))
        }
    };
    let mut db = on.db().await?;
    let i = on.hint(content::set_resolution(&mut db, &on.viewer, id, resolved).await)?;
    ok(shapes::ResolutionChange {
        id: id.to_string(),
        marker_ref: i.marker_ref,
        status: i.resolution,
    })
}
