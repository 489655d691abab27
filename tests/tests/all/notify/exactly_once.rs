//! Each mail is sent once: concurrent deliverers, a killed sender, and the
//! fan-out benchmark (ignored).

use super::*;

#[tokio::test]
async fn concurrent_deliverers_send_each_mail_once_and_count_resends() {
    let smtp = Smtp::start().await;
    // No scheduler: this test runs the job by hand, several at once.
    let node = TestNode::start().await;
    set(&node, "smtp_host", "127.0.0.1").await;
    set(&node, "smtp_port", &smtp.port.to_string()).await;
    set(&node, "base_url", &node.base).await;
    let names: Vec<String> = (0..12).map(|i| format!("w{i}")).collect();
    for n in &names {
        node.user(n, false).await;
    }
    let admin = node.login("admin").await;
    admin.create_space("TEAM", "Team").await;
    for n in &names {
        node.rest(n, Method::POST, "/rest/api/user/watch/space/TEAM", None)
            .await;
    }
    for i in 0..5 {
        create_page(&node, "admin", "TEAM", &format!("Page {i}"), "<p>x</p>").await;
    }
    let settings = node.state.cluster.settings();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let pool = node.pool.clone();
            let s = settings.clone();
            tokio::spawn(async move { cairn::notify::deliver::run(&pool, &s).await.unwrap() })
        })
        .collect();
    for r in runs {
        r.await.unwrap();
    }
    while !cairn::notify::deliver::run(&node.pool, &settings)
        .await
        .unwrap()
        .is_empty()
    {}
    assert_eq!(smtp.mails().len(), 12 * 5, "each (event, watcher) once");
    for n in &names {
        assert_eq!(smtp.mails_to(n).len(), 5);
    }
    // A process that died between the server's acceptance and marking the
    // row sent: its claim is recovered, the mail sent again with the same
    // Message-ID, and counted.
    let db = node.sql().await;
    let key: String = db
        .query_one(
            "UPDATE mail_queue SET state = 'sending', claimed_by = 'dead-process'
             WHERE id = (SELECT min(id) FROM mail_queue) RETURNING idem_key",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let s = cairn::notify::deliver::run(&node.pool, &settings)
        .await
        .unwrap();
    assert_eq!((s.recovered, s.sent), (1, 1));
    let again: Vec<Value> = smtp
        .mails()
        .into_iter()
        .filter(|m| header(m, "Message-ID").contains(&key))
        .collect();
    assert_eq!(again.len(), 2, "the resend is recognisably the same mail");
    let (_, page) = admin.get_text("/admin/mail").await;
    assert!(page.contains("<td id=\"q-resent\">1</td>"), "{page}");
}

