//! Search: the journal feeds each node's tantivy index; CQL over REST;
//! permission filtering inside the query (results, counts, excerpts);
//! recovery of a damaged index from the journal.

use std::time::Duration;

use cairn_tests::{password_of, wait_until, TestNode};
use serde_json::Value;

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

#[tokio::test]
async fn edits_become_searchable_and_cql_fields_work() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("SRCH", "Search Space").await;
    let parent = c
        .create_page(
            "SRCH",
            "Deployment Guide",
            "<p>How we deploy the payments service to production.</p>",
            None,
        )
        .await;
    let child = c
        .create_page("SRCH", "Rollback Steps", "<p>If deploying fails, roll back.</p><ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[kubectl rollout undo deploy/payments]]></ac:plain-text-body></ac:structured-macro>", Some(parent))
        .await;
    c.post(&format!("/pages/{child}/labels"), &[("labels", "ops")])
        .await;
    // The page and its label are two journal entries: wait for both.
    let found = wait_until(Duration::from_secs(10), || async {
        total(&node, "admin", "text ~ \"rollout\"").await == 1
            && total(&node, "admin", "label = ops").await == 1
    })
    .await;
    assert!(
        found,
        "macro plain bodies are indexed and searchable within seconds"
    );
    assert_eq!(
        total(&node, "admin", "text ~ deploying").await,
        2,
        "stemming: deploying ~ deploy"
    );
    assert_eq!(
        total(&node, "admin", "title = \"deployment guide\"").await,
        1
    );
    assert_eq!(total(&node, "admin", "title ~ \"roll*\"").await, 1);
    assert_eq!(total(&node, "admin", "label = ops").await, 1);
    assert_eq!(
        total(&node, "admin", &format!("ancestor = {parent}")).await,
        1
    );
    assert_eq!(
        total(
            &node,
            "admin",
            &format!("parent = {parent} AND space = \"SRCH\"")
        )
        .await,
        1
    );
    assert_eq!(
        total(
            &node,
            "admin",
            "type = page AND space = SRCH AND NOT title ~ rollback"
        )
        .await,
        2
    );
    assert_eq!(
        total(
            &node,
            "admin",
            "space = SRCH AND created >= startOfDay() AND creator = currentUser()"
        )
        .await,
        3
    );
    assert_eq!(
        total(
            &node,
            "admin",
            "space = SRCH AND lastmodified < \"2000-01-01\""
        )
        .await,
        0
    );
    // Exact title matches rank first.
    let (_, v) = get(
        &node,
        "admin",
        &format!(
            "/rest/api/search?cql={}",
            cql("text ~ \"deployment guide\"")
        ),
    )
    .await;
    assert_eq!(v["results"][0]["title"], "Deployment Guide");
    let r = &v["results"][0];
    assert_eq!(r["entityType"], "content");
    assert!(
        r["content"]["id"].is_string()
            && r["url"].is_string()
            && r["resultGlobalContainer"]["title"] == "Search Space"
    );
    assert!(
        r["excerpt"].as_str().unwrap().contains("<b>"),
        "highlighted excerpt: {r}"
    );
    assert!(v["cqlQuery"].is_string() && v["searchDuration"].is_number());
    // Excerpts are escaped text with <b> highlights, also when the match
    // lies deep in a long body (past the first window the excerpt is
    // looked for in).
    let filler = "ordinary filler words about nothing much. ".repeat(150);
    c.create_page(
        "SRCH",
        "Long Page",
        &format!("<p>{filler}&lt;script&gt;alert(1)&lt;/script&gt; the zebrafish swims</p>"),
        None,
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "text ~ zebrafish").await == 1
        })
        .await
    );
    let (_, v) = get(
        &node,
        "admin",
        &format!("/rest/api/search?cql={}", cql("text ~ zebrafish")),
    )
    .await;
    let ex = v["results"][0]["excerpt"].as_str().unwrap();
    assert!(
        ex.contains("<b>zebrafish</b>") && ex.contains("&lt;script&gt;") && !ex.contains("<script"),
        "escaped, highlighted excerpt from deep in the body: {ex}"
    );
    // An edit is searchable, the old text is gone.
    let r = c
        .post(
            &format!("/pages/{child}/edit"),
            &[
                ("title", "Rollback Steps"),
                ("body", "<p>Use the blue-green switch.</p>"),
                ("format", "storage"),
                ("base_version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "text ~ \"blue-green\"").await == 1
        })
        .await
    );
    assert_eq!(total(&node, "admin", "text ~ rollout").await, 0);
    // Trash removes it from results.
    c.post(&format!("/pages/{child}/delete"), &[]).await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "title ~ rollback").await == 0
        })
        .await
    );
    // content/search: plain content objects, paging.
    let (s, v) = get(
        &node,
        "admin",
        &format!(
            "/rest/api/content/search?cql={}&limit=1",
            cql("space = SRCH")
        ),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["results"][0]["type"], "page");
    assert_eq!(v["size"], 1);
    assert!(v["_links"]["next"].is_string());
    // Invalid CQL says where.
    let (s, v) = get(
        &node,
        "admin",
        &format!("/rest/api/search?cql={}", cql("title = ")),
    )
    .await;
    assert_eq!(s, 400);
    assert!(v["message"].as_str().unwrap().contains("position"), "{v}");
}

#[tokio::test]
async fn search_never_shows_what_the_viewer_may_not_see() {
    let node = TestNode::start().await;
    node.user("eve", false).await;
    let c = node.login("admin").await;
    c.create_space("PRIV", "Private").await;
    let secret = c
        .create_page(
            "PRIV",
            "Zebra Protocol",
            "<p>the quokka launch codes</p>",
            None,
        )
        .await;
    let below = c
        .create_page("PRIV", "Under Zebra", "<p>quokka details</p>", Some(secret))
        .await;
    c.create_page("PRIV", "Public Note", "<p>a quokka in public</p>", None)
        .await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "text ~ quokka").await == 3
        })
        .await
    );
    c.restrict(secret, "read", "user", "admin").await;
    // The restriction reaches the index through the journal.
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "eve", "text ~ quokka").await == 1
        })
        .await
    );
    let (_, v) = get(
        &node,
        "eve",
        &format!(
            "/rest/api/search?cql={}",
            cql("text ~ quokka OR title ~ zebra OR id = {below}"
                .replace("{below}", &below.to_string())
                .as_str())
        ),
    )
    .await;
    assert_eq!(v["totalSize"], 1, "counts exclude hidden pages");
    let text = v.to_string();
    assert!(
        !text.contains("Zebra") && !text.contains("launch") && !text.contains("details"),
        "{text}"
    );
    assert_eq!(
        total(&node, "admin", "text ~ quokka").await,
        3,
        "the owner still finds everything"
    );
}

