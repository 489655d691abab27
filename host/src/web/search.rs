//! The search page (results with highlighted excerpts, filters, paging) and
//! the search box's as-you-type title suggestions.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::{fmt_time, IntoHtml, Layout, UiResult, WithNext};
use crate::content;
use crate::error::Error;
use crate::perms::Viewer;
use crate::urls::page_url;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/search", get(search_page))
        .route("/ui/suggest", get(suggest))
}

#[derive(Deserialize, Default, Clone)]
pub(crate) struct SearchQ {
    #[serde(default)]
    q: String,
    #[serde(default)]
    space: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    contributor: String,
    #[serde(default)]
    modified: String,
    /// Advanced mode: CQL as typed (the filters above are then ignored).
    #[serde(default)]
    cql: String,
    /// `modified` or `created` (newest first); empty = relevance.
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: usize,
}

struct ResultRow {
    title: String,
    url: String,
    space: String,
    kind: String,
    excerpt: String,
    meta: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    q: String,
    space: String,
    kind: String,
    label: String,
    contributor: String,
    modified: String,
    spaces: Vec<(String, String)>,
    results: Vec<ResultRow>,
    total: usize,
    error: String,
    /// Set while this node's index is being rebuilt: results are incomplete.
    degraded: bool,
    prev: String,
    next: String,
    searched: bool,
    /// The CQL the search ran (advanced mode shows it for editing).
    cql: String,
    advanced: bool,
    sort: String,
    /// Where a CQL error is: the CQL and a caret line under it.
    error_at: Option<(String, String)>,
    /// (label, count, link) per content type and per space.
    type_facets: Vec<(String, usize, String)>,
    space_facets: Vec<(String, usize, String)>,
    label_facets: Vec<(String, usize, String)>,
    contributor_facets: Vec<(String, usize, String)>,
    /// People and spaces whose names match the words searched.
    people: Vec<(String, String)>,
    space_matches: Vec<(String, String)>,
}

const PER_PAGE: usize = 20;

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The page's filters as CQL.
fn to_cql(q: &SearchQ) -> String {
    let mut parts = Vec::new();
    let text = q.q.trim();
    if !text.is_empty() {
        // What the search box suggests (titles with a word starting with
        // what was typed) is found here too: the last word also matches as
        // a prefix in titles.
        let last = text.split_whitespace().last().unwrap_or("");
        if last.chars().count() >= 2 && !text.contains(['*', '?', '"', '\\']) {
            parts.push(format!(
                "(text ~ {} OR title ~ {})",
                quote(text),
                quote(&format!("{text}*"))
            ));
        } else {
            parts.push(format!("text ~ {}", quote(text)));
        }
    }
    if !q.space.is_empty() {
        parts.push(format!("space = {}", quote(&q.space)));
    }
    match q.kind.as_str() {
        "page" | "blogpost" | "comment" | "attachment" => parts.push(format!("type = {}", q.kind)),
        _ => {}
    }
    if !q.label.trim().is_empty() {
        parts.push(format!("label = {}", quote(q.label.trim())));
    }
    if !q.contributor.trim().is_empty() {
        parts.push(format!("contributor = {}", quote(q.contributor.trim())));
    }
    match q.modified.as_str() {
        "1d" | "1w" | "1M" | "1y" => {
            parts.push(format!("lastmodified >= now(\"-{}\")", q.modified))
        }
        _ => {}
    }
    parts.join(" AND ")
}

fn link(q: &SearchQ, page: usize) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("q", q.q.as_str()),
        ("space", &q.space),
        ("type", &q.kind),
        ("label", &q.label),
        ("contributor", &q.contributor),
        ("modified", &q.modified),
        ("cql", &q.cql),
        ("sort", &q.sort),
    ] {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    s.append_pair("page", &page.to_string());
    format!("/search?{}", s.finish())
}

