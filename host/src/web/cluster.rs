//! `/admin/cluster` (members, leader, etcd health, jobs, plugin divergence)
//! and `/admin/settings` (live settings and their audit trail).

use askama::Template;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;

use super::notice::{self, Notice};
use super::{IntoHtml, Layout, OnField, Posted, UiResult};
use crate::cluster::{settings, MemberInfo};
use crate::error::Error;
use crate::perms::Viewer;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/cluster", get(cluster).post(cluster_post))
        .route("/admin/settings", get(settings_page).post(settings_post))
}

struct NodeRow {
    id: String,
    address: String,
    version: String,
    state: String,
    uptime: String,
    lease_age: String,
    memory: String,
    cpu: String,
    requests: String,
    pool: String,
    index: String,
    plugins: String,
    leader: bool,
    local: bool,
}

struct JobRow {
    job: String,
    node: String,
    started: String,
    finished: String,
    ok: bool,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin_cluster.html")]
struct ClusterPage {
    layout: Layout,
    message: String,
    error: bool,
    clustered: bool,
    name: String,
    cluster_id: String,
    version_state: String,
    leader: String,
    this_node: String,
    ttl: u64,
    etcd_ok: bool,
    etcd_detail: String,
    nodes: Vec<NodeRow>,
    divergence: Vec<(String, String)>,
    jobs: Vec<JobRow>,
    is_leader: bool,
}

fn uptime(started: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(started) else {
        return String::new();
    };
    let s = (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86400),
    }
}

fn node_row(m: &MemberInfo, leader: Option<&str>, me: &str) -> NodeRow {
    let f = &m.figures;
    NodeRow {
        id: m.id.clone(),
        address: m.address.clone(),
        version: m.version.clone(),
        state: m.state.clone(),
        uptime: uptime(&m.started),
        lease_age: format!("{:.1} s", f.lease_age_ms as f64 / 1000.0),
        memory: crate::urls::human_size(f.memory_rss_bytes as i64),
        cpu: format!("{:.1} s / {:.2}", f.cpu_seconds, f.load_average),
        requests: format!("{:.1}/s ({} total)", f.request_rate, f.requests_total),
        pool: format!(
            "{}/{}",
            f.db_pool_size.saturating_sub(f.db_pool_available),
            f.db_pool_max
        ),
        index: match (f.index_degraded.is_empty(), f.index_drift.is_empty()) {
            (false, _) => format!(
                "{} / {} · search degraded: {}",
                f.index_lag, f.index_docs, f.index_degraded
            ),
            (true, false) => format!(
                "{} / {} · last drift check: {}",
                f.index_lag, f.index_docs, f.index_drift
            ),
            (true, true) => format!("{} / {}", f.index_lag, f.index_docs),
        },
        plugins: f.plugins.len().to_string(),
        leader: leader == Some(m.id.as_str()),
        local: m.id == me,
    }
}

async fn cluster_page(app: &AppState, viewer: &Viewer, message: String, error: bool) -> UiResult {
    viewer.require_admin()?;
    let c = &app.cluster;
    let db = app.pool.get().await?;
    let runs = crate::cluster::jobs::last_runs(&db).await?;
    let mut members = c.members();
    if let Some(me) = members.iter_mut().find(|m| m.id == c.node_id()) {
        // This node's own row is always current.
        me.figures.requests_total = c.requests_total();
    }
    let leader = c.leader_id();
    let versions: std::collections::BTreeSet<&str> =
        members.iter().map(|m| m.version.as_str()).collect();
    let (etcd_ok, etcd_detail) = match c.etcd_health().await {
        None => (true, String::new()),
        Some(Ok(s)) => (true, s),
        Some(Err(e)) => (false, e),
    };
    let jobs = crate::cluster::jobs::JOBS
        .iter()
        .map(|name| match runs.iter().find(|r| r.job == *name) {
            Some(r) => JobRow {
                job: r.job.clone(),
                node: r.node_id.clone(),
                started: super::fmt_time(&r.started_at),
                finished: r
                    .finished_at
                    .as_ref()
                    .map(super::fmt_time)
                    .unwrap_or_default(),
                ok: r.ok.unwrap_or(true),
                detail: r.detail.clone(),
            },
            None => JobRow {
                job: (*name).to_owned(),
                node: String::new(),
                started: "never".into(),
                finished: String::new(),
                ok: true,
                detail: String::new(),
            },
        })
        .collect();
    let page = ClusterPage {
        layout: Layout::new("Cluster", viewer),
        message,
        error,
        clustered: c.is_clustered(),
        name: c.name().to_owned(),
        cluster_id: c.cluster_id().to_owned(),
        version_state: if versions.len() > 1 {
            format!(
                "MIXED versions ({})",
                versions.into_iter().collect::<Vec<_>>().join(", ")
            )
        } else {
            "all on one version".into()
        },
        leader: leader.clone().unwrap_or_else(|| "(none elected)".into()),
        this_node: c.node_id().to_owned(),
        ttl: c.ttl().as_secs(),
        etcd_ok,
        etcd_detail,
        nodes: members
            .iter()
            .map(|m| node_row(m, leader.as_deref(), c.node_id()))
            .collect(),
        divergence: crate::cluster::plugin_divergence(&members)
            .into_iter()
            .collect(),
        jobs,
        is_leader: c.is_leader(),
    };
    Ok(page.into_html())
}