#[tokio::test]
async fn a_damaged_index_is_rebuilt_from_the_journal() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("REC", "Recover").await;
    for i in 0..5 {
        c.create_page("REC", &format!("Recovery page {i}"), "<p>walrus</p>", None)
            .await;
    }
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "text ~ walrus").await == 5
        })
        .await
    );
    // A fresh local home (a new node, or a lost index) catches up from the
    // journal and answers the same.
    let home = std::env::temp_dir().join(format!("cairn-recover-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let idx = cairn::search::SearchIndex::open(&home).unwrap();
    let db = node.sql().await;
    idx.catch_up(&db, &node.state.files).await.unwrap();
    let pos = idx.position();
    assert!(pos > 0);
    // Damage it: the next open sets it aside and rebuilds.
    std::fs::write(idx.dir().join("meta.json"), b"{ not json").unwrap();
    drop(idx);
    let idx = cairn::search::SearchIndex::open(&home).unwrap();
    assert_eq!(idx.position(), 0);
    idx.catch_up(&db, &node.state.files).await.unwrap();
    assert_eq!(idx.position(), pos);
    let admin = cairn::users::by_name(&db, "admin").await.unwrap().unwrap();
    let viewer = node.viewer(Some(&admin)).await;
    let q = cairn_cql::parse(
        "text ~ walrus",
        &cairn_cql::Context {
            now: chrono::Utc::now(),
            current_user: None,
        },
    )
    .unwrap();
    let r = idx.search(&db, &viewer, &q, 0, 10).await.unwrap();
    assert_eq!(r.total, 5);
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn search_page_filters_and_suggestions() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("UI", "Ui Space").await;
    let id = c
        .create_page(
            "UI",
            "Capybara Handbook",
            "<p>All about the <em>capybara</em> habitat.</p>",
            None,
        )
        .await;
    c.post(&format!("/pages/{id}/labels"), &[("labels", "rodents")])
        .await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "label = rodents").await == 1
        })
        .await
    );
    let (s, html) = c
        .get_text("/search?q=capybara&space=UI&type=page&label=rodents&modified=1w")
        .await;
    assert_eq!(s, 200);
    assert!(
        html.contains("1 results") && html.contains("Capybara Handbook"),
        "{html}"
    );
    assert!(html.contains("<b>capybara</b>"), "highlighted excerpt");
    let (_, none) = c.get_text("/search?q=capybara&label=other").await;
    assert!(none.contains("0 results"));
    let (s, sug) = c.get_text("/ui/suggest?q=capy").await;
    assert_eq!(s, 200);
    let v: Value = serde_json::from_str(&sug).unwrap();
    assert_eq!(v[0]["title"], "Capybara Handbook");
    let (_, bad) = c.get_text("/search?q=%22").await;
    assert!(
        bad.contains("flash error") || bad.contains("results"),
        "a stray quote is handled: {bad}"
    );
}

