//! The response cache of page views and REST reads (host/src/changes.rs): a second view is
//! served from memory; a write through this node is seen by the very next
//! view; a write through another node (here: a second in-process node on
//! the same database, with its own LISTEN connection) is seen within the
//! NOTIFY latency; sessions never share entries.

use std::time::Duration;

use cairn_tests::{wait_until, Client, TestNode};

fn hits() -> u64 {
    cairn::metrics::RESPONSE_CACHE_HITS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Restricts reading page `id` to admin, on a connection of its own (as
/// another node's write would be).
async fn restrict_to_admin(db: &cairn_tests::deadpool_object::Object, id: i64) {
    let admin_user = cairn::users::by_name(db, "admin").await.unwrap().unwrap();
    let viewer = cairn::perms::Viewer::load(db, Some(admin_user.clone()))
        .await
        .unwrap();
    cairn::content::set_restriction(
        db,
        &viewer,
        id,
        "read",
        &cairn::users::Principal::User(admin_user.id),
        true,
    )
    .await
    .unwrap();
}

/// Waits until the node's change listener has applied every notification
/// of what was committed so far: notifications arrive in commit order, so
/// once a marker sent now is heard, no earlier write can still move the
/// generation.
async fn settled(node: &TestNode) {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let marker = format!("settle-{}-{n}", std::process::id()) + &node.base;
    node.sql()
        .await
        .batch_execute(&format!("NOTIFY cairn_change, '{marker}'"))
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || async {
            node.state.generation.last_payload() == marker
        })
        .await,
        "the change listener hears the marker"
    );
}

async fn page(c: &Client, id: i64) -> (u16, String) {
    c.get_text(&format!("/spaces/DOC/pages/{id}")).await
}

#[tokio::test]
async fn page_views_are_cached_until_anything_changes_anywhere() {
    // In-process test nodes do not listen for changes (so the other tests
    // never race a NOTIFY); this one does, like `cairn serve`.
    let node = TestNode::start().await;
    node.state
        .generation
        .spawn_listener(node.db.url.clone(), None);
    let admin = node.login("admin").await;
    admin.create_space("DOC", "Docs").await;
    let id = admin
        .create_page("DOC", "Cached page", "<p>first words</p>", None)
        .await;
    // Wait for the listener, then: the second view is a hit, the same bytes.
    assert!(
        wait_until(Duration::from_secs(10), || async {
            node.state.generation.current().is_some()
        })
        .await,
        "the change listener connects"
    );
    settled(&node).await;
    let (s, first) = page(&admin, id).await;
    assert_eq!(s, 200);
    let before = hits();
    let (_, second) = page(&admin, id).await;
    assert!(hits() > before, "the second view comes from the cache");
    assert_eq!(first, second);

    // Writes through this node are seen by the next view.
    let r = admin
        .post(&format!("/pages/{id}/labels"), &[("labels", "fresh-label")])
        .await;
    assert_eq!(r.status(), 303);
    assert!(page(&admin, id).await.1.contains("fresh-label"));
    admin
        .post(
            &format!("/pages/{id}/comments"),
            &[("body", "a new comment")],
        )
        .await;
    assert!(page(&admin, id).await.1.contains("a new comment"));
    admin
        .post(&format!("/pages/{id}/like"), &[("like", "1")])
        .await;
    assert!(page(&admin, id).await.1.contains("1 person likes this"));

    // Another session of another user gets its own entry: bob sees the
    // page with his own CSRF token, never admin's.
    node.user("bob", false).await;
    let bob = node.login("bob").await;
    let (s, html) = page(&bob, id).await;
    assert_eq!(s, 200);
    assert!(html.contains(&bob.csrf) && !html.contains(&admin.csrf));

    // A second node on the same database: a restriction it adds reaches
    // this node's cache through NOTIFY, so bob loses the page here too.
    let pool2 = cairn::db::pool(&node.db.url, 4).unwrap();
    restrict_to_admin(&pool2.get().await.unwrap(), id).await;
    assert!(
        wait_until(Duration::from_secs(2), || async {
            page(&bob, id).await.0 == 404
        })
        .await,
        "a restriction added elsewhere takes the cached page away"
    );
    // Logging out ends the session's entries at once.
    let (s, _) = page(&admin, id).await;
    assert_eq!(s, 200);
    assert_eq!(admin.post("/logout", &[]).await.status(), 303);
    let (s, _) = page(&admin, id).await;
    assert_ne!(
        s, 200,
        "a logged-out session is not served its cached pages"
    );
}

