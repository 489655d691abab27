//! Admin pages for plugins: list, install/upgrade (multipart upload with
//! capability grants), per-plugin details (metrics, log, limits, config,
//! history, enable/disable/remove), and admin-extension pages mounted under
//! `/admin/plugins/{id}/ext/…`.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::get;
use axum::Router;

use super::{fmt_time, see_other, FormData, IntoHtml, Layout, Posted, UiResult, WithNext};
use crate::error::Error;
use crate::perms::Viewer;
use crate::plugins::{runtime, Capability, Manifest, PluginRow, Registry};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/plugins",
            get(list)
                .post(install)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::plugins::MAX_COMPONENT_BYTES + 1024 * 1024,
                )),
        )
        .route("/admin/plugins/{id}", get(detail).post(manage))
        .route("/admin/plugins/{id}/ext", get(ext_root).post(ext_root))
        .route("/admin/plugins/{id}/ext/", get(ext_root).post(ext_root))
        .route("/admin/plugins/{id}/ext/{*path}", get(ext).post(ext))
}

struct Row {
    id: String,
    name: String,
    version: String,
    state: String,
    error: String,
    builtin: bool,
    macros: String,
    capabilities: String,
    calls: u64,
    failures: u64,
    mean: String,
    description: String,
    author: String,
}

fn row(app: &AppState, reg: &Registry, r: &PluginRow) -> Row {
    let m = app.plugins.metrics(&r.id);
    let calls = m.calls.load(Relaxed);
    let caps: Vec<&str> = r.capabilities.iter().map(|c| c.name()).collect();
    Row {
        id: r.id.clone(),
        name: r.name.clone(),
        version: r.version.clone(),
        state: if !r.enabled {
            "disabled".into()
        } else if reg.failed.contains_key(&r.id) {
            "failed".into()
        } else {
            "enabled".into()
        },
        error: reg.failed.get(&r.id).cloned().unwrap_or_default(),
        builtin: r.builtin,
        macros: r
            .manifest
            .macros
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        capabilities: if caps.is_empty() {
            "none".into()
        } else {
            caps.join(", ")
        },
        calls,
        failures: m.failures.load(Relaxed),
        mean: match m.nanos.load(Relaxed).checked_div(calls) {
            Some(n) => format!("{} µs", n / 1000),
            None => "–".into(),
        },
        description: r.description.clone(),
        author: r.author.clone(),
    }
}

#[derive(Template)]
#[template(path = "admin_plugins.html")]
struct ListPage {
    layout: Layout,
    message: String,
    message_kind: &'static str,
    plugins: Vec<Row>,
    capabilities: Vec<(&'static str, &'static str)>,
    history: Vec<(String, String, String, String, String)>,
    default_timeout: u32,
    default_memory: u32,
    max_instances: u32,
}

async fn list_page(
    app: &AppState,
    viewer: &Viewer,
    message: String,
    ok: bool,
    status: StatusCode,
) -> UiResult {
    viewer.require_admin().next("/admin/plugins")?;
    let reg = app.plugins.registry();
    let history = app
        .plugins
        .history(None, 20)
        .await?
        .into_iter()
        .map(|h| (fmt_time(&h.at), h.plugin_id, h.action, h.version, h.actor))
        .collect();
    let mut r = ListPage {
        layout: Layout::new("Plugins", viewer),
        message,
        message_kind: if ok { "info" } else { "error" },
        plugins: reg.rows.iter().map(|r| row(app, &reg, r)).collect(),
        capabilities: Capability::ALL
            .iter()
            .map(|c| (c.name(), c.explain()))
            .collect(),
        history,
        default_timeout: runtime::default_limits().0,
        default_memory: runtime::default_limits().1,
        max_instances: app.plugins.runtime().max_instances(),
    }
    .into_html();
    *r.status_mut() = status;
    Ok(r)
}

async fn list(State(app): State<AppState>, viewer: Viewer) -> UiResult {
    list_page(&app, &viewer, String::new(), true, StatusCode::OK).await
}