#[tokio::test]
async fn snapshot_restore_replay_and_trim() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("SNAP", "Snap").await;
    for i in 0..4 {
        c.create_page(
            "SNAP",
            &format!("Before snapshot {i}"),
            "<p>narwhal</p>",
            None,
        )
        .await;
    }
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "text ~ narwhal").await == 4
        })
        .await
    );
    let live = node.state.search.clone().unwrap();
    // The tailer records its position before the journal can be trimmed.
    let db = node.sql().await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            let r = db
                .query_opt("SELECT seq FROM index_positions", &[])
                .await
                .unwrap();
            r.is_some_and(|r| r.get::<_, i64>(0) >= live.position())
        })
        .await
    );
    let seq = live
        .snapshot_and_trim(&node.pool, &node.shared_home)
        .await
        .unwrap();
    assert!(seq > 0);
    let left: i64 = db
        .query_one("SELECT count(*) FROM index_journal WHERE seq < $1", &[&seq])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the journal is trimmed up to the snapshot");
    let kept: i64 = db
        .query_one("SELECT count(*) FROM index_journal WHERE seq = $1", &[&seq])
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, 1, "the snapshot's own entry stays, to verify it by");
    for i in 0..3 {
        c.create_page(
            "SNAP",
            &format!("After snapshot {i}"),
            "<p>narwhal</p>",
            None,
        )
        .await;
    }
    // A new node restores the snapshot, then replays only what came after.
    let home = std::env::temp_dir().join(format!("cairn-snap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let idx = cairn::search::SearchIndex::open(&home).unwrap();
    let settled = idx.settle(&node.pool, &node.state.files).await.unwrap();
    assert_eq!(settled, cairn::search::Settled::Restored(seq));
    assert_eq!(idx.position(), seq, "restored at the snapshot's position");
    let replayed = idx.catch_up(&db, &node.state.files).await.unwrap();
    assert!(
        (3..20).contains(&replayed),
        "only the tail is replayed ({replayed})"
    );
    let admin = cairn::users::by_name(&db, "admin").await.unwrap().unwrap();
    let viewer = node.viewer(Some(&admin)).await;
    let q = cairn_cql::parse(
        "text ~ narwhal",
        &cairn_cql::Context {
            now: chrono::Utc::now(),
            current_user: None,
        },
    )
    .unwrap();
    assert_eq!(idx.search(&db, &viewer, &q, 0, 50).await.unwrap().total, 7);
    // A node with no index and no usable snapshot after a trim re-journals
    // everything and converges too.
    let bare = std::env::temp_dir().join(format!("cairn-bare-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&bare);
    let idx2 = cairn::search::SearchIndex::open(&bare).unwrap();
    assert!(idx2.ensure_no_gap(&db).await.unwrap());
    idx2.catch_up(&db, &node.state.files).await.unwrap();
    assert_eq!(idx2.search(&db, &viewer, &q, 0, 50).await.unwrap().total, 7);
    let _ = std::fs::remove_dir_all(&home);
    let _ = std::fs::remove_dir_all(&bare);
}

#[tokio::test]
async fn two_indexers_converge_and_an_online_rebuild_keeps_answering() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("TWO", "Two").await;
    for i in 0..10 {
        c.create_page(
            "TWO",
            &format!("Ocelot {i}"),
            &format!("<p>ocelot number {i}</p>"),
            None,
        )
        .await;
    }
    let db = node.sql().await;
    let admin = cairn::users::by_name(&db, "admin").await.unwrap().unwrap();
    let viewer = node.viewer(Some(&admin)).await;
    let q = cairn_cql::parse(
        "text ~ ocelot order by title",
        &cairn_cql::Context {
            now: chrono::Utc::now(),
            current_user: None,
        },
    )
    .unwrap();
    // Two more indexers on the same database.
    let homes: Vec<_> = (0..2)
        .map(|i| std::env::temp_dir().join(format!("cairn-two-{}-{i}", std::process::id())))
        .collect();
    let mut idxs = Vec::new();
    for h in &homes {
        let _ = std::fs::remove_dir_all(h);
        let i = cairn::search::SearchIndex::open(h).unwrap();
        i.catch_up(&db, &node.state.files).await.unwrap();
        idxs.push(i);
    }
    let ids = |r: cairn::search::Results| -> Vec<i64> {
        let mut v: Vec<i64> = r.hits.iter().map(|h| h.id).collect();
        v.sort();
        v
    };
    let a = ids(idxs[0].search(&db, &viewer, &q, 0, 50).await.unwrap());
    let b = ids(idxs[1].search(&db, &viewer, &q, 0, 50).await.unwrap());
    assert_eq!(a.len(), 10);
    assert_eq!(a, b, "same journal, same results");
    assert_eq!(idxs[0].position(), idxs[1].position());
    // The admin page shows the nodes, lag and documents.
    let (s, html) = c.get_text("/admin/search").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("index-nodes") && html.contains("test-node"),
        "{html}"
    );
    // Drift (a row removed behind the journal's back, as a bad restore or a
    // bug might): the indexes still hold 10, but the ghost is never shown
    // (each page of hits is checked against PostgreSQL).
    db.batch_execute(
        "SET session_replication_role = replica;
         DELETE FROM content WHERE title = 'Ocelot 9';
         SET session_replication_role = origin;",
    )
    .await
    .unwrap();
    let r = idxs[0].search(&db, &viewer, &q, 0, 50).await.unwrap();
    assert_eq!((r.total, r.hits.len()), (9, 9));
    // Online rebuild: a new index is built beside the live one and swapped
    // in; queries keep answering the whole time, and the drift is gone.
    let r = c.post("/admin/search", &[("action", "rebuild")]).await;
    assert!(r.text().await.unwrap().contains("Rebuild requested"));
    let idx = idxs[0].clone();
    let files = node.state.files.clone();
    let pool = node.pool.clone();
    let rebuild = tokio::spawn(async move { idx.rebuild_online(&pool, &files).await });
    let mut answers = 0;
    while !rebuild.is_finished() {
        let n = idxs[0].search(&db, &viewer, &q, 0, 50).await.unwrap().total;
        assert!(
            n == 10 || n == 9,
            "search keeps answering during a rebuild: {n}"
        );
        answers += 1;
    }
    let msg = rebuild.await.unwrap().unwrap();
    assert!(msg.contains("swapped it in"), "{msg}");
    assert!(answers > 0);
    assert_eq!(
        idxs[0].search(&db, &viewer, &q, 0, 50).await.unwrap().total,
        9
    );
    assert!(
        idxs[0]
            .rebuild_state()
            .last
            .unwrap()
            .contains("rebuilt 9 documents")
            || idxs[0].doc_count() >= 9
    );
    // The node's own tailer saw the request in the journal and rebuilt too.
    let live = node.state.search.clone().unwrap();
    assert!(
        wait_until(Duration::from_secs(20), || async {
            live.rebuild_state()
                .last
                .is_some_and(|l| l.contains("swapped"))
        })
        .await,
        "the node's tailer rebuilds on request"
    );
    assert_eq!(live.search(&db, &viewer, &q, 0, 50).await.unwrap().total, 9);
    let (_, html) = c.get_text("/admin/search").await;
    assert!(html.contains("Last rebuild: rebuilt"), "{html}");
    for h in &homes {
        let _ = std::fs::remove_dir_all(h);
    }
}

/// Journal numbers are taken at insert but visible at commit: an entry
/// committed after a later-numbered one must still be applied (the tailer
/// waits at the hole instead of skipping it).
#[tokio::test]
async fn entries_committed_out_of_order_are_not_skipped() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("ORD", "Order").await;
    let first = c
        .create_page("ORD", "Early page", "<p>early</p>", None)
        .await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "title = \"Early page\"").await == 1
        })
        .await
    );
    // A transaction takes the next journal number and stays open…
    let (slow, conn) = tokio_postgres::connect(&node.db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    slow.batch_execute("BEGIN").await.unwrap();
    slow.execute(
        "INSERT INTO labels (content_id, name) VALUES ($1, 'latecomer')",
        &[&first],
    )
    .await
    .unwrap();
    // …while a later-numbered change commits and is seen by the tailer.
    c.create_page("ORD", "Later page", "<p>later</p>", None)
        .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    slow.batch_execute("COMMIT").await.unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "label = latecomer").await == 1
                && total(&node, "admin", "title = \"Later page\"").await == 1
        })
        .await,
        "the entry committed out of order was skipped"
    );
}

