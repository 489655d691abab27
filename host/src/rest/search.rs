//! `/content/search` and `/search`: CQL over the node's search index.
//!
//! Invariant: results, counts and excerpts are filtered for the caller; a bad query
//! is a 400 that says where it is wrong.

use super::*;
use shapes::SearchList;

#[utoipa::path(get, path = "/rest/api/content/search", params(("cql" = String, Query, description = "CQL"), ("start" = Option<i64>, Query), ("limit" = Option<i64>, Query), ("expand" = Option<String>, Query)), responses((status = 200, description = "search results", body = shapes::SearchList<shapes::Content>), (status = 503, description = "index not open", body = crate::error::ErrorEnvelope)))]
pub(super) async fn content_search(call: Call) -> Api {
    search_inner(&call, false, "/rest/api/content/search").await
}

/// CQL search over this node's index. `wrap` selects the
/// `/rest/api/search` shape (result wrappers) over `/content/search`
/// (plain content objects).
async fn search_inner(call: &Call, wrap: bool, path: &str) -> Api {
    let (app, viewer, p) = (&call.app, &call.viewer, &call.params);
    require_use(viewer)?;
    let t0 = std::time::Instant::now();
    let cql_text = p
        .nonempty("cql")
        .ok_or_else(|| Error::BadRequest("the cql parameter is required".into()))?
        .to_owned();
    let (start, limit) = (p.int("start", 0, 100_000)?, p.int("limit", 25, 500)?);
    let expand = p.expand();
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
    let db = call.db().await?;
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
    let objects = json::contents(&db, viewer, &rows, &expand, app).await?;
    let more = (start + limit) < res.total as i64;
    if !wrap {
        let list = paged(app, path, p, objects, (start, limit), more);
        return ok(with_totals(list, res.total, &cql_text, t0));
    }
    let results = rows
        .iter()
        .zip(objects)
        .map(|(c, content)| {
            let hit = res.hits.iter().find(|h| h.id == c.id);
            shapes::SearchResult {
                title: c.title.clone(),
                excerpt: hit.map(|h| h.excerpt.clone()).unwrap_or_default(),
                url: content.links.webui.clone().unwrap_or_default(),
                result_global_container: shapes::Container {
                    title: c.space_name.clone(),
                    display_url: format!("/spaces/{}", c.space_key),
                },
                entity_type: "content",
                icon_css_class: format!("aui-icon content-type-{}", c.content_type.as_str()),
                last_modified: json::when(&c.modified_at),
                friendly_last_modified: c.modified_at.format("%b %d, %Y").to_string(),
                score: hit.map_or(0.0, |h| f64::from(h.score)),
                content,
            }
        })
        .collect::<Vec<_>>();
    ok(with_totals(
        paged(app, path, p, results, (start, limit), more),
        res.total,
        &cql_text,
        t0,
    ))
}

fn with_totals<T>(list: List<T>, total: usize, cql: &str, t0: std::time::Instant) -> SearchList<T> {
    SearchList {
        list,
        total_size: total,
        cql_query: cql.to_owned(),
        search_duration: t0.elapsed().as_millis() as u64,
    }
}

#[utoipa::path(get, path = "/rest/api/search", params(("cql" = String, Query, description = "CQL"), ("start" = Option<i64>, Query), ("limit" = Option<i64>, Query), ("expand" = Option<String>, Query)), responses((status = 200, description = "search results", body = shapes::SearchList<shapes::SearchResult>), (status = 503, description = "index not open", body = crate::error::ErrorEnvelope)))]
pub(super) async fn search(call: Call) -> Api {
    search_inner(&call, true, "/rest/api/search").await
}
