//! The Confluence Server/Data Center REST API v1 under `/rest/api` (and
//! `/rest/api/latest`), plus the few non-`/rest/api` paths real clients call
//! (`/rest/pat/latest/tokens`, `/json/removeattachment.action`,
//! `/rest/experimental/content/{id}/version`).
//!
//! Invariants: every handler goes through the same services and permission
//! checks as the UI; every error is the Confluence envelope (`error.rs`);
//! bad input of any kind is a 4xx that says what is wrong, never a 500 and
//! never a partial write; list endpoints emit `_links.next` only when more
//! results exist, as a path relative to the base that repeats every query
//! parameter.

pub mod cluster;
pub mod json;
pub mod openapi;
pub mod plugins;

use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::attach::{self, NewFile};
use crate::content::{self, ContentType, ListFilter, Saved};
use crate::error::{Error, Result};
use crate::perms::Viewer;
use crate::AppState;

pub use json::Expand;

/// Mounted at both `/rest/api` and `/rest/api/latest`.
fn api() -> Router<AppState> {
    Router::new()
        .route("/space", get(spaces_list).post(space_create))
        .route("/space/{key}", get(space_get).delete(space_delete))
        .route("/space/{key}/content", get(space_content))
        .route("/space/{key}/content/{kind}", get(space_content_typed))
        .route("/content", get(content_list).post(content_create))
        .route(
            "/content/{id}",
            get(content_get)
                .put(content_update)
                .delete(content_delete)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/content/{id}/history", get(content_history))
        .route("/content/{id}/version", get(content_versions))
        .route("/content/{id}/version/{n}", get(content_version))
        .route("/content/{id}/download", get(attachment_download))
        .route("/content/{id}/child", get(child_all))
        .route("/content/{id}/child/page", get(child_pages))
        .route("/content/{id}/child/comment", get(child_comments))
        .route(
            "/content/{id}/child/attachment",
            get(child_attachments)
                .post(attachment_create)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/content/{id}/child/attachment/{att}/data",
            post(attachment_data).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/content/{id}/descendant/page", get(descendant_pages))
        .route(
            "/content/{id}/label",
            get(labels_get).post(labels_post).delete(label_delete_q),
        )
        .route("/content/{id}/label/{name}", delete(label_delete))
        .route("/content/{id}/restriction/byOperation", get(restrictions))
        .route("/content/{id}/property", get(properties))
        .route("/contentbody/convert/{to}", post(convert))
        .route("/search", get(search))
        .route("/content/search", get(content_search))
        .route("/openapi.json", get(openapi_json))
        .route("/user", get(user_get))
        .route("/user/current", get(user_current))
        .fallback(not_found)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .nest("/rest/api/latest", api())
        .nest("/rest/api", api())
        .route("/rest/pat/latest/tokens", get(pat_list).post(pat_create))
        .route("/rest/pat/latest/tokens/{id}", delete(pat_delete))
        .route(
            "/rest/likes/1.0/content/{id}/likes",
            get(likes_get).post(likes_post).delete(likes_delete),
        )
        .route(
            "/rest/experimental/content/{id}/version",
            get(content_versions),
        )
        .route(
            "/json/removeattachment.action",
            post(remove_attachment_action),
        )
        .merge(plugins::routes())
        .merge(cluster::routes())
}

async fn not_found(method: Method, uri: axum::http::Uri) -> Error {
    Error::NotFound(format!("no REST resource {method} {}", uri.path()))
}

// ---------------------------------------------------------------- plumbing

/// Parsed query string; `+` is a space, repeated keys keep the first value.
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    fn from(q: Option<String>) -> Params {
        Params {
            pairs: form_urlencoded::parse(q.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }
    pub fn get(&self, k: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.as_str())
    }
    fn nonempty(&self, k: &str) -> Option<&str> {
        self.get(k).map(str::trim).filter(|v| !v.is_empty())
    }
    fn int(&self, k: &str, default: i64, max: i64) -> Result<i64> {
        match self.nonempty(k) {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n >= 0 => Ok(n.min(max)),
                _ => Err(Error::BadRequest(format!(
                    "query parameter {k} must be a non-negative integer, not {v:?}"
                ))),
            },
        }
    }
    fn expand(&self) -> Result<Expand> {
        Expand::parse(self.get("expand").unwrap_or(""))
    }
    /// `start` and `limit` (default 25, at most 500).
    fn paging(&self) -> Result<(i64, i64)> {
        Ok((
            self.int("start", 0, i64::MAX / 2)?,
            self.int("limit", 25, 500)?,
        ))
    }
}

/// A paged response in Confluence's shape. `next`/`prev` repeat every
/// original parameter with a new `start`, relative to the base, and `next`
/// is present only when more results exist.
fn paged(
    app: &AppState,
    path: &str,
    params: &Params,
    results: Vec<Value>,
    start: i64,
    limit: i64,
    more: bool,
) -> Value {
    let link = |s: i64| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params.pairs {
            if k != "start" && k != "limit" {
                q.append_pair(k, v);
            }
        }
        q.append_pair("limit", &limit.to_string());
        q.append_pair("start", &s.to_string());
        format!("{path}?{}", q.finish())
    };
    let mut links = serde_json::Map::new();
    links.insert("self".into(), json!(path));
    links.insert("base".into(), json!(json::base(app)));
    links.insert("context".into(), json!(""));
    if more {
        links.insert("next".into(), json!(link(start + limit)));
    }
    if start > 0 {
        links.insert("prev".into(), json!(link((start - limit).max(0))));
    }
    // Moved in, not through `json!`, which would deep-copy every result.
    let mut v = json!({"start": start, "limit": limit, "size": results.len()});
    v["results"] = Value::Array(results);
    v["_links"] = Value::Object(links);
    v
}

