//! Search: the journal feeds each node's tantivy index; CQL over REST;
//! permission filtering inside the query (results, counts, excerpts);
//! recovery of a damaged index from the journal.

use std::time::Duration;

use cairn_tests::{password_of, wait_until, TestNode};
use serde_json::Value;

mod drift;
mod homes;
mod journal;
mod page;
mod queries;

async fn get(node: &TestNode, user: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", node.base))
        .basic_auth(user, Some(password_of(user)))
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn cql(q: &str) -> String {
    form_encode(q)
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn total(node: &TestNode, user: &str, q: &str) -> i64 {
    let (s, v) = get(node, user, &format!("/rest/api/search?cql={}", cql(q))).await;
    assert_eq!(s, 200, "{q}: {v}");
    v["totalSize"].as_i64().unwrap()
}

// Helpers of the issue 22 tests (homes, drift): the index is bound to the
// history it indexes.

/// Ids of `cql` hits on `idx` for the admin of `node`.
async fn hit_ids(node: &TestNode, idx: &cairn::search::SearchIndex, cql: &str) -> Vec<i64> {
    let db = node.sql().await;
    let admin = cairn::users::by_name(&db, "admin").await.unwrap().unwrap();
    let viewer = node.viewer(Some(&admin)).await;
    let q = cairn_cql::parse(
        cql,
        &cairn_cql::Context {
            now: chrono::Utc::now(),
            current_user: None,
        },
    )
    .unwrap();
    let mut v: Vec<i64> = idx
        .search(&db, &viewer, &q, 0, 100)
        .await
        .unwrap()
        .hits
        .iter()
        .map(|h| h.id)
        .collect();
    v.sort_unstable();
    v
}

fn temp_home(tag: &str) -> std::path::PathBuf {
    let h = std::env::temp_dir().join(format!("cairn-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&h);
    h
}

/// Copies a local home's `index` directory (what an admin copying a node's
/// home does).
fn copy_index(from: &std::path::Path, to: &std::path::Path) {
    let (src, dst) = (from.join("index"), to.join("index"));
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(&src).unwrap().flatten() {
        if e.path().is_file() && !e.file_name().to_string_lossy().ends_with(".lock") {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
}

/// A node's own index on `node`'s database, settled and caught up.
async fn settled_index(
    node: &TestNode,
    home: &std::path::Path,
) -> std::sync::Arc<cairn::search::SearchIndex> {
    let idx = cairn::search::SearchIndex::open(home).unwrap();
    idx.settle(&node.pool, &node.state.files).await.unwrap();
    let db = node.sql().await;
    idx.catch_up(&db, &node.state.files).await.unwrap();
    idx
}

async fn wait_healthy(idx: &cairn::search::SearchIndex) {
    assert!(
        wait_until(Duration::from_secs(30), || async {
            idx.degraded().is_none() && !idx.rebuild_state().running
        })
        .await,
        "the rebuild never finished: {:?}",
        idx.health()
    );
}