/// The benchmark of the "Numbers" (not a timed test: it asserts
/// only that every mail arrived, and prints the figures). A page with 1,000
/// watchers: the time from the save to the last mail accepted by aiosmtpd,
/// and what the save itself pays (p50/p99 of 200 saves without watchers,
/// then 200 with 1,000 watchers, whose events are fanned out afterwards —
/// the save's share does not depend on the watchers). The job runs in a
/// loop here, as the scheduler would run it, without its half-second tick.
/// Run with
/// `/tmp/quicktest.sh DIR -- notify::exactly_once::fanout_benchmark --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn fanout_benchmark() {
    use std::time::Instant;
    // Two sink processes keeping mails unparsed: parsing costs the sink
    // more CPU a mail than Cairn and PostgreSQL together spend on it.
    let smtp = Smtp::start_with(2, true).await;
    let node = TestNode::start().await;
    set(&node, "smtp_host", "127.0.0.1").await;
    set(&node, "smtp_port", &smtp.port.to_string()).await;
    set(&node, "base_url", &node.base).await;
    let settings = node.state.cluster.settings();
    let drain = || async {
        while !cairn::notify::deliver::run(&node.pool, &settings)
            .await
            .unwrap()
            .is_empty()
        {}
    };
    node.user("ann", false).await;
    let admin = node.login("admin").await;
    admin.create_space("TEAM", "Team").await;
    let page = create_page(&node, "ann", "TEAM", "Busy page", "<p>v0</p>").await;
    let http = reqwest::Client::new();
    let save = |n: i64| {
        let http = http.clone();
        let url = format!("{}/rest/api/content/{page}", node.base);
        async move {
            let t = Instant::now();
            let r = http
                .put(url)
                .basic_auth("ann", Some(password_of("ann")))
                .json(&json!({"type": "page", "title": "Busy page",
                    "body": {"storage": {"value": format!("<p>v{n}</p>"), "representation": "storage"}},
                    "version": {"number": n + 1}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            t.elapsed()
        }
    };
    let pct = |mut v: Vec<Duration>, p: f64| {
        v.sort();
        v[((v.len() as f64 - 1.0) * p).round() as usize]
    };
    let mut before = Vec::new();
    for n in 1..=200 {
        before.push(save(n).await);
    }
    drain().await;
    // 1,000 watchers, made in SQL (argon2 per user would dominate).
    let db = node.sql().await;
    db.batch_execute(
        "INSERT INTO users (username, display_name, email, password_hash)
           SELECT 'w' || i, 'Watcher ' || i, 'w' || i || '@example.com', 'x' FROM generate_series(1, 1000) i;
         INSERT INTO group_members (group_id, user_id)
           SELECT g.id, u.id FROM groups g, users u WHERE g.name = 'cairn-users' AND u.username LIKE 'w%';
         INSERT INTO watches (user_id, space_id, token)
           SELECT id, (SELECT id FROM spaces WHERE space_key = 'TEAM'), md5(id::text) || md5(username)
           FROM users WHERE username LIKE 'w%';",
    )
    .await
    .unwrap();
    let dbname: String = db
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    let sink_dir = smtp.dir.to_string_lossy().into_owned();
    let cpu = || {
        (
            cpu_seconds(|pid, _| pid == std::process::id()),
            cpu_seconds(|_, cmd| cmd.starts_with("postgres: ") && cmd.contains(&dbname)),
            cpu_seconds(|_, cmd| cmd.contains("smtp_sink.py") && cmd.contains(&sink_dir)),
        )
    };
    let cpu0 = cpu();
    let t0 = Instant::now();
    save(201).await;
    cairn::notify::fanout::run(&node.pool, 10, true, 600.0)
        .await
        .unwrap();
    let fanned = t0.elapsed();
    drain().await;
    let fanout = t0.elapsed();
    let cpu1 = cpu();
    println!("fan-out of the event: {:.2} s", fanned.as_secs_f64());
    // CPU each side spent on the 1,000 mails: what the machine's two
    // cores can sustain, whatever else runs on them.
    let (cairn, pg, sink) = (cpu1.0 - cpu0.0, cpu1.1 - cpu0.1, cpu1.2 - cpu0.2);
    println!(
        "CPU for 1000 mails: Cairn (this process) {cairn:.2} s, PostgreSQL {pg:.2} s, sink {sink:.2} s; \
         Cairn + PostgreSQL alone on 2 cores: {:.0} mails/s",
        2000.0 / (cairn + pg)
    );
    assert_eq!(smtp.count(), 1000);
    let mut with = Vec::new();
    for n in 202..=401 {
        with.push(save(n).await);
    }
    println!(
        "fan-out: 1000 mails accepted {:.2} s after the save ({:.0} mails/s)",
        fanout.as_secs_f64(),
        1000.0 / fanout.as_secs_f64()
    );
    println!(
        "save without watchers: p50 {:?} p99 {:?}; with 1000 watchers: p50 {:?} p99 {:?}",
        pct(before.clone(), 0.5),
        pct(before, 0.99),
        pct(with.clone(), 0.5),
        pct(with, 0.99)
    );
}

/// Two `cairn serve` processes on etcd: the leader is killed (-9) while it
/// is sending a 400-mail fan-out; the other takes over. Every mail arrives;
/// a mail that arrived twice is one the new leader recovered from the dead
/// one's claim (`resent`), so duplicates are counted, never silent. Also
/// `cairn config list` on the cluster never prints the SMTP password.
#[tokio::test]
async fn a_killed_sender_loses_no_mail_and_its_duplicates_are_counted() {
    use cairn_tests::cluster::{ClusterSpec, Etcd};
    let smtp = Smtp::start().await;
    let etcd = Etcd::start();
    let spec = ClusterSpec::new(&etcd)
        .await
        .with_env("CAIRN_LEASE_TTL", "3");
    let mut nodes = vec![spec.node("n1").await, spec.node("n2").await];
    let secret = "cluster-smtp-secret-42";
    for (k, v) in [
        ("smtp_host", "127.0.0.1".to_owned()),
        ("smtp_port", smtp.port.to_string()),
        ("base_url", nodes[0].url.clone()),
        ("smtp_password", secret.to_owned()),
    ] {
        let (ok, out, err) = spec.cli(&["config", "set", k, &v]).await;
        assert!(ok, "config set {k}: {out}{err}");
        assert!(!out.contains(secret) && !err.contains(secret), "{out}{err}");
    }
    let (ok, list, _) = spec.cli(&["config", "list"]).await;
    assert!(ok);
    assert!(list.contains("smtp_password = \"********\""), "{list}");
    assert!(!list.contains(secret));
    let (ok, hist, _) = spec.cli(&["config", "history"]).await;
    assert!(ok && !hist.contains(secret), "{hist}");

    assert_eq!(nodes[0].create_space("TEAM").await, 200);
    let (db, conn) = tokio_postgres::connect(&spec.db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    db.batch_execute(
        "INSERT INTO users (username, display_name, email, password_hash)
           SELECT 'w' || i, 'Watcher ' || i, 'w' || i || '@example.com', 'x' FROM generate_series(1, 400) i;
         INSERT INTO group_members (group_id, user_id)
           SELECT g.id, u.id FROM groups g, users u WHERE g.name = 'cairn-users' AND u.username LIKE 'w%';
         INSERT INTO watches (user_id, space_id, token)
           SELECT id, (SELECT id FROM spaces WHERE space_key = 'TEAM'), md5(id::text) || md5(username)
           FROM users WHERE username LIKE 'w%';",
    )
    .await
    .unwrap();
    let ok = wait_until(Duration::from_secs(20), || async {
        nodes[0].leader().await.is_some()
    })
    .await;
    assert!(ok, "no leader");
    let leader = nodes[0].leader().await.unwrap();
    let (s, v) = nodes[0]
        .create_page("TEAM", "Big news", "<p>read me</p>")
        .await;
    assert_eq!(s, 200, "{v}");
    // Kill the leader once it is part-way through.
    let ok = wait_until(Duration::from_secs(60), || async {
        smtp.mails().len() >= 20
    })
    .await;
    assert!(ok, "the leader sent nothing");
    let li = nodes.iter().position(|n| n.id == leader).unwrap();
    let mut dead = nodes.remove(li);
    dead.kill9();
    let at_kill = smtp.mails().len();
    let distinct = || {
        smtp.mails()
            .iter()
            .map(|m| header(m, "Message-ID").to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let ok = wait_until(Duration::from_secs(120), || async {
        distinct().len() == 400
    })
    .await;
    assert!(
        ok,
        "only {} of 400 mails arrived; {at_kill} before the kill",
        distinct().len()
    );
    assert_ne!(nodes[0].leader().await.as_deref(), Some(leader.as_str()));
    let ok = wait_until(Duration::from_secs(30), || async {
        db.query_one("SELECT count(*) FROM mail_queue WHERE state <> 'sent'", &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
            == 0
    })
    .await;
    assert!(ok, "rows left unsent");
    let resent: i64 = db
        .query_one(
            "SELECT coalesce(sum(resent), 0)::bigint FROM mail_queue",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let duplicates = smtp.mails().len() - 400;
    assert!(
        duplicates as i64 <= resent,
        "{duplicates} duplicates but only {resent} counted resends"
    );
    println!("killed after {at_kill} mails; {duplicates} duplicates, {resent} counted resends");
}

/// User + system CPU seconds of the processes whose pid and command line
/// `pick` accepts (from `/proc`; children that ended are not counted).
fn cpu_seconds(pick: impl Fn(u32, &str) -> bool) -> f64 {
    let mut ticks = 0u64;
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let cmd = std::fs::read(e.path().join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        if !pick(pid, &cmd) {
            continue;
        }
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        ticks += f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
            + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    }
    ticks as f64 / 100.0
}