/// A JSON request body. Malformed JSON and non-objects are 400s that say
/// what is wrong (axum's default rejection is plain text).
pub struct Body(pub Value);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = Error;
    async fn from_request(req: Request, state: &S) -> Result<Body> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Error::TooLarge("the request body is larger than 8 MiB".into())
                } else {
                    Error::BadRequest(format!("cannot read the request body: {e}"))
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::BadRequest("the request needs a JSON body".into()));
        }
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            Error::BadRequest(format!(
                "the request body is not valid JSON: {e} (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        if !v.is_object() && !v.is_array() {
            return Err(Error::BadRequest(
                "the request body must be a JSON object".into(),
            ));
        }
        Ok(Body(v))
    }
}

/// Field access with type errors that name the field.
fn str_at<'a>(v: &'a Value, path: &str) -> Result<Option<&'a str>> {
    match pointer(v, path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Error::BadRequest(format!(
            "{path} must be a string, not {}",
            kind(other)
        ))),
    }
}

fn pointer<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path.split('.') {
        cur = cur.get(seg)?;
    }
    Some(cur)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An id given as a string or a number (clients send both).
fn id_value(v: &Value, what: &str) -> Result<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .filter(|n| *n > 0)
            .ok_or_else(|| Error::BadRequest(format!("{what} must be a positive integer id"))),
        Value::String(s) => {
            parse_id(s).map_err(|_| Error::BadRequest(format!("{what} {s:?} is not a content id")))
        }
        other => Err(Error::BadRequest(format!(
            "{what} must be a string or number id, not {}",
            kind(other)
        ))),
    }
}

/// `123` or `att123`.
pub fn parse_id(s: &str) -> Result<i64> {
    let t = s.trim();
    let t = t.strip_prefix("att").unwrap_or(t);
    t.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Error::NotFound(format!("No content found with id: ContentId{{id={s}}}")))
}

fn bool_at(v: &Value, path: &str) -> Result<Option<bool>> {
    match pointer(v, path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(Error::BadRequest(format!(
            "{path} must be a boolean, not {}",
            kind(other)
        ))),
    }
}

/// Anonymous callers who may not see something are asked to authenticate.
fn auth_hint(e: Error, viewer: &Viewer) -> Error {
    match e {
        Error::NotFound(_) if viewer.is_anonymous() && !viewer.can_use => {
            Error::Unauthorized("authentication is required to use this resource".into())
        }
        e => e,
    }
}

fn require_use(viewer: &Viewer) -> Result<()> {
    if viewer.can_use {
        Ok(())
    } else if viewer.is_anonymous() {
        Err(Error::Unauthorized(
            "authentication is required to use this resource".into(),
        ))
    } else {
        Err(Error::Forbidden("you may not use this wiki".into()))
    }
}

/// Confluence's XSRF rule: a write whose body a browser form could send
/// (url-encoded, multipart, text/plain) must carry `X-Atlassian-Token:
/// no-check`. JSON bodies are exempt.
pub fn check_xsrf(method: &Method, headers: &HeaderMap) -> Result<()> {
    if !matches!(
        *method,
        Method::POST | Method::PUT | Method::DELETE | Method::PATCH
    ) {
        return Ok(());
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let formish = ct.starts_with("application/x-www-form-urlencoded")
        || ct.starts_with("multipart/form-data")
        || ct.starts_with("text/plain");
    if !formish {
        return Ok(());
    }
    let token = headers
        .get("x-atlassian-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if token == "no-check" || token == "nocheck" {
        Ok(())
    } else {
        Err(Error::Forbidden("XSRF check failed".into()))
    }
}

/// Middleware for everything under `/rest` and `/json`: the XSRF rule.
pub async fn xsrf_layer(req: Request, next: axum::middleware::Next) -> Response {
    let p = req.uri().path();
    if (p.starts_with("/rest/") || p.starts_with("/json/"))
        && check_xsrf(req.method(), req.headers()).is_err()
    {
        return Error::Forbidden("XSRF check failed".into()).into_response();
    }
    next.run(req).await
}

type Api = Result<Response>;

fn ok(v: Value) -> Api {
    Ok(Json(v).into_response())
}

// ---------------------------------------------------------------- spaces

#[utoipa::path(get, path = "/rest/api/space", params(("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions"), ("spaceKey" = Option<String>, Query)), responses((status = 200, description = "spaces", body = openapi::SpaceList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn spaces_list(State(app): State<AppState>, viewer: Viewer, RawQuery(q): RawQuery) -> Api {
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
async fn space_get(
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
async fn space_create(State(app): State<AppState>, viewer: Viewer, Body(b): Body) -> Api {
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
async fn space_delete(State(app): State<AppState>, viewer: Viewer, Path(key): Path<String>) -> Api {
    let db = app.pool.get().await?;
    let s = content::space_for_admin(&db, &viewer, &key).await?;
    crate::db::execute(
        &db,
        "UPDATE spaces SET homepage_id = NULL WHERE id = $1",
        &[&s.id],
    )
    .await?;
    crate::db::execute(&db, "DELETE FROM spaces WHERE id = $1", &[&s.id]).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/rest/api/space/{key}/content", params(("key" = String, Path), ("depth" = Option<String>, Query), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "pages and blog posts", body = Object), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn space_content(
    state: State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
    q: RawQuery,
) -> Api {
    space_content_inner(state, viewer, key, None, q).await
}

#[utoipa::path(get, path = "/rest/api/space/{key}/content/{kind}", params(("key" = String, Path), ("kind" = String, Path), ("depth" = Option<String>, Query), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "content of one type", body = openapi::ContentList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn space_content_typed(
    state: State<AppState>,
    viewer: Viewer,
    Path((key, kind)): Path<(String, String)>,
    q: RawQuery,
) -> Api {
    space_content_inner(state, viewer, key, Some(kind), q).await
}

async fn space_content_inner(
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

fn parse_type(k: &str) -> Result<ContentType> {
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

// ---------------------------------------------------------------- content

#[utoipa::path(get, path = "/rest/api/content", params(("spaceKey" = Option<String>, Query), ("title" = Option<String>, Query), ("type" = Option<String>, Query), ("status" = Option<String>, Query), ("postingDay" = Option<String>, Query), ("label" = Option<String>, Query), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "content", body = openapi::ContentList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn content_list(State(app): State<AppState>, viewer: Viewer, RawQuery(q): RawQuery) -> Api {
    require_use(&viewer)?;
    let p = Params::from(q);
    let (start, limit) = p.paging()?;
    let expand = p.expand()?;
    let db = app.pool.get().await?;
    let space_id = match p.nonempty("spaceKey") {
        Some(k) => Some(content::space(&db, &viewer, k).await?.id),
        None => None,
    };
    let types = match p.nonempty("type") {
        Some(t) => match parse_type(t)? {
            t @ (ContentType::Page | ContentType::BlogPost) => vec![t],
            _ => {
                return Err(Error::BadRequest(
                    "type must be page or blogpost here".into(),
                ))
            }
        },
        None => Vec::new(),
    };
    let trashed = match p.nonempty("status") {
        None | Some("current") | Some("any") => false,
        Some("trashed") => true,
        Some(s) => {
            return Err(Error::BadRequest(format!(
                "unknown status {s:?}; use current or trashed"
            )))
        }
    };
    let posting_day = match p.nonempty("postingDay") {
        None => None,
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                Error::BadRequest(format!("postingDay must be yyyy-mm-dd, not {d:?}"))
            })?,
        ),
    };
    let f = ListFilter {
        space_id,
        types,
        title: p.nonempty("title"),
        posting_day,
        label: p.nonempty("label"),
        trashed,
        ..ListFilter::default()
    };
    let (rows, more) = content::list(&db, &viewer, &f, start, limit).await?;
    let mut res = Vec::new();
    for c in &rows {
        res.push(json::content(&db, &viewer, c, &expand, &app).await?);
    }
    ok(paged(
        &app,
        "/rest/api/content",
        &p,
        res,
        start,
        limit,
        more,
    ))
}

