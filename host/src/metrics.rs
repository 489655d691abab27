//! `/metrics`: the node's figures in the Prometheus text format (0.0.4).
//! Counts only — no titles, users or content — so it is served without
//! authentication for scrapers.

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Page views and REST reads answered from the response cache ([`crate::changes`]).
pub static RESPONSE_CACHE_HITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One counter per plugin: `name{plugin="ID"} value`.
fn per_plugin<M>(
    out: &mut String,
    rows: &[(String, String, M)],
    name: &str,
    help: &str,
    value: impl Fn(&M) -> String,
) {
    family(out, name, "counter", help);
    for (id, _, m) in rows {
        let _ = writeln!(out, "{name}{{plugin=\"{id}\"}} {}", value(m));
    }
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub(crate) async fn metrics(State(app): State<AppState>) -> Response {
    let mut out = String::with_capacity(4096);
    let node = label(&app.node_id);
    family(&mut out, "cairn_node_info", "gauge", "This node (value 1).");
    let _ = writeln!(
        out,
        "cairn_node_info{{node=\"{node}\",version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    family(
        &mut out,
        "cairn_node_start_time_seconds",
        "gauge",
        "When the node started (Unix time).",
    );
    let _ = writeln!(
        out,
        "cairn_node_start_time_seconds {}",
        app.started.timestamp()
    );
    family(
        &mut out,
        "cairn_ready",
        "gauge",
        "1 when the node serves (RUNNING).",
    );
    let _ = writeln!(out, "cairn_ready {}", u8::from(app.readiness.is_ready()));
    family(
        &mut out,
        "cairn_response_cache_hits_total",
        "counter",
        "Page views and REST content reads served from the response cache.",
    );
    let _ = writeln!(
        out,
        "cairn_response_cache_hits_total {}",
        RESPONSE_CACHE_HITS.load(Relaxed)
    );
    family(
        &mut out,
        "cairn_consistency_catch_ups_total",
        "counter",
        "Requests whose consistency token was ahead of this node's caches (they moved its data generation).",
    );
    let _ = writeln!(
        out,
        "cairn_consistency_catch_ups_total {}",
        app.consistency.catch_ups()
    );
    family(
        &mut out,
        "cairn_change_notify_delay_seconds",
        "histogram",
        "From the start of a writing transaction to its change notification reaching this node.",
    );
    let (cumulative, count, sum_us) = crate::generation::NOTIFY_DELAY.snapshot();
    for (bound, n) in crate::generation::DELAY_BOUNDS_US.iter().zip(&cumulative) {
        let _ = writeln!(
            out,
            "cairn_change_notify_delay_seconds_bucket{{le=\"{}\"}} {n}",
            *bound as f64 / 1e6
        );
    }
    let _ = writeln!(
        out,
        "cairn_change_notify_delay_seconds_bucket{{le=\"+Inf\"}} {count}"
    );
    let _ = writeln!(
        out,
        "cairn_change_notify_delay_seconds_sum {}",
        sum_us as f64 / 1e6
    );
    let _ = writeln!(out, "cairn_change_notify_delay_seconds_count {count}");

    let c = &app.cluster;
    family(
        &mut out,
        "cairn_cluster_member",
        "gauge",
        "1 while this node may write (a live cluster member, or standalone); 0 while fenced or leaving.",
    );
    let _ = writeln!(out, "cairn_cluster_member {}", u8::from(c.may_write()));
    family(
        &mut out,
        "cairn_cluster_leader",
        "gauge",
        "1 when this node is the cluster leader.",
    );
    let _ = writeln!(out, "cairn_cluster_leader {}", u8::from(c.is_leader()));
    family(
        &mut out,
        "cairn_cluster_nodes",
        "gauge",
        "Live cluster members this node sees.",
    );
    let _ = writeln!(out, "cairn_cluster_nodes {}", c.members().len());
    if let Some(age) = c.lease_age() {
        family(
            &mut out,
            "cairn_cluster_lease_age_seconds",
            "gauge",
            "Time since this node's lease was last renewed.",
        );
        let _ = writeln!(
            out,
            "cairn_cluster_lease_age_seconds {:.3}",
            age.as_secs_f64()
        );
    }
    family(
        &mut out,
        "cairn_read_only",
        "gauge",
        "1 while the live setting access_mode is read-only.",
    );
    let _ = writeln!(
        out,
        "cairn_read_only {}",
        u8::from(c.settings().read_only())
    );

    let st = app.pool.status();
    family(
        &mut out,
        "cairn_db_pool_connections",
        "gauge",
        "Database pool connections by state.",
    );
    let _ = writeln!(
        out,
        "cairn_db_pool_connections{{state=\"open\"}} {}",
        st.size
    );
    let _ = writeln!(
        out,
        "cairn_db_pool_connections{{state=\"idle\"}} {}",
        st.available
    );
    let _ = writeln!(
        out,
        "cairn_db_pool_connections{{state=\"max\"}} {}",
        st.max_size
    );
    family(
        &mut out,
        "cairn_db_pool_waiting",
        "gauge",
        "Requests waiting for a database connection.",
    );
    let _ = writeln!(out, "cairn_db_pool_waiting {}", st.waiting);

    if let Some(index) = &app.search {
        family(
            &mut out,
            "cairn_search_documents",
            "gauge",
            "Documents in this node's search index.",
        );
        let _ = writeln!(out, "cairn_search_documents {}", index.doc_count());
        family(
            &mut out,
            "cairn_search_journal_position",
            "gauge",
            "Index journal entry this node's index has applied.",
        );
        let _ = writeln!(out, "cairn_search_journal_position {}", index.position());
        let h = index.health();
        family(
            &mut out,
            "cairn_search_degraded",
            "gauge",
            "1 while this node's index is being rebuilt because it did not match the database (search incomplete).",
        );
        let _ = writeln!(
            out,
            "cairn_search_degraded {}",
            u8::from(h.degraded.is_some())
        );
        family(
            &mut out,
            "cairn_search_drift_checks_total",
            "counter",
            "Periodic comparisons of this node's index with PostgreSQL.",
        );
        let _ = writeln!(out, "cairn_search_drift_checks_total {}", h.drift_checks);
        family(
            &mut out,
            "cairn_search_drift_repaired_total",
            "counter",
            "Documents the drift checks found different from PostgreSQL and re-applied.",
        );
        let _ = writeln!(
            out,
            "cairn_search_drift_repaired_total {}",
            h.drift_repaired
        );
        family(
            &mut out,
            "cairn_search_drift_last_differing",
            "gauge",
            "Documents that differed from PostgreSQL in the last drift check.",
        );
        let _ = writeln!(
            out,
            "cairn_search_drift_last_differing {}",
            h.last_check.as_ref().map_or(0, |c| c.differing)
        );
        family(
            &mut out,
            "cairn_search_drift_check_seconds",
            "gauge",
            "How long the last drift check took.",
        );
        let _ = writeln!(
            out,
            "cairn_search_drift_check_seconds {:.3}",
            h.last_check.as_ref().map_or(0.0, |c| c.ms as f64 / 1000.0)
        );
        family(
            &mut out,
            "cairn_search_stale_hits_total",
            "counter",
            "Search hits withheld because PostgreSQL contradicted the index (then repaired).",
        );
        let _ = writeln!(out, "cairn_search_stale_hits_total {}", h.stale_hits);
        if let Ok(db) = app.pool.get().await {
            if let Ok(head) = crate::search::journal::head(&db).await {
                family(
                    &mut out,
                    "cairn_search_journal_lag",
                    "gauge",
                    "Journal entries not yet applied by this node.",
                );
                let _ = writeln!(
                    out,
                    "cairn_search_journal_lag {}",
                    (head - index.position()).max(0)
                );
            }
        }
    }

    let reg = app.plugins.registry();
    family(
        &mut out,
        "cairn_plugins",
        "gauge",
        "Installed plugins by state on this node.",
    );
    let disabled = reg.rows.iter().filter(|r| !r.enabled).count();
    let _ = writeln!(
        out,
        "cairn_plugins{{state=\"loaded\"}} {}",
        reg.loaded.len()
    );
    let _ = writeln!(
        out,
        "cairn_plugins{{state=\"failed\"}} {}",
        reg.failed.len()
    );
    let _ = writeln!(out, "cairn_plugins{{state=\"disabled\"}} {disabled}");
    family(
        &mut out,
        "cairn_plugin_registry_generation",
        "gauge",
        "Plugin registry generation this node runs.",
    );
    let _ = writeln!(out, "cairn_plugin_registry_generation {}", reg.generation);
    let rows: Vec<_> = reg
        .rows
        .iter()
        .map(|r| (label(&r.id), label(&r.hash), app.plugins.metrics(&r.id)))
        .collect();
    family(
        &mut out,
        "cairn_plugin_info",
        "gauge",
        "The component each plugin runs (by SHA-256).",
    );
    for (id, hash, _) in &rows {
        let _ = writeln!(
            out,
            "cairn_plugin_info{{plugin=\"{id}\",hash=\"{hash}\"}} 1"
        );
    }
    per_plugin(
        &mut out,
        &rows,
        "cairn_plugin_calls_total",
        "Plugin calls on this node.",
        |m| m.calls.load(Relaxed).to_string(),
    );
    per_plugin(
        &mut out,
        &rows,
        "cairn_plugin_failures_total",
        "Plugin calls that failed (trap, timeout, limits, errors).",
        |m| m.failures.load(Relaxed).to_string(),
    );
    per_plugin(
        &mut out,
        &rows,
        "cairn_plugin_call_seconds_total",
        "Time spent in plugin calls.",
        |m| format!("{:.6}", m.nanos.load(Relaxed) as f64 / 1e9),
    );
    per_plugin(
        &mut out,
        &rows,
        "cairn_plugin_cache_hits_total",
        "Macro outputs served from the cache.",
        |m| m.cache_hits.load(Relaxed).to_string(),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

/// This process's resident memory (bytes) and CPU time used (seconds),
/// from `/proc` (zeros elsewhere).
pub fn process_figures() -> (u64, f64) {
    let page = 4096u64;
    let rss = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |p| p * page);
    // Fields 14 and 15 of /proc/self/stat (after the command in parentheses)
    // are user and system time in clock ticks (100 a second on Linux).
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            let u: f64 = f.get(11)?.parse().ok()?;
            let k: f64 = f.get(12)?.parse().ok()?;
            Some((u + k) / 100.0)
        })
        .unwrap_or(0.0);
    (rss, cpu)
}

/// The machine's one-minute load average.
pub(crate) fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}
