//! An import survives the death of the process running it: killed with -9
//! part-way, it is taken over from its checkpoints (files copied, bodies
//! staged) — by the cluster's leader, or by `cairn import` run again — and
//! ends with exactly the content of the export, nothing twice.

use super::*;
use cairn_tests::cluster::{cairn_binary, ClusterSpec, Etcd};
use cairn_tests::confluence::{generate, Shape};

const SHAPE: Shape = Shape {
    pages: 1500,
    versions: 4,
    body_bytes: 2000,
    attachment_every: 20,
    attachment_bytes: 32 * 1024,
};

async fn connect(url: &str) -> tokio_postgres::Client {
    let (db, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    db
}

/// (phase, BodyContent objects staged, files checkpointed, attempt, node, status)
async fn run_row(db: &tokio_postgres::Client, id: i64) -> (String, i64, i64, i32, String, String) {
    let r = db
        .query_one(
            "SELECT phase, staged_objects, (SELECT count(*) FROM import_files WHERE import_id = $1), attempt, node_id, status
             FROM import_runs WHERE id = $1",
            &[&id],
        )
        .await
        .expect("run row");
    (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))
}

/// Waits until the run has committed some bodies but not all of them.
async fn wait_mid_bodies(db: &tokio_postgres::Client, id: i64) -> (i64, i64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let (phase, staged, files, _, _, status) = run_row(db, id).await;
        assert_eq!(
            status, "running",
            "the import ended before it could be killed"
        );
        if phase == "bodies" && staged > 0 {
            return (staged, files);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the import never reached its bodies"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The imported space holds exactly the export, once.
async fn assert_imported_once(
    db: &tokio_postgres::Client,
    key: &str,
    pages: u64,
    versions: u64,
    attachments: u64,
) {
    let one = |sql: &'static str| async move {
        db.query_one(sql, &[&key])
            .await
            .expect(sql)
            .get::<_, i64>(0)
    };
    assert_eq!(
        one("SELECT count(*) FROM content c JOIN spaces s ON s.id = c.space_id WHERE s.space_key = $1 AND c.content_type = 'page'").await as u64,
        pages
    );
    assert_eq!(
        one("SELECT count(*) FROM content_versions v JOIN content c ON c.id = v.content_id JOIN spaces s ON s.id = c.space_id
             WHERE s.space_key = $1 AND c.content_type = 'page'").await as u64,
        versions
    );
    assert_eq!(
        one("SELECT count(*) FROM content c JOIN spaces s ON s.id = c.space_id WHERE s.space_key = $1 AND c.content_type = 'attachment' AND c.status = 'current'").await as u64,
        attachments
    );
    // Every version has its own body, none empty, none twice.
    assert_eq!(
        one("SELECT count(*) FROM content_versions v JOIN content c ON c.id = v.content_id JOIN spaces s ON s.id = c.space_id
             WHERE s.space_key = $1 AND c.content_type = 'page' AND v.body = ''").await,
        0
    );
    assert_eq!(
        one("SELECT count(*) FROM (SELECT c.title FROM content c JOIN spaces s ON s.id = c.space_id
             WHERE s.space_key = $1 AND c.content_type = 'page' GROUP BY c.title HAVING count(*) > 1) d").await,
        0
    );
    assert_eq!(
        one("SELECT count(*) FROM spaces WHERE upper(space_key) = upper($1)").await,
        1
    );
}

async fn assert_cleaned_up(db: &tokio_postgres::Client, id: i64) {
    let left: i64 = db
        .query_one(
            "SELECT count(*) FROM import_files WHERE import_id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "file checkpoints outlived the run");
    let table: Option<String> = db
        .query_one(
            &format!("SELECT to_regclass('import_stage_{id}')::text"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(table, None, "the staging table outlived the run");
}

#[tokio::test]
async fn a_node_killed_mid_import_is_taken_over_by_the_leader_from_its_checkpoints() {
    let zip = tmp("resume-cluster.zip");
    let (pages, _, attachments) = generate(&zip, "RESUME", &SHAPE).expect("generate");
    let etcd = Etcd::start();
    let spec = ClusterSpec::new(&etcd)
        .await
        .with_env("CAIRN_LEASE_TTL", "3")
        .with_env("CAIRN_IMPORT_STALE_SECS", "4");
    let mut nodes = vec![spec.node("n1").await, spec.node("n2").await];
    let ok = wait_until(Duration::from_secs(30), || async {
        nodes[0].leader().await.is_some()
    })
    .await;
    assert!(ok, "no leader");
    let leader = nodes[0].leader().await.unwrap();
    // The follower runs the upload; the leader will take it over.
    let fi = nodes.iter().position(|n| n.id != leader).unwrap();
    let resp = nodes[fi]
        .rest(
            reqwest::Method::POST,
            "/rest/cairn/1.0/import?name=resume.zip",
        )
        .body(std::fs::read(&zip).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let v: serde_json::Value = resp.json().await.unwrap();
    let id = v["id"].as_i64().unwrap();
    let db = connect(&spec.db.url).await;
    let (staged, files) = wait_mid_bodies(&db, id).await;
    let mut dead = nodes.remove(fi);
    dead.kill9();
    let survivor = &nodes[0];

    // Every node shows the run; the survivor's REST follows it through the
    // takeover to its end.
    let seen_takeover = std::sync::atomic::AtomicBool::new(false);
    let ok = wait_until(Duration::from_secs(240), || async {
        let (s, run) = survivor
            .get_json(&format!("/rest/cairn/1.0/import/{id}"))
            .await;
        if s == 200
            && run["attempt"] == 2
            && run["nodeId"] == survivor.id.as_str()
            && run["status"] == "running"
        {
            seen_takeover.store(true, Ordering::Relaxed);
        }
        run["status"] == "done" || run["status"] == "failed"
    })
    .await;
    assert!(
        ok,
        "the import was not finished after the takeover:\n{}",
        survivor.log_tail()
    );
    let (s, run) = survivor
        .get_json(&format!("/rest/cairn/1.0/import/{id}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(run["status"], "done", "{run}");
    assert_eq!(run["attempt"], 2, "{run}");
    assert_eq!(run["nodeId"], survivor.id.as_str(), "{run}");
    assert!(
        seen_takeover.load(Ordering::Relaxed),
        "the survivor never showed the taken-over run"
    );
    let report = &run["report"];
    assert_eq!(report["pages"], pages, "{report}");
    let resumed = report["resumed"].as_str().unwrap_or_default().to_owned();
    assert!(resumed.starts_with("attempt 2: "), "{report}");
    // What the dead node had committed was not redone.
    let done_bodies: i64 = resumed
        .split(" and ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(-1);
    assert!(
        done_bodies >= staged,
        "resumed from {done_bodies}, {staged} were staged before the kill: {resumed}"
    );
    let done_files: i64 = resumed
        .trim_start_matches("attempt 2: ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(-1);
    assert!(done_files >= files, "{resumed}");

    assert_imported_once(&db, "RESUME", pages, pages * SHAPE.versions, attachments).await;
    assert_cleaned_up(&db, id).await;
    // The upload (Cairn's own copy in the shared home) is gone.
    let uploads = std::fs::read_dir(spec.shared_home.join("import-uploads"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(uploads, 0, "the upload outlived the run");
    // The cluster's job record says who took it over.
    let job = db
        .query_one(
            "SELECT node_id, detail FROM cluster_jobs WHERE job = 'import-resume'",
            &[],
        )
        .await
        .expect("the takeover is recorded");
    assert_eq!(job.get::<_, String>(0), survivor.id);
    assert!(job
        .get::<_, String>(1)
        .contains(&format!("import {id} taken over")));
    // The imported pages are searchable on the survivor.
    let ok = wait_until(Duration::from_secs(60), || async {
        !survivor
            .search_titles("space = RESUME and title ~ \"1234\"")
            .await
            .is_empty()
    })
    .await;
    assert!(ok, "the imported pages are not searchable");
    let _ = std::fs::remove_file(&zip);
}

#[tokio::test]
async fn cairn_import_run_again_after_a_kill_takes_over_where_it_stopped() {
    let zip = tmp("resume-cli.zip");
    let (pages, _, attachments) = generate(&zip, "AGAIN", &SHAPE).expect("generate");
    let tdb = cairn_tests::TestDb::new().await;
    let shared = tmp("shared");
    let local = tmp("local");
    let cmd = || {
        let mut c = tokio::process::Command::new(cairn_binary());
        c.arg("import")
            .arg(&zip)
            .env("CAIRN_DATABASE_URL", &tdb.url)
            .env("CAIRN_SHARED_HOME", &shared)
            .env("CAIRN_LOCAL_HOME", &local)
            .env("CAIRN_IMPORT_STALE_SECS", "3")
            .env("CAIRN_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        c
    };
    let mut first = cmd().spawn().expect("cairn import");
    let db = connect(&tdb.url).await;
    let ok = wait_until(Duration::from_secs(120), || async {
        db.query_opt("SELECT id FROM import_runs", &[])
            .await
            .ok()
            .flatten()
            .is_some()
    })
    .await;
    assert!(ok, "no run was recorded");
    let id: i64 = db
        .query_one("SELECT id FROM import_runs", &[])
        .await
        .unwrap()
        .get(0);
    let (staged, _) = wait_mid_bodies(&db, id).await;
    first.start_kill().expect("kill");
    let _ = first.wait().await;

    // Run at once, the import is still someone's: refused, naming it.
    let out = cmd().output().await.expect("cairn import");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!("import {id} into AGAIN is running")),
        "{err}"
    );

    // Once its heartbeat is stale, the same command takes it over.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let out = cmd().output().await.expect("cairn import");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(&format!("import {id} done")), "{text}");
    assert!(text.contains("taken over: attempt 2: "), "{text}");
    let (_, _, _, attempt, _, status) = run_row(&db, id).await;
    assert_eq!((attempt, status.as_str()), (2, "done"));
    let resumed_from: i64 = text
        .split(" and ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(-1);
    assert!(resumed_from >= staged, "{text}");
    assert_imported_once(&db, "AGAIN", pages, pages * SHAPE.versions, attachments).await;
    assert_cleaned_up(&db, id).await;
    // The administrator's own file is never deleted.
    assert!(zip.exists());
    let _ = std::fs::remove_file(&zip);
}
