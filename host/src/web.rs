//! The web UI: server-rendered HTML (askama templates in `host/templates`),
//! forms with CSRF tokens, assets served from the binary.
//!
//! Invariant: handlers parse, authorize through the services, call, and
//! render; they hold no business rules. Every error becomes an HTML page
//! (or a redirect to the login page) in exactly one place, [`UiError`].

mod account;
mod admin;
mod avatars;
mod cluster;
mod drafts;
mod errors;
mod exports;
mod favourites;
mod grid;
mod import;
mod longtasks;
mod mentions;
pub(crate) mod notice;
mod notify;
mod pages;
mod plugins;
mod rich;
mod search;
mod spaces;
mod tasks;
mod templates;
mod tree;

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::auth;
use crate::error::Error;
use crate::perms::Viewer;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/assets/{file}", get(asset))
        .route("/assets/emoticons/{file}", get(emoticon))
        .route(
            "/favicon.ico",
            get(|| async { Redirect::permanent("/assets/favicon.svg") }),
        )
        .merge(account::routes())
        .merge(avatars::routes())
        .merge(exports::routes())
        .merge(admin::routes())
        .merge(spaces::routes())
        .merge(pages::routes())
        .merge(search::routes())
        .merge(plugins::routes())
        .merge(cluster::routes())
        .merge(notify::routes())
        .merge(tasks::routes())
        .merge(tree::routes())
        .merge(mentions::routes())
        .merge(rich::routes())
        .merge(favourites::routes())
        .merge(drafts::routes())
        .merge(longtasks::routes())
        .merge(templates::routes())
        .merge(import::routes())
}

pub(crate) use errors::{error_pages, OnField, UiError, UiResult};

/// Which of a space's sidebar links the viewer may follow (creating a
/// page needs Edit, the trash Delete, the settings Admin).
#[derive(Default)]
pub(crate) struct SpaceLinks {
    pub create: bool,
    pub trash: bool,
    pub settings: bool,
}

/// What every page's frame needs.
pub(crate) struct Layout {
    pub title: String,
    pub site_title: String,
    pub user: Option<(String, String)>,
    pub is_admin: bool,
    pub csrf: String,
    pub space: Option<(String, String)>,
    /// The sidebar's space links this viewer may follow.
    pub space_links: SpaceLinks,
    /// The page shown, so the sidebar tree can open to it (0 = none).
    pub current_id: i64,
    /// Comma-separated ancestor ids of the current page (tree auto-open).
    pub tree_path: String,
    /// (kind, message) banners: announcement, read-only mode, node state.
    pub banners: Vec<(String, String)>,
}

impl Layout {
    pub(crate) fn new(title: impl Into<String>, viewer: &Viewer) -> Layout {
        let chrome = crate::web::chrome();
        Layout {
            title: title.into(),
            site_title: chrome.site_title,
            banners: chrome.banners,
            user: viewer
                .user
                .as_ref()
                .map(|u| (u.username.clone(), u.display_name.clone())),
            is_admin: viewer.is_admin,
            csrf: viewer.csrf.clone().unwrap_or_default(),
            space: None,
            space_links: SpaceLinks::default(),
            current_id: 0,
            tree_path: String::new(),
        }
    }
    pub(crate) fn plain(title: &str) -> Layout {
        Layout::new(title, &Viewer::anonymous())
    }
    pub(crate) fn at(mut self, id: i64, ancestors: &[i64]) -> Layout {
        self.current_id = id;
        self.tree_path = ancestors
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(",");
        self
    }
    /// The frame of a screen of content `c`: its space's sidebar with the tree
    /// open down to it (`perms`: the viewer's permissions in the space).
    pub(crate) fn of_content(
        self,
        c: &crate::content::Content,
        perms: &[crate::perms::SpacePerm],
    ) -> Layout {
        self.in_space(&c.space_key, &c.space_name, perms)
            .at(c.id, &c.ancestors)
    }
    /// The space sidebar, with the links `perms` (the viewer's permissions
    /// in the space) allow: no link leads to a 403.
    pub(crate) fn in_space(
        mut self,
        key: &str,
        name: &str,
        perms: &[crate::perms::SpacePerm],
    ) -> Layout {
        use crate::perms::SpacePerm;
        self.space = Some((key.to_owned(), name.to_owned()));
        self.space_links = SpaceLinks {
            create: perms.contains(&SpacePerm::Edit),
            trash: perms.contains(&SpacePerm::Delete),
            settings: perms.contains(&SpacePerm::Admin),
        };
        self
    }
}

pub(crate) trait IntoHtml {
    fn into_html(self) -> Response;
}

