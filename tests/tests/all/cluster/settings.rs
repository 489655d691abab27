//! Live settings: a standalone database's settings carry into the cluster it
//! forms, settings and plugin installs reach every node, and read-only mode
//! shows in the browser.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standalone_databases_settings_carry_into_the_cluster_it_forms() {
    let etcd = Etcd::start();
    let spec = ClusterSpec::new(&etcd).await;
    // As a standalone node (no etcd), settings live in PostgreSQL.
    for (k, v) in [
        ("site_title", "Standalone Handbook"),
        ("announcement", "set while standalone"),
        ("rest_rate_limit", "5/10"),
    ] {
        let out = tokio::process::Command::new(cairn_tests::cluster::cairn_binary())
            .args(["config", "set", k, v])
            .env("CAIRN_DATABASE_URL", &spec.db.url)
            .env_remove("CAIRN_ETCD_ENDPOINTS")
            .env("CAIRN_LOG", "warn")
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    // A key set in etcd before the first node starts keeps its etcd value.
    let (ok, out, err) = spec
        .cli(&["config", "set", "announcement", "set in etcd"])
        .await;
    assert!(ok, "{out}{err}");
    let n1 = spec.node("n1").await;
    let value = |list: &serde_json::Value, key: &str| {
        list["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .map(|s| s["value"].clone())
            .unwrap_or_default()
    };
    let (code, list) = n1.get_json("/rest/cairn/1.0/config").await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(value(&list, "site_title"), "Standalone Handbook", "{list}");
    assert_eq!(value(&list, "rest_rate_limit"), "5/10", "{list}");
    assert_eq!(value(&list, "announcement"), "set in etcd", "{list}");
    let (_, hist) = n1.get_json("/rest/cairn/1.0/config-history").await;
    assert!(
        hist["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["key"] == "site_title"
                && e["changed_by"] == "standalone settings"
                && e["new_value"] == "Standalone Handbook"
                && e["node_id"] == "n1"),
        "{hist}"
    );
    // Only the node that forms the cluster copies: a cluster-wide change
    // stays when the next node joins.
    let (ok, out, err) = spec
        .cli(&["config", "set", "site_title", "Cluster Handbook"])
        .await;
    assert!(ok, "{out}{err}");
    let n2 = spec.node("n2").await;
    let (_, list) = n2.get_json("/rest/cairn/1.0/config").await;
    assert_eq!(value(&list, "site_title"), "Cluster Handbook", "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_plugin_installs_reach_every_node() {
    let etcd = Etcd::start();
    let spec = ClusterSpec::new(&etcd).await;
    let a = spec.node("a").await;
    let b = spec.node("b").await;
    assert_eq!(a.create_space("CFG").await, 200);

    // From the CLI: the title changes on both nodes within about a second.
    let (ok, out, err) = spec
        .cli(&["config", "set", "site_title", "Team Handbook"])
        .await;
    assert!(ok, "{out}{err}");
    let set_at = Instant::now();
    for n in [&a, &b] {
        within(Duration::from_secs(5), "the new title", || async {
            let html = n.get_text("/spaces").await;
            html.contains("<title>Spaces - Team Handbook</title>")
        })
        .await;
    }
    eprintln!("site_title reached both nodes in {:?}", set_at.elapsed());
    // get, list and history read the cluster's settings from etcd.
    let (ok, out, err) = spec.cli(&["config", "get", "site_title"]).await;
    assert!(ok && out.trim() == "Team Handbook", "{out}{err}");
    let (ok, out, err) = spec.cli(&["config", "list"]).await;
    assert!(
        ok && out.contains("site_title = \"Team Handbook\" (set)")
            && out.contains("access_mode = \"read-write\" (default)"),
        "{out}{err}"
    );
    let (ok, out, err) = spec.cli(&["config", "history"]).await;
    assert!(
        ok && out.contains("site_title: (default) -> Team Handbook"),
        "{out}{err}"
    );
    let (ok, _, err) = spec.cli(&["config", "get", "no_such_setting"]).await;
    assert!(!ok && err.contains("unknown setting"), "{err}");
    // An invalid value is refused and nothing changes.
    let (ok, _, err) = spec
        .cli(&["config", "set", "access_mode", "sometimes"])
        .await;
    assert!(!ok);
    assert!(err.contains("read-write or read-only"), "{err}");
    let r = a
        .rest(Method::PUT, "/rest/cairn/1.0/config/plugin_time_limit_ms")
        .json(&serde_json::json!({"value": "-5"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    // The cluster admin page on a follower: both nodes, the leader, etcd's
    // health and the cluster jobs' last runs.
    let leader = a.leader().await.expect("a leader");
    let (code, _) = a.create_page("CFG", "Findable runbook", "<p>x</p>").await;
    assert_eq!(code, 200);
    let follower = if leader == "a" { &b } else { &a };
    let html = follower.get_text("/admin/cluster").await;
    assert!(
        html.contains(&format!("<strong id=\"leader\">{leader}</strong>"))
            && html.contains("<span class=\"ok\">healthy</span>")
            && html.contains("id=\"cluster-jobs\"")
            && html.contains("index-snapshot")
            && html.contains("2 node(s)"),
        "{}",
        &html[..html.len().min(3000)]
    );

    // Read-only over REST on one node: every node refuses content writes
    // with a clear message; reads work; admin actions still work.
    let r = a
        .rest(Method::PUT, "/rest/cairn/1.0/config/access_mode")
        .json(&serde_json::json!({"value": "read-only"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    within(
        Duration::from_secs(5),
        "read-only on the other node",
        || async { b.create_page("CFG", "Refused", "<p/>").await.0 == 503 },
    )
    .await;
    let (_, body) = b.create_page("CFG", "Refused", "<p/>").await;
    assert!(
        body["message"].as_str().unwrap().contains("read-only mode"),
        "{body}"
    );
    assert_eq!(body["data"]["allowedInReadOnlyMode"], false);
    let (code, _) = b.get_json("/rest/api/space/CFG").await;
    assert_eq!(code, 200);
    within(
        Duration::from_secs(5),
        "search in read-only mode",
        || async {
            b.search_titles("title ~ \"runbook\" AND space = \"CFG\"")
                .await
                .contains(&"Findable runbook".to_string())
        },
    )
    .await;
    let (code, list) = b.get_json("/rest/cairn/1.0/config").await;
    assert_eq!(code, 200);
    assert!(list["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["key"] == "access_mode" && s["value"] == "read-only"));
    let r = b
        .rest(Method::DELETE, "/rest/cairn/1.0/config/access_mode")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        204,
        "admin actions work in read-only mode"
    );
    within(Duration::from_secs(5), "writable again", || async {
        a.create_page("CFG", "Accepted", "<p/>").await.0 == 200
    })
    .await;
    // Every change is audited: who, old, new.
    let (_, hist) = a.get_json("/rest/cairn/1.0/config-history").await;
    let entries = hist["results"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["key"] == "access_mode"
        && e["changed_by"] == "admin"
        && e["new_value"] == "read-only"));
    assert!(
        entries
            .iter()
            .any(|e| e["key"] == "site_title"
                && e["changed_by"].as_str().unwrap().starts_with("cli:"))
    );

    // A plugin installed on one node runs on the other within seconds, and
    // both report the same component.
    let dir = cairn_tests::build_plugin("examples/hello-rust", &[]);
    let manifest = std::fs::read_to_string(dir.join("cairn-plugin.toml")).unwrap();
    let component =
        std::fs::read(dir.join("target/wasm32-wasip2/release/hello_rust.wasm")).unwrap();
    let form = reqwest::multipart::Form::new()
        .text("manifest", manifest)
        .part(
            "component",
            reqwest::multipart::Part::bytes(component).file_name("hello.wasm"),
        );
    let r = a
        .rest(Method::POST, "/rest/cairn/1.0/plugins")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
    let installed = Instant::now();
    within(
        Duration::from_secs(10),
        "the other node offers the macro",
        || async {
            let (_, v) = b.get_json("/rest/cairn/1.0/macros").await;
            v.to_string().contains("\"hello\"")
        },
    )
    .await;
    eprintln!(
        "plugin install reached the other node in {:?}",
        installed.elapsed()
    );
    within(
        Duration::from_secs(10),
        "both nodes report the same hash, no divergence",
        || async {
            let (_, v) = a.get_json("/rest/cairn/1.0/cluster").await;
            let nodes = v["nodes"].as_array().cloned().unwrap_or_default();
            nodes.len() == 2
                && nodes
                    .iter()
                    .all(|n| n["figures"]["plugins"]["com.example.hello"].is_string())
                // The first-party plugins each `cairn serve` installed from
                // its binary, loaded alike on both.
                && nodes.iter().all(|n| {
                    ["cairn.code", "cairn.panels", "cairn.toc", "cairn.include"]
                        .iter()
                        .all(|id| n["figures"]["plugins"][id].is_string())
                })
                && v["pluginDivergence"]
                    .as_object()
                    .is_some_and(serde_json::Map::is_empty)
        },
    )
    .await;
}

/// A standalone node keeps live settings in PostgreSQL and applies a change
/// at once; read-only mode refuses a browser's form post with a page that
/// says nothing was saved, while admin pages still work.
#[tokio::test]
async fn standalone_live_settings_and_read_only_mode_in_the_browser() {
    let node = cairn_tests::TestNode::start().await;
    let admin = node.login("admin").await;
    // Through the admin settings page: one bad value changes nothing.
    let r = admin
        .submit(
            "/admin/settings",
            &[("site_title", "Docs Hub"), ("plugin_time_limit_ms", "lots")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 400);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("plugin_time_limit_ms") && body.contains("nothing was changed"),
        "{body}"
    );
    let (_, html) = admin.get_text("/spaces").await;
    assert!(
        html.contains("<title>Spaces - Cairn</title>"),
        "unchanged title"
    );
    let r = admin
        .submit(
            "/admin/settings",
            &[
                ("site_title", "Docs Hub"),
                ("access_mode", "read-only"),
                ("announcement", "Moving to new hardware tonight"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let (_, html) = admin.get_text("/spaces").await;
    assert!(html.contains("<title>Spaces - Docs Hub</title>"), "{html}");
    assert!(html.contains("Moving to new hardware tonight"));
    assert!(html.contains("Read-only mode"));
    // A content form post is refused, and the page says how to keep the text.
    let r = admin
        .post("/spaces", &[("key", "RO"), ("name", "Read only")])
        .await;
    assert_eq!(r.status().as_u16(), 503);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("read-only mode") && body.contains("Your changes were not saved"),
        "{body}"
    );
    // REST: Confluence's envelope with allowedInReadOnlyMode false.
    let r = admin
        .http
        .post(admin.url("/rest/api/space"))
        .basic_auth("admin", Some(cairn_tests::password_of("admin")))
        .json(&serde_json::json!({"key": "RO", "name": "RO"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["data"]["allowedInReadOnlyMode"], false);
    // Admin pages still work: reset, and writes are accepted again.
    let r = admin
        .submit("/admin/settings", &[("reset", "access_mode")])
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let r = admin
        .post("/spaces", &[("key", "RW"), ("name", "Writable")])
        .await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let (_, html) = admin.get_text("/admin/settings").await;
    assert!(
        html.contains("access_mode") && html.contains("(default)"),
        "the audit trail lists the reset"
    );
    let (_, html) = admin.get_text("/admin/cluster").await;
    assert!(html.contains("standalone"), "{html}");
    let (_, metrics) = admin.get_text("/metrics").await;
    assert!(
        metrics.contains("cairn_cluster_leader 1") && metrics.contains("cairn_read_only 0"),
        "{metrics}"
    );
}