async fn search_page(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(q): Query<SearchQ>,
) -> UiResult {
    if !viewer.can_use {
        return Err(Error::Unauthorized("log in to search".into())).next("/search");
    }
    let db = app.pool.get().await?;
    let visible = content::spaces(&db, &viewer).await?;
    let spaces = visible
        .iter()
        .map(|s| (s.key.clone(), s.name.clone()))
        .collect();
    let advanced = !q.cql.trim().is_empty();
    let mut cql_text = if advanced {
        q.cql.trim().to_owned()
    } else {
        to_cql(&q)
    };
    if !advanced {
        match q.sort.as_str() {
            "modified" => cql_text.push_str(" ORDER BY lastmodified DESC"),
            "created" => cql_text.push_str(" ORDER BY created DESC"),
            _ => {}
        }
        cql_text = cql_text.trim().to_owned();
    }
    let mut page = SearchPage {
        layout: Layout::new("Search", &viewer),
        q: q.q.clone(),
        space: q.space.clone(),
        kind: q.kind.clone(),
        label: q.label.clone(),
        contributor: q.contributor.clone(),
        modified: q.modified.clone(),
        spaces,
        results: Vec::new(),
        total: 0,
        error: String::new(),
        degraded: app.search.as_ref().is_some_and(|i| i.degraded().is_some()),
        prev: String::new(),
        next: String::new(),
        searched: !cql_text.is_empty(),
        cql: cql_text.clone(),
        advanced,
        sort: q.sort.clone(),
        error_at: None,
        type_facets: Vec::new(),
        space_facets: Vec::new(),
        label_facets: Vec::new(),
        contributor_facets: Vec::new(),
        people: Vec::new(),
        space_matches: Vec::new(),
    };
    if !advanced && !q.q.trim().is_empty() && q.page == 0 {
        let words = q.q.trim().to_lowercase();
        page.space_matches = visible
            .iter()
            .filter(|s| s.name.to_lowercase().contains(&words) || s.key.to_lowercase() == words)
            .take(5)
            .map(|s| {
                (
                    format!("/spaces/{}", crate::urls::enc(&s.key)),
                    s.name.clone(),
                )
            })
            .collect();
        page.people = crate::users::matching(&db, &words, 5)
            .await?
            .into_iter()
            .map(|u| (crate::urls::user_url(&u.username), u.display_name))
            .collect();
    }
    if cql_text.is_empty() {
        return Ok(page.into_html());
    }
    let ctx = cairn_cql::Context {
        now: chrono::Utc::now(),
        current_user: viewer.user.as_ref().map(|u| u.username.as_str()),
    };
    let cql = match cairn_cql::parse(&cql_text, &ctx) {
        Ok(c) => c,
        Err(e) => {
            page.error = e.to_string();
            // The caret under the character where parsing stopped.
            let caret: String = cql_text
                .chars()
                .take(e.position)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            page.error_at = Some((cql_text.clone(), format!("{caret}^")));
            let mut r = page.into_html();
            *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            return Ok(r);
        }
    };
    let index = app
        .search
        .as_ref()
        .ok_or_else(|| Error::Unavailable("search is not available on this node yet".into()))?;
    let res = index
        .search(&db, &viewer, &cql, q.page * PER_PAGE, PER_PAGE)
        .await?;
    let facets = index.facets(&db, &viewer, &cql).await?;
    // Refining links keep the simple form's other filters; in advanced mode
    // the counts are shown without links (the CQL is the user's to edit).
    let refine = |set: &dyn Fn(&mut SearchQ)| {
        if advanced {
            return String::new();
        }
        let mut r = SearchQ {
            page: 0,
            ..q.clone()
        };
        set(&mut r);
        link(&r, 0)
    };
    page.type_facets = facets
        .types
        .iter()
        .map(|(t, n)| {
            let label = match *t {
                "page" => "Pages",
                "blogpost" => "Blog posts",
                "comment" => "Comments",
                _ => "Attachments",
            };
            (label.to_owned(), *n, refine(&|r| r.kind = (*t).to_owned()))
        })
        .collect();
    page.space_facets = facets
        .spaces
        .iter()
        .filter_map(|(id, n)| {
            let s = visible.iter().find(|s| s.id == *id)?;
            Some((s.name.clone(), *n, refine(&|r| r.space = s.key.clone())))
        })
        .collect();
    page.label_facets = facets
        .labels
        .iter()
        .map(|(l, n)| (l.clone(), *n, refine(&|r| r.label = l.clone())))
        .collect();
    let usernames: Vec<String> = facets.contributors.iter().map(|c| c.0.clone()).collect();
    let names = crate::users::display_names(&db, &usernames).await?;
    page.contributor_facets = facets
        .contributors
        .iter()
        .map(|(u, n)| {
            let shown = names.get(u).cloned().unwrap_or_else(|| u.clone());
            (shown, *n, refine(&|r| r.contributor = u.clone()))
        })
        .collect();
    let ids: Vec<i64> = res.hits.iter().map(|h| h.id).collect();
    let mut rows = content::get_many_meta(&db, &viewer, &ids).await?;
    // In the order of the hits (relevance or the CQL's ORDER BY), not the
    // database's.
    rows.sort_by_key(|c| ids.iter().position(|i| *i == c.id).unwrap_or(usize::MAX));
    for c in rows {
        let hit = res.hits.iter().find(|h| h.id == c.id);
        let url = match c.content_type {
            content::ContentType::Page | content::ContentType::BlogPost => {
                page_url(&c.space_key, c.id, &c.title)
            }
            content::ContentType::Comment => format!(
                "/pages/viewpage.action?pageId={}#comment-{}",
                c.container_id.unwrap_or(0),
                c.id
            ),
            content::ContentType::Attachment => {
                format!("/pages/{}/attachments", c.container_id.unwrap_or(0))
            }
        };
        page.results.push(ResultRow {
            title: c.title.clone(),
            url,
            space: c.space_name.clone(),
            kind: c.content_type.as_str().to_owned(),
            // Escaped text with <b> highlights (see `search::excerpt`).
            excerpt: hit.map(|h| h.excerpt.clone()).unwrap_or_default(),
            meta: format!("{} · {}", c.modifier.display_name, fmt_time(&c.modified_at)),
        });
    }
    page.total = res.total;
    if q.page > 0 {
        page.prev = link(&q, q.page - 1);
    }
    if (q.page + 1) * PER_PAGE < res.total {
        page.next = link(&q, q.page + 1);
    }
    Ok(page.into_html())
}

#[derive(Deserialize)]
struct SuggestQ {
    q: String,
}

/// Titles for the search box as the user types (JSON).
async fn suggest(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(q): Query<SuggestQ>,
) -> Response {
    let r: Result<Vec<serde_json::Value>, Error> = async {
        let Some(index) = app.search.as_ref() else { return Ok(Vec::new()) };
        if !viewer.can_use {
            return Ok(Vec::new());
        }
        let db = app.pool.get().await?;
        let ids = index.suggest(&db, &viewer, &q.q).await?;
        Ok(content::get_many_meta(&db, &viewer, &ids)
            .await?
            .into_iter()
            .map(|c| serde_json::json!({"title": c.title, "url": page_url(&c.space_key, c.id, &c.title), "space": c.space_name}))
            .collect())
    }
    .await;
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}