/// The expansions POST and PUT answer with (clients read them from there).
const WRITE_EXPAND: &str = "space,history,version,ancestors,body.storage,container,metadata.labels";

#[utoipa::path(get, path = "/rest/api/content/{id}", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("expand" = Option<String>, Query), ("status" = Option<String>, Query), ("version" = Option<i64>, Query)), responses((status = 200, description = "the content", body = openapi::Content), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn content_get(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    let id = parse_id(&id)?;
    let p = Params::from(q);
    let expand = p.expand()?;
    let db = app.pool.get().await?;
    let c = match p.nonempty("status") {
        Some("trashed") | Some("any") => content::get_any(&db, &viewer, id).await,
        None | Some("current") | Some("historical") => content::get(&db, &viewer, id).await,
        Some("draft") => Err(Error::NotFound(format!(
            "No draft found with id: ContentId{{id={id}}}"
        ))),
        Some(s) => Err(Error::BadRequest(format!("unknown status {s:?}"))),
    }
    .map_err(|e| auth_hint(e, &viewer))?;
    if let Some(v) = p.nonempty("version") {
        let n: i32 = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            Error::BadRequest(format!("version must be a positive integer, not {v:?}"))
        })?;
        if n != c.version {
            let ver = content::version(&db, &viewer, id, n).await?;
            return ok(json::historical(&db, &viewer, &c, &ver, &expand, &app).await?);
        }
    }
    // Like a page view, the answer may be kept in the response cache
    // (`changes::layer`: per viewer credentials and data generation) when
    // every macro it renders is cacheable; rendering below the top level
    // (children's or ancestors' views) is never kept.
    let (top, nested) = expand.renders();
    let cacheable = !nested
        && (!top || c.content_type == ContentType::Attachment || app.renderer.is_cacheable(&c)?);
    let mut resp = Json(json::content(&db, &viewer, &c, &expand, &app).await?).into_response();
    if cacheable {
        resp.extensions_mut().insert(crate::changes::Cacheable);
    }
    Ok(resp)
}

fn labels_of(b: &Value) -> Result<Option<Vec<String>>> {
    let v = match pointer(b, "metadata.labels") {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let list = match v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => match o.get("results") {
            Some(Value::Array(a)) => a.clone(),
            _ => {
                return Err(Error::BadRequest(
                    "metadata.labels must be a list of labels".into(),
                ))
            }
        },
        other => {
            return Err(Error::BadRequest(format!(
                "metadata.labels must be a list, not {}",
                kind(other)
            )))
        }
    };
    let mut out = Vec::new();
    for l in list {
        match str_at(&l, "name")? {
            Some(n) => out.push(n.to_owned()),
            None => return Err(Error::BadRequest("every label needs a name".into())),
        }
    }
    Ok(Some(out))
}

/// The storage body of a create/update, or None when absent.
fn storage_body(b: &Value) -> Result<Option<String>> {
    let body = match b.get("body") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "body must be an object, not {}",
                kind(other)
            )))
        }
    };
    if let Some(s) = body.get("storage") {
        let rep = str_at(s, "representation")?.unwrap_or("storage");
        if rep != "storage" {
            return Err(Error::BadRequest(format!(
                "body.storage.representation must be storage, not {rep:?}"
            )));
        }
        return match s.get("value") {
            Some(Value::String(v)) => Ok(Some(v.clone())),
            Some(Value::Null) | None => {
                Err(Error::BadRequest("body.storage.value is missing".into()))
            }
            Some(other) => Err(Error::BadRequest(format!(
                "body.storage.value must be a string, not {}",
                kind(other)
            ))),
        };
    }
    if let Some((rep, _)) = body.iter().next() {
        return Err(Error::BadRequest(format!(
            "representation {rep:?} is not supported; send body.storage (Confluence storage format)"
        )));
    }
    Ok(None)
}

