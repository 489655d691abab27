//! Admin-extension pages: a plugin's own admin pages, mounted under
//! `/admin/plugins/{id}/ext/…`, inside the site's layout.
//!
//! Invariant: only administrators reach them, and a plugin's HTML is
//! sanitized (no script, no event handler, forms post back to the plugin's
//! own path with the session's CSRF token) before it joins the page.

use crate::error::Error;
use crate::perms::Viewer;
use crate::plugins::runtime;
use crate::web::{see_other, IntoHtml, Layout, UiResult, WithNext};
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};

#[derive(Template)]
#[template(path = "admin_plugin_ext.html")]
pub(super) struct ExtPage {
    pub(super) layout: Layout,
    pub(super) id: String,
    pub(super) name: String,
    pub(super) body: String,
}

/// The allow-list for admin-extension pages: the page allow-list plus
/// forms that post back to the plugin's own mount point.
pub(super) fn ext_sanitizer() -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::default();
    b.add_tags([
        "form", "input", "button", "select", "option", "textarea", "label", "fieldset", "legend",
        "details", "summary",
    ])
    .add_generic_attributes(["class", "id", "title"])
    .add_tag_attributes("form", ["method", "action"])
    .add_tag_attributes(
        "input",
        ["type", "name", "value", "checked", "placeholder", "size"],
    )
    .add_tag_attributes("button", ["type", "name", "value"])
    .add_tag_attributes("select", ["name"])
    .add_tag_attributes("option", ["value", "selected"])
    .add_tag_attributes("textarea", ["name", "rows", "cols"])
    .add_tag_attributes("td", ["colspan", "rowspan"])
    .add_tag_attributes("th", ["colspan", "rowspan"])
    .url_relative(ammonia::UrlRelative::PassThrough)
    .attribute_filter(|element, attribute, value| {
        let relative_only = matches!((element, attribute), ("form", "action") | ("a", "href"));
        if relative_only && (value.starts_with("//") || value.contains(':') || value.contains('\\'))
        {
            return None;
        }
        if element == "input"
            && attribute == "type"
            && !matches!(
                value,
                "text" | "hidden" | "checkbox" | "radio" | "number" | "submit" | "search"
            )
        {
            return None;
        }
        Some(value.into())
    });
    b
}

pub(super) async fn ext_root(
    state: State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    q: RawQuery,
    body: Bytes,
) -> UiResult {
    serve_ext(state, viewer, id, String::new(), method, headers, q, body).await
}

pub(super) async fn ext(
    state: State<AppState>,
    viewer: Viewer,
    Path((id, path)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    q: RawQuery,
    body: Bytes,
) -> UiResult {
    serve_ext(state, viewer, id, path, method, headers, q, body).await
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn serve_ext(
    State(app): State<AppState>,
    viewer: Viewer,
    id: String,
    path: String,
    method: Method,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> UiResult {
    let mount = format!("/admin/plugins/{id}/ext");
    viewer.require_admin().next(&format!("{mount}/{path}"))?;
    if method == Method::POST {
        // Forms from the extension's pages carry the session's CSRF token
        // (the host adds it to every form it serves).
        let form: Vec<(String, String)> = form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let sent = form
            .iter()
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if !crate::web::csrf_matches(&viewer, sent) {
            return Err(crate::web::form_expired().into());
        }
    }
    let user = viewer.user.as_ref().expect("admins are users");
    let mut hdrs: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "content-type" | "accept" | "accept-language" | "user-agent"
            )
        })
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
        .collect();
    // Plugins have no clock: the request says what time it is.
    hdrs.push(("date".into(), chrono::Utc::now().to_rfc2822()));
    let request = crate::plugins::admin::AdminRequest {
        method: method.as_str().to_string(),
        path: format!("/{path}"),
        query: q.unwrap_or_default(),
        headers: hdrs,
        body: body.to_vec(),
        user: runtime::wit::User {
            key: user.user_key.clone(),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
        },
    };
    let resp = app.plugins.admin_request(&viewer, &id, request).await?;
    let header_of = |name: &str| {
        resp.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if (300..400).contains(&resp.status) {
        let loc = header_of("location").unwrap_or("/");
        if loc.starts_with("//") || loc.contains(':') || loc.contains('\\') {
            return Err(
                Error::Internal(format!("plugin {id} redirected outside its pages")).into(),
            );
        }
        let target = if let Some(rest) = loc.strip_prefix('/') {
            format!("{mount}/{rest}")
        } else {
            format!("{mount}/{loc}")
        };
        return Ok(see_other(&target));
    }
    let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let ctype = header_of("content-type").unwrap_or("text/html").to_string();
    if ctype.starts_with("text/html") {
        let raw = String::from_utf8_lossy(&resp.body);
        let clean = ext_sanitizer().clean(&raw).to_string();
        let token = crate::content::xml_escape(viewer.csrf.as_deref().unwrap_or(""));
        let body = clean.replace(
            "</form>",
            &format!("<input type=\"hidden\" name=\"_csrf\" value=\"{token}\"></form>"),
        );
        let name = app
            .plugins
            .registry()
            .rows
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| id.clone());
        let mut r = ExtPage {
            layout: Layout::new(name.clone(), &viewer),
            id,
            name,
            body,
        }
        .into_html();
        *r.status_mut() = status;
        return Ok(r);
    }
    // Anything else is a download, never rendered on this origin.
    let mut r = crate::http::download::file(resp.body, &ctype, None, None);
    *r.status_mut() = status;
    Ok(r)
}
