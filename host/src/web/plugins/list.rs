//! The plugin list and the install/upgrade form (multipart upload of the
//! manifest and the component, with capability grants).
//!
//! Invariant: an install either changes the registry or says why it did
//! not, and the page then states "Nothing was changed"; only an
//! administrator with the form's CSRF token installs.

use crate::error::Error;
use crate::perms::Viewer;
use crate::plugins::{runtime, Capability, Manifest, PluginRow, Registry};
use crate::web::{fmt_time, IntoHtml, Layout, UiResult, WithNext};
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use std::sync::atomic::Ordering::Relaxed;

pub(super) struct Row {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) version: String,
    pub(super) state: String,
    pub(super) error: String,
    pub(super) builtin: bool,
    pub(super) macros: String,
    pub(super) capabilities: String,
    pub(super) calls: u64,
    pub(super) failures: u64,
    pub(super) mean: String,
    pub(super) description: String,
    pub(super) author: String,
}

pub(super) fn row(app: &AppState, reg: &Registry, r: &PluginRow) -> Row {
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
pub(super) struct ListPage {
    pub(super) layout: Layout,
    pub(super) message: String,
    pub(super) message_kind: &'static str,
    pub(super) plugins: Vec<Row>,
    pub(super) capabilities: Vec<(&'static str, &'static str)>,
    pub(super) history: Vec<(String, String, String, String, String)>,
    pub(super) default_timeout: u32,
    pub(super) default_memory: u32,
    pub(super) max_instances: u32,
}

pub(super) async fn list_page(
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

pub(super) async fn list(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(n): Query<crate::web::notice::Notice>,
) -> UiResult {
    list_page(&app, &viewer, n.message(), true, StatusCode::OK).await
}

pub(super) async fn install(
    State(app): State<AppState>,
    viewer: Viewer,
    mut mp: Multipart,
) -> UiResult {
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
                csrf_ok = crate::web::csrf_matches(&viewer, &v);
            }
            "manifest" => manifest = Some(bytes),
            "component" => component = Some(bytes),
            "grant" => grant.push(String::from_utf8_lossy(&bytes).into_owned()),
            "grant-limits" => grant_limits = !bytes.is_empty(),
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(crate::web::form_expired().into());
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
