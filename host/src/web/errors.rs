//! Errors as the UI shows them: in the viewer's own frame (header with their
//! name and menu, the space sidebar when the address names a space or a
//! page), in words, with the ways back; and, for a form sent by `app.js`
//! (`X-Cairn-Form`), as a short JSON answer that the form shows next to the
//! field, keeping everything the user typed.
//!
//! Invariant: every UI error becomes a response in [`UiError`] and is drawn
//! by [`error_pages`] — no handler builds an error page of its own, and no
//! error page shows "Log in" to a signed-in viewer.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::{IntoHtml, Layout};
use crate::content;
use crate::error::Error;
use crate::perms::Viewer;
use crate::AppState;

/// The request header `app.js` sets on a form it sends itself.
pub(crate) const FORM_HEADER: &str = "x-cairn-form";
/// Where a form sent by `app.js` goes next (a redirect it follows itself).
pub(crate) const LOCATION_HEADER: &str = "x-cairn-location";

/// An error shown as a page. 401 redirects to the login page.
pub(crate) struct UiError {
    pub(super) err: Error,
    pub(super) next: Option<String>,
    /// The form field the error is about, for the message beside it.
    pub(super) field: Option<&'static str>,
}

impl From<Error> for UiError {
    fn from(err: Error) -> Self {
        UiError {
            err,
            next: None,
            field: None,
        }
    }
}
impl From<tokio_postgres::Error> for UiError {
    fn from(e: tokio_postgres::Error) -> Self {
        UiError::from(Error::from(e))
    }
}
impl From<deadpool_postgres::PoolError> for UiError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        UiError::from(Error::from(e))
    }
}

pub(crate) type UiResult<T = Response> = std::result::Result<T, UiError>;

/// Names the form field an error is about: `app.js` puts the message beside it.
pub(crate) trait OnField<T> {
    fn on_field(self, field: &'static str) -> UiResult<T>;
    /// [`OnField::on_field`] for a field that names a user, a group…: a
    /// name that matches nothing is the input's fault (400), not a missing
    /// address (404).
    fn on_name(self, field: &'static str) -> UiResult<T>;
}
impl<T, E: Into<UiError>> OnField<T> for Result<T, E> {
    fn on_field(self, field: &'static str) -> UiResult<T> {
        self.map_err(|e| {
            let mut e = e.into();
            e.field = Some(field);
            e
        })
    }
    fn on_name(self, field: &'static str) -> UiResult<T> {
        self.on_field(field).map_err(|mut e| {
            if let Error::NotFound(m) = e.err {
                e.err = Error::BadRequest(m);
            }
            e
        })
    }
}

/// What an error response carries to [`error_pages`].
#[derive(Clone)]
struct Shown {
    message: String,
    field: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    message: String,
    /// The page the viewer came from on this site, or empty.
    back: String,
    /// Where logging in would return to (anonymous viewers only).
    here: String,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        self.err.log_if_internal();
        let status = self.err.status();
        if status == StatusCode::UNAUTHORIZED {
            let next = self.next.unwrap_or_else(|| "/".into());
            return Redirect::to(&format!("/login?next={}", crate::urls::enc(&next)))
                .into_response();
        }
        let message = ui_message(&self.err);
        // Drawn without the viewer here; `error_pages` draws it again in the
        // viewer's frame (this one stands for routes outside that layer).
        let page = ErrorPage {
            layout: Layout::plain(heading(status)),
            status: status.as_u16(),
            heading: heading(status),
            message: message.clone(),
            back: String::new(),
            here: String::new(),
        };
        let mut r = page.into_html();
        *r.status_mut() = status;
        r.extensions_mut().insert(Shown {
            message,
            field: self.field,
        });
        r
    }
}

fn heading(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "That didn't work",
        403 => "You don't have permission to do this",
        404 => "Not found",
        409 => "Someone else changed this",
        413 => "Too large",
        429 => "Too many requests",
        503 => "Not available right now",
        _ => "Something went wrong",
    }
}

/// The error in words for a reader (the REST API keeps Confluence's texts).
fn ui_message(err: &Error) -> String {
    let m = err.public_message();
    if let Error::NotFound(_) = err {
        if let Some(id) = m
            .strip_prefix("No content found with id: ContentId{id=")
            .and_then(|r| r.strip_suffix('}'))
        {
            return format!(
                "There is no page with id {id}, or you don't have permission to see it."
            );
        }
        if let Some(key) = m.strip_prefix("No space with key : ") {
            return format!(
                "There is no space with key {key}, or you don't have permission to see it."
            );
        }
    }
    sentence(&m)
}

