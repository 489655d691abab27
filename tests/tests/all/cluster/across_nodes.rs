//! Work across nodes: concurrent edits and search, drain behind nginx while a
//! node dies, and reads that see the write a consistency token names.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_on_two_nodes_and_search_across_nodes() {
    let etcd = Etcd::start();
    // Change notifications reach each node only after half a second: a
    // read after a write on another node is right through its token alone.
    let spec = ClusterSpec::new(&etcd)
        .await
        .with_env("CAIRN_TEST_NOTIFY_DELAY_MS", "500");
    let a = spec.node("a").await;
    let b = spec.node("b").await;
    assert_eq!(a.create_space("EDIT").await, 200);
    // An edit on one node is searchable on the other.
    let (code, page) = a
        .create_page("EDIT", "Shared page", "<p>kumquat original</p>")
        .await;
    assert_eq!(code, 200);
    let id = page["id"].as_str().unwrap().to_owned();
    let t = within(
        Duration::from_secs(10),
        "searchable on the other node",
        || async { b.search_titles("text ~ kumquat").await == vec!["Shared page".to_string()] },
    )
    .await;
    eprintln!("edit on a, searchable on b after {t:?}");
    // Both nodes update version 1 at once: one wins, the other gets 409.
    let put = |n: &cairn_tests::cluster::NodeProc, text: &str| {
        n.rest(Method::PUT, &format!("/rest/api/content/{id}")).json(&serde_json::json!({
            "type": "page", "title": "Shared page", "version": {"number": 2},
            "body": {"storage": {"value": format!("<p>{text}</p>"), "representation": "storage"}}
        }))
        .send()
    };
    let (ra, rb) = tokio::join!(put(&a, "from a"), put(&b, "from b"));
    let (sa, sb) = (ra.unwrap().status().as_u16(), rb.unwrap().status().as_u16());
    let mut codes = [sa, sb];
    codes.sort_unstable();
    assert_eq!(codes, [200, 409], "one edit wins, the other conflicts");
    let winner = if sa == 200 { "from a" } else { "from b" };
    for n in [&a, &b] {
        let (_, v) = n
            .get_json(&format!(
                "/rest/api/content/{id}?expand=body.storage,version"
            ))
            .await;
        assert_eq!(v["version"]["number"], 2);
        assert_eq!(v["body"]["storage"]["value"], format!("<p>{winner}</p>"));
    }
    // Caches stay coherent across nodes. A page linking to another is
    // rendered (and cached) on b; the target is renamed on a; b's next render
    // shows the new title at once.
    let (_, target) = a.create_page("EDIT", "Link target", "<p>t</p>").await;
    let tid = target["id"].as_str().unwrap().to_owned();
    let (_, linking) = a
        .create_page(
            "EDIT",
            "Linking page",
            "<p><ac:link><ri:page ri:content-title=\"Link target\"/></ac:link></p>",
        )
        .await;
    let lid = linking["id"].as_str().unwrap().to_owned();
    let before = view(&b, &lid).await;
    assert!(
        before.contains("Link target") && !before.contains("broken-link"),
        "{before}"
    );
    let r = a
        .rest(Method::PUT, &format!("/rest/api/content/{tid}"))
        .json(
            &serde_json::json!({"type": "page", "title": "Renamed target", "version": {"number": 2},
            "body": {"storage": {"value": "<p>t</p>", "representation": "storage"}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let token = r
        .headers()
        .get("x-cairn-consistency")
        .and_then(|v| v.to_str().ok())
        .expect("a write's response carries its consistency token")
        .to_owned();
    // The title link no longer resolves: b, which has not heard of the
    // rename yet, must not serve its cached render to a request that
    // carries the rename's token.
    let catch_ups = metric(&b, "cairn_consistency_catch_ups_total").await;
    let html = b
        .rest(
            Method::GET,
            &format!("/rest/api/content/{lid}?expand=body.view"),
        )
        .header("X-Cairn-Consistency", &token)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["body"]["view"]["value"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(
        html.contains("broken-link"),
        "stale render on the other node: {html}"
    );
    assert_eq!(
        metric(&b, "cairn_consistency_catch_ups_total").await,
        catch_ups + 1.0,
        "the token, not the notification, made b read the rename"
    );

    // Nothing lost: version 1 is still in the history.
    let (_, v) = b
        .get_json(&format!(
            "/rest/api/content/{id}?version=1&expand=body.storage"
        ))
        .await;
    assert_eq!(v["body"]["storage"]["value"], "<p>kumquat original</p>");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_leaves_cleanly_and_nginx_keeps_serving_while_a_node_dies() {
    let etcd = Etcd::start();
    let spec = ClusterSpec::new(&etcd)
        .await
        .with_env("CAIRN_LEASE_TTL", "3");
    let a = spec.node("a").await;
    let mut b = spec.node("b").await;
    let mut c = spec.node("c").await;
    assert_eq!(a.create_space("LB").await, 200);
    let (_, page) = a.create_page("LB", "Behind nginx", "<p>lb</p>").await;
    let id = page["id"].as_str().unwrap().to_owned();
    let ups: Vec<String> = [&a, &b, &c]
        .iter()
        .map(|n| n.url.trim_start_matches("http://").to_owned())
        .collect();
    let nginx = Nginx::start(&ups.iter().map(String::as_str).collect::<Vec<_>>());
    let http = cairn_tests::cluster::http();
    let (mut ok, mut failed) = (0u32, 0u32);
    let mut killed = false;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(8) {
        if !killed && start.elapsed() > Duration::from_secs(2) {
            c.kill9();
            killed = true;
        }
        let r = http
            .get(format!("{}/rest/api/content/{id}", nginx.url))
            .basic_auth("admin", Some(cairn_tests::password_of("admin")))
            .send()
            .await;
        match r {
            Ok(r) if r.status().as_u16() == 200 => ok += 1,
            _ => failed += 1,
        }
    }
    eprintln!("through nginx while a node died: {ok} ok, {failed} failed");
    assert!(ok > 20);
    assert_eq!(
        failed, 0,
        "nginx retries the dead node's requests elsewhere"
    );
    let r = http
        .get(format!("{}/status", nginx.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // `cairn node drain b`: MAINTENANCE, leaves, exits by itself.
    let (okd, out, err) = spec.cli(&["node", "drain", "b"]).await;
    assert!(okd, "{out}{err}");
    assert!(out.contains("b has left the cluster"), "{out}");
    let st = b
        .exited(Duration::from_secs(30))
        .await
        .expect("b exits after draining");
    assert!(st.success());
    within(Duration::from_secs(5), "a sees b gone", || async {
        !a.members().await.contains(&"b".to_string())
    })
    .await;
    let (ok2, _, err) = spec.cli(&["node", "drain", "nosuch"]).await;
    assert!(!ok2);
    assert!(err.contains("not a live member"), "{err}");
    // Status from the CLI.
    let (ok3, out, _) = spec.cli(&["cluster", "status"]).await;
    assert!(ok3);
    assert!(out.contains("a (leader)") || out.contains("\ta"), "{out}");
}

/// Read-your-writes behind a round-robin balancer with no sticky sessions,
/// while change notifications take half a second: a browser (its cookie)
/// and a script (the header) read every write they made on whichever node
/// answers, a revoked reader is refused on every node once it sends the
/// revoking write's token, and a token the database never reached changes
/// nothing.
#[tokio::test]
async fn every_node_reads_the_write_a_token_names_while_notifications_lag() {
    let etcd = Etcd::start();
    let spec = ClusterSpec::new(&etcd)
        .await
        .with_env("CAIRN_TEST_NOTIFY_DELAY_MS", "500");
    let a = spec.node("a").await;
    let b = spec.node("b").await;
    let nginx = Nginx::start(&[
        a.url.trim_start_matches("http://"),
        b.url.trim_start_matches("http://"),
    ]);
    assert_eq!(a.create_space("RYW").await, 200);
    let (_, page) = a.create_page("RYW", "Plan", "<p>draft 0</p>").await;
    let id = page["id"].as_str().unwrap().to_owned();

    // A script with a cookie jar (a browser's way of keeping the token),
    // through the balancer: every read after a save shows the save, on
    // both nodes, although both had the old version cached.
    let jar = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let view_url = format!(
        "{}/rest/api/content/{id}?expand=body.view,version",
        nginx.url
    );
    let get = |c: &reqwest::Client| {
        c.get(&view_url)
            .basic_auth("admin", Some(cairn_tests::password_of("admin")))
            .send()
    };
    for i in 1..=4 {
        // Warm both nodes (round robin) with the current version.
        for _ in 0..2 {
            let v: serde_json::Value = get(&jar).await.unwrap().json().await.unwrap();
            assert_eq!(v["version"]["number"], i);
        }
        let r = jar
            .put(format!("{}/rest/api/content/{id}", nginx.url))
            .basic_auth("admin", Some(cairn_tests::password_of("admin")))
            .header("X-Atlassian-Token", "no-check")
            .json(&serde_json::json!({"type": "page", "title": "Plan", "version": {"number": i + 1},
                "body": {"storage": {"value": format!("<p>draft {i}</p>"), "representation": "storage"}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert!(r
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap_or("").starts_with("cairn.consistency=")));
        for _ in 0..2 {
            let v: serde_json::Value = get(&jar).await.unwrap().json().await.unwrap();
            assert_eq!(v["version"]["number"], i + 1, "a read after save {i}");
            let html = v["body"]["view"]["value"].as_str().unwrap_or("");
            assert!(
                html.contains(&format!("draft {i}")),
                "after save {i}: {html}"
            );
        }
    }
    let catch_ups = metric(&a, "cairn_consistency_catch_ups_total").await
        + metric(&b, "cairn_consistency_catch_ups_total").await;
    assert!(
        catch_ups >= 4.0,
        "the reads were made right by their tokens: {catch_ups}"
    );

    // A reader whose access is revoked: cached on both nodes, then refused
    // on both as soon as it carries the revoking write's token.
    {
        let pool = cairn::db::pool(&spec.db.url, 1).unwrap();
        let mut c = pool.get().await.unwrap();
        cairn::users::create(
            &mut c,
            cairn::users::NewUser {
                username: "eve",
                display_name: Some("Eve"),
                email: Some("eve@example.com"),
                password: &cairn_tests::password_of("eve"),
                admin: false,
            },
        )
        .await
        .unwrap();
    }
    let eve = |n: &cairn_tests::cluster::NodeProc, token: Option<&str>| {
        let mut r = n
            .http
            .get(format!("{}/rest/api/content/{id}?expand=body.view", n.url))
            .basic_auth("eve", Some(cairn_tests::password_of("eve")));
        if let Some(t) = token {
            r = r.header("X-Cairn-Consistency", t);
        }
        async move { r.send().await.unwrap().status().as_u16() }
    };
    // Both nodes cache eve's read (once the user's creation is heard).
    for n in [&a, &b] {
        within(Duration::from_secs(10), "eve can read the page", || async {
            eve(n, None).await == 200
        })
        .await;
        assert_eq!(eve(n, None).await, 200);
    }
    let mut admin = cairn_tests::Client {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: nginx.url.clone(),
        csrf: String::new(),
        cookie: String::new(),
    };
    assert_eq!(
        admin
            .login("admin", &cairn_tests::password_of("admin"))
            .await
            .status(),
        303
    );
    // The write's own answer (a redirect to the restrictions screen) carries
    // the token.
    let r = admin
        .post(
            &format!("/pages/{id}/restrictions"),
            &[
                ("operation", "read"),
                ("action", "add"),
                ("kind", "user"),
                ("name", "admin"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let token = r
        .headers()
        .get("x-cairn-consistency")
        .and_then(|v| v.to_str().ok())
        .expect("token")
        .to_owned();
    let (_, html) = admin.get_text(&cairn_tests::Client::location(&r)).await;
    assert!(html.contains("Restrictions saved"), "{html}");
    for n in [&a, &b] {
        assert_eq!(eve(n, Some(&token)).await, 404, "revoked on node {}", n.id);
    }

    // A token from the future (forged, or another database's) is ignored:
    // it neither fails the request nor empties the caches.
    let before = metric(&b, "cairn_consistency_catch_ups_total").await;
    let forged = (u64::MAX / 4).to_string();
    let r = b
        .rest(Method::GET, &format!("/rest/api/content/{id}"))
        .header("X-Cairn-Consistency", &forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        metric(&b, "cairn_consistency_catch_ups_total").await,
        before
    );
    // The notifications did arrive in the end, and were measured.
    within(
        Duration::from_secs(10),
        "notification delays measured",
        || async { metric(&b, "cairn_change_notify_delay_seconds_count").await > 0.0 },
    )
    .await;
}
