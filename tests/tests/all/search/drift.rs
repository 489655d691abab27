//! Drift between the index and the database is detected and healed: a
//! journal entry deleted by hand, writes behind the index's back, and a
//! database restored from a dump.

use super::*;

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

pub(super) fn pg_tool(name: &str) -> std::path::PathBuf {
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
