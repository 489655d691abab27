//! Cluster and live-settings REST resources (administrators):
//!
//! - `GET /rest/zdu/cluster` — Confluence's shape: nodes and their states.
//! - `GET /rest/cairn/1.0/cluster` — everything the cluster admin page
//!   shows: members with their figures, leader, etcd health, job runs,
//!   plugin divergence.
//! - `POST /rest/cairn/1.0/cluster/jobs/{job}` — run a cluster job now (on
//!   the leader; elsewhere 409 naming the leader).
//! - `GET /rest/cairn/1.0/config` — every setting; `GET|PUT|DELETE
//!   /rest/cairn/1.0/config/{key}` (PUT body `{"value": "…"}`, DELETE resets
//!   to the default); `GET /rest/cairn/1.0/config-history` — the audit trail.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::cluster::{jobs, settings, MemberInfo};
use crate::error::{Error, Result};
use crate::perms::Viewer;
use crate::AppState;

use super::shapes::Results;
use super::{ok, Call, Limit, On};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rest/zdu/cluster", get(zdu_cluster))
        .route("/rest/cairn/1.0/cluster", get(cluster))
        .route("/rest/cairn/1.0/cluster/jobs/{job}", post(run_job))
        .route("/rest/cairn/1.0/config", get(config_list))
        .route(
            "/rest/cairn/1.0/config/{key}",
            get(config_get).put(config_put).delete(config_delete),
        )
        .route("/rest/cairn/1.0/config-history", get(config_history))
}

/// Who made a change, for the audit trail.
pub fn actor(viewer: &Viewer) -> String {
    viewer
        .user
        .as_ref()
        .map_or_else(|| "system".to_owned(), |u| u.username.clone())
}

fn zdu_state(m: &MemberInfo) -> &'static str {
    match m.state.as_str() {
        "ACTIVE" => "ACTIVE",
        "STARTING" => "STARTING",
        "DRAINING" => "DRAINING",
        "TERMINATING" => "TERMINATING",
        "FENCED" => "OFFLINE",
        _ => "ERROR",
    }
}

async fn zdu_cluster(call: Call) -> Result<Response> {
    let (app, viewer) = call.into_parts();
    viewer.require_admin()?;
    let db = app.pool.get().await?;
    let active = crate::users::recently_active(&db).await?;
    let members = app.cluster.members();
    let versions: std::collections::BTreeSet<&str> =
        members.iter().map(|m| m.version.as_str()).collect();
    let nodes: Vec<Value> = members
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "name": m.id,
                "ipAddress": m.address,
                "state": zdu_state(m),
                "tasks": [],
                "buildNumber": m.build,
                "version": m.version,
                "local": m.id == app.cluster.node_id(),
                "activeUserCount": active,
                "startedAt": m.started,
            })
        })
        .collect();
    ok(json!({
        "upgradeModeEnabled": false,
        "state": if versions.len() > 1 { "MIXED" } else { "STABLE" },
        "originalVersion": versions.iter().next().copied().unwrap_or(env!("CARGO_PKG_VERSION")),
        "nodes": nodes,
    }))
}

/// The whole cluster view (REST and the admin page share it).
pub async fn cluster_view(app: &AppState) -> Result<Value> {
    let c = &app.cluster;
    let db = app.pool.get().await?;
    let runs = jobs::last_runs(&db).await?;
    let members = c.members();
    let health = match c.etcd_health().await {
        None => json!(null),
        Some(Ok(s)) => json!({"ok": true, "detail": s}),
        Some(Err(e)) => json!({"ok": false, "detail": e}),
    };
    Ok(json!({
        "mode": if c.is_clustered() { "cluster" } else { "standalone" },
        "cluster": c.name(),
        "clusterId": c.cluster_id(),
        "thisNode": c.node_id(),
        "leader": c.leader_id(),
        "leaseTtlSeconds": c.ttl().as_secs(),
        "etcd": health,
        "nodes": members,
        "pluginDivergence": crate::cluster::plugin_divergence(&members),
        "jobs": runs,
        "jobNames": jobs::JOBS,
    }))
}

async fn cluster(call: Call) -> Result<Response> {
    let (app, viewer) = call.into_parts();
    viewer.require_admin()?;
    ok(cluster_view(&app).await?)
}

/// Runs a job now on this node if it leads; otherwise says who does.
pub async fn run_job_now(app: &AppState, job: &str) -> Result<String> {
    if !jobs::JOBS.contains(&job) {
        return Err(Error::NotFound(format!(
            "no cluster job named {job:?} (jobs: {})",
            jobs::JOBS.join(", ")
        )));
    }
    if !app.cluster.is_leader() {
        return Err(Error::Conflict(format!(
            "cluster jobs run on the leader ({}); this node is {}",
            app.cluster
                .leader_id()
                .unwrap_or_else(|| "not elected yet".into()),
            app.cluster.node_id()
        )));
    }
    jobs::run(&app.job_context(), job).await
}

async fn run_job(on: On) -> Result<Response> {
    let (app, viewer, job) = on.into_parts();
    viewer.require_admin()?;
    let detail = run_job_now(&app, &job).await?;
    ok(json!({"job": job, "node": app.cluster.node_id(), "detail": detail}))
}

fn setting_json(s: &crate::cluster::Settings, d: &settings::Def) -> Value {
    json!({
        "key": d.key,
        "value": settings::shown(d.key, Some(s.text(d.key))),
        "set": s.stored.contains_key(d.key),
        "default": s.defaults.get(d.key),
        "description": d.help,
    })
}

async fn config_list(call: Call) -> Result<Response> {
    let (app, viewer) = call.into_parts();
    viewer.require_admin()?;
    // Read the store, not the node's copy, so a change is visible at once.
    let s = app.cluster.stored_settings().await?;
    let results: Vec<Value> = settings::DEFS.iter().map(|d| setting_json(&s, d)).collect();
    ok(Results::of(results))
}

fn def_of(key: &str) -> Result<&'static settings::Def> {
    settings::def(key).ok_or_else(|| {
        Error::NotFound(format!(
            "no setting named {key:?} (settings: {})",
            settings::DEFS
                .iter()
                .map(|d| d.key)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

async fn config_get(on: On) -> Result<Response> {
    let (app, viewer, key) = on.into_parts();
    viewer.require_admin()?;
    let d = def_of(&key)?;
    let s = app.cluster.stored_settings().await?;
    ok(setting_json(&s, d))
}

async fn config_put(on: On, body: axum::body::Bytes) -> Result<Response> {
    let (app, viewer, key) = on.into_parts();
    viewer.require_admin()?;
    def_of(&key)?;
    let v: Value = serde_json::from_slice(&body).map_err(|e| {
        Error::BadRequest(format!(
            "the body must be JSON like {{\"value\": \"…\"}}: {e}"
        ))
    })?;
    let value = match v.get("value") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(Error::BadRequest(
                "the body must be JSON like {\"value\": \"…\"} with a string value".into(),
            ))
        }
    };
    let (old, new) = app
        .cluster
        .set_setting(&key, Some(&value), &actor(&viewer))
        .await?;
    ok(json!({"key": key, "oldValue": old, "value": new}))
}

async fn config_delete(on: On) -> Result<Response> {
    let (app, viewer, key) = on.into_parts();
    viewer.require_admin()?;
    def_of(&key)?;
    app.cluster.set_setting(&key, None, &actor(&viewer)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn config_history(call: Call, Query(q): Query<Limit>) -> Result<Response> {
    call.viewer.require_admin()?;
    let entries = settings::audit_log(&call.db().await?, q.or(50, 1000)).await?;
    ok(Results::of(entries))
}
