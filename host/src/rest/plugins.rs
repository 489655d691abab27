//! Plugin management over REST (administrators), under
//! `/rest/cairn/1.0/plugins`, and the macro catalogue for editors.
//!
//! - `GET /plugins` — every installed plugin with its state on this node.
//! - `POST /plugins` — multipart: `manifest` (the TOML), `component` (the
//!   `.wasm`), `grant` (comma-separated capabilities; repeatable),
//!   `grant-limits` (`true` to accept manifest limits above the site
//!   defaults, refused otherwise). Installs or upgrades; 201 with the outcome.
//! - `GET /plugins/{id}`, `PUT /plugins/{id}` (JSON: `enabled`, `config`,
//!   `limits: {timeoutMs, memoryMib}` — each optional), `DELETE /plugins/{id}`.
//! - `GET /plugins/{id}/history` — the change audit trail.
//! - `GET /macros` — macros the editor can offer (any logged-in user).

use std::collections::BTreeMap;

use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::plugins::{Capability, Manifest, PluginRow, Registry};
use crate::AppState;

use super::shapes::Results;
use super::{Call, On};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/rest/cairn/1.0/plugins",
            get(list)
                .post(install)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::plugins::MAX_COMPONENT_BYTES + 1024 * 1024,
                )),
        )
        .route(
            "/rest/cairn/1.0/plugins/{id}",
            get(one).put(update).delete(remove),
        )
        .route("/rest/cairn/1.0/plugins/{id}/history", get(history))
        .route("/rest/cairn/1.0/macros", get(macros))
}

pub fn plugin_json(app: &AppState, reg: &Registry, r: &PluginRow) -> Value {
    let m = app.plugins.metrics(&r.id);
    use std::sync::atomic::Ordering::Relaxed;
    let calls = m.calls.load(Relaxed);
    let state = if !r.enabled {
        "disabled"
    } else if reg.failed.contains_key(&r.id) {
        "failed"
    } else {
        "enabled"
    };
    let limits = r.limits();
    json!({
        "id": r.id,
        "name": r.name,
        "version": r.version,
        "description": r.description,
        "author": r.author,
        "enabled": r.enabled,
        "state": state,
        "error": reg.failed.get(&r.id),
        "builtin": r.builtin,
        "worlds": r.manifest.worlds.iter().map(|w| w.name()).collect::<Vec<_>>(),
        "capabilities": r.capabilities.iter().map(|c| c.name()).collect::<Vec<_>>(),
        "macros": r.manifest.macros.iter().map(|m| &m.name).collect::<Vec<_>>(),
        "componentHash": r.hash,
        "componentSize": r.size,
        "config": r.config,
        "limits": {
            "timeoutMs": limits.timeout_ms,
            "memoryMib": limits.memory_mib,
            "overridden": r.timeout_ms.is_some() || r.memory_mib.is_some(),
        },
        "installedAt": crate::rest::json::when(&r.installed_at),
        "updatedAt": crate::rest::json::when(&r.updated_at),
        "node": {
            "calls": calls,
            "failures": m.failures.load(Relaxed),
            "cacheHits": m.cache_hits.load(Relaxed),
            "meanMicros": m.nanos.load(Relaxed).checked_div(calls).map(|n| n / 1000),
            "lastFailure": m.last_failure().map(|(at, why)| json!({"at": crate::rest::json::when(&at), "reason": why})),
        },
    })
}

async fn list(call: Call) -> Result<Response> {
    let (app, viewer) = call.into_parts();
    viewer.require_admin()?;
    let reg = app.plugins.registry();
    let results: Vec<Value> = reg
        .rows
        .iter()
        .map(|r| plugin_json(&app, &reg, r))
        .collect();
    Ok(
        Json(json!({"results": results, "size": results.len(), "generation": reg.generation}))
            .into_response(),
    )
}

fn find<'a>(reg: &'a Registry, id: &str) -> Result<&'a PluginRow> {
    reg.rows
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Error::NotFound(format!("No plugin with id {id}")))
}

async fn one(on: On) -> Result<Response> {
    let (app, viewer, id) = on.into_parts();
    viewer.require_admin()?;
    let reg = app.plugins.registry();
    let r = find(&reg, &id)?;
    Ok(Json(plugin_json(&app, &reg, r)).into_response())
}

/// A yes/no form value: true/false, yes/no, on/off, 1/0.
pub fn parse_flag(v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" | "" => Ok(false),
        other => Err(Error::BadRequest(format!(
            "expected true or false, not {other:?}"
        ))),
    }
}

/// Parses a list of capability names ("log, content").
pub fn parse_grant(values: &[String]) -> Result<Vec<Capability>> {
    let mut out = Vec::new();
    for v in values {
        for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            out.push(Capability::parse(part).ok_or_else(|| {
                let known: Vec<&str> = Capability::ALL.iter().map(|c| c.name()).collect();
                Error::BadRequest(format!(
                    "unknown capability {part:?} (known: {})",
                    known.join(", ")
                ))
            })?);
        }
    }
    Ok(out)
}