fn first_ancestor(b: &Value) -> Result<Option<i64>> {
    match b.get("ancestors") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) if a.is_empty() => Ok(None),
        Some(Value::Array(a)) => {
            let last = &a[a.len() - 1];
            let id = last
                .get("id")
                .ok_or_else(|| Error::BadRequest("each ancestor needs an id".into()))?;
            Ok(Some(id_value(id, "ancestors[].id")?))
        }
        Some(other) => Err(Error::BadRequest(format!(
            "ancestors must be a list, not {}",
            kind(other)
        ))),
    }
}

#[utoipa::path(post, path = "/rest/api/content", params(("expand" = Option<String>, Query)), request_body = openapi::ContentInput, responses((status = 200, description = "the new content", body = openapi::Content), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn content_create(
    State(app): State<AppState>,
    viewer: Viewer,
    RawQuery(q): RawQuery,
    Body(b): Body,
) -> Api {
    let p = Params::from(q);
    let expand = match p.get("expand") {
        Some(_) => p.expand()?,
        None => Expand::parse(WRITE_EXPAND)?,
    };
    if !b.is_object() {
        return Err(Error::BadRequest(
            "the request body must be a JSON object".into(),
        ));
    }
    let kind = parse_type(str_at(&b, "type")?.unwrap_or("page"))?;
    match str_at(&b, "status")? {
        None | Some("current") => {}
        Some(s) => {
            return Err(Error::BadRequest(format!(
                "cannot create content with status {s:?}; use current"
            )))
        }
    }
    let body = storage_body(&b)?.unwrap_or_default();
    let mut db = app.pool.get().await?;
    let c = match kind {
        ContentType::Page | ContentType::BlogPost => {
            let title = str_at(&b, "title")?
                .ok_or_else(|| Error::BadRequest("the content needs a title".into()))?;
            let space = match str_at(&b, "space.key")? {
                Some(k) => k.to_owned(),
                None => return Err(Error::BadRequest("the content needs space.key".into())),
            };
            let parent = if kind == ContentType::Page {
                first_ancestor(&b)?
            } else {
                None
            };
            let labels = labels_of(&b)?.unwrap_or_default();
            let message = str_at(&b, "version.message")?.unwrap_or("");
            content::create(
                &mut db,
                &viewer,
                content::NewContent {
                    content_type: kind,
                    space_key: &space,
                    title,
                    body: &body,
                    parent_id: parent,
                    message,
                    labels: &labels,
                    posting_day: None,
                },
            )
            .await?
        }
        ContentType::Comment => {
            let container = match pointer(&b, "container.id") {
                Some(v) => id_value(v, "container.id")?,
                None => return Err(Error::BadRequest("a comment needs container.id".into())),
            };
            let reply_to = first_ancestor(&b)?;
            content::add_comment(&mut db, &viewer, container, reply_to, &body).await?
        }
        ContentType::Attachment => {
            return Err(Error::BadRequest(
                "attachments are created with POST /rest/api/content/{id}/child/attachment".into(),
            ))
        }
    };
    ok(json::content(&db, &viewer, &c, &expand, &app).await?)
}

#[utoipa::path(put, path = "/rest/api/content/{id}", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("expand" = Option<String>, Query)), request_body = openapi::ContentInput, responses((status = 200, description = "the updated content", body = openapi::Content), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn content_update(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    req: Request,
) -> Api {
    let id = parse_id(&id)?;
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if is_multipart {
        // atlassian-python-api 5.x uploads a new attachment version this way.
        let mp = axum::extract::Multipart::from_request(req, &app)
            .await
            .map_err(|e| Error::BadRequest(format!("cannot read the multipart body: {e}")))?;
        let db = app.pool.get().await?;
        let a = attach::get(&db, &viewer, id).await?;
        drop(db);
        let page = a.content.container_id.unwrap_or(0);
        let mut list = upload(&app, &viewer, page, mp, Some(a.content.title.clone()), true).await?;
        return ok(list.pop().unwrap_or(Value::Null));
    }
    let Body(b) = Body::from_request(req, &()).await?;
    let p = Params::from(q);
    let expand = match p.get("expand") {
        Some(_) => p.expand()?,
        None => Expand::parse(WRITE_EXPAND)?,
    };
    if !b.is_object() {
        return Err(Error::BadRequest(
            "the request body must be a JSON object".into(),
        ));
    }
    let number = match pointer(&b, "version.number") {
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| Error::BadRequest("version.number must be an integer".into()))?,
        Some(Value::String(s)) => s.parse().map_err(|_| {
            Error::BadRequest(format!("version.number must be an integer, not {s:?}"))
        })?,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "version.number must be an integer, not {}",
                kind(other)
            )))
        }
        None => {
            return Err(Error::BadRequest(
                "an update needs version.number (the current version + 1)".into(),
            ))
        }
    };
    let mut db = app.pool.get().await?;
    let current = content::get_any(&db, &viewer, id)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    if let Some(t) = str_at(&b, "type")? {
        if parse_type(t)? != current.content_type {
            return Err(Error::BadRequest(format!(
                "cannot change the type of content {id} from {} to {t}",
                current.content_type.as_str()
            )));
        }
    }
    if current.status == "trashed" {
        if str_at(&b, "status")? == Some("current") {
            content::restore_from_trash(&mut db, &viewer, id).await?;
        } else {
            return Err(Error::Conflict(format!(
                "content {id} is in the trash; restore it with status current"
            )));
        }
    }
    if number != current.version + 1 {
        return Err(Error::Conflict(format!(
            "Version must be incremented on update. Current version is: {}",
            current.version
        )));
    }
    let title = str_at(&b, "title")?;
    let body = storage_body(&b)?;
    let labels = labels_of(&b)?;
    let parent = if current.content_type == ContentType::Page {
        first_ancestor(&b)?
    } else {
        None
    };
    let space_key = str_at(&b, "space.key")?.map(str::to_owned);
    // Validate everything before the first write, so a bad field never
    // leaves a half-applied update.
    if let Some(t) = title {
        content::validate_title(t)?;
    }
    if let Some(body) = &body {
        content::validate_body(body)?;
    }
    if let Some(l) = &labels {
        for n in l {
            content::normalize_label(n)?;
        }
    }
    let moving = current.content_type == ContentType::Page
        && ((parent.is_some() && parent != current.parent_id)
            || space_key
                .as_deref()
                .is_some_and(|k| !k.eq_ignore_ascii_case(&current.space_key)));
    if moving {
        content::move_page(
            &mut db,
            &viewer,
            id,
            space_key.as_deref(),
            parent.or(current.parent_id),
            None,
        )
        .await?;
    }
    let saved = content::update(
        &mut db,
        &viewer,
        id,
        content::Update {
            title,
            body: body.as_deref(),
            base_version: current.version,
            message: str_at(&b, "version.message")?.unwrap_or(""),
            minor_edit: bool_at(&b, "version.minorEdit")?.unwrap_or(false),
        },
    )
    .await?;
    let c = match saved {
        Saved::NewVersion(c) | Saved::Unchanged(c) => c,
    };
    if let Some(l) = labels {
        content::set_labels(&db, &viewer, id, &l).await?;
    }
    ok(json::content(&db, &viewer, &c, &expand, &app).await?)
}

