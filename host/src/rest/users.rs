//! `/user` and `/user/current`: Confluence's user shape for a username or user key,
//! and the caller (anonymous included).
//!
//! Invariant: only signed-in callers (or anonymous where the site allows use) look
//! users up (`require_use`).

use super::*;

#[utoipa::path(get, path = "/rest/api/user", params(("username" = Option<String>, Query), ("key" = Option<String>, Query)), responses((status = 200, description = "the user", body = shapes::User)))]
pub(super) async fn user_get(call: Call) -> Api {
    require_use(&call.viewer)?;
    let p = &call.params;
    let db = call.db().await?;
    let user = if let Some(u) = p.nonempty("username") {
        crate::users::by_name(&db, u).await?
    } else if let Some(k) = p.nonempty("key").or_else(|| p.nonempty("accountId")) {
        crate::users::by_key(&db, k).await?
    } else {
        return Err(Error::BadRequest("give username or key".into()));
    };
    let u =
        user.ok_or_else(|| Error::NotFound("No user found with the given username or key".into()))?;
    ok(shapes::User::known(
        &u.username,
        &u.display_name,
        &u.user_key,
    ))
}

#[utoipa::path(get, path = "/rest/api/user/current",  responses((status = 200, description = "the caller", body = shapes::User)))]
pub(super) async fn user_current(call: Call) -> Api {
    match &call.viewer.user {
        Some(u) => ok(shapes::User::known(
            &u.username,
            &u.display_name,
            &u.user_key,
        )),
        None => ok(shapes::User {
            links: Some(Links::base(&call.base())),
            ..shapes::User::anonymous("Anonymous")
        }),
    }
}
