//! `/content/search` and `/search`: CQL over the node's search index.
//!
//! Invariant: results, counts and excerpts are filtered for the caller; a bad query
//! is a 400 that says where it is wrong.

use super::*;

#[utoipa::path(get, path = "/rest/api/content/search", params(("cql" = String, Query, description = "CQL"), ("start" = Option<i64>, Query), ("limit" = Option<i64>, Query), ("expand" = Option<String>, Query)), responses((status = 200, description = "search results", body = Object), (status = 503, description = "index not open", body = openapi::ErrorEnvelope), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn content_search(
    State(app): State<AppState>,
    viewer: Viewer,
    RawQuery(q): RawQuery,
) -> Api {
    search_inner(&app, &viewer, q, false, "/rest/api/content/search").await
}

/// CQL search over this node's index. `wrap` selects the
/// `/rest/api/search` shape (result wrappers) over `/content/search`
/// (plain content objects).
pub(super) async fn search_inner(
    app: &AppState,
    viewer: &Viewer,
    q: Option<String>,
    wrap: bool,
    path: &str,
) -> Api {
    require_use(viewer)?;
    let t0 = std::time::Instant::now();
    let p = Params::from(q);
    let cql_text = p
        .nonempty("cql")
        .ok_or_else(|| Error::BadRequest("the cql parameter is required".into()))?
        .to_owned();
    let (start, limit) = (p.int("start", 0, 100_000)?, p.int("limit", 25, 500)?);
    let expand = p.expand()?;
    let ctx = cairn_cql::Context {
        now: chrono::Utc::now(),
        current_user: viewer.user.as_ref().map(|u| u.username.as_str()),
    };
    let cql = cairn_cql::parse(&cql_text, &ctx)
        .map_err(|e| Error::BadRequest(format!("Could not parse cql : {cql_text}: {e}")))?;
    let index = app
        .search
        .as_ref()
        .ok_or_else(|| Error::Unavailable("the search index is not open on this node".into()))?;
    let db = app.pool.get().await?;
    let res = index
        .search(&db, viewer, &cql, start as usize, limit as usize)
        .await?;
    let ids: Vec<i64> = res.hits.iter().map(|h| h.id).collect();
    let mut rows = if expand.has("body") {
        content::get_many(&db, viewer, &ids).await?
    } else {
        content::get_many_meta(&db, viewer, &ids).await?
    };
    match cql.order_by.first() {
        Some((cairn_cql::OrderField::Title, d)) => {
            rows.sort_by_key(|c| c.title.to_lowercase());
            if *d == cairn_cql::Direction::Desc {
                rows.reverse();
            }
        }
        Some((cairn_cql::OrderField::Space, d)) => {
            rows.sort_by_key(|c| c.space_key.to_lowercase());
            if *d == cairn_cql::Direction::Desc {
                rows.reverse();
            }
        }
        _ => {}
    }
    let mut results = Vec::new();
    for c in &rows {
        let obj = json::content(&db, viewer, c, &expand, app).await?;
        if wrap {
            let hit = res.hits.iter().find(|h| h.id == c.id);
            let url = obj["_links"]["webui"].clone();
            let mut r = json!({
                "title": c.title,
                // Escaped text with <b> highlights (see `search::excerpt`).
                "excerpt": hit.map(|h| h.excerpt.clone()).unwrap_or_default(),
                "url": url,
                "resultGlobalContainer": {"title": c.space_name, "displayUrl": format!("/spaces/{}", c.space_key)},
                "entityType": "content",
                "iconCssClass": format!("aui-icon content-type-{}", c.content_type.as_str()),
                "lastModified": json::when(&c.modified_at),
                "friendlyLastModified": c.modified_at.format("%b %d, %Y").to_string(),
                "score": hit.map(|h| h.score).unwrap_or(0.0),
            });
            r["content"] = obj;
            results.push(r);
        } else {
            results.push(obj);
        }
    }
    let more = (start + limit) < res.total as i64;
    let mut v = paged(app, path, &p, results, start, limit, more);
    v["totalSize"] = json!(res.total);
    v["cqlQuery"] = json!(cql_text);
    v["searchDuration"] = json!(t0.elapsed().as_millis() as u64);
    ok(v)
}

#[utoipa::path(get, path = "/rest/api/search", params(("cql" = String, Query, description = "CQL"), ("start" = Option<i64>, Query), ("limit" = Option<i64>, Query), ("expand" = Option<String>, Query)), responses((status = 200, description = "search results", body = Object), (status = 503, description = "index not open", body = openapi::ErrorEnvelope), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
pub(super) async fn search(
    State(app): State<AppState>,
    viewer: Viewer,
    RawQuery(q): RawQuery,
) -> Api {
    search_inner(&app, &viewer, q, true, "/rest/api/search").await
}