#[utoipa::path(delete, path = "/rest/api/content/{id}", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("status" = Option<String>, Query)), responses((status = 204, description = "trashed or purged"), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn content_delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    let id = parse_id(&id)?;
    let p = Params::from(q);
    let mut db = app.pool.get().await?;
    match p.nonempty("status") {
        Some("trashed") => {
            content::purge(&db, &viewer, id)
                .await
                .map_err(|e| auth_hint(e, &viewer))?;
        }
        None | Some("current") => {
            content::get(&db, &viewer, id)
                .await
                .map_err(|e| auth_hint(e, &viewer))?;
            content::trash(&mut db, &viewer, id).await?;
        }
        Some("draft") => {
            return Err(Error::NotFound(format!(
                "No draft found with id: ContentId{{id={id}}}"
            )))
        }
        Some(s) => return Err(Error::BadRequest(format!("unknown status {s:?}"))),
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/rest/api/content/{id}/history", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), responses((status = 200, description = "history", body = openapi::History), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn content_history(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Api {
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    let c = content::get_any(&db, &viewer, id)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    ok(json::history(&db, &c, &app).await?)
}

#[utoipa::path(get, path = "/rest/api/content/{id}/version", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "versions", body = openapi::VersionList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn content_versions(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    let id = parse_id(&id)?;
    let p = Params::from(q);
    let (start, limit) = p.paging()?;
    let db = app.pool.get().await?;
    let c = content::get_any(&db, &viewer, id)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    let all = content::history(&db, &viewer, id).await?;
    let more = all.len() as i64 > start + limit;
    let res = all
        .iter()
        .skip(start as usize)
        .take(limit as usize)
        .map(|v| json::version(v, &c))
        .collect();
    ok(paged(
        &app,
        &format!("/rest/api/content/{id}/version"),
        &p,
        res,
        start,
        limit,
        more,
    ))
}

#[utoipa::path(get, path = "/rest/api/content/{id}/version/{n}", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("n" = String, Path)), responses((status = 200, description = "one version", body = openapi::VersionInfo), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn content_version(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((id, n)): Path<(String, String)>,
) -> Api {
    let id = parse_id(&id)?;
    let n: i32 = n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        Error::BadRequest(format!("version must be a positive integer, not {n:?}"))
    })?;
    let db = app.pool.get().await?;
    let c = content::get_any(&db, &viewer, id)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    let v = content::version(&db, &viewer, id, n).await?;
    let mut out = json::version(&v, &c);
    out["content"] = json::content(&db, &viewer, &c, &Expand::default(), &app).await?;
    ok(out)
}

// ---------------------------------------------------------------- children