impl<T: Template> IntoHtml for T {
    fn into_html(self) -> Response {
        match self.render() {
            Ok(s) => {
                let mut r = Html(s).into_response();
                secure_headers(r.headers_mut());
                r
            }
            Err(e) => {
                tracing::error!(error = %e, "template failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
            }
        }
    }
}

/// Defence in depth on top of sanitizing: no inline script runs, no
/// framing, no MIME sniffing.
pub(crate) fn secure_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' https: http: data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// A url-encoded form body, as ordered pairs (fields may repeat), with
/// CRLF line breaks made LF.
pub(crate) struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
    }
    pub(crate) fn text(&self, k: &str) -> &str {
        self.get(k).unwrap_or("")
    }
    pub(crate) fn required(&self, k: &str) -> Result<&str, Error> {
        self.get(k)
            .ok_or_else(|| Error::BadRequest(format!("the form is missing the field {k:?}")))
    }
    pub(crate) fn int<T: std::str::FromStr>(&self, k: &str) -> Result<T, Error> {
        let v = self.required(k)?;
        v.trim()
            .parse()
            .map_err(|_| Error::BadRequest(format!("field {k:?} must be a number, not {v:?}")))
    }
    pub(crate) fn opt_int<T: std::str::FromStr>(&self, k: &str) -> Result<Option<T>, Error> {
        match self.get(k).map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| Error::BadRequest(format!("field {k:?} must be a number, not {v:?}"))),
        }
    }
    pub(crate) fn checked(&self, k: &str) -> bool {
        matches!(self.get(k), Some("on" | "true" | "1" | "yes"))
    }
    /// Checks the CSRF token against the viewer's session.
    pub(crate) fn check_csrf(&self, viewer: &Viewer) -> Result<(), Error> {
        let sent = self.text("_csrf");
        match &viewer.csrf {
            Some(t) if auth::same_secret(t, sent) => Ok(()),
            Some(_) => Err(form_expired()),
            None if viewer.is_anonymous() => Err(Error::Unauthorized("you must log in to do this".into())),
            None => Err(Error::Forbidden(
                "forms are only accepted from a browser session; use the REST API with Basic or Bearer auth".into(),
            )),
        }
    }
}

/// Whether `sent` is the CSRF token of the viewer's session (for multipart
/// forms, which read their `_csrf` field themselves).
pub(crate) fn csrf_matches(viewer: &Viewer, sent: &str) -> bool {
    viewer
        .csrf
        .as_deref()
        .is_some_and(|t| auth::same_secret(t, sent))
}

/// The refusal of a form whose CSRF token does not match the session.
pub(crate) fn form_expired() -> Error {
    Error::Forbidden(
        "the form has expired or did not come from this site; reload the page and try again".into(),
    )
}

/// Form bodies larger than this are refused before parsing.
const MAX_FORM: usize = 8 * 1024 * 1024;

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = UiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if !ct.starts_with("application/x-www-form-urlencoded") {
            return Err(Error::BadRequest(
                "expected a form (application/x-www-form-urlencoded)".into(),
            )
            .into());
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| UiError::from(Error::BadRequest(format!("cannot read the form: {e}"))))?;
        if bytes.len() > MAX_FORM {
            return Err(Error::TooLarge("the form is larger than 8 MiB".into()).into());
        }
        // Browsers submit a textarea's line breaks as CRLF; what the UI
        // stores has the LF line endings REST and imports keep, so a save
        // from the browser changes only the lines the user changed.
        Ok(FormData(
            form_urlencoded::parse(&bytes)
                .map(|(k, v)| {
                    let v = if v.contains('\r') {
                        v.replace("\r\n", "\n")
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect(),
        ))
    }
}

/// A form posted from the viewer's own browser session: the viewer, and
/// the form once its CSRF token matched the session's. Every state-changing
/// screen takes this instead of a bare [`FormData`], so none can forget the
/// check.
pub(crate) struct Posted {
    pub viewer: Viewer,
    pub form: FormData,
}

impl FromRequest<AppState> for Posted {
    type Rejection = UiError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let form = FormData::from_request(Request::from_parts(parts, body), state).await?;
        form.check_csrf(&viewer)?;
        Ok(Posted { viewer, form })
    }
}

/// Sets `next` on a 401 so the login page returns the user where they were.
pub(crate) trait WithNext<T> {
    fn next(self, path: &str) -> UiResult<T>;
}
impl<T> WithNext<T> for Result<T, Error> {
    fn next(self, path: &str) -> UiResult<T> {
        self.map_err(|err| UiError {
            err,
            next: Some(path.to_owned()),
            field: None,
        })
    }
}

