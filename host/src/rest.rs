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
mod expand;
mod inputs;
pub mod json;
pub mod openapi;
pub mod plugins;
pub mod shapes;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, MethodFilter, MethodRouter};
use axum::{Json, Router};
use deadpool_postgres::GenericClient;
use serde_json::Value;

use crate::attach::{self, NewFile};
use crate::content::{self, ContentType, ListFilter, Saved};
use crate::error::{Error, Result};
use crate::perms::Viewer;
use crate::AppState;

pub use json::Expand;
use shapes::{Links, List};

mod attachments;
mod children;
mod content_meta;
mod copy;
mod drafts;
mod import;
mod inline;
mod labels;
mod likes;
mod pages;
mod properties;
mod restrictions;
mod search;
mod spaces;
mod templates;
mod tokens;
mod users;
mod versions;
mod watch;
use attachments::*;
use children::*;
use content_meta::*;
use copy::*;
use drafts::*;
use inline::*;
use labels::*;
use likes::*;
use pages::*;
use properties::*;
use restrictions::*;
use search::*;
use spaces::*;
use templates::*;
use tokens::*;
use users::*;
use versions::*;
use watch::*;

/// Mounted at both `/rest/api` and `/rest/api/latest`.
fn api() -> Router<AppState> {
    Router::new()
        .route("/space", get(spaces_list).post(space_create))
        .route(
            "/space/{key}",
            get(space_get).put(space_update).delete(space_delete),
        )
        .route("/space/{key}/content", get(space_content))
        .route("/space/{key}/content/{kind}", get(space_content_typed))
        .route("/content", get(content_list).post(content_create))
        .route(
            "/content/{id}",
            unlimited(get(content_get).put(content_update).delete(content_delete)),
        )
        .route("/content/{id}/history", get(content_history))
        .route(
            "/content/{id}/version",
            get(content_versions).post(version_operation),
        )
        .route(
            "/content/{id}/version/{n}",
            get(content_version).delete(version_delete),
        )
        .route("/content/{id}/download", get(attachment_download))
        .route("/content/{id}/child", get(child_all))
        .route("/content/{id}/child/page", get(child_pages))
        .route("/content/{id}/child/comment", get(child_comments))
        .route(
            "/content/{id}/child/attachment",
            unlimited(get(child_attachments).post(attachment_create)),
        )
        .route(
            "/content/{id}/child/attachment/{att}/data",
            unlimited(post(attachment_data)),
        )
        .route("/content/{id}/descendant/page", get(descendant_pages))
        .route(
            "/content/{id}/label",
            get(labels_get).post(labels_post).delete(label_delete_q),
        )
        .route("/content/{id}/label/{name}", delete(label_delete))
        .route(
            "/content/{id}/restriction",
            get(restrictions_list)
                .put(restrictions_replace)
                .post(restrictions_add)
                .delete(restrictions_delete),
        )
        .route("/content/{id}/restriction/byOperation", get(restrictions))
        .route(
            "/content/{id}/restriction/byOperation/{op}",
            get(restriction_of),
        )
        .route(
            "/content/{id}/restriction/byOperation/{op}/user",
            get(restriction_user_get)
                .put(restriction_user_add)
                .delete(restriction_user_remove),
        )
        .route(
            "/content/{id}/restriction/byOperation/{op}/group/{group}",
            get(restriction_group_get)
                .put(restriction_group_add)
                .delete(restriction_group_remove),
        )
        .route(
            "/content/{id}/property",
            get(properties).post(property_create),
        )
        .route(
            "/content/{id}/property/{key}",
            get(property_get)
                .put(property_update)
                .delete(property_delete),
        )
        .route("/contentbody/convert/{to}", post(convert))
        .route("/search", get(search))
        .route("/content/search", get(content_search))
        .route("/openapi.json", get(openapi_json))
        .route("/user", get(user_get))
        .route("/user/current", get(user_current))
        .route("/longtask", get(longtask_list))
        .route("/longtask/{id}", get(longtask_get))
        .route("/template/page", get(templates_page))
        .route("/template/blueprint", get(templates_blueprint))
        .route("/template", post(template_create).put(template_update))
        .route("/template/{id}", get(template_get).delete(template_delete))
        .route("/content/{id}/copy", post(content_copy))
        .route("/content/{id}/pagehierarchy/copy", post(hierarchy_copy))
        .route("/user/watch/content/{id}", read_add_remove(watch_content))
        .route("/user/watch/space/{key}", read_add_remove(watch_space))
        .route(
            "/content/{id}/notification/created",
            get(notification_created),
        )
        .route(
            "/content/{id}/notification/child-created",
            get(notification_child_created),
        )
        .fallback(not_found)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .nest("/rest/api/latest", api())
        .nest("/rest/api", api())
        .route("/rest/pat/latest/tokens", get(pat_list).post(pat_create))
        .route("/rest/pat/latest/tokens/{id}", delete(pat_delete))
        .route("/rest/likes/1.0/content/{id}/likes", read_add_remove(likes))
        // atlassian-python-api 4.x deletes versions here on Server/DC.
        .route(
            "/rest/experimental/content/{id}/version",
            get(content_versions).post(version_operation),
        )
        .route(
            "/rest/experimental/content/{id}/version/{n}",
            get(content_version).delete(version_delete),
        )
        .route("/rest/cairn/1.0/notifications", get(notifications_list))
        .route(
            "/rest/cairn/1.0/comments/{id}/resolution",
            axum::routing::put(comment_resolution),
        )
        .route(
            "/rest/cairn/1.0/notifications/read",
            post(notifications_read),
        )
        .route(
            "/json/removeattachment.action",
            post(remove_attachment_action),
        )
        .merge(plugins::routes())
        .merge(cluster::routes())
        .merge(import::routes())
}