async fn children_of(
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
async fn child_pages(
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
async fn descendant_pages(
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
async fn child_comments(
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
async fn child_attachments(
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
async fn child_all(
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

// ---------------------------------------------------------------- attachments

/// Reads a multipart upload: text parts `comment`, `minorEdit`, `fileName`,
/// `contentType` (a part with a `filename=` header but a text name is still
/// text), and one or more `file` parts. Returns attachment objects.
async fn upload(
    app: &AppState,
    viewer: &Viewer,
    page_id: i64,
    mut mp: axum::extract::Multipart,
    force_name: Option<String>,
    allow_duplicated: bool,
) -> Result<Vec<Value>> {
    {
        let db = app.pool.get().await?;
        attach::check_can_attach(&db, viewer, page_id).await?;
    }
    let mut comment = String::new();
    let mut minor = false;
    let mut given_name: Option<String> = None;
    let mut given_type: Option<String> = None;
    let mut out = Vec::new();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(Error::BadRequest(format!(
                    "cannot read the multipart body: {e}"
                )))
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "comment" | "minorEdit" | "fileName" | "contentType" | "type" | "allowDuplicated" => {
                let v = field
                    .text()
                    .await
                    .map_err(|e| Error::BadRequest(format!("cannot read part {name}: {e}")))?;
                match name.as_str() {
                    "comment" => comment = v,
                    "minorEdit" => minor = v.trim().eq_ignore_ascii_case("true"),
                    "fileName" => given_name = Some(v).filter(|s| !s.trim().is_empty()),
                    "contentType" => given_type = Some(v).filter(|s| !s.trim().is_empty()),
                    _ => {}
                }
            }
            "file" => {
                let filename = force_name
                    .clone()
                    .or_else(|| {
                        field
                            .file_name()
                            .map(str::to_owned)
                            .filter(|s| !s.is_empty())
                    })
                    .or_else(|| given_name.clone())
                    .ok_or_else(|| Error::BadRequest("the file part needs a filename".into()))?;
                attach::validate_filename(&filename)?;
                let ct = given_type
                    .clone()
                    .or_else(|| field.content_type().map(str::to_owned))
                    .filter(|t| t != "application/binary");
                let stored = app.files.put(field).await?;
                let mut db = app.pool.get().await?;
                let a = attach::record(
                    &mut db,
                    viewer,
                    page_id,
                    NewFile {
                        filename: &filename,
                        media_type: ct.as_deref(),
                        comment: &comment,
                        minor_edit: minor,
                        stored,
                    },
                    allow_duplicated,
                )
                .await?;
                out.push(
                    json::content(
                        &db,
                        viewer,
                        &a.content,
                        &Expand::parse("version,container")?,
                        app,
                    )
                    .await?,
                );
            }
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(Error::BadRequest(
            "the upload has no part named file".into(),
        ));
    }
    Ok(out)
}

#[utoipa::path(post, path = "/rest/api/content/{id}/child/attachment", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("allowDuplicated" = Option<bool>, Query)), request_body(content = openapi::Upload, content_type = "multipart/form-data"), responses((status = 200, description = "the attachments", body = openapi::ContentList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn attachment_create(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    req: Request,
) -> Api {
    let id = parse_id(&id)?;
    let p = Params::from(q);
    let allow = p
        .get("allowDuplicated")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mp = axum::extract::Multipart::from_request(req, &app)
        .await
        .map_err(|e| Error::BadRequest(format!("an upload must be multipart/form-data: {e}")))?;
    let list = upload(&app, &viewer, id, mp, None, allow).await?;
    let n = list.len();
    ok(json!({"results": list, "start": 0, "limit": n, "size": n,
              "_links": {"base": json::base(&app), "context": ""}}))
}

#[utoipa::path(post, path = "/rest/api/content/{id}/child/attachment/{att}/data", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("att" = String, Path)), request_body(content = openapi::Upload, content_type = "multipart/form-data"), responses((status = 200, description = "the attachment", body = openapi::Content), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn attachment_data(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((id, att)): Path<(String, String)>,
    req: Request,
) -> Api {
    let id = parse_id(&id)?;
    let att = parse_id(&att)?;
    let db = app.pool.get().await?;
    let a = attach::get(&db, &viewer, att).await?;
    if a.content.container_id != Some(id) {
        return Err(Error::NotFound(format!(
            "attachment {att} is not on content {id}"
        )));
    }
    drop(db);
    let mp = axum::extract::Multipart::from_request(req, &app)
        .await
        .map_err(|e| Error::BadRequest(format!("an upload must be multipart/form-data: {e}")))?;
    let mut list = upload(&app, &viewer, id, mp, Some(a.content.title.clone()), true).await?;
    ok(list.pop().unwrap_or(Value::Null))
}

#[utoipa::path(get, path = "/rest/api/content/{id}/download", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), responses((status = 200, description = "the bytes", content_type = "*/*", body = Vec<u8>), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn attachment_download(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Api {
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    let a = attach::get(&db, &viewer, id)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    drop(db);
    let bytes = app.files.read_verified(&a.sha256).await?;
    let mut r = Response::new(axum::body::Body::from(bytes));
    if let Ok(v) = header::HeaderValue::from_str(&a.media_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        header::HeaderValue::from_static("attachment"),
    );
    Ok(r)
}

/// Confluence's legacy form action (both `fileName` and `filename`).
async fn remove_attachment_action(
    State(app): State<AppState>,
    viewer: Viewer,
    RawQuery(q): RawQuery,
) -> Api {
    let p = Params::from(q);
    let page: i64 = parse_id(p.nonempty("pageId").unwrap_or(""))?;
    let name = p
        .nonempty("fileName")
        .or_else(|| p.nonempty("filename"))
        .ok_or_else(|| Error::BadRequest("fileName is required".into()))?;
    let mut db = app.pool.get().await?;
    let (a, _) = attach::by_name(&db, &viewer, page, name, None)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    content::trash(&mut db, &viewer, a.content.id).await?;
    ok(json!({}))
}

// ---------------------------------------------------------------- labels

async fn label_list(
    app: &AppState,
    db: &impl deadpool_postgres::GenericClient,
    id: i64,
) -> Result<Value> {
    let names = content::labels(db, id).await?;
    let res: Vec<Value> = names.iter().map(|n| json::label(n)).collect();
    let n = res.len();
    Ok(json!({"results": res, "start": 0, "limit": 200, "size": n,
              "_links": {"self": format!("/rest/api/content/{id}/label"), "base": json::base(app), "context": ""}}))
}

#[utoipa::path(get, path = "/rest/api/content/{id}/label", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), responses((status = 200, description = "labels", body = openapi::LabelList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn labels_get(State(app): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Api {
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    content::get(&db, &viewer, id)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    ok(label_list(&app, &db, id).await?)
}

#[utoipa::path(post, path = "/rest/api/content/{id}/label", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), request_body = Vec<openapi::LabelInput>, responses((status = 200, description = "all labels", body = openapi::LabelList), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn labels_post(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Body(b): Body,
) -> Api {
    let id = parse_id(&id)?;
    let items: Vec<Value> = match b {
        Value::Array(a) => a,
        o @ Value::Object(_) => vec![o],
        _ => unreachable!("Body accepts only objects and arrays"),
    };
    let mut names = Vec::new();
    for it in &items {
        if let Some(prefix) = str_at(it, "prefix")? {
            if !["global", "my", "team"].contains(&prefix) {
                return Err(Error::BadRequest(format!(
                    "unknown label prefix {prefix:?}; use global"
                )));
            }
        }
        let n = str_at(it, "name")?
            .ok_or_else(|| Error::BadRequest("each label needs a name".into()))?;
        names.push(n.to_owned());
    }
    let db = app.pool.get().await?;
    content::add_labels(&db, &viewer, id, &names)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    ok(label_list(&app, &db, id).await?)
}

