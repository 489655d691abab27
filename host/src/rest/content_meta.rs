//! Read restrictions (`/restriction/byOperation`), content properties and body
//! conversion (`/contentbody/convert`).
//!
//! Invariant: each checks that the caller may view the content (or use the site)
//! before it answers.

use super::*;

#[utoipa::path(get, path = "/rest/api/content/{id}/restriction/byOperation", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), responses((status = 200, description = "restrictions", body = openapi::Restrictions), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn restrictions(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Api {
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    let r = content::restrictions(&db, &viewer, id)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    let block = |op: &str, grants: &[crate::users::Grant]| {
        let users: Vec<Value> = grants
            .iter()
            .filter(|g| g.kind == "user")
            .map(|g| json!({"type": "known", "username": g.name}))
            .collect();
        let groups: Vec<Value> = grants
            .iter()
            .filter(|g| g.kind == "group")
            .map(|g| json!({"type": "group", "name": g.name}))
            .collect();
        json!({
            "operation": op,
            "restrictions": {
                "user": {"results": users, "start": 0, "limit": 200, "size": users.len()},
                "group": {"results": groups, "start": 0, "limit": 200, "size": groups.len()},
            },
            "_links": {"self": format!("/rest/api/content/{id}/restriction/byOperation/{op}")},
        })
    };
    ok(json!({
        "read": block("read", &r.read),
        "update": block("update", &r.update),
        "_links": {"base": json::base(&app), "context": ""},
    }))
}

#[utoipa::path(get, path = "/rest/api/content/{id}/property", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), responses((status = 200, description = "content properties", body = Object), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn properties(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Api {
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    content::get(&db, &viewer, id)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    ok(json!({"results": [], "start": 0, "limit": 25, "size": 0,
              "_links": {"base": json::base(&app), "context": ""}}))
}

#[utoipa::path(post, path = "/rest/api/contentbody/convert/{to}", params(("to" = String, Path)), request_body = openapi::ConvertInput, responses((status = 200, description = "converted", body = openapi::ConvertedBody), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn convert(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(to): Path<String>,
    Body(b): Body,
) -> Api {
    require_use(&viewer)?;
    let rep = str_at(&b, "representation")?.unwrap_or("storage");
    let value =
        str_at(&b, "value")?.ok_or_else(|| Error::BadRequest("value is required".into()))?;
    if rep != "storage" {
        return Err(Error::BadRequest(format!(
            "cannot convert from {rep:?}; only storage is supported"
        )));
    }
    let out = match to.as_str() {
        "storage" => {
            content::validate_body(value)?;
            value.to_owned()
        }
        "view" | "export_view" | "styled_view" => {
            let db = app.pool.get().await?;
            let space = match json::space_key_hint(&b) {
                Some(k) => k,
                None => content::spaces(&db, &viewer)
                    .await?
                    .first()
                    .map(|s| s.key.clone())
                    .unwrap_or_default(),
            };
            app.presenter
                .render_source(&db, &viewer, &space, None, value)
                .await?
                .html
        }
        other => {
            return Err(Error::BadRequest(format!(
                "cannot convert to {other:?}; use view, export_view or storage"
            )))
        }
    };
    ok(
        json!({"value": out, "representation": to, "_links": {"base": json::base(&app), "context": ""}}),
    )
}
