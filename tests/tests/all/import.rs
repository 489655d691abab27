//! Confluence XML import: the four real exports Confluence wrote (read from
//! `../shared/fixtures/confluence-export/`, zipped here as Confluence zips
//! them), a realistic export of our own covering every object kind and the
//! format's traps, and bad input. A benchmark (ignored) generates a large
//! export and imports it with the `cairn` binary.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cairn::import::{import_zip, ImportError, Options, Report};
use cairn_tests::confluence::{
    cdata, fixtures_dir, zip_fixture, Entities, ExportZip, CORE, P, PAGES, SPACES, USER,
};
use cairn_tests::{password_of, wait_until, TestNode};

mod bad_input;
mod bench;
mod every_kind;
mod exports;
mod own_export;
mod resume;
mod runs;
mod static_exports;

use own_export::{own_export, own_export_named, HISTORY, TRAP_STORED, UNICODE};

static N: AtomicU32 = AtomicU32::new(0);

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "cairn-import-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d.join(name)
}

async fn import(node: &TestNode, zip: &Path, as_key: Option<&str>) -> Result<Report, ImportError> {
    import_zip(
        &node.pool,
        &node.state.files,
        zip,
        &Options {
            as_key: as_key.map(str::to_owned),
            node_id: "test-node".into(),
            file_name: None,
            on_start: None,
            upload_owned: false,
        },
    )
    .await
}

async fn count(node: &TestNode, sql: &str) -> i64 {
    node.sql()
        .await
        .query_one(sql, &[])
        .await
        .expect(sql)
        .get(0)
}

async fn fixture(name: &str) -> Option<PathBuf> {
    let dir = fixtures_dir()?.join(name);
    let out = tmp(&format!("{name}.zip"));
    zip_fixture(&dir, &out).expect("zip the fixture");
    Some(out)
}

/// Every page's ancestors end with its parent; the space's home page is set.
async fn tree_is_consistent(node: &TestNode, space_id: i64) {
    let bad = count(
        node,
        &format!(
            "SELECT count(*) FROM content c LEFT JOIN content p ON p.id = c.parent_id
             WHERE c.space_id = {space_id} AND c.content_type = 'page'
             AND ((c.parent_id IS NULL) <> (cardinality(c.ancestors) = 0)
                 OR (c.parent_id IS NOT NULL AND c.ancestors[cardinality(c.ancestors)] <> c.parent_id)
                 OR (c.parent_id IS NOT NULL AND (p.ancestors || p.id) <> c.ancestors))"
        ),
    )
    .await;
    assert_eq!(bad, 0, "pages whose ancestors disagree with their parents");
    // Every head has the version row of its current version.
    let missing = count(
        node,
        &format!(
            "SELECT count(*) FROM content c WHERE c.space_id = {space_id} AND NOT EXISTS
             (SELECT 1 FROM content_versions v WHERE v.content_id = c.id AND v.version = c.version)"
        ),
    )
    .await;
    assert_eq!(missing, 0, "content without its current version row");
}

async fn redirects_old_page_id(node: &TestNode, old_id: i64) {
    let admin = node.login("admin").await;
    let r = admin
        .get(&format!("/pages/viewpage.action?pageId={old_id}"))
        .await;
    assert_eq!(r.status(), 303, "old page id {old_id} redirects");
    let to = cairn_tests::Client::location(&r);
    let new_id: i64 = count(
        node,
        &format!("SELECT content_id FROM import_ids WHERE old_id = {old_id}"),
    )
    .await;
    assert!(
        to.contains(&format!("/pages/{new_id}")),
        "{to} names page {new_id}"
    );
}

async fn searchable(node: &TestNode, word: &str) -> bool {
    let http = reqwest::Client::new();
    let url = format!(
        "{}/rest/api/content/search?cql=text~%22{word}%22&limit=5",
        node.base
    );
    wait_until(Duration::from_secs(20), || async {
        let r = http
            .get(&url)
            .basic_auth("admin", Some(password_of("admin")))
            .send()
            .await;
        match r {
            Ok(r) => r
                .json::<serde_json::Value>()
                .await
                .map(|j| j["size"].as_i64().unwrap_or(0) > 0)
                .unwrap_or(false),
            Err(_) => false,
        }
    })
    .await
}