/// A service's message as a sentence: capital first letter, full stop.
pub(crate) fn sentence(m: &str) -> String {
    let mut s = String::with_capacity(m.len() + 1);
    let mut chars = m.chars();
    if let Some(c) = chars.next() {
        s.extend(c.to_uppercase());
    }
    s.push_str(chars.as_str());
    if !s.ends_with(['.', '!', '?']) {
        s.push('.');
    }
    s
}

/// The layer over the UI's routes: a form sent by `app.js` gets its redirect
/// as `X-Cairn-Location` (so the script navigates) and its error as JSON; any
/// other error is drawn again in the viewer's frame.
pub(crate) async fn error_pages(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let from_script = req.headers().contains_key(FORM_HEADER);
    let headers = credentials(req.headers());
    let path = req.uri().path().to_owned();
    let mut resp = next.run(req).await;
    if from_script && resp.status().is_redirection() {
        if let Some(to) = resp.headers_mut().remove(header::LOCATION) {
            resp.headers_mut().insert(LOCATION_HEADER, to);
            *resp.status_mut() = StatusCode::NO_CONTENT;
            *resp.body_mut() = axum::body::Body::empty();
        }
        return resp;
    }
    let Some(shown) = resp.extensions_mut().remove::<Shown>() else {
        return resp;
    };
    let status = resp.status();
    if from_script {
        let mut r = axum::Json(serde_json::json!({
            "status": status.as_u16(),
            "message": shown.message,
            "field": shown.field,
        }))
        .into_response();
        *r.status_mut() = status;
        return r;
    }
    let viewer = crate::http::viewer::resolve(&app, &headers)
        .await
        .unwrap_or_else(|_| Viewer::anonymous());
    let layout = frame_for(&app, &viewer, &path, heading(status)).await;
    let page = ErrorPage {
        here: if viewer.is_anonymous() {
            crate::urls::enc(&path)
        } else {
            String::new()
        },
        layout,
        status: status.as_u16(),
        heading: heading(status),
        message: shown.message,
        back: same_site_referer(&headers)
            .filter(|b| *b != path)
            .unwrap_or_default(),
    };
    let mut r = page.into_html();
    *r.status_mut() = status;
    r
}

/// The request headers an error page needs again: who is asking (cookie,
/// Authorization) and where they came from.
fn credentials(h: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in [
        header::COOKIE,
        header::AUTHORIZATION,
        header::REFERER,
        header::HOST,
    ] {
        for v in h.get_all(&name) {
            out.append(name.clone(), v.clone());
        }
    }
    out
}

/// The referring page's path when it is on this site.
fn same_site_referer(h: &HeaderMap) -> Option<String> {
    let referer = h.get(header::REFERER)?.to_str().ok()?;
    let host = h.get(header::HOST)?.to_str().ok()?;
    let rest = referer
        .strip_prefix("http://")
        .or_else(|| referer.strip_prefix("https://"))?
        .strip_prefix(host)?;
    rest.starts_with('/').then(|| rest.to_owned())
}

/// The frame of an error page: the space sidebar when the address names a
/// space or a page the viewer may see, the plain frame otherwise.
async fn frame_for(app: &AppState, viewer: &Viewer, path: &str, title: &str) -> Layout {
    let base = Layout::new(title, viewer);
    let Ok(db) = app.pool.get().await else {
        return base;
    };
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next()) {
        (Some("spaces"), Some(key)) if !key.is_empty() => {
            let key = percent_decode(key);
            let Ok(s) = content::space(&db, viewer, &key).await else {
                return base;
            };
            let perms = viewer.space_perms(&db, s.id).await.unwrap_or_default();
            base.in_space(&s.key, &s.name, &perms)
        }
        (Some("pages"), Some(id)) => {
            let Ok(id) = id.parse::<i64>() else {
                return base;
            };
            let Ok(c) = content::get(&db, viewer, id).await else {
                return base;
            };
            let perms = viewer
                .space_perms(&db, c.space_id)
                .await
                .unwrap_or_default();
            base.of_content(&c, &perms)
        }
        _ => base,
    }
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("k={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn internals_become_words() {
        assert_eq!(
            ui_message(&Error::NotFound(
                "No content found with id: ContentId{id=9999}".into()
            )),
            "There is no page with id 9999, or you don't have permission to see it."
        );
        assert_eq!(
            ui_message(&Error::BadRequest(
                "label names cannot contain spaces".into()
            )),
            "Label names cannot contain spaces."
        );
    }

    #[test]
    fn only_this_sites_referer_is_offered_back() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("wiki.example:8080"));
        h.insert(
            header::REFERER,
            HeaderValue::from_static("http://wiki.example:8080/spaces/DOC/pages/1"),
        );
        assert_eq!(
            same_site_referer(&h).as_deref(),
            Some("/spaces/DOC/pages/1")
        );
        h.insert(
            header::REFERER,
            HeaderValue::from_static("http://evil.example/x"),
        );
        assert_eq!(same_site_referer(&h), None);
    }
}
