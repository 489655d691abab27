//! `/content/{id}/version`: list and read versions, restore one as a new
//! version (`operationKey: restore`), delete a historical one.
//!
//! Invariant: versions are immutable; a restore writes a new version through
//! the same update as an edit, so it is refused (409) when the content moved
//! on while the request was made.

use super::*;

#[utoipa::path(get, path = "/rest/api/content/{id}/version", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "versions", body = List<shapes::Version>)))]
pub(super) async fn content_versions(on: On) -> Api {
    let id = on.id()?;
    let (start, limit) = on.params.paging()?;
    let db = on.db().await?;
    let c = on.any(&db).await?;
    let all = content::history(&db, &on.viewer, id).await?;
    let more = all.len() as i64 > start + limit;
    let res = all
        .iter()
        .skip(start as usize)
        .take(limit as usize)
        .map(|v| json::version(v, &c))
        .collect();
    let path = format!("/rest/api/content/{id}/version");
    ok(paged(&on.app, &path, &on.params, res, (start, limit), more))
}

#[utoipa::path(get, path = "/rest/api/content/{id}/version/{n}", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("n" = String, Path)), responses((status = 200, description = "one version", body = shapes::Version)))]
pub(super) async fn content_version(call: Call, Path((id, n)): Path<(String, String)>) -> Api {
    let id = parse_id(&id)?;
    let n: i32 = n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        Error::BadRequest(format!("version must be a positive integer, not {n:?}"))
    })?;
    let db = call.db().await?;
    let c = call.hint(content::get_any(&db, &call.viewer, id).await)?;
    let v = content::version(&db, &call.viewer, id, n).await?;
    let mut out = json::version(&v, &c);
    let c = json::content(&db, &call.viewer, &c, &Expand::default(), &call.app).await?;
    out.content = Some(Box::new(c));
    ok(out)
}

#[utoipa::path(post, path = "/rest/api/content/{id}/version", params(("id" = String, Path, description = "content id"), ("expand" = Option<String>, Query)), request_body = inputs::VersionOperationInput, responses((status = 200, description = "the new version, with the content", body = shapes::Version)))]
pub(super) async fn version_operation(on: On, Body(b): Body) -> Api {
    let (app, viewer) = (&on.app, &on.viewer);
    let id = on.id()?;
    match str_at(&b, "operationKey")? {
        Some("restore") => {}
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "unknown operationKey {other:?}; use restore"
            )))
        }
        None => {
            return Err(Error::BadRequest(
                "a version operation needs operationKey (restore)".into(),
            ))
        }
    }
    let n = match pointer(&b, "params.versionNumber") {
        Some(Value::Number(n)) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
        Some(Value::String(s)) => s.trim().parse::<i32>().ok(),
        None | Some(Value::Null) => {
            return Err(Error::BadRequest(
                "restore needs params.versionNumber".into(),
            ))
        }
        Some(_) => None,
    }
    .filter(|n| *n > 0)
    .ok_or_else(|| Error::BadRequest("params.versionNumber must be a positive integer".into()))?;
    let message = str_at(&b, "params.message")?.unwrap_or("");
    if message.contains('\0') {
        return Err(Error::BadRequest(
            "params.message cannot hold the NUL character".into(),
        ));
    }
    let mut db = on.db().await?;
    let c = on.visible(&db).await?;
    if !matches!(c.content_type, ContentType::Page | ContentType::BlogPost) {
        return Err(Error::BadRequest(
            "only pages and blog posts can be restored to a version".into(),
        ));
    }
    if n == c.version {
        return Err(Error::BadRequest(format!(
            "version {n} is already the current version of content {id}"
        )));
    }
    let saved = content::restore_version_saying(&mut db, viewer, id, n, c.version, message).await?;
    let c = match saved {
        Saved::NewVersion(c) | Saved::Unchanged(c) => c,
    };
    let v = content::version(&db, viewer, id, c.version).await?;
    let mut out = json::version(&v, &c);
    let expand = on.params.expand();
    out.content = Some(Box::new(
        json::content(&db, viewer, &c, &expand, app).await?,
    ));
    ok(out)
}

#[utoipa::path(delete, path = "/rest/api/content/{id}/version/{n}", params(("id" = String, Path, description = "content id"), ("n" = String, Path, description = "a historical version number")), responses((status = 204, description = "deleted")))]
pub(super) async fn version_delete(call: Call, Path((id, n)): Path<(String, String)>) -> Api {
    let id = parse_id(&id)?;
    let n: i32 = n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        Error::BadRequest(format!("version must be a positive integer, not {n:?}"))
    })?;
    let db = call.db().await?;
    call.hint(content::get(&db, &call.viewer, id).await)?;
    content::delete_version(&db, &call.viewer, id, n).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
