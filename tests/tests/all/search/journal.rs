//! The journal feeds every index: a damaged index is rebuilt from it,
//! snapshots restore and replay, two indexers converge, entries committed out
//! of order are not skipped, and a crash while indexing loses nothing.

use super::*;

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
