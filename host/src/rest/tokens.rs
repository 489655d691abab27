//! Personal access tokens (`/rest/pat/latest/tokens`).
//!
//! Invariant: a token's secret is shown once, at creation; tokens are listed and
//! revoked only by their owner.

use super::*;

#[utoipa::path(post, path = "/rest/pat/latest/tokens", request_body = openapi::TokenInput, responses((status = 201, description = "the token, shown once", body = openapi::TokenCreated), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn pat_create(State(app): State<AppState>, viewer: Viewer, Body(b): Body) -> Api {
    let user = viewer.require_user()?.clone();
    let name =
        str_at(&b, "name")?.ok_or_else(|| Error::BadRequest("a token needs a name".into()))?;
    let days = match b.get("expirationDuration") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_i64().ok_or_else(|| {
            Error::BadRequest("expirationDuration must be a whole number of days".into())
        })?),
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "expirationDuration must be a number of days, not {}",
                kind(other)
            )))
        }
    };
    let db = app.pool.get().await?;
    let (t, raw) = crate::auth::create_token(&db, user.id, name, days).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": t.id,
            "name": t.name,
            "createdAt": json::when(&t.created),
            "expiringAt": t.expires.map(|e| json::when(&e)),
            "rawToken": raw,
        })),
    )
        .into_response())
}

#[utoipa::path(get, path = "/rest/pat/latest/tokens",  responses((status = 200, description = "the caller's tokens", body = Vec<openapi::Token>), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn pat_list(State(app): State<AppState>, viewer: Viewer) -> Api {
    let user = viewer.require_user()?.clone();
    let db = app.pool.get().await?;
    let list: Vec<Value> = crate::auth::tokens_of(&db, user.id)
        .await?
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "name": t.name,
                "createdAt": json::when(&t.created),
                "expiringAt": t.expires.map(|e| json::when(&e)),
                "lastAccessedAt": t.last_used.map(|e| json::when(&e)),
            })
        })
        .collect();
    ok(Value::Array(list))
}

#[utoipa::path(delete, path = "/rest/pat/latest/tokens/{id}", params(("id" = String, Path)), responses((status = 204, description = "revoked"), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn pat_delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Api {
    let user = viewer.require_user()?.clone();
    let id: i64 = id
        .parse()
        .map_err(|_| Error::NotFound(format!("no token {id:?}")))?;
    let db = app.pool.get().await?;
    if !crate::auth::revoke_token(&db, user.id, id).await? {
        return Err(Error::NotFound(format!("no token {id}")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
