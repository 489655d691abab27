//! One plugin's admin page: calls, failures and cache hits on this node,
//! the last failure, the log, limits, configuration, history, and the
//! actions enable, disable, limits, config and remove.
//!
//! Invariant: every action is an administrator's, checked before anything
//! changes; a bad value is a 400 that names it, and changes nothing.

use crate::error::Error;
use crate::perms::Viewer;
use crate::web::notice::{self, Notice};
use crate::web::{fmt_time, FormData, IntoHtml, Layout, OnField, Posted, UiResult, WithNext};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;

use super::list::{row, Row};

#[derive(Template)]
#[template(path = "admin_plugin.html")]
pub(super) struct DetailPage {
    pub(super) layout: Layout,
    pub(super) message: String,
    pub(super) message_kind: &'static str,
    pub(super) p: Row,
    pub(super) enabled: bool,
    pub(super) worlds: String,
    pub(super) hash: String,
    pub(super) size: String,
    pub(super) timeout: u32,
    pub(super) memory: u32,
    pub(super) overridden: bool,
    pub(super) timeout_override: String,
    pub(super) memory_override: String,
    pub(super) cache_hits: u64,
    pub(super) last_failure: String,
    pub(super) macros: Vec<(String, String, String, String, &'static str)>,
    pub(super) pages: Vec<(String, String)>,
    pub(super) config: String,
    pub(super) log: Vec<(String, &'static str, String)>,
    pub(super) history: Vec<(String, String, String, String, String)>,
}

pub(super) async fn detail_page(
    app: &AppState,
    viewer: &Viewer,
    id: &str,
    message: String,
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
        message_kind: "info",
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

pub(super) async fn detail(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> UiResult {
    detail_page(&app, &viewer, &id, n.message()).await
}

pub(super) fn parse_config(text: &str) -> Result<BTreeMap<String, String>, Error> {
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

pub(super) fn opt_u32(form: &FormData, k: &str) -> Result<Option<u32>, Error> {
    match form.text(k).trim() {
        "" => Ok(None),
        v => v
            .parse()
            .map(Some)
            .map_err(|_| Error::BadRequest(format!("{v:?} is not a whole number"))),
    }
}

pub(super) async fn manage(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    viewer.require_admin()?;
    let p = &app.plugins;
    let here = format!("/admin/plugins/{}", crate::urls::enc(&id));
    let code = match form.text("action") {
        "enable" => {
            p.set_enabled(&viewer, &id, true).await?;
            "enabled"
        }
        "disable" => {
            p.set_enabled(&viewer, &id, false).await?;
            "disabled"
        }
        "remove" => {
            p.remove(&viewer, &id).await?;
            return Ok(notice::done_with("/admin/plugins", "removed", &id, ""));
        }
        "limits" => {
            let t = opt_u32(&form, "timeout_ms").on_field("timeout_ms")?;
            let m = opt_u32(&form, "memory_mib").on_field("memory_mib")?;
            let r = p.set_limits(&viewer, &id, t, m).await;
            let field = match &r {
                Err(Error::BadRequest(m)) if m.contains("memory") => "memory_mib",
                _ => "timeout_ms",
            };
            r.on_field(field)?;
            "limits"
        }
        "config" => {
            let cfg = parse_config(form.text("config")).on_field("config")?;
            p.set_config(&viewer, &id, cfg).await.on_field("config")?;
            "config"
        }
        other => return Err(Error::BadRequest(format!("unknown action {other:?}")).into()),
    };
    Ok(notice::done(&here, code))
}
