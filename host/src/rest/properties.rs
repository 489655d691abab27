//! Content properties (`/content/{id}/property[/{key}]`): list, create,
//! read, update with a version number, delete.
//!
//! Invariant: reads need view of the content and writes the checks an edit
//! of it makes (both in `content::properties`); every field of a write is
//! checked before the write.

use super::*;

#[utoipa::path(get, path = "/rest/api/content/{id}/property", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (default 10, max 500)"), ("expand" = Option<String>, Query, description = "content embeds the content")), responses((status = 200, description = "the content's properties, by key", body = List<shapes::ContentProperty>)))]
pub(super) async fn properties(on: On) -> Api {
    let (app, viewer, p) = (&on.app, &on.viewer, &on.params);
    let (start, limit) = (p.int("start", 0, i64::MAX / 2)?, p.int("limit", 10, 500)?);
    let limit = limit.max(1);
    let expand = p.expand();
    let db = on.db().await?;
    let c = on.visible(&db).await?;
    let (rows, more) = content::properties(&db, viewer, c.id, start, limit).await?;
    let mut res = Vec::with_capacity(rows.len());
    for prop in &rows {
        res.push(json::property(&db, viewer, &c, prop, &expand, app).await?);
    }
    let path = format!("/rest/api/content/{}/property", on.name);
    ok(paged(app, &path, p, res, (start, limit), more))
}

/// The property's value from a create or update body: any JSON but null.
fn value_of(b: &Value) -> Result<&Value> {
    match pointer(b, "value") {
        None | Some(Value::Null) => Err(Error::BadRequest(
            "a content property needs a value (any JSON but null)".into(),
        )),
        Some(v) => Ok(v),
    }
}

#[utoipa::path(post, path = "/rest/api/content/{id}/property", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), request_body = inputs::PropertyInput, responses((status = 200, description = "the new property (version 1)", body = shapes::ContentProperty)))]
pub(super) async fn property_create(on: On, Body(b): Body) -> Api {
    let (app, viewer) = (&on.app, &on.viewer);
    let key = str_at(&b, "key")?
        .ok_or_else(|| Error::BadRequest("a content property needs a key".into()))?;
    let value = value_of(&b)?;
    let db = on.db().await?;
    let c = on.visible(&db).await?;
    let change = content::PropertyChange {
        key,
        value,
        version: 1,
        message: str_at(&b, "version.message")?.unwrap_or(""),
        minor_edit: bool_at(&b, "version.minorEdit")?.unwrap_or(false),
    };
    let prop = content::create_property(&db, viewer, c.id, &change).await?;
    ok(json::property(&db, viewer, &c, &prop, &Expand::default(), app).await?)
}

#[utoipa::path(get, path = "/rest/api/content/{id}/property/{key}", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("key" = String, Path, description = "the property key"), ("expand" = Option<String>, Query, description = "content embeds the content")), responses((status = 200, description = "the property", body = shapes::ContentProperty)))]
pub(super) async fn property_get(call: Call, Path((id, key)): Path<(String, String)>) -> Api {
    let (app, viewer) = (&call.app, &call.viewer);
    let id = parse_id(&id)?;
    let db = call.db().await?;
    let c = call.hint(content::get(&db, viewer, id).await)?;
    let prop = content::property(&db, viewer, id, &key).await?;
    ok(json::property(&db, viewer, &c, &prop, &call.params.expand(), app).await?)
}

#[utoipa::path(put, path = "/rest/api/content/{id}/property/{key}", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("key" = String, Path, description = "the property key")), request_body = inputs::PropertyInput, responses((status = 200, description = "the property with its new version (created when missing and version.number is 1)", body = shapes::ContentProperty)))]
pub(super) async fn property_update(
    call: Call,
    Path((id, key)): Path<(String, String)>,
    Body(b): Body,
) -> Api {
    let (app, viewer) = (&call.app, &call.viewer);
    let id = parse_id(&id)?;
    if let Some(k) = str_at(&b, "key")? {
        if k != key {
            return Err(Error::BadRequest(format!(
                "the key in the body ({k:?}) differs from the key in the path ({key:?})"
            )));
        }
    }
    let value = value_of(&b)?;
    let number = match pointer(&b, "version.number") {
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| Error::BadRequest("version.number must be a positive integer".into()))?,
        Some(Value::String(s)) => {
            s.trim()
                .parse::<i32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    Error::BadRequest(format!(
                        "version.number must be a positive integer, not {s:?}"
                    ))
                })?
        }
        None | Some(Value::Null) => {
            return Err(Error::BadRequest(
                "an update needs version.number (the current version + 1; 1 creates the property)"
                    .into(),
            ))
        }
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "version.number must be an integer, not {}",
                kind(other)
            )))
        }
    };
    let db = call.db().await?;
    let c = call.hint(content::get(&db, viewer, id).await)?;
    let change = content::PropertyChange {
        key: &key,
        value,
        version: number,
        message: str_at(&b, "version.message")?.unwrap_or(""),
        minor_edit: bool_at(&b, "version.minorEdit")?.unwrap_or(false),
    };
    let prop = content::update_property(&db, viewer, id, &change).await?;
    ok(json::property(&db, viewer, &c, &prop, &Expand::default(), app).await?)
}

#[utoipa::path(delete, path = "/rest/api/content/{id}/property/{key}", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("key" = String, Path, description = "the property key")), responses((status = 204, description = "deleted")))]
pub(super) async fn property_delete(call: Call, Path((id, key)): Path<(String, String)>) -> Api {
    let id = parse_id(&id)?;
    let db = call.db().await?;
    call.hint(content::get(&db, &call.viewer, id).await)?;
    content::delete_property(&db, &call.viewer, id, &key).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