async fn install(State(app): State<AppState>, viewer: Viewer, mut mp: Multipart) -> UiResult {
    viewer.require_admin()?;
    let mut csrf_ok = false;
    let mut manifest = None;
    let mut component = None;
    let mut grant = Vec::new();
    let mut grant_limits = false;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return list_page(
                    &app,
                    &viewer,
                    format!("The upload failed: {e}. Nothing was changed."),
                    false,
                    StatusCode::BAD_REQUEST,
                )
                .await
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        let bytes = field.bytes().await.unwrap_or_default();
        match name.as_str() {
            "_csrf" => {
                let v = String::from_utf8_lossy(&bytes);
                csrf_ok = viewer
                    .csrf
                    .as_deref()
                    .is_some_and(|t| crate::auth::same_secret(t, &v));
            }
            "manifest" => manifest = Some(bytes),
            "component" => component = Some(bytes),
            "grant" => grant.push(String::from_utf8_lossy(&bytes).into_owned()),
            "grant-limits" => grant_limits = !bytes.is_empty(),
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(Error::Forbidden(
            "the form has expired or did not come from this site; reload the page and try again"
                .into(),
        )
        .into());
    }
    let result = async {
        let manifest = manifest.filter(|m| !m.is_empty()).ok_or_else(|| {
            Error::BadRequest("Choose the manifest file (cairn-plugin.toml).".into())
        })?;
        let component = component
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Error::BadRequest("Choose the component file (.wasm).".into()))?;
        let text = String::from_utf8(manifest.to_vec())
            .map_err(|_| Error::BadRequest("The manifest is not UTF-8 text.".into()))?;
        let manifest = Manifest::parse(&text).map_err(Error::BadRequest)?;
        let grant = crate::rest::plugins::parse_grant(&grant)?;
        app.plugins
            .install_granting(
                &viewer,
                manifest,
                component.to_vec(),
                &grant,
                grant_limits,
                false,
            )
            .await
    }
    .await;
    match result {
        Ok(o) => {
            let msg = match o.action {
                "unchanged" => format!(
                    "{} {} is already installed; nothing changed.",
                    o.id, o.version
                ),
                "upgraded" => format!(
                    "Upgraded {} from {} to {}.",
                    o.id,
                    o.previous_version.unwrap_or_default(),
                    o.version
                ),
                _ => format!("Installed {} {}.", o.id, o.version),
            };
            list_page(&app, &viewer, msg, true, StatusCode::OK).await
        }
        Err(e) => {
            let status = e.status();
            list_page(
                &app,
                &viewer,
                format!("{} Nothing was changed.", e.public_message()),
                false,
                status,
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_plugin.html")]
struct DetailPage {
    layout: Layout,
    message: String,
    message_kind: &'static str,
    p: Row,
    enabled: bool,
    worlds: String,
    hash: String,
    size: String,
    timeout: u32,
    memory: u32,
    overridden: bool,
    timeout_override: String,
    memory_override: String,
    cache_hits: u64,
    last_failure: String,
    macros: Vec<(String, String, String, String, &'static str)>,
    pages: Vec<(String, String)>,
    config: String,
    log: Vec<(String, &'static str, String)>,
    history: Vec<(String, String, String, String, String)>,
}

async fn detail_page(
    app: &AppState,
    viewer: &Viewer,
    id: &str,
    message: String,
    ok: bool,
) -> UiResult {
    viewer
        .require_admin()
        .next(&format!("/admin/plugins/{id}"))?;
    let reg = app.plugins.registry();
    let r = reg
        .rows
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Error::NotFound(format!("No plugin with id {id}")))?;
    let loaded = reg.loaded.get(id);
    let m = app.plugins.metrics(id);
    let limits = r.limits();
    let macros = loaded
        .map(|l| {
            l.specs
                .iter()
                .map(|s| {
                    let json = crate::rest::plugins::macro_json(s, &r.name);
                    let params: Vec<String> = s
                        .params
                        .iter()
                        .map(|p| {
                            let name = if p.name.is_empty() {
                                "(default)"
                            } else {
                                &p.name
                            };
                            format!("{name}{}", if p.required { "*" } else { "" })
                        })
                        .collect();
                    (
                        s.name.clone(),
                        s.title.clone(),
                        json["body"].as_str().unwrap_or("").to_string(),
                        params.join(", "),
                        if s.cacheable { "yes" } else { "no" },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let history = app
        .plugins
        .history(Some(id), 50)
        .await?
        .into_iter()
        .map(|h| (fmt_time(&h.at), h.action, h.version, h.detail, h.actor))
        .collect();
    Ok(DetailPage {
        layout: Layout::new(format!("Plugin {}", r.name), viewer),
        message,
        message_kind: if ok { "info" } else { "error" },
        p: row(app, &reg, r),
        enabled: r.enabled,
        worlds: r
            .manifest
            .worlds
            .iter()
            .map(|w| w.name())
            .collect::<Vec<_>>()
            .join(", "),
        hash: r.hash.clone(),
        size: crate::urls::human_size(r.size),
        timeout: limits.timeout_ms,
        memory: limits.memory_mib,
        overridden: r.timeout_ms.is_some() || r.memory_mib.is_some(),
        timeout_override: r.timeout_ms.map(|v| v.to_string()).unwrap_or_default(),
        memory_override: r.memory_mib.map(|v| v.to_string()).unwrap_or_default(),
        cache_hits: m.cache_hits.load(Relaxed),
        last_failure: m
            .last_failure()
            .map(|(at, why)| format!("{}: {why}", fmt_time(&at)))
            .unwrap_or_else(|| "none".into()),
        macros,
        pages: loaded.map(|l| l.admin_pages.clone()).unwrap_or_default(),
        config: r
            .config
            .iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect(),
        log: app
            .plugins
            .log(id)
            .lines()
            .into_iter()
            .take(50)
            .map(|l| (fmt_time(&l.at), l.level, l.message))
            .collect(),
        history,
    }
    .into_html())
}

async fn detail(State(app): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> UiResult {
    detail_page(&app, &viewer, &id, String::new(), true).await
}

fn parse_config(text: &str) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(Error::BadRequest(format!(
                "Line {}: write key = value",
                n + 1
            )));
        };
        out.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(out)
}

fn opt_u32(form: &FormData, k: &str) -> Result<Option<u32>, Error> {
    match form.text(k).trim() {
        "" => Ok(None),
        v => v
            .parse()
            .map(Some)
            .map_err(|_| Error::BadRequest(format!("{v:?} is not a whole number"))),
    }
}

async fn manage(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    viewer.require_admin()?;
    let p = &app.plugins;
    let r: Result<String, Error> = async {
        match form.text("action") {
            "enable" => p
                .set_enabled(&viewer, &id, true)
                .await
                .map(|_| "Enabled.".into()),
            "disable" => p
                .set_enabled(&viewer, &id, false)
                .await
                .map(|_| "Disabled: its macros show as unavailable.".into()),
            "remove" => p.remove(&viewer, &id).await.map(|_| String::new()),
            "limits" => {
                let t = opt_u32(&form, "timeout_ms")?;
                let m = opt_u32(&form, "memory_mib")?;
                p.set_limits(&viewer, &id, t, m)
                    .await
                    .map(|_| "Limits saved.".into())
            }
            "config" => {
                let cfg = parse_config(form.text("config"))?;
                p.set_config(&viewer, &id, cfg)
                    .await
                    .map(|_| "Configuration saved.".into())
            }
            other => Err(Error::BadRequest(format!("unknown action {other:?}"))),
        }
    }
    .await;
    match r {
        Ok(m) if m.is_empty() => {
            list_page(
                &app,
                &viewer,
                format!("Removed {id}."),
                true,
                StatusCode::OK,
            )
            .await
        }
        Ok(m) => detail_page(&app, &viewer, &id, m, true).await,
        Err(e @ Error::NotFound(_)) => Err(e.into()),
        Err(e) => {
            let status = e.status();
            let mut resp = detail_page(
                &app,
                &viewer,
                &id,
                format!("{} Nothing was changed.", e.public_message()),
                false,
            )
            .await?;
            *resp.status_mut() = status;
            Ok(resp)
        }
    }
}

// ------------------------------------------------------- admin extensions

#[derive(Template)]
#[template(path = "admin_plugin_ext.html")]
struct ExtPage {
    layout: Layout,
    id: String,
    name: String,
    body: String,
}

/// The allow-list for admin-extension pages: the page allow-list plus
/// forms that post back to the plugin's own mount point.
fn ext_sanitizer() -> ammonia::Builder<'static> {
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

async fn ext_root(
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

async fn ext(
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
async fn serve_ext(
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
        if !viewer
            .csrf
            .as_deref()
            .is_some_and(|t| crate::auth::same_secret(t, sent))
        {
            return Err(Error::Forbidden(
                "the form has expired or did not come from this site; reload the page and try again"
                    .into(),
            )
            .into());
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