#[utoipa::path(delete, path = "/rest/api/content/{id}/label", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("name" = String, Query)), responses((status = 204, description = "removed"), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn label_delete_q(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Api {
    let p = Params::from(q);
    let name = p
        .nonempty("name")
        .ok_or_else(|| Error::BadRequest("name is required".into()))?
        .to_owned();
    remove_label(&app, &viewer, &id, &name).await
}

#[utoipa::path(delete, path = "/rest/api/content/{id}/label/{name}", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("name" = String, Path)), responses((status = 204, description = "removed"), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn label_delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((id, name)): Path<(String, String)>,
) -> Api {
    remove_label(&app, &viewer, &id, &name).await
}

async fn remove_label(app: &AppState, viewer: &Viewer, id: &str, name: &str) -> Api {
    let id = parse_id(id)?;
    let db = app.pool.get().await?;
    content::remove_label(&db, viewer, id, name)
        .await
        .map_err(|e| auth_hint(e, viewer))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------- misc

#[utoipa::path(get, path = "/rest/api/content/{id}/restriction/byOperation", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), responses((status = 200, description = "restrictions", body = openapi::Restrictions), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn restrictions(State(app): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Api {
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    let r = content::restrictions(&db, &viewer, id)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    let block = |op: &str, grants: &[crate::users::Grant]| {
        let users: Vec<Value> = grants
            .iter()
            .filter(|g| g.kind == "user")
            .map(|g| json!({"type": "known", "username": g.name}))
            .collect();
        let groups: Vec<Value> = grants
            .iter()
            .filter(|g| g.kind == "group")
            .map(|g| json!({"type": "group", "name": g.name}))
            .collect();
        json!({
            "operation": op,
            "restrictions": {
                "user": {"results": users, "start": 0, "limit": 200, "size": users.len()},
                "group": {"results": groups, "start": 0, "limit": 200, "size": groups.len()},
            },
            "_links": {"self": format!("/rest/api/content/{id}/restriction/byOperation/{op}")},
        })
    };
    ok(json!({
        "read": block("read", &r.read),
        "update": block("update", &r.update),
        "_links": {"base": json::base(&app), "context": ""},
    }))
}

#[utoipa::path(get, path = "/rest/api/content/{id}/property", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), responses((status = 200, description = "content properties", body = Object), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn properties(State(app): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Api {
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    content::get(&db, &viewer, id)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    ok(json!({"results": [], "start": 0, "limit": 25, "size": 0,
              "_links": {"base": json::base(&app), "context": ""}}))
}

#[utoipa::path(post, path = "/rest/api/contentbody/convert/{to}", params(("to" = String, Path)), request_body = openapi::ConvertInput, responses((status = 200, description = "converted", body = openapi::ConvertedBody), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn convert(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(to): Path<String>,
    Body(b): Body,
) -> Api {
    require_use(&viewer)?;
    let rep = str_at(&b, "representation")?.unwrap_or("storage");
    let value =
        str_at(&b, "value")?.ok_or_else(|| Error::BadRequest("value is required".into()))?;
    if rep != "storage" {
        return Err(Error::BadRequest(format!(
            "cannot convert from {rep:?}; only storage is supported"
        )));
    }
    let out = match to.as_str() {
        "storage" => {
            content::validate_body(value)?;
            value.to_owned()
        }
        "view" | "export_view" | "styled_view" => {
            let db = app.pool.get().await?;
            let space = match json::space_key_hint(&b) {
                Some(k) => k,
                None => content::spaces(&db, &viewer)
                    .await?
                    .first()
                    .map(|s| s.key.clone())
                    .unwrap_or_default(),
            };
            app.renderer
                .render_source(&db, &viewer, &space, None, value)
                .await?
                .html
        }
        other => {
            return Err(Error::BadRequest(format!(
                "cannot convert to {other:?}; use view, export_view or storage"
            )))
        }
    };
    ok(
        json!({"value": out, "representation": to, "_links": {"base": json::base(&app), "context": ""}}),
    )
}

#[utoipa::path(get, path = "/rest/api/content/search", params(("cql" = String, Query, description = "CQL"), ("start" = Option<i64>, Query), ("limit" = Option<i64>, Query), ("expand" = Option<String>, Query)), responses((status = 200, description = "search results", body = Object), (status = 503, description = "index not open", body = openapi::ErrorEnvelope), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn content_search(State(app): State<AppState>, viewer: Viewer, RawQuery(q): RawQuery) -> Api {
    search_inner(&app, &viewer, q, false, "/rest/api/content/search").await
}