/// kill -9 of a real node while its tailer is applying the journal; after a
/// restart the index has every document exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_indexing_loses_nothing_and_duplicates_nothing() {
    use cairn_tests::cluster::{cairn_binary, free_port, http};
    let db = cairn_tests::TestDb::new().await;
    let pool = cairn::db::pool(&db.url, 2).unwrap();
    {
        let mut c = pool.get().await.unwrap();
        cairn::users::create(
            &mut c,
            cairn::users::NewUser {
                username: "admin",
                display_name: None,
                email: None,
                password: &password_of("admin"),
                admin: true,
            },
        )
        .await
        .unwrap();
    }
    let home =
        cairn_tests::cluster::state_dir().join(format!("cairn-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let port = free_port();
    let start = || {
        tokio::process::Command::new(cairn_binary())
            .arg("serve")
            .env("CAIRN_DATABASE_URL", &db.url)
            .env("CAIRN_LISTEN", format!("127.0.0.1:{port}"))
            .env("CAIRN_LOCAL_HOME", home.join("local"))
            .env("CAIRN_SHARED_HOME", home.join("shared"))
            .env("CAIRN_NODE_ID", "crash")
            .env("CAIRN_LOG", "warn")
            .env_remove("CAIRN_ETCD_ENDPOINTS")
            .env_remove("CAIRN_BUILTIN_PLUGINS")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = http();
    let running = || async {
        match client.get(format!("{base}/status")).send().await {
            Ok(r) => r.text().await.unwrap_or_default().contains("RUNNING"),
            Err(_) => false,
        }
    };
    let mut node = start();
    assert!(wait_until(Duration::from_secs(60), running).await);
    let r = client
        .post(format!("{base}/rest/api/space"))
        .basic_auth("admin", Some(password_of("admin")))
        .json(&serde_json::json!({"key": "CR", "name": "Crash"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // 6000 pages in one transaction: the tailer applies them in batches,
    // committing its position with each.
    let c = pool.get().await.unwrap();
    let head_before: i64 = c
        .query_one("SELECT coalesce(max(seq), 0) FROM index_journal", &[])
        .await
        .unwrap()
        .get(0);
    c.batch_execute(
        "INSERT INTO content (content_type, space_id, title, body)
         SELECT 'page', (SELECT id FROM spaces WHERE space_key = 'CR'), 'Crash page ' || g,
                '<p>crashword body ' || g || '</p>'
         FROM generate_series(1, 6000) g",
    )
    .await
    .unwrap();
    // Kill it once it has committed part of the work.
    let meta = home.join("local/index/meta.json");
    let payload = || -> i64 {
        let text = std::fs::read_to_string(&meta).unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        cairn::search::Payload::parse(v["payload"].as_str()).seq
    };
    let partway = wait_until(Duration::from_secs(60), || async {
        payload() > head_before
    })
    .await;
    assert!(partway, "the tailer never committed");
    let at_kill = payload();
    node.start_kill().unwrap();
    let _ = node.wait().await;
    assert!(
        at_kill < head_before + 6000,
        "killed too late to be a mid-indexing crash: {at_kill}"
    );
    // Restart: it catches up from the committed position before RUNNING.
    let _node = start();
    assert!(wait_until(Duration::from_secs(120), running).await);
    let count = |q: &'static str| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let r = client
                .get(format!("{base}/rest/api/search"))
                .query(&[("cql", q), ("limit", "1")])
                .basic_auth("admin", Some(password_of("admin")))
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()["totalSize"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(
        count("text ~ crashword").await,
        6000,
        "every page indexed once"
    );
    assert_eq!(
        count("space = CR and type = page").await,
        6001,
        "with the home page"
    );
    assert_eq!(count("title = \"Crash page 5999\"").await, 1);
    eprintln!(
        "killed at journal position {at_kill} of {}; after restart all 6000 pages found once",
        head_before + 6000
    );
    let _ = std::fs::remove_dir_all(&home);
}

/// Relevance on a small realistic corpus: for each query, the page a
/// person would expect is at the top (or within the top `n`).
#[tokio::test]
async fn relevance_on_a_small_realistic_corpus() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("ENG", "Engineering").await;
    c.create_space("HR", "People").await;
    let pages: &[(&str, &str, &str)] = &[
        ("ENG", "VPN Setup", "<p>Install the client, import the profile from IT and connect before you reach internal services.</p>"),
        ("ENG", "Network Troubleshooting", "<p>If the VPN drops, check the VPN client log. VPN timeouts usually mean the VPN gateway is overloaded; VPN split tunnelling is off.</p>"),
        ("ENG", "Deployment Checklist", "<p>Before deploying to production: freeze merges, tag the release, notify the on-call engineer.</p>"),
        ("ENG", "Rollback Runbook", "<p>When a release misbehaves on Kubernetes, roll back with <code>kubectl rollout undo</code> and page the owner.</p>"),
        ("ENG", "Release Notes 4.2", "<p>New search, faster page views, plugin limits.</p>"),
        ("ENG", "Release Notes 4.1", "<p>Attachments versioning and a new editor.</p>"),
        ("ENG", "Architecture Overview", "<p>Services talk over gRPC; releases go out weekly; see the deployment checklist for how a release is deployed.</p>"),
        ("ENG", "PostgreSQL Backups", "<p>Nightly base backups of postgres with WAL archiving; restore drills monthly.</p>"),
        ("ENG", "Database Style Guide", "<p>Name tables in the plural. Every postgres table has a primary key.</p>"),
        ("ENG", "On-Call Rotation", "<p>The on call engineer carries the pager for a week; handover on Mondays.</p>"),
        ("ENG", "Incident Review Template", "<p>Timeline, impact, what went well, what we will change. Invite whoever was on call.</p>"),
        ("HR", "New Hire Onboarding", "<p>Your first week: laptop, accounts, a buddy, and the team lunch.</p>"),
        ("HR", "Travel Policy", "<p>Book through the portal. Keep receipts for every expense; expenses above the limit need approval; report expenses monthly.</p>"),
        ("HR", "Submitting Expense Reports", "<p>Use the finance tool, attach receipts, submit by the fifth of the month.</p>"),
        ("HR", "Resetting Your Password", "<p>Use the self-service portal; a reset link arrives by email.</p>"),
        ("HR", "Security Awareness", "<p>Never share a password. Password managers are provided. Report phishing to security.</p>"),
        ("HR", "Holiday Calendar", "<p>Public holidays per office, and how to book leave.</p>"),
    ];
    for (space, title, body) in pages {
        c.create_page(space, title, body, None).await;
    }
    let db_page = c
        .create_page(
            "ENG",
            "Replica Lag Alerts",
            "<p>Alerts fire when a postgres replica falls behind.</p>",
            None,
        )
        .await;
    c.post(
        &format!("/pages/{db_page}/labels"),
        &[("labels", "database")],
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(15), || async {
            total(&node, "admin", "label = database").await == 1
                && total(&node, "admin", "space in (ENG, HR) and type = page").await >= 20
        })
        .await
    );
    // (query, expected title, within the top n)
    let cases: &[(&str, &str, usize)] = &[
        ("text ~ \"vpn setup\"", "VPN Setup", 1),
        ("text ~ vpn", "VPN Setup", 2),
        ("text ~ onboarding", "New Hire Onboarding", 1),
        ("text ~ deploying", "Deployment Checklist", 2),
        ("text ~ \"expense report\"", "Submitting Expense Reports", 1),
        ("text ~ \"kubernetes rollback\"", "Rollback Runbook", 1),
        ("text ~ \"on call\"", "On-Call Rotation", 1),
        ("text ~ \"password reset\"", "Resetting Your Password", 1),
        (
            "text ~ postgres and label = database",
            "Replica Lag Alerts",
            1,
        ),
        ("title ~ \"release notes\"", "Release Notes 4.2", 2),
        ("title ~ \"release notes\"", "Release Notes 4.1", 2),
        ("text ~ backups", "PostgreSQL Backups", 1),
        ("text ~ holidays and space = HR", "Holiday Calendar", 1),
    ];
    let mut failures = Vec::new();
    for (q, want, n) in cases {
        let (s, v) = get(
            &node,
            "admin",
            &format!("/rest/api/search?cql={}&limit=10", cql(q)),
        )
        .await;
        assert_eq!(s, 200, "{q}: {v}");
        let titles: Vec<String> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap_or("").to_owned())
            .collect();
        if !titles.iter().take(*n).any(|t| t == want) {
            failures.push(format!(
                "{q}: expected {want:?} in the top {n}, got {titles:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "relevance:\n{}", failures.join("\n"));
}

/// `mention = user` finds pages that mention the user (written with their
/// user key, as Confluence does), and `currentUser()` works for it.
#[tokio::test]
async fn mention_finds_pages_that_mention_a_user() {
    let node = TestNode::start().await;
    let bob = node.user("bob", false).await;
    let c = node.login("admin").await;
    c.create_space("MEN", "Mentions").await;
    c.create_page(
        "MEN",
        "Review request",
        &format!(
            "<p>Please review, <ac:link><ri:user ri:userkey=\"{}\"/></ac:link>.</p>",
            bob.user_key
        ),
        None,
    )
    .await;
    c.create_page("MEN", "No mention", "<p>bob is just a word here</p>", None)
        .await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "space = MEN and type = page").await == 3
        })
        .await
    );
    let (_, v) = get(
        &node,
        "admin",
        &format!("/rest/api/search?cql={}", cql("mention = bob")),
    )
    .await;
    assert_eq!(v["totalSize"], 1, "{v}");
    assert_eq!(v["results"][0]["title"], "Review request");
    assert_eq!(total(&node, "bob", "mention = currentUser()").await, 1);
    assert_eq!(total(&node, "admin", "mention = currentUser()").await, 0);
}

/// A multi-word query is answered by a pruned pass (documents with a query
/// word in the title scored in full, the rest by block-max WAND over the
/// bare term intersection): its ranking, paging and counts must equal the
/// unpruned query's, for a viewer who sees everything and for one filtered
/// by space permissions and a read restriction. `AND id > 0` adds the same
/// constant to every score and is never pruned, so it is the reference.
#[tokio::test]
async fn pruned_multi_word_search_ranks_like_the_full_query() {
    let node = TestNode::start().await;
    node.user("eve", false).await;
    let c = node.login("admin").await;
    c.create_space("RANK", "Ranking").await;
    c.create_space("HIDE", "Hidden").await;
    for (kind, name, grant) in [("user", "admin", "1"), ("group", "cairn-users", "0")] {
        let r = c
            .post(
                "/spaces/HIDE/permissions",
                &[
                    ("kind", kind),
                    ("name", name),
                    ("permission", "view"),
                    ("grant", grant),
                ],
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    for i in 0..40 {
        let title = match i {
            i if i % 7 == 0 => format!("Alpha Beta notes {i}"),
            i if i % 5 == 0 => format!("Alpha {i}"),
            _ => format!("Page {i}"),
        };
        let body = format!(
            "<p>{}{}{}</p>",
            "alpha ".repeat(1 + i % 4),
            "beta ".repeat(1 + i % 3),
            "delta ".repeat(i)
        );
        c.create_page("RANK", &title, &body, None).await;
    }
    for i in 0..10 {
        c.create_page(
            "HIDE",
            &format!("Hidden {i}"),
            "<p>alpha beta alpha beta</p>",
            None,
        )
        .await;
    }
    let secret = c
        .create_page(
            "RANK",
            "Secret",
            "<p>alpha alpha alpha beta beta beta</p>",
            None,
        )
        .await;
    c.restrict(secret, "read", "user", "admin").await;
    assert!(
        wait_until(Duration::from_secs(20), || async {
            total(&node, "admin", "text ~ \"alpha beta\"").await == 51
                && total(&node, "eve", "text ~ \"alpha beta\"").await == 40
        })
        .await
    );
    let ids = |v: &Value| -> Vec<i64> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["content"]["id"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    for user in ["admin", "eve"] {
        for (start, limit) in [(0, 10), (5, 20), (30, 25)] {
            let page = |q: &str| {
                format!(
                    "/rest/api/search?cql={}&start={start}&limit={limit}",
                    cql(q)
                )
            };
            let (s, pruned) = get(&node, user, &page("text ~ \"alpha beta\"")).await;
            assert_eq!(s, 200, "{pruned}");
            let (s, full) = get(&node, user, &page("text ~ \"alpha beta\" AND id > 0")).await;
            assert_eq!(s, 200, "{full}");
            assert_eq!(ids(&pruned), ids(&full), "{user} start {start}");
            assert_eq!(pruned["totalSize"], full["totalSize"], "{user}");
            if user == "eve" {
                let text = pruned.to_string();
                assert!(
                    !text.contains("Hidden") && !text.contains("Secret"),
                    "{text}"
                );
            }
        }
    }
    // The title matches rank first.
    let (_, v) = get(
        &node,
        "eve",
        &format!(
            "/rest/api/search?cql={}&limit=6",
            cql("text ~ \"alpha beta\"")
        ),
    )
    .await;
    let titles: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.iter().all(|t| t.starts_with("Alpha Beta")),
        "{titles:?}"
    );
}

// ---- Issue 22: the index is bound to the history it indexes ----

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

#[tokio::test]
async fn a_snapshot_from_another_cluster_in_the_shared_home_is_not_restored() {
    let a = TestNode::start().await;
    let b = TestNode::start().await;
    let ca = a.login("admin").await;
    ca.create_space("OTH", "Other").await;
    for i in 0..6 {
        ca.create_page("OTH", &format!("Foreign page {i}"), "<p>yak</p>", None)
            .await;
    }
    let cb = b.login("admin").await;
    cb.create_space("MINE", "Mine").await;
    cb.create_page("MINE", "Home grown", "<p>llama</p>", None)
        .await;
    // Cluster A's index writes a snapshot into B's shared home (a reused
    // directory, a test environment cloned from production).
    let home_a = temp_home("other-a");
    let idx_a = settled_index(&a, &home_a).await;
    let seq = idx_a.snapshot(&b.shared_home).unwrap();
    let db_b = b.sql().await;
    let head_b: i64 = db_b
        .query_one("SELECT max(seq) FROM index_journal", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        seq > head_b,
        "the foreign snapshot is ahead ({seq} > {head_b}): the old code restored it"
    );
    // A new node of B: the foreign snapshot is refused, B's own journal used.
    let home_b = temp_home("other-b");
    let idx_b = cairn::search::SearchIndex::open(&home_b).unwrap();
    let settled = idx_b.settle(&b.pool, &b.state.files).await.unwrap();
    assert!(
        !matches!(settled, cairn::search::Settled::Restored(_)),
        "{settled:?}"
    );
    let why = idx_b
        .health()
        .last_distrust
        .map(|(_, w)| w)
        .unwrap_or_default();
    assert!(
        why.contains(&format!("snapshot-{seq} not used")) && why.contains("another history"),
        "{why}"
    );
    wait_healthy(&idx_b).await;
    idx_b.catch_up(&db_b, &b.state.files).await.unwrap();
    assert!(
        hit_ids(&b, &idx_b, "text ~ yak").await.is_empty(),
        "no foreign documents"
    );
    assert_eq!(hit_ids(&b, &idx_b, "text ~ llama").await.len(), 1);
    let _ = std::fs::remove_dir_all(&home_a);
    let _ = std::fs::remove_dir_all(&home_b);
}

#[tokio::test]
async fn a_local_home_copied_from_the_same_cluster_is_kept_and_from_another_is_rebuilt() {
    let a = TestNode::start().await;
    let b = TestNode::start().await;
    for (node, id) in [(&a, "cluster-a"), (&b, "cluster-b")] {
        node.sql()
            .await
            .execute(
                "INSERT INTO cluster_info (cluster_id, name) VALUES ($1, 'wiki')",
                &[&id],
            )
            .await
            .unwrap();
    }
    let ca = a.login("admin").await;
    ca.create_space("CPA", "Copy A").await;
    for i in 0..4 {
        ca.create_page("CPA", &format!("Alpha {i}"), "<p>ibex</p>", None)
            .await;
    }
    let cb = b.login("admin").await;
    cb.create_space("CPB", "Copy B").await;
    let beta = cb.create_page("CPB", "Beta", "<p>gazelle</p>", None).await;
    let home_a = temp_home("copy-a");
    let idx_a = settled_index(&a, &home_a).await;
    let pos = idx_a.position();
    assert_eq!(hit_ids(&a, &idx_a, "text ~ ibex").await.len(), 4);
    // Another node of the same cluster: reused as is.
    let home_a2 = temp_home("copy-a2");
    copy_index(&home_a, &home_a2);
    let idx_a2 = cairn::search::SearchIndex::open(&home_a2).unwrap();
    assert_eq!(
        idx_a2.settle(&a.pool, &a.state.files).await.unwrap(),
        cairn::search::Settled::Kept
    );
    assert_eq!(idx_a2.position(), pos);
    assert_eq!(hit_ids(&a, &idx_a2, "text ~ ibex").await.len(), 4);
    // A node of another cluster: rebuilt from its own database.
    let home_b = temp_home("copy-b");
    copy_index(&home_a, &home_b);
    let idx_b = cairn::search::SearchIndex::open(&home_b).unwrap();
    let settled = idx_b.settle(&b.pool, &b.state.files).await.unwrap();
    match &settled {
        cairn::search::Settled::Rebuilding(why) => {
            assert!(why.contains("cluster \"cluster-a\""), "{why}")
        }
        other => panic!("another cluster's index was not rebuilt: {other:?}"),
    }
    assert!(
        hit_ids(&b, &idx_b, "text ~ ibex").await.is_empty(),
        "the stand-in answers nothing foreign while rebuilding"
    );
    wait_healthy(&idx_b).await;
    assert!(hit_ids(&b, &idx_b, "text ~ ibex").await.is_empty());
    assert_eq!(hit_ids(&b, &idx_b, "text ~ gazelle").await, vec![beta]);
    assert_eq!(
        idx_b.payload().identity.unwrap().cluster,
        "cluster-b",
        "the rebuilt index carries its own identity"
    );
    for h in [&home_a, &home_a2, &home_b] {
        let _ = std::fs::remove_dir_all(h);
    }
}

#[tokio::test]
async fn a_journal_entry_deleted_by_hand_is_detected_and_healed() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("JRN", "Journal").await;
    for i in 0..3 {
        c.create_page("JRN", &format!("Puffin {i}"), "<p>puffin</p>", None)
            .await;
    }
    let home = temp_home("journal");
    let idx = settled_index(&node, &home).await;
    let db = node.sql().await;
    // The entry the index stands on disappears (and life goes on).
    let pos = idx.position();
    let late = c
        .create_page("JRN", "Puffin late", "<p>puffin</p>", None)
        .await;
    // (The node's own index has applied everything: only `idx` stands on
    // the entry deleted below.)
    let live = node.state.search.clone().unwrap();
    let head: i64 = db
        .query_one("SELECT max(seq) FROM index_journal", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        wait_until(Duration::from_secs(10), || async {
            live.position() >= head
        })
        .await
    );
    db.execute("DELETE FROM index_journal WHERE seq = $1", &[&pos])
        .await
        .unwrap();
    // A restart of that node: it cannot verify its index, so it rebuilds.
    drop(idx);
    let idx = cairn::search::SearchIndex::open(&home).unwrap();
    match idx.settle(&node.pool, &node.state.files).await.unwrap() {
        cairn::search::Settled::Rebuilding(why) => {
            assert!(
                why.contains(&format!("journal entry {pos}")) && why.contains("missing"),
                "{why}"
            )
        }
        other => panic!("a missing entry was not detected: {other:?}"),
    }
    wait_healthy(&idx).await;
    idx.catch_up(&db, &node.state.files).await.unwrap();
    assert_eq!(hit_ids(&node, &idx, "text ~ puffin").await.len(), 4);
    // An entry lost before any node applied it (a change whose entry was
    // deleted in the same transaction): the running node's drift check
    // finds the document and applies it.
    db.batch_execute(
        "BEGIN;
         INSERT INTO content (content_type, space_id, title, body)
           SELECT 'page', id, 'Puffin unjournaled', '<p>puffin</p>' FROM spaces WHERE space_key = 'JRN';
         DELETE FROM index_journal WHERE seq = (SELECT max(seq) FROM index_journal);
         COMMIT;",
    )
    .await
    .unwrap();
    let lost: i64 = db
        .query_one(
            "SELECT id FROM content WHERE title = 'Puffin unjournaled'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let report = live
        .check_drift(&node.pool, &node.state.files, 0, true)
        .await
        .unwrap();
    assert_eq!((report.differing, report.repaired), (1, 1), "{report}");
    assert_eq!(report.ids, vec![lost]);
    let found = hit_ids(&node, &live, "text ~ puffin").await;
    assert!(
        found.contains(&lost) && found.contains(&late) && found.len() == 5,
        "{found:?}"
    );
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn drift_written_behind_the_index_back_is_detected_and_healed() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("DRF", "Drift").await;
    let heron = c
        .create_page("DRF", "Heron notes", "<p>heron</p>", None)
        .await;
    let egret = c
        .create_page("DRF", "Egret notes", "<p>egret</p>", None)
        .await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "text ~ heron OR text ~ egret").await == 2
        })
        .await
    );
    let live = node.state.search.clone().unwrap();
    let local_home = live.dir().parent().unwrap().to_owned();
    // Behind the index's back: no journal entries, versions unchanged.
    let db = node.sql().await;
    db.batch_execute(&format!(
        "SET session_replication_role = replica;
         UPDATE content SET body = '<p>kingfisher</p>' WHERE id = {heron};
         DELETE FROM content WHERE id = {egret};
         SET session_replication_role = origin;"
    ))
    .await
    .unwrap();
    // The full reconcile sees both.
    let v = cairn::search::verify_dir(&local_home, &db, &node.state.files)
        .await
        .unwrap();
    assert!(v.trusted.is_ok(), "{:?}", v.trusted);
    assert_eq!(
        (v.changed.clone(), v.ghosts.clone()),
        (vec![heron], vec![egret]),
        "{v:?}"
    );
    // The periodic check finds and repairs them.
    let report = live
        .check_drift(&node.pool, &node.state.files, 200, true)
        .await
        .unwrap();
    assert_eq!((report.differing, report.repaired), (2, 2), "{report}");
    assert_eq!(total(&node, "admin", "text ~ kingfisher").await, 1);
    assert_eq!(total(&node, "admin", "text ~ egret").await, 0);
    assert_eq!(live.doc_count(), 2, "home page and heron");
    let v = cairn::search::verify_dir(&local_home, &db, &node.state.files)
        .await
        .unwrap();
    assert!(v.differing().is_empty(), "{v:?}");
    let again = live
        .check_drift(&node.pool, &node.state.files, 200, true)
        .await
        .unwrap();
    assert_eq!(again.differing, 0, "{again}");
    // Between two checks, a deleted page's document is never shown: each
    // page of hits is checked against PostgreSQL, and what fails is
    // withheld and repaired.
    db.batch_execute(&format!(
        "SET session_replication_role = replica;
         DELETE FROM content WHERE id = {heron};
         SET session_replication_role = origin;"
    ))
    .await
    .unwrap();
    assert_eq!(total(&node, "admin", "text ~ kingfisher").await, 0);
    assert!(
        wait_until(Duration::from_secs(10), || async { live.doc_count() == 1 }).await,
        "the withheld hit's document was repaired"
    );
    assert_eq!(live.health().stale_hits, 1);
    // Reported as metrics and on the admin page.
    let metrics = c.get_text("/metrics").await.1;
    assert!(
        metrics.contains("cairn_search_drift_repaired_total 2")
            && metrics.contains("cairn_search_drift_checks_total 2")
            && metrics.contains("cairn_search_stale_hits_total 1")
            && metrics.contains("cairn_search_degraded 0"),
        "{metrics}"
    );
    let (_, html) = c.get_text("/admin/search").await;
    assert!(
        html.contains("Last drift check") && html.contains("0 differed"),
        "{html}"
    );
}

fn pg_tool(name: &str) -> std::path::PathBuf {
    let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.flatten()
                .map(|e| e.path().join("bin").join(name))
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs.into_iter()
        .rev()
        .find(|p| p.exists())
        .unwrap_or_else(|| name.into())
}

/// Issue 22's scenario with a real node process and real pg_dump /
/// pg_restore: a backup is restored under a node whose index (and newest
/// snapshot) are ahead of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_database_restore_the_index_is_rebuilt_and_search_tells_the_truth() {
    use cairn_tests::cluster::{cairn_binary, free_port, http};
    let db = cairn_tests::TestDb::new().await;
    let pool = cairn::db::pool(&db.url, 2).unwrap();
    {
        let mut c = pool.get().await.unwrap();
        cairn::users::create(
            &mut c,
            cairn::users::NewUser {
                username: "admin",
                display_name: None,
                email: None,
                password: &password_of("admin"),
                admin: true,
            },
        )
        .await
        .unwrap();
    }
    let home =
        cairn_tests::cluster::state_dir().join(format!("cairn-restore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let port = free_port();
    let start = |log: &str| {
        let log = std::fs::File::create(home.join(log)).unwrap();
        tokio::process::Command::new(cairn_binary())
            .arg("serve")
            .env("CAIRN_DATABASE_URL", &db.url)
            .env("CAIRN_LISTEN", format!("127.0.0.1:{port}"))
            .env("CAIRN_LOCAL_HOME", home.join("local"))
            .env("CAIRN_SHARED_HOME", home.join("shared"))
            .env("CAIRN_NODE_ID", "restored")
            .env("CAIRN_LOG", "info")
            .env("CAIRN_INDEX_CHECK_INTERVAL", "10s")
            .env_remove("CAIRN_ETCD_ENDPOINTS")
            .env_remove("CAIRN_BUILTIN_PLUGINS")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(cairn_binary())
            .args(args)
            .env("CAIRN_DATABASE_URL", &db.url)
            .env("CAIRN_LOCAL_HOME", home.join("local"))
            .env("CAIRN_SHARED_HOME", home.join("shared"))
            .env("CAIRN_LOG", "warn")
            .env_remove("CAIRN_ETCD_ENDPOINTS")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = http();
    let status = || async {
        match client.get(format!("{base}/status")).send().await {
            Ok(r) => r.json::<Value>().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        }
    };
    let rest = |m: reqwest::Method, path: &str| {
        client
            .request(m, format!("{base}{path}"))
            .basic_auth("admin", Some(password_of("admin")))
    };
    let page = |title: String, word: &'static str| {
        rest(reqwest::Method::POST, "/rest/api/content").json(&serde_json::json!({
            "type": "page", "title": title, "space": {"key": "RST"},
            "body": {"storage": {"value": format!("<p>{word}</p>"), "representation": "storage"}}
        }))
    };
    let count = |q: &'static str| {
        let r =
            rest(reqwest::Method::GET, "/rest/api/search").query(&[("cql", q), ("limit", "50")]);
        async move {
            let v: Value = r.send().await.unwrap().json().await.unwrap_or(Value::Null);
            (
                v["totalSize"].as_i64().unwrap_or(-1),
                v["results"].as_array().map_or(0, |a| a.len()),
            )
        }
    };
    let mut node = start("before.log");
    assert!(
        wait_until(Duration::from_secs(60), || async {
            status().await["state"] == "RUNNING"
        })
        .await
    );
    let r = rest(reqwest::Method::POST, "/rest/api/space")
        .json(&serde_json::json!({"key": "RST", "name": "Restore"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    for i in 0..3 {
        assert_eq!(
            page(format!("Early {i}"), "early")
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    // 1. The backup.
    let dump = home.join("backup.dump");
    let out = std::process::Command::new(pg_tool("pg_dump"))
        .args(["-Fc", "-f"])
        .arg(&dump)
        .arg(&db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for i in 0..30 {
        assert_eq!(
            page(format!("Late {i}"), "late")
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    assert!(
        wait_until(Duration::from_secs(20), || async {
            count("text ~ late").await == (30, 30)
        })
        .await
    );
    // A snapshot of the later history in the shared home.
    let r = rest(
        reqwest::Method::POST,
        "/rest/cairn/1.0/cluster/jobs/index-snapshot",
    )
    .header("X-Atlassian-Token", "no-check")
    .send()
    .await
    .unwrap();
    assert!(
        r.status().is_success(),
        "{}",
        r.text().await.unwrap_or_default()
    );
    let snapshot_at = pool
        .get()
        .await
        .unwrap()
        .query_one("SELECT max(seq) FROM index_journal", &[])
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert!(
        wait_until(Duration::from_secs(20), || async {
            home.join(format!("shared/index-snapshots/snapshot-{snapshot_at}"))
                .exists()
        })
        .await,
        "no snapshot at {snapshot_at}"
    );
    // 2. Stop, drop the database, restore the backup, start again.
    node.start_kill().unwrap();
    let _ = node.wait().await;
    drop(pool);
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let (admin_db, conn) = tokio_postgres::connect(
        &format!("{}/postgres", cairn_tests::server_url()),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    for sql in [
        format!("DROP DATABASE {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        admin_db.batch_execute(&sql).await.unwrap();
    }
    let out = std::process::Command::new(pg_tool("pg_restore"))
        .args(["--no-owner", "-d", &db.url])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pool = cairn::db::pool(&db.url, 2).unwrap();
    let head: i64 = pool
        .get()
        .await
        .unwrap()
        .query_one("SELECT max(seq) FROM index_journal", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        head < snapshot_at,
        "the restored journal is behind ({head} < {snapshot_at})"
    );
    let _node = start("after.log");
    assert!(
        wait_until(Duration::from_secs(60), || async {
            status().await["state"] == "RUNNING"
        })
        .await
    );
    // 3. New content is searchable, old ghosts never appear, and status
    // tells the truth.
    assert_eq!(
        page("Zebrafish".into(), "zebrafish")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let healed = wait_until(Duration::from_secs(60), || async {
        count("text ~ zebrafish").await == (1, 1)
            && count("text ~ late").await == (0, 0)
            && count("text ~ early").await == (3, 3)
            && status().await.get("searchDegraded").is_none()
    })
    .await;
    let log = std::fs::read_to_string(home.join("after.log")).unwrap_or_default();
    assert!(healed, "search not right after the restore; log:\n{log}");
    assert!(
        log.contains("does not match the database") && log.contains("went back in time"),
        "the log says why: {log}"
    );
    assert!(
        log.contains(&format!("snapshot-{snapshot_at}")) && log.contains("snapshot not used"),
        "the newer snapshot is refused: {log}"
    );
    // `cairn index status` agrees with the node; the epoch was redrawn.
    let docs: i64 = pool
        .get()
        .await
        .unwrap()
        .query_one("SELECT count(*) FROM content WHERE status = 'current'", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        wait_until(Duration::from_secs(20), || async {
            let (_, out) = cli(&["index", "status"]);
            out.contains("restored: position") && out.contains(&format!("{docs} documents"))
        })
        .await,
        "{}",
        cli(&["index", "status"]).1
    );
    let (_, out) = cli(&["index", "status"]);
    assert!(
        out.contains("history epoch") && out.contains("went back in time"),
        "{out}"
    );
    let (ok, out) = cli(&["index", "verify"]);
    assert!(ok && out.contains("ok: the index agrees"), "{out}");
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("cairn_search_degraded 0"), "{metrics}");
    let _ = std::fs::remove_dir_all(&home);
}