/// What a screen reads before it can show anything: a 404 an anonymous
/// viewer might avoid by logging in becomes a 401 whose login returns to
/// `here` (so a private page's link works once the reader logs in).
pub(crate) trait OrLogin<T> {
    fn or_login(self, viewer: &Viewer, here: &str) -> UiResult<T>;
}
impl<T> OrLogin<T> for Result<T, Error> {
    fn or_login(self, viewer: &Viewer, here: &str) -> UiResult<T> {
        self.map_err(|e| login_if_anonymous(e, viewer)).next(here)
    }
}

/// A 404 becomes a 401 for an anonymous viewer: the content may exist for
/// someone who logs in.
pub(crate) fn login_if_anonymous(e: Error, viewer: &Viewer) -> Error {
    match e {
        Error::NotFound(_) if viewer.is_anonymous() => {
            Error::Unauthorized("log in to see this".into())
        }
        e => e,
    }
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, ct): (&'static str, &'static str) = match file.as_str() {
        "app.css" => (include_str!("../assets/app.css"), "text/css; charset=utf-8"),
        "app.js" => (
            include_str!("../assets/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "drafts.js" => (
            include_str!("../assets/drafts.js"),
            "text/javascript; charset=utf-8",
        ),
        "favicon.svg" => (include_str!("../assets/favicon.svg"), "image/svg+xml"),
        // The rich-text editor, built from host/editor by `npm run build`.
        "editor.js" => (
            include_str!("../assets/editor.js"),
            "text/javascript; charset=utf-8",
        ),
        "editor.css" => (
            include_str!("../assets/editor.css"),
            "text/css; charset=utf-8",
        ),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    static_file(body, ct, "public, max-age=3600")
}

/// A file compiled into the binary, with its type and how long browsers
/// may keep it.
fn static_file(body: &'static str, content_type: &'static str, cache: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

/// An emoticon image (`host/assets/emoticons/`, one per `urls::EMOTICONS`).
async fn emoticon(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match emoticon_svg(&file) {
        Some(svg) => static_file(svg, "image/svg+xml", "public, max-age=86400"),
        None => (StatusCode::NOT_FOUND, "no such emoticon").into_response(),
    }
}

/// The SVG of emoticon file `file` (`smile.svg`), if there is one.
pub(crate) fn emoticon_svg(file: &str) -> Option<&'static str> {
    Some(match file {
        "smile.svg" => include_str!("../assets/emoticons/smile.svg"),
        "sad.svg" => include_str!("../assets/emoticons/sad.svg"),
        "cheeky.svg" => include_str!("../assets/emoticons/cheeky.svg"),
        "laugh.svg" => include_str!("../assets/emoticons/laugh.svg"),
        "wink.svg" => include_str!("../assets/emoticons/wink.svg"),
        "thumbs-up.svg" => include_str!("../assets/emoticons/thumbs-up.svg"),
        "thumbs-down.svg" => include_str!("../assets/emoticons/thumbs-down.svg"),
        "information.svg" => include_str!("../assets/emoticons/information.svg"),
        "tick.svg" => include_str!("../assets/emoticons/tick.svg"),
        "cross.svg" => include_str!("../assets/emoticons/cross.svg"),
        "warning.svg" => include_str!("../assets/emoticons/warning.svg"),
        "plus.svg" => include_str!("../assets/emoticons/plus.svg"),
        "minus.svg" => include_str!("../assets/emoticons/minus.svg"),
        "question.svg" => include_str!("../assets/emoticons/question.svg"),
        "light-on.svg" => include_str!("../assets/emoticons/light-on.svg"),
        "light-off.svg" => include_str!("../assets/emoticons/light-off.svg"),
        "yellow-star.svg" => include_str!("../assets/emoticons/yellow-star.svg"),
        "red-star.svg" => include_str!("../assets/emoticons/red-star.svg"),
        "green-star.svg" => include_str!("../assets/emoticons/green-star.svg"),
        "blue-star.svg" => include_str!("../assets/emoticons/blue-star.svg"),
        "heart.svg" => include_str!("../assets/emoticons/heart.svg"),
        "broken-heart.svg" => include_str!("../assets/emoticons/broken-heart.svg"),
        _ => return None,
    })
}

pub(crate) fn fmt_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%b %-d, %Y %H:%M").to_string()
}

/// A time as HTML: `<time>` with the exact time as its text and tooltip;
/// `app.js` turns the text into "2 minutes ago" (so cached pages stay
/// right). Only digits and month names: no escaping needed.
pub(crate) fn time_html(t: &chrono::DateTime<chrono::Utc>) -> String {
    let exact = fmt_time(t);
    format!(
        "<time datetime=\"{}\" title=\"{exact} UTC\">{exact}</time>",
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

pub(crate) use crate::http::chrome::chrome;
