//! `/user` and `/user/current`: Confluence's user shape for a username or user key,
//! and the caller (anonymous included).
//!
//! Invariant: only signed-in callers (or anonymous where the site allows use) look
//! users up (`require_use`).

use super::*;

#[utoipa::path(get, path = "/rest/api/user", params(("username" = Option<String>, Query), ("key" = Option<String>, Query)), responses((status = 200, description = "the user", body = openapi::User), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn user_get(
    State(app): State<AppState>,
    viewer: Viewer,
    RawQuery(q): RawQuery,
) -> Api {
    require_use(&viewer)?;
    let p = Params::from(q);
    let db = app.pool.get().await?;
    let user = if let Some(u) = p.nonempty("username") {
        crate::users::by_name(&db, u).await?
    } else if let Some(k) = p.nonempty("key").or_else(|| p.nonempty("accountId")) {
        crate::users::by_key(&db, k).await?
    } else {
        return Err(Error::BadRequest("give username or key".into()));
    };
    let u =
        user.ok_or_else(|| Error::NotFound("No user found with the given username or key".into()))?;
    ok(json::user_json(&u.username, &u.display_name, &u.user_key))
}

#[utoipa::path(get, path = "/rest/api/user/current",  responses((status = 200, description = "the caller", body = openapi::User), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn user_current(State(app): State<AppState>, viewer: Viewer) -> Api {
    match &viewer.user {
        Some(u) => ok(json::user_json(&u.username, &u.display_name, &u.user_key)),
        None => ok(json!({"type": "anonymous", "displayName": "Anonymous",
                          "_links": {"base": json::base(&app), "context": ""}})),
    }
}