async fn rest(node: &TestNode, user: &str, password: &str, path: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", node.base))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn rest_reads_are_cached_per_viewer_and_checked_for_credentials_first() {
    let node = TestNode::start().await;
    node.state
        .generation
        .spawn_listener(node.db.url.clone(), None);
    let admin = node.login("admin").await;
    admin.create_space("RC", "REST cache").await;
    let id = admin
        .create_page("RC", "Scripted page", "<p>version one</p>", None)
        .await;
    node.user("carol", false).await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            node.state.generation.current().is_some()
        })
        .await,
        "the change listener connects"
    );
    settled(&node).await;
    let (apw, cpw) = (
        cairn_tests::password_of("admin"),
        cairn_tests::password_of("carol"),
    );
    let path = format!("/rest/api/content/{id}?expand=body.view,version,space");
    let (s, first) = rest(&node, "admin", &apw, &path).await;
    assert_eq!(s, 200, "{first}");
    assert!(first.contains("version one"));
    let before = hits();
    let (_, second) = rest(&node, "admin", &apw, &path).await;
    assert!(hits() > before, "the second read comes from the cache");
    assert_eq!(first, second);

    // Credentials are checked before the cache: a wrong password for the
    // very same request is refused.
    let (s, body) = rest(&node, "admin", "not-the-password", &path).await;
    assert_eq!(s, 401, "{body}");
    assert!(!body.contains("version one"));

    // Another viewer gets their own entry, with their own permissions.
    let (s, _) = rest(&node, "carol", &cpw, &path).await;
    assert_eq!(s, 200);

    // An update over REST is seen by the next read.
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    let r = reqwest::Client::new()
        .put(format!("{}/rest/api/content/{id}", node.base))
        .basic_auth("admin", Some(&apw))
        .header("X-Atlassian-Token", "no-check")
        .json(&serde_json::json!({
            "type": "page", "title": "Scripted page",
            "version": {"number": v["version"]["number"].as_i64().unwrap() + 1},
            "body": {"storage": {"value": "<p>version two</p>", "representation": "storage"}}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (_, third) = rest(&node, "admin", &apw, &path).await;
    assert!(third.contains("version two") && !third.contains("version one"));

    // A restriction added on another connection (another node's write)
    // takes carol's cached read away.
    let (s, _) = rest(&node, "carol", &cpw, &path).await;
    assert_eq!(s, 200);
    restrict_to_admin(&node.sql().await, id).await;
    assert!(
        wait_until(Duration::from_secs(2), || async {
            rest(&node, "carol", &cpw, &path).await.0 == 404
        })
        .await,
        "a restriction added elsewhere takes the cached read away"
    );

    // Rendering below the top level is never kept.
    let nested = format!("/rest/api/content/{id}?expand=children.page.body.view");
    let entries = node.state.response_cache.entry_count();
    let (s, _) = rest(&node, "admin", &apw, &nested).await;
    assert_eq!(s, 200);
    assert_eq!(
        node.state.response_cache.entry_count(),
        entries,
        "nested rendering is not kept in the cache"
    );
}

#[tokio::test]
async fn an_admin_extensions_store_leaves_cached_views_alone() {
    // The content report keeps its summary in `kv` from content events; no
    // page view reads another plugin's store, so its writes must not empty
    // every node's cache. A macro plugin's store is read by page views.
    let node = TestNode::start().await;
    node.state
        .generation
        .spawn_listener(node.db.url.clone(), None);
    assert!(
        wait_until(Duration::from_secs(10), || async {
            node.state.generation.current().is_some()
        })
        .await,
        "the change listener connects"
    );
    let db = node.sql().await;
    let write = |plugin: &'static str| {
        let db = &db;
        async move {
            db.execute(
                "INSERT INTO plugin_kv (plugin_id, key, value) VALUES ($1, 'cache-test', '\\x01')
                 ON CONFLICT (plugin_id, key) DO UPDATE SET value = EXCLUDED.value || '\\x01'",
                &[&plugin],
            )
            .await
            .unwrap();
        }
    };
    settled(&node).await;
    // Each `settled` moves the generation once (its marker).
    let g0 = node.state.generation.current().unwrap();
    write("cairn.content-report").await;
    db.execute(
        "DELETE FROM plugin_kv WHERE plugin_id = 'cairn.content-report' AND key = 'cache-test'",
        &[],
    )
    .await
    .unwrap();
    settled(&node).await;
    let g1 = node.state.generation.current().unwrap();
    assert_eq!(
        g1,
        g0 + 1,
        "an admin extension's kv writes moved the generation"
    );
    write("cairn.toc").await;
    settled(&node).await;
    let g2 = node.state.generation.current().unwrap();
    assert_eq!(g2, g1 + 2, "a macro plugin's kv write moves the generation");
    db.execute("DELETE FROM plugin_kv WHERE plugin_id = 'cairn.toc'", &[])
        .await
        .unwrap();
    settled(&node).await;
    assert_eq!(
        node.state.generation.current().unwrap(),
        g2 + 2,
        "so does its delete"
    );
}
