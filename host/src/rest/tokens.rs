//! Personal access tokens (`/rest/pat/latest/tokens`).
//!
//! Invariant: a token's secret is shown once, at creation; tokens are listed and
//! revoked only by their owner.

use super::*;

#[utoipa::path(post, path = "/rest/pat/latest/tokens", request_body = inputs::TokenInput, responses((status = 201, description = "the token, shown once", body = shapes::TokenCreated)))]
pub(super) async fn pat_create(call: Call, Body(b): Body) -> Api {
    let user = call.viewer.require_user()?;
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
    let db = call.db().await?;
    let (t, raw) = crate::auth::create_token(&db, user.id, name, days).await?;
    Ok((
        StatusCode::CREATED,
        Json(shapes::TokenCreated {
            base: token_base(&t),
            raw_token: raw,
        }),
    )
        .into_response())
}

#[utoipa::path(get, path = "/rest/pat/latest/tokens",  responses((status = 200, description = "the caller's tokens", body = Vec<shapes::Token>)))]
pub(super) async fn pat_list(call: Call) -> Api {
    let user = call.viewer.require_user()?;
    let db = call.db().await?;
    let list: Vec<shapes::Token> = crate::auth::tokens_of(&db, user.id)
        .await?
        .iter()
        .map(|t| shapes::Token {
            base: token_base(t),
            last_accessed_at: t.last_used.map(|e| json::when(&e)),
        })
        .collect();
    ok(list)
}

#[utoipa::path(delete, path = "/rest/pat/latest/tokens/{id}", params(("id" = String, Path)), responses((status = 204, description = "revoked")))]
pub(super) async fn pat_delete(on: On) -> Api {
    let user = on.viewer.require_user()?;
    let id: i64 = on
        .name
        .parse()
        .map_err(|_| Error::NotFound(format!("no token {:?}", on.name)))?;
    let db = on.db().await?;
    if !crate::auth::revoke_token(&db, user.id, id).await? {
        return Err(Error::NotFound(format!("no token {id}")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn token_base(t: &crate::auth::TokenInfo) -> shapes::TokenBase {
    shapes::TokenBase {
        id: t.id,
        name: t.name.clone(),
        created_at: json::when(&t.created),
        expiring_at: t.expires.map(|e| json::when(&e)),
    }
}
