//! Clustering with real etcd, real PostgreSQL and real `cairn serve`
//! processes on 127.0.0.1 (and real nginx): membership, kill -9, fencing of a
//! node cut from etcd, a paused etcd, duplicate ids, live settings, plugin
//! installs, concurrent edits and search across nodes, drain.

use std::time::{Duration, Instant};

use cairn_tests::cluster::{ClusterSpec, Etcd, Nginx, Proxy};
use cairn_tests::within;
use reqwest::Method;

mod across_nodes;
mod benches;
mod membership;
mod settings;

/// The rendered body of a page as `n` serves it.
async fn view(n: &cairn_tests::cluster::NodeProc, id: &str) -> String {
    let path = format!("/rest/api/content/{id}?expand=body.view");
    n.get_json(&path).await.1["body"]["view"]["value"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// A figure from a node's /metrics (0 when absent).
async fn metric(n: &cairn_tests::cluster::NodeProc, name: &str) -> f64 {
    let text = n.get_text("/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}