/// A route without the default body size limit (uploads and attachment
/// versions; the attachment limit is enforced while streaming).
fn unlimited(r: MethodRouter<AppState>) -> MethodRouter<AppState> {
    r.layer(axum::extract::DefaultBodyLimit::disable())
}

/// GET, POST and DELETE to one handler (it tells them apart by method).
fn read_add_remove<H, T>(h: H) -> MethodRouter<AppState>
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    let methods = MethodFilter::GET
        .or(MethodFilter::POST)
        .or(MethodFilter::DELETE);
    axum::routing::on(methods, h)
}

async fn not_found(method: Method, uri: axum::http::Uri) -> Error {
    Error::NotFound(format!("no REST resource {method} {}", uri.path()))
}

/// What a REST handler starts from: the node, the caller (resolved first,
/// so bad credentials answer before anything else) and the query string.
pub struct Call {
    app: AppState,
    viewer: Viewer,
    params: Params,
}

impl FromRequestParts<AppState> for Call {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Call, Response> {
        let viewer = Viewer::from_request_parts(parts, app)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Call {
            app: app.clone(),
            viewer,
            params: Params::from(parts.uri.query().map(str::to_owned)),
        })
    }
}

impl Call {
    /// The node and the caller, for handlers that own them.
    fn into_parts(self) -> (AppState, Viewer) {
        (self.app, self.viewer)
    }
    async fn db(&self) -> Result<deadpool_postgres::Object> {
        Ok(self.app.pool.get().await?)
    }
    /// `r`, with "not found" turned into "log in" for anonymous callers.
    fn hint<T>(&self, r: Result<T>) -> Result<T> {
        r.map_err(|e| auth_hint(e, &self.viewer))
    }
    fn base(&self) -> String {
        json::base(&self.app)
    }
    /// A listing's checks and parameters: the caller may use the wiki;
    /// `start` and `limit`; `expand`.
    fn listing(&self) -> Result<((i64, i64), Expand)> {
        require_use(&self.viewer)?;
        Ok((self.params.paging()?, self.params.expand()))
    }
}

/// A [`Call`] on the one resource its path names (`{id}` or `{key}`).
pub struct On {
    call: Call,
    /// The path parameter as given.
    name: String,
}

impl FromRequestParts<AppState> for On {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<On, Response> {
        let call = Call::from_request_parts(parts, app).await?;
        let Path(name) = Path::<String>::from_request_parts(parts, app)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(On { call, name })
    }
}

impl std::ops::Deref for On {
    type Target = Call;
    fn deref(&self) -> &Call {
        &self.call
    }
}

impl On {
    /// The node, the caller and the path parameter.
    fn into_parts(self) -> (AppState, Viewer, String) {
        let (app, viewer) = self.call.into_parts();
        (app, viewer, self.name)
    }
    /// The content id the path names (`123` or `att123`).
    fn id(&self) -> Result<i64> {
        parse_id(&self.name)
    }
    /// The current content the path names, if the caller may view it.
    async fn visible(&self, db: &impl GenericClient) -> Result<content::Content> {
        self.hint(content::get(db, &self.viewer, self.id()?).await)
    }
    /// [`On::visible`], trashed content included.
    async fn any(&self, db: &impl GenericClient) -> Result<content::Content> {
        self.hint(content::get_any(db, &self.viewer, self.id()?).await)
    }
}

/// `?limit=N` of Cairn's own lists, clamped to 1..=max.
#[derive(serde::Deserialize)]
pub struct Limit {
    limit: Option<i64>,
}

impl Limit {
    fn or(&self, default: i64, max: i64) -> i64 {
        self.limit.unwrap_or(default).clamp(1, max)
    }
}

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
    /// Every value of a repeated key, in order.
    pub fn all<'a>(&'a self, k: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(a, _)| a == k)
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
    fn expand(&self) -> Expand {
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
fn paged<T>(
    app: &AppState,
    path: &str,
    params: &Params,
    results: Vec<T>,
    (start, limit): (i64, i64),
    more: bool,
) -> List<T> {
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
    let links = Links {
        next: more.then(|| link(start + limit)),
        prev: (start > 0).then(|| link((start - limit).max(0))),
        ..Links::base_and_self(&json::base(app), path.to_owned())
    };
    List {
        size: results.len(),
        results,
        start,
        limit,
        links: Some(links),
    }
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

fn ok(v: impl serde::Serialize) -> Api {
    Ok(Json(v).into_response())
}

/// The OpenAPI document of this surface.
async fn openapi_json() -> Json<Value> {
    Json(openapi::document())
}
