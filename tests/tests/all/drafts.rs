//! Drafts (issue 21): REST's `status=draft` for the author alone, never in
//! lists, search or CQL; publishing deletes the draft and refuses (409, or
//! the UI's conflict view keeping the draft's text) a page someone else
//! changed meanwhile; the editor's autosave, offer and Resume; a draft
//! surviving the browser being killed.

use std::time::Duration;

use cairn_tests::{input_value, password_of, wait_until, Client, TestNode};
use reqwest::Method;
use serde_json::{json, Value};

mod browser;
mod rest;
mod ui;

/// A node with users alice and bob (both may edit) and space DR.
async fn setup() -> TestNode {
    let node = TestNode::start().await;
    node.user("alice", false).await;
    node.user("bob", false).await;
    let (s, v) = node
        .rest(
            "admin",
            Method::POST,
            "/rest/api/space",
            Some(json!({"key": "DR", "name": "Drafts"})),
        )
        .await;
    assert_eq!(s, 200, "create space: {v}");
    node
}

fn storage(v: &str) -> Value {
    json!({"storage": {"value": v, "representation": "storage"}})
}

/// A published page by `user` over REST; its id.
async fn page(node: &TestNode, user: &str, title: &str, body: &str) -> i64 {
    let (s, v) = node
        .rest(
            user,
            Method::POST,
            "/rest/api/content",
            Some(json!({"type": "page", "title": title, "space": {"key": "DR"}, "body": storage(body)})),
        )
        .await;
    assert_eq!(s, 200, "create {title}: {v}");
    id_of(&v)
}

fn id_of(v: &Value) -> i64 {
    v["id"]
        .as_str()
        .and_then(|i| i.parse().ok())
        .unwrap_or_else(|| panic!("no id in {v}"))
}

async fn drafts_in_db(node: &TestNode) -> i64 {
    node.sql()
        .await
        .query_one("SELECT count(*) FROM drafts", &[])
        .await
        .unwrap()
        .get(0)
}

/// A new version of page `id` by `user` over REST.
async fn update(node: &TestNode, user: &str, id: i64, version: i64, title: &str, body: &str) {
    let (s, v) = node
        .rest(
            user,
            Method::PUT,
            &format!("/rest/api/content/{id}"),
            Some(json!({"type": "page", "title": title, "version": {"number": version}, "body": storage(body)})),
        )
        .await;
    assert_eq!(s, 200, "update {id}: {v}");
}