/// CQL search over this node's index. `wrap` selects the
/// `/rest/api/search` shape (result wrappers) over `/content/search`
/// (plain content objects).
async fn search_inner(
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
async fn search(State(app): State<AppState>, viewer: Viewer, RawQuery(q): RawQuery) -> Api {
    search_inner(&app, &viewer, q, true, "/rest/api/search").await
}

#[utoipa::path(get, path = "/rest/api/user", params(("username" = Option<String>, Query), ("key" = Option<String>, Query)), responses((status = 200, description = "the user", body = openapi::User), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn user_get(State(app): State<AppState>, viewer: Viewer, RawQuery(q): RawQuery) -> Api {
    require_use(&viewer)?;
    let p = Params::from(q);
    let db = app.pool.get().await?;
    let row = if let Some(u) = p.nonempty("username") {
        crate::db::query_opt(
            &db,
            "SELECT username, display_name, user_key FROM users WHERE lower(username) = lower($1)",
            &[&u],
        )
        .await?
    } else if let Some(k) = p.nonempty("key").or_else(|| p.nonempty("accountId")) {
        crate::db::query_opt(
            &db,
            "SELECT username, display_name, user_key FROM users WHERE user_key = $1",
            &[&k],
        )
        .await?
    } else {
        return Err(Error::BadRequest("give username or key".into()));
    };
    let r =
        row.ok_or_else(|| Error::NotFound("No user found with the given username or key".into()))?;
    ok(json::user_json(r.get(0), r.get(1), r.get(2)))
}

#[utoipa::path(get, path = "/rest/api/user/current",  responses((status = 200, description = "the caller", body = openapi::User), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn user_current(State(app): State<AppState>, viewer: Viewer) -> Api {
    match &viewer.user {
        Some(u) => ok(json::user_json(&u.username, &u.display_name, &u.user_key)),
        None => ok(json!({"type": "anonymous", "displayName": "Anonymous",
                          "_links": {"base": json::base(&app), "context": ""}})),
    }
}

// ---------------------------------------------------------------- tokens

#[utoipa::path(post, path = "/rest/pat/latest/tokens", request_body = openapi::TokenInput, responses((status = 201, description = "the token, shown once", body = openapi::TokenCreated), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn pat_create(State(app): State<AppState>, viewer: Viewer, Body(b): Body) -> Api {
    let user = viewer.require_user()?.clone();
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
    let db = app.pool.get().await?;
    let (id, raw) = crate::auth::create_token(&db, user.id, name, days).await?;
    let r = crate::db::query_one(
        &db,
        "SELECT created_at, expires_at FROM api_tokens WHERE id = $1",
        &[&id],
    )
    .await?;
    let created: chrono::DateTime<chrono::Utc> = r.get(0);
    let expires: Option<chrono::DateTime<chrono::Utc>> = r.get(1);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": id,
            "name": name.trim(),
            "createdAt": json::when(&created),
            "expiringAt": expires.map(|e| json::when(&e)),
            "rawToken": raw,
        })),
    )
        .into_response())
}

#[utoipa::path(get, path = "/rest/pat/latest/tokens",  responses((status = 200, description = "the caller's tokens", body = Vec<openapi::Token>), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn pat_list(State(app): State<AppState>, viewer: Viewer) -> Api {
    let user = viewer.require_user()?.clone();
    let db = app.pool.get().await?;
    let rows = crate::db::query(&db,
            "SELECT id, name, created_at, expires_at, last_used FROM api_tokens WHERE user_id = $1 ORDER BY id",
            &[&user.id],
        )
        .await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.get::<_, i64>(0),
                "name": r.get::<_, String>(1),
                "createdAt": json::when(&r.get(2)),
                "expiringAt": r.get::<_, Option<chrono::DateTime<chrono::Utc>>>(3).map(|t| json::when(&t)),
                "lastAccessedAt": r.get::<_, Option<chrono::DateTime<chrono::Utc>>>(4).map(|t| json::when(&t)),
            })
        })
        .collect();
    ok(Value::Array(list))
}

#[utoipa::path(delete, path = "/rest/pat/latest/tokens/{id}", params(("id" = String, Path)), responses((status = 204, description = "revoked"), (status = 400, description = "bad input", body = openapi::ErrorEnvelope), (status = 401, description = "authentication required", body = openapi::ErrorEnvelope), (status = 403, description = "not allowed or XSRF check failed", body = openapi::ErrorEnvelope), (status = 404, description = "not found or not visible", body = openapi::ErrorEnvelope), (status = 409, description = "conflict", body = openapi::ErrorEnvelope), (status = 413, description = "too large", body = openapi::ErrorEnvelope), (status = 429, description = "rate limited", body = openapi::ErrorEnvelope)))]
async fn pat_delete(State(app): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Api {
    let user = viewer.require_user()?.clone();
    let id: i64 = id
        .parse()
        .map_err(|_| Error::NotFound(format!("no token {id:?}")))?;
    let db = app.pool.get().await?;
    let n = crate::db::execute(
        &db,
        "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2",
        &[&id, &user.id],
    )
    .await?;
    if n == 0 {
        return Err(Error::NotFound(format!("no token {id}")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------- likes

/// The shape of Confluence Server's `/rest/likes/1.0` resource.
fn likes_json(id: i64, l: content::Likes) -> Api {
    let likes: Vec<Value> = l
        .users
        .iter()
        .map(|u| {
            json!({"user": {
                "name": u.username,
                "fullName": u.display_name,
                "userKey": u.user_key,
                "url": format!("/users/{}", u.username),
            }})
        })
        .collect();
    ok(json!({
        "likes": likes,
        "content_id": id,
        "content_type": l.content_type.as_str(),
    }))
}

async fn likes_get(State(app): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Api {
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    let l = content::likes(&db, &viewer, id)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    likes_json(id, l)
}

async fn likes_post(State(app): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Api {
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    let l = content::set_like(&db, &viewer, id, true)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    likes_json(id, l)
}

async fn likes_delete(State(app): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Api {
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    content::set_like(&db, &viewer, id, false)
        .await
        .map_err(|e| auth_hint(e, &viewer))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The OpenAPI document of this surface.
async fn openapi_json() -> Json<Value> {
    Json(openapi::document())
}
