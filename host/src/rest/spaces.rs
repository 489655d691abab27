//! `/space`: list, read, create, delete spaces and list a space's content.
//!
//! Invariant: space reads and writes go through `content::spaces` with the caller's
//! permissions; a space the caller may not view is a 404.

use super::*;

#[utoipa::path(get, path = "/rest/api/space", params(("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions"), ("spaceKey" = Option<String>, Query)), responses((status = 200, description = "spaces", body = openapi::SpaceList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn spaces_list(
    State(app): State<AppState>,
    viewer: Viewer,
    RawQuery(q): RawQuery,
) -> Api {
    require_use(&viewer)?;
    let p = Params::from(q);
    let (start, limit) = p.paging()?;
    let expand = p.expand()?;
    let db = app.pool.get().await?;
    let mut all = content::spaces(&db, &viewer).await?;
    if let Some(keys) = p.nonempty("spaceKey") {
        let keys: Vec<String> = keys.split(',').map(|k| k.trim().to_uppercase()).collect();
        all.retain(|s| keys.contains(&s.key.to_uppercase()));
    }
    all.sort_by(|a, b| a.key.cmp(&b.key));
    let more = (all.len() as i64) > start + limit;
    let mut out = Vec::new();
    for s in all.iter().skip(start as usize).take(limit as usize) {
        out.push(json::space(&db, &viewer, s, &expand, &app).await?);
    }
    ok(paged(&app, "/rest/api/space", &p, out, start, limit, more))
}

#[utoipa::path(get, path = "/rest/api/space/{key}", params(("key" = String, Path), ("expand" = Option<String>, Query)), responses((status = 200, description = "the space", body = openapi::Space), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn space_get(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    let p = Params::from(q);
    let expand = p.expand()?;
    let db = app.pool.get().await?;
    let s = content::space(&db, &viewer, &key)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    ok(json::space(&db, &viewer, &s, &expand, &app).await?)
}

#[utoipa::path(post, path = "/rest/api/space", request_body = openapi::SpaceInput, responses((status = 200, description = "the new space", body = openapi::Space), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn space_create(
    State(app): State<AppState>,
    viewer: Viewer,
    Body(b): Body,
) -> Api {
    let key =
        str_at(&b, "key")?.ok_or_else(|| Error::BadRequest("the space needs a key".into()))?;
    let name =
        str_at(&b, "name")?.ok_or_else(|| Error::BadRequest("the space needs a name".into()))?;
    let description = str_at(&b, "description.plain.value")?.unwrap_or("");
    let mut db = app.pool.get().await?;
    let s = content::create_space(&mut db, &viewer, key, name, description).await?;
    let viewer = Viewer::load(&db, viewer.user.clone()).await?;
    let v = json::space(
        &db,
        &viewer,
        &s,
        &Expand::parse("description.plain,homepage")?,
        &app,
    )
    .await?;
    Ok((StatusCode::OK, Json(v)).into_response())
}

#[utoipa::path(delete, path = "/rest/api/space/{key}", params(("key" = String, Path)), responses((status = 204, description = "deleted"), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn space_delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
) -> Api {
    let db = app.pool.get().await?;
    content::delete_space(&db, &viewer, &key).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/rest/api/space/{key}/content", params(("key" = String, Path), ("depth" = Option<String>, Query), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "pages and blog posts", body = Object), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn space_content(
    state: State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
    q: RawQuery,
) -> Api {
    space_content_inner(state, viewer, key, None, q).await
}

#[utoipa::path(get, path = "/rest/api/space/{key}/content/{kind}", params(("key" = String, Path), ("kind" = String, Path), ("depth" = Option<String>, Query), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "content of one type", body = openapi::ContentList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn space_content_typed(
    state: State<AppState>,
    viewer: Viewer,
    Path((key, kind)): Path<(String, String)>,
    q: RawQuery,
) -> Api {
    space_content_inner(state, viewer, key, Some(kind), q).await
}

pub(super) async fn space_content_inner(
    State(app): State<AppState>,
    viewer: Viewer,
    key: String,
    kind: Option<String>,
    RawQuery(q): RawQuery,
) -> Api {
    let p = Params::from(q);
    let (start, limit) = p.paging()?;
    let expand = p.expand()?;
    let root = match p.nonempty("depth") {
        None | Some("all") => false,
        Some("root") => true,
        Some(d) => {
            return Err(Error::BadRequest(format!(
                "depth must be all or root, not {d:?}"
            )))
        }
    };
    let db = app.pool.get().await?;
    let s = content::space(&db, &viewer, &key)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    let kinds: Vec<ContentType> = match kind.as_deref() {
        Some(k) => vec![parse_type(k)?],
        None => vec![ContentType::Page, ContentType::BlogPost],
    };
    let mut out = serde_json::Map::new();
    for k in kinds {
        let f = ListFilter {
            space_id: Some(s.id),
            types: vec![k],
            root_only: root && k == ContentType::Page,
            ..ListFilter::default()
        };
        let (rows, more) = content::list(&db, &viewer, &f, start, limit).await?;
        let mut res = Vec::new();
        for c in &rows {
            res.push(json::content(&db, &viewer, c, &expand, &app).await?);
        }
        let path = format!("/rest/api/space/{}/content/{}", s.key, k.as_str());
        out.insert(
            k.as_str().into(),
            paged(&app, &path, &p, res, start, limit, more),
        );
    }
    if kind.is_some() {
        let (_, v) = out.into_iter().next().unwrap_or_default();
        return ok(v);
    }
    out.insert(
        "_links".into(),
        json!({"base": json::base(&app), "context": ""}),
    );
    ok(Value::Object(out))
}

pub(super) fn parse_type(k: &str) -> Result<ContentType> {
    match k {
        "page" => Ok(ContentType::Page),
        "blogpost" => Ok(ContentType::BlogPost),
        "comment" => Ok(ContentType::Comment),
        "attachment" => Ok(ContentType::Attachment),
        other => Err(Error::BadRequest(format!(
            "unknown content type {other:?}; use page, blogpost, comment or attachment"
        ))),
    }
}
