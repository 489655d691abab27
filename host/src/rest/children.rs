//! `/content/{id}/child…` and `/descendant`: a page's child pages, comments and
//! attachments.
//!
//! Invariant: only children the caller may view are listed, and `size`/`_links.next`
//! count only those.

use super::*;

pub(super) async fn children_of(
    app: &AppState,
    viewer: &Viewer,
    id: &str,
    kind: ContentType,
    p: &Params,
    path_suffix: &str,
) -> Result<Value> {
    let id = parse_id(id)?;
    let (start, limit) = if kind == ContentType::Attachment {
        (p.int("start", 0, i64::MAX / 2)?, p.int("limit", 50, 500)?)
    } else {
        p.paging()?
    };
    // Attachment lists carry version and container unless asked otherwise,
    // as in Data Center.
    let expand = if kind == ContentType::Attachment && p.get("expand").is_none() {
        Expand::parse("version,container")?
    } else {
        p.expand()?
    };
    let db = app.pool.get().await?;
    let parent = content::get(&db, viewer, id)
        .await
        .map_err(|e| auth_hint(e, viewer))?;
    let mut f = ListFilter {
        types: vec![kind],
        ..ListFilter::default()
    };
    match kind {
        ContentType::Page if path_suffix == "descendant/page" => f.descendant_of = Some(parent.id),
        ContentType::Page => f.parent = Some(parent.id),
        _ => f.container = Some(parent.id),
    }
    if kind == ContentType::Comment {
        f.comment_location = match p.nonempty("location") {
            None => None,
            Some(l @ ("inline" | "footer" | "resolved")) => Some(l),
            Some(other) => {
                return Err(Error::BadRequest(format!(
                    "location must be inline, footer or resolved, not {other:?}"
                )))
            }
        };
    }
    if kind == ContentType::Attachment {
        f.title = p.nonempty("filename");
        f.media_type = p.nonempty("mediaType");
    }
    let (rows, more) = content::list(&db, viewer, &f, start, limit).await?;
    let mut res = Vec::new();
    for c in &rows {
        res.push(json::content(&db, viewer, c, &expand, app).await?);
    }
    Ok(paged(
        app,
        &format!("/rest/api/content/{id}/{path_suffix}"),
        p,
        res,
        start,
        limit,
        more,
    ))
}

#[utoipa::path(get, path = "/rest/api/content/{id}/child/page", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "child pages", body = openapi::ContentList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn child_pages(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    ok(children_of(
        &app,
        &viewer,
        &id,
        ContentType::Page,
        &Params::from(q),
        "child/page",
    )
    .await?)
}

#[utoipa::path(get, path = "/rest/api/content/{id}/descendant/page", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "descendant pages", body = openapi::ContentList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn descendant_pages(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    ok(children_of(
        &app,
        &viewer,
        &id,
        ContentType::Page,
        &Params::from(q),
        "descendant/page",
    )
    .await?)
}

#[utoipa::path(get, path = "/rest/api/content/{id}/child/comment", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "comments", body = openapi::ContentList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn child_comments(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    ok(children_of(
        &app,
        &viewer,
        &id,
        ContentType::Comment,
        &Params::from(q),
        "child/comment",
    )
    .await?)
}

#[utoipa::path(get, path = "/rest/api/content/{id}/child/attachment", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions"), ("filename" = Option<String>, Query), ("mediaType" = Option<String>, Query)), responses((status = 200, description = "attachments", body = openapi::ContentList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn child_attachments(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    ok(children_of(
        &app,
        &viewer,
        &id,
        ContentType::Attachment,
        &Params::from(q),
        "child/attachment",
    )
    .await?)
}

#[utoipa::path(get, path = "/rest/api/content/{id}/child", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("expand" = Option<String>, Query)), responses((status = 200, description = "children by type", body = Object), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn child_all(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    let p = Params::from(q);
    let expand = p.expand()?;
    let mut out = serde_json::Map::new();
    for (k, kind, suffix) in [
        ("page", ContentType::Page, "child/page"),
        ("comment", ContentType::Comment, "child/comment"),
        ("attachment", ContentType::Attachment, "child/attachment"),
    ] {
        if expand.has(k) {
            out.insert(
                k.into(),
                children_of(&app, &viewer, &id, kind, &p, suffix).await?,
            );
        }
    }
    let db = app.pool.get().await?;
    content::get(&db, &viewer, parse_id(&id)?)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    let mut exp = serde_json::Map::new();
    for k in ["page", "comment", "attachment"] {
        if !out.contains_key(k) {
            exp.insert(k.into(), json!(format!("/rest/api/content/{id}/child/{k}")));
        }
    }
    out.insert("_expandable".into(), Value::Object(exp));
    out.insert("_links".into(), json!({"base": json::base(&app), "context": "", "self": format!("/rest/api/content/{id}/child")}));
    ok(Value::Object(out))
}
