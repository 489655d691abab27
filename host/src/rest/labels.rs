//! `/content/{id}/label`: list, add and remove labels.
//!
//! Invariant: label names are validated like the UI's; bad names are a 400 that
//! names the label.

use super::*;

pub(super) async fn label_list(
    app: &AppState,
    db: &impl deadpool_postgres::GenericClient,
    id: i64,
) -> Result<Value> {
    let names = content::labels(db, id).await?;
    let res: Vec<Value> = names.iter().map(|n| json::label(n)).collect();
    let n = res.len();
    Ok(json!({"results": res, "start": 0, "limit": 200, "size": n,
              "_links": {"self": format!("/rest/api/content/{id}/label"), "base": json::base(app), "context": ""}}))
}

#[utoipa::path(get, path = "/rest/api/content/{id}/label", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), responses((status = 200, description = "labels", body = openapi::LabelList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn labels_get(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Api {
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    content::get(&db, &viewer, id)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    ok(label_list(&app, &db, id).await?)
}

#[utoipa::path(post, path = "/rest/api/content/{id}/label", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), request_body = Vec<openapi::LabelInput>, responses((status = 200, description = "all labels", body = openapi::LabelList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn labels_post(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Body(b): Body,
) -> Api {
    let id = parse_id(&id)?;
    let items: Vec<Value> = match b {
        Value::Array(a) => a,
        o @ Value::Object(_) => vec![o],
        _ => unreachable!("Body accepts only objects and arrays"),
    };
    let mut names = Vec::new();
    for it in &items {
        if let Some(prefix) = str_at(it, "prefix")? {
            if !["global", "my", "team"].contains(&prefix) {
                return Err(Error::BadRequest(format!(
                    "unknown label prefix {prefix:?}; use global"
                )));
            }
        }
        let n = str_at(it, "name")?
            .ok_or_else(|| Error::BadRequest("each label needs a name".into()))?;
        names.push(n.to_owned());
    }
    let db = app.pool.get().await?;
    content::add_labels(&db, &viewer, id, &names)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    ok(label_list(&app, &db, id).await?)
}

#[utoipa::path(delete, path = "/rest/api/content/{id}/label", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("name" = String, Query)), responses((status = 204, description = "removed"), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn label_delete_q(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    let p = Params::from(q);
    let name = p
        .nonempty("name")
        .ok_or_else(|| Error::BadRequest("name is required".into()))?
        .to_owned();
    remove_label(&app, &viewer, &id, &name).await
}

#[utoipa::path(delete, path = "/rest/api/content/{id}/label/{name}", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("name" = String, Path)), responses((status = 204, description = "removed"), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn label_delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((id, name)): Path<(String, String)>,
) -> Api {
    remove_label(&app, &viewer, &id, &name).await
}

pub(super) async fn remove_label(app: &AppState, viewer: &Viewer, id: &str, name: &str) -> Api {
    let id = parse_id(id)?;
    let db = app.pool.get().await?;
    content::remove_label(&db, viewer, id, name)
        .await
        .map_err(|e| auth_hint(e, viewer))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