async fn cluster(State(app): State<AppState>, viewer: Viewer) -> UiResult {
    cluster_page(&app, &viewer, String::new(), false).await
}

async fn cluster_post(State(app): State<AppState>, Posted { viewer, form }: Posted) -> UiResult {
    viewer.require_admin()?;
    let job = form.text("job").to_owned();
    match crate::rest::cluster::run_job_now(&app, &job).await {
        Ok(d) => cluster_page(&app, &viewer, format!("{job}: {d}"), false).await,
        Err(e) => {
            let status = e.status();
            let mut r = cluster_page(
                &app,
                &viewer,
                format!("{job}: {}", e.public_message()),
                true,
            )
            .await?;
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

struct SettingRow {
    key: String,
    help: String,
    value: String,
    default: String,
    set: bool,
}

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage {
    layout: Layout,
    message: String,
    store: String,
    settings: Vec<SettingRow>,
    history: Vec<(String, String, String, String, String, String)>,
}

async fn settings_view(app: &AppState, viewer: &Viewer, message: String) -> UiResult {
    viewer.require_admin()?;
    let s = app.cluster.stored_settings().await?;
    let db = app.pool.get().await?;
    let history = settings::audit_log(&db, 50)
        .await?
        .into_iter()
        .map(|e| {
            (
                super::fmt_time(&e.changed_at),
                e.changed_by,
                e.key,
                e.old_value.unwrap_or_else(|| "(default)".into()),
                e.new_value.unwrap_or_else(|| "(default)".into()),
                e.node_id,
            )
        })
        .collect();
    let page = SettingsPage {
        layout: Layout::new("Settings", viewer),
        message,
        store: if app.cluster.is_clustered() {
            format!("etcd (cluster {})", app.cluster.name())
        } else {
            "PostgreSQL (standalone node)".into()
        },
        settings: settings::DEFS
            .iter()
            .map(|d| SettingRow {
                key: d.key.to_owned(),
                help: d.help.to_owned(),
                value: settings::shown(d.key, Some(s.text(d.key))).unwrap_or_default(),
                default: s.defaults.get(d.key).cloned().unwrap_or_default(),
                set: s.stored.contains_key(d.key),
            })
            .collect(),
        history,
    };
    Ok(page.into_html())
}

async fn settings_page(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(n): Query<Notice>,
) -> UiResult {
    settings_view(&app, &viewer, n.message()).await
}

/// Saves the fields that changed. Every value is validated before any is
/// stored, so a bad one changes nothing; its error is shown beside it.
async fn settings_post(State(app): State<AppState>, Posted { viewer, form }: Posted) -> UiResult {
    viewer.require_admin()?;
    let by = crate::rest::cluster::actor(&viewer);
    if let Some(key) = form.get("reset") {
        app.cluster.set_setting(key, None, &by).await?;
        return Ok(notice::done_with("/admin/settings", "reset", key, ""));
    }
    let effective = app.cluster.stored_settings().await?;
    let mut changes = Vec::new();
    for d in settings::DEFS {
        let Some(v) = form.get(d.key) else { continue };
        // A secret's field is blank (or the mask): only a new value changes it.
        if settings::is_secret(d.key) && (v.is_empty() || v == settings::SECRET_MASK) {
            continue;
        }
        if v.trim() == effective.text(d.key) {
            continue;
        }
        if let Err(e) = settings::validate(d.key, v) {
            let e = Error::BadRequest(format!(
                "{}; nothing was changed",
                e.public_message().trim_end_matches('.')
            ));
            return Err(e).on_field(d.key);
        }
        changes.push((d.key, v.to_owned()));
    }
    if changes.is_empty() {
        return Ok(notice::done("/admin/settings", "unchanged"));
    }
    let mut done = Vec::new();
    for (k, v) in changes {
        if let Err(e) = app.cluster.set_setting(k, Some(&v), &by).await {
            let saved = if done.is_empty() {
                "nothing".to_string()
            } else {
                done.join(", ")
            };
            let e = Error::BadRequest(format!(
                "{} (saved before the failure: {saved})",
                e.public_message()
            ));
            return Err(e).on_field(k);
        }
        done.push(k.to_owned());
    }
    Ok(notice::done_with(
        "/admin/settings",
        "settings",
        &done.join(", "),
        "",
    ))
}