async fn install(call: Call, mut mp: Multipart) -> Result<Response> {
    let (app, viewer) = call.into_parts();
    viewer.require_admin()?;
    let mut manifest: Option<String> = None;
    let mut component: Option<Vec<u8>> = None;
    let mut grant: Vec<String> = Vec::new();
    let mut grant_limits = false;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| Error::BadRequest(format!("cannot read the multipart body: {e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| Error::BadRequest(format!("cannot read part {name:?}: {e}")))?;
        match name.as_str() {
            "manifest" => {
                manifest = Some(
                    String::from_utf8(bytes.to_vec())
                        .map_err(|_| Error::BadRequest("the manifest is not UTF-8 text".into()))?,
                )
            }
            "component" => component = Some(bytes.to_vec()),
            "grant" => grant.push(String::from_utf8_lossy(&bytes).into_owned()),
            "grant-limits" => {
                grant_limits = parse_flag(&String::from_utf8_lossy(&bytes))?;
            }
            other => {
                return Err(Error::BadRequest(format!(
                    "unexpected part {other:?} (expected manifest, component, grant, grant-limits)"
                )))
            }
        }
    }
    let manifest = manifest
        .ok_or_else(|| Error::BadRequest("the part \"manifest\" (TOML) is missing".into()))?;
    let component = component
        .ok_or_else(|| Error::BadRequest("the part \"component\" (.wasm) is missing".into()))?;
    let manifest = Manifest::parse(&manifest).map_err(Error::BadRequest)?;
    let grant = parse_grant(&grant)?;
    let outcome = app
        .plugins
        .install_granting(&viewer, manifest, component, &grant, grant_limits, false)
        .await?;
    let status = if outcome.action == "unchanged" {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let reg = app.plugins.registry();
    let plugin = find(&reg, &outcome.id)
        .map(|r| plugin_json(&app, &reg, r))
        .ok();
    Ok((status, Json(json!({"outcome": outcome, "plugin": plugin}))).into_response())
}

async fn update(on: On, crate::rest::Body(b): crate::rest::Body) -> Result<Response> {
    let (app, viewer, id) = on.into_parts();
    viewer.require_admin()?;
    let Some(obj) = b.as_object() else {
        return Err(Error::BadRequest(
            "the request body must be a JSON object".into(),
        ));
    };
    for k in obj.keys() {
        if !matches!(k.as_str(), "enabled" | "config" | "limits") {
            return Err(Error::BadRequest(format!(
                "unknown field {k:?} (expected enabled, config, limits)"
            )));
        }
    }
    find(&app.plugins.registry(), &id)?;
    if let Some(v) = obj.get("config") {
        let Some(o) = v.as_object() else {
            return Err(Error::BadRequest(
                "config must be an object of strings".into(),
            ));
        };
        let mut cfg = BTreeMap::new();
        for (k, v) in o {
            let Some(s) = v.as_str() else {
                return Err(Error::BadRequest(format!("config.{k} must be a string")));
            };
            cfg.insert(k.clone(), s.to_string());
        }
        app.plugins.set_config(&viewer, &id, cfg).await?;
    }
    if let Some(v) = obj.get("limits") {
        let num = |k: &str| -> Result<Option<u32>> {
            match v.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(n) => n
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .map(Some)
                    .ok_or_else(|| {
                        Error::BadRequest(format!("limits.{k} must be a positive integer"))
                    }),
            }
        };
        if !v.is_object() {
            return Err(Error::BadRequest("limits must be an object".into()));
        }
        app.plugins
            .set_limits(&viewer, &id, num("timeoutMs")?, num("memoryMib")?)
            .await?;
    }
    if let Some(v) = obj.get("enabled") {
        let Some(e) = v.as_bool() else {
            return Err(Error::BadRequest("enabled must be true or false".into()));
        };
        app.plugins.set_enabled(&viewer, &id, e).await?;
    }
    let reg = app.plugins.registry();
    let r = find(&reg, &id)?;
    Ok(Json(plugin_json(&app, &reg, r)).into_response())
}

async fn remove(on: On) -> Result<Response> {
    let (app, viewer, id) = on.into_parts();
    viewer.require_admin()?;
    app.plugins.remove(&viewer, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn history(on: On) -> Result<Response> {
    let (app, viewer, id) = on.into_parts();
    viewer.require_admin()?;
    let h = app.plugins.history(Some(&id), 200).await?;
    Ok(Json(Results::of(h)).into_response())
}

async fn macros(call: Call) -> Result<Response> {
    let (app, viewer) = call.into_parts();
    if viewer.user.is_none() {
        return Err(Error::Unauthorized("Log in to list macros".into()));
    }
    let reg = app.plugins.registry();
    let list: Vec<Value> = reg
        .macro_specs()
        .into_iter()
        .map(|(s, plugin)| macro_json(&s, &plugin))
        .collect();
    Ok(Json(Results::of(list)).into_response())
}

pub fn macro_json(s: &crate::plugins::runtime::wit::MacroSpec, plugin: &str) -> Value {
    use crate::plugins::runtime::wit::{BodyKind, OutputKind, ParamType};
    json!({
        "name": s.name,
        "title": s.title,
        "description": s.description,
        "plugin": plugin,
        "body": match s.body { BodyKind::None => "none", BodyKind::PlainText => "plain-text", BodyKind::RichText => "rich-text" },
        "output": match s.output { OutputKind::Block => "block", OutputKind::Inline => "inline" },
        "cacheable": s.cacheable,
        "params": s.params.iter().map(|p| json!({
            "name": p.name,
            "type": match p.type_ {
                ParamType::String => "string", ParamType::Boolean => "boolean", ParamType::Int => "int",
                ParamType::Enum => "enum", ParamType::Page => "page", ParamType::Space => "space",
                ParamType::User => "user", ParamType::Label => "label", ParamType::Url => "url",
                ParamType::Colour => "colour",
            },
            "required": p.required,
            "default": p.default,
            "description": p.description,
            "values": p.values,
        })).collect::<Vec<_>>(),
    })
}
