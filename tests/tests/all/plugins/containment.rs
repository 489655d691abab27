//! Hostile plugins are contained: time, memory, nesting, output size, log
//! lines, key-value quota, grants above the site defaults, per-page budgets
//! and gone clients; calls beyond the instance bound queue and complete.

use super::*;

#[tokio::test]
async fn hostile_plugins_are_contained() {
    // Only the hostile plugin: /metrics counts it alone.
    let node = TestNode::start_bare().await;
    let plugins = install_hostile(&node).await;
    let cases = [
        ("hostile-loop", "took longer than its time limit of 1000 ms"),
        (
            "hostile-memory",
            "used more than its memory limit of 32 MiB",
        ),
        ("hostile-recursion", "could not render"),
        ("hostile-trap", "crashed"),
        ("hostile-huge", "more than the limit"),
        ("hostile-flood", "host calls"),
    ];
    let mut body = String::from("<h1>Still here</h1>");
    for (name, _) in &cases {
        body.push_str(&format!("<ac:structured-macro ac:name=\"{name}\"/>"));
    }
    body.push_str("<ac:structured-macro ac:name=\"hostile-script\"/><p>The end.</p>");
    let html = page_html(&node, &body).await;
    for (name, want) in cases {
        let at = html
            .find(&format!(
                "Macro \"{name}\" (plugin Hostile 1.0.0) could not render"
            ))
            .unwrap_or_else(|| panic!("no error box for {name}: {html}"));
        let tail = &html[at..at + 400.min(html.len() - at)];
        assert!(tail.contains(want), "{name}: {tail}");
    }
    assert!(html.contains("Still here") && html.contains("The end."));
    assert!(html.contains("safe text"));
    assert!(!html.contains("<script>alert(1)"), "script survived");
    assert!(!html.contains("onerror"), "handler survived");
    assert!(!html.contains("javascript:"), "javascript URL survived");

    // The failures are counted and the node keeps serving other pages.
    let m = plugins.metrics("test.hostile");
    assert!(m.failures.load(std::sync::atomic::Ordering::Relaxed) >= 6);
    assert!(m.last_failure().is_some());
    let html = page_html(&node, "<p>A plain page renders.</p>").await;
    assert!(html.contains("A plain page renders."));
    // … and reports them in /metrics.
    let text = reqwest::get(format!("{}/metrics", node.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("cairn_plugin_failures_total{plugin=\"test.hostile\"}"))
        .unwrap_or_else(|| panic!("{text}"));
    let n: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 6, "{line}");
    assert!(text.contains("cairn_plugins{state=\"loaded\"} 1"), "{text}");
}

#[tokio::test]
async fn calls_beyond_the_instance_bound_wait_and_complete() {
    let node = TestNode::start().await;
    let plugins = install_hostile(&node).await;
    let bound = plugins.runtime().max_instances() as usize;
    let c = node.login("admin").await;
    c.create_space("PAR", "Parallel").await;
    let mut ids = Vec::new();
    for i in 0..(bound * 2 + 4) {
        // Distinct pages so no render cache helps.
        let title = format!("Slow {i}");
        let id = c
            .create_page(
                "PAR",
                &title,
                "<ac:structured-macro ac:name=\"hostile-slow-ok\"/>",
                None,
            )
            .await;
        ids.push(cairn::urls::page_url("PAR", id, &title));
    }
    let mut tasks = Vec::new();
    for path in ids {
        let http = c.http.clone();
        let url = c.url(&path);
        tasks.push(tokio::spawn(async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }));
    }
    for t in tasks {
        let (s, html) = t.await.unwrap();
        assert_eq!(s, 200);
        assert!(html.contains("class=\"slow\""), "{html}");
        assert!(!html.contains("macro-error"), "{html}");
    }
}

pub(super) async fn status_of(node: &TestNode) -> String {
    let r = reqwest::get(format!("{}/status", node.base)).await.unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    v["state"].as_str().unwrap_or_default().to_string()
}

/// Views `hostile` 16 times at once; meanwhile a plain page answers and the
/// node stays RUNNING. Returns the hostile pages' HTML.
pub(super) async fn view_concurrently_while_healthy(node: &TestNode, body: &str) -> Vec<String> {
    let c = node.login("admin").await;
    let key = format!("H{}", rand_suffix());
    c.create_space(&key, "Hostile").await;
    let hostile = c.create_page(&key, "Hostile page", body, None).await;
    let plain = c
        .create_page(&key, "Plain page", "<p>plain and simple</p>", None)
        .await;
    let started = std::time::Instant::now();
    let url = c.url(&cairn::urls::page_url(&key, hostile, "Hostile page"));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let http = c.http.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }));
    }
    // While those run: a page without plugins answers, the node is healthy.
    let (s, html) = try_view(&c, plain).await;
    assert_eq!(s, 200);
    assert!(html.contains("plain and simple"));
    assert_eq!(status_of(node).await, "RUNNING");
    let mut out = Vec::new();
    for t in tasks {
        let (s, html) = t.await.unwrap();
        assert_eq!(s, 200, "{html}");
        out.push(html);
    }
    // Well within what the hostile macros asked for (a 40 s sleep, minutes
    // of tree building); a loose bound, not a speed goal.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status_of(node).await, "RUNNING");
    out
}

#[tokio::test]
async fn a_blocking_wasi_sleep_neither_escapes_the_time_limit_nor_takes_the_node_down() {
    let node = TestNode::start().await;
    install_hostile(&node).await;
    let pages = view_concurrently_while_healthy(
        &node,
        "<p>before</p><ac:structured-macro ac:name=\"hostile-sleep\"/><p>after</p>",
    )
    .await;
    for html in pages {
        // Time stands still for plugins: the sleep returns at once.
        assert!(html.contains("class=\"woke\""), "{html}");
        assert!(html.contains("after"), "{html}");
    }
}

#[tokio::test]
async fn deeply_nested_plugin_output_is_refused_without_quadratic_work() {
    let node = TestNode::start().await;
    install_hostile(&node).await;
    let pages = view_concurrently_while_healthy(
        &node,
        "<ac:structured-macro ac:name=\"hostile-deep\"/><ac:structured-macro ac:name=\"hostile-unclosed\"/><p>after</p>",
    )
    .await;
    for html in pages {
        for name in ["hostile-deep", "hostile-unclosed"] {
            let at = html
                .find(&format!(
                    "Macro \"{name}\" (plugin Hostile 1.0.0) could not render"
                ))
                .unwrap_or_else(|| {
                    panic!("no error box for {name}: {}", &html[..html.len().min(2000)])
                });
            assert!(
                html[at..].contains("nested deeper than 200 levels"),
                "{name}"
            );
        }
        assert!(html.contains("after"));
    }
}

#[tokio::test]
async fn huge_error_messages_are_cut_before_they_are_escaped() {
    let node = TestNode::start().await;
    install_hostile(&node).await;
    let html = page_html(
        &node,
        "<ac:structured-macro ac:name=\"hostile-error-huge\"/><p>after</p>",
    )
    .await;
    assert!(html.len() < 100_000, "{} bytes", html.len());
    assert!(html.contains("could not render: &lt;&lt;&lt;"), "{html}");
    assert!(html.contains("message cut"), "{html}");
    assert!(html.contains("after"));
}

#[tokio::test]
async fn plugins_cannot_forge_log_lines() {
    let node = TestNode::start().await;
    let plugins = install_hostile(&node).await;
    let html = page_html(
        &node,
        "<ac:structured-macro ac:name=\"hostile-log-forge\"/>",
    )
    .await;
    assert!(html.contains("logged"), "{html}");
    let lines = plugins.log("test.hostile").lines();
    let line = lines
        .iter()
        .find(|l| l.message.starts_with("innocent"))
        .expect("the log line");
    assert!(
        !line.message.chars().any(|c| c.is_control()),
        "{:?}",
        line.message
    );
    assert!(
        line.message.contains("innocent\\n2026"),
        "{:?}",
        line.message
    );
}

#[tokio::test]
async fn the_key_value_store_has_a_quota_per_plugin() {
    let node = TestNode::start().await;
    install_hostile(&node).await;
    let c = node.login("admin").await;
    c.create_space("KVQ", "Quota").await;
    let id = c
        .create_page(
            "KVQ",
            "Fill",
            "<ac:structured-macro ac:name=\"hostile-kv-fill\"/>",
            None,
        )
        .await;
    let quota_mib = cairn::plugins::runtime::KV_QUOTA_BYTES as usize >> 20;
    let mut refused = None;
    for _ in 0..quota_mib / 4 + 2 {
        let html = c.view_page(id).await;
        assert!(!html.contains("macro-error"), "{html}");
        if html.contains("kv-full") {
            refused = Some(html);
            break;
        }
    }
    let html = refused.expect("the store never refused a write");
    assert!(html.contains("the key-value store is full"), "{html}");
    let db = node.sql().await;
    let used: i64 = db
        .query_one(
            "SELECT sum(octet_length(key) + octet_length(value))::bigint FROM plugin_kv WHERE plugin_id = 'test.hostile'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(used <= cairn::plugins::runtime::KV_QUOTA_BYTES, "{used}");
}

#[tokio::test]
async fn limits_above_the_site_defaults_need_an_explicit_grant() {
    let node = TestNode::start().await;
    let plugins = node.state.plugins.clone();
    let (m, bytes) = manifest_of(&hostile_dir());
    let all = [Capability::Log, Capability::Content, Capability::Kv];
    let e = plugins
        .install(&system_viewer(), m.clone(), bytes.clone(), &all, false)
        .await
        .expect_err("installed without granting its limits");
    assert_eq!(e.status().as_u16(), 400);
    let msg = e.to_string();
    assert!(
        msg.contains("a time limit of 1000 ms") && msg.contains("--grant-limits"),
        "{msg}"
    );
    assert!(!plugins.registry().provides("hostile-trap"));
    // Over REST: refused without the field, installed with it.
    let admin = node.login("admin").await;
    let manifest = std::fs::read_to_string(hostile_dir().join("cairn-plugin.toml")).unwrap();
    let form = |limits: Option<&str>| {
        let f = reqwest::multipart::Form::new()
            .text("manifest", manifest.clone())
            .part(
                "component",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name("hostile.wasm"),
            )
            .text("grant", "log,content,kv");
        match limits {
            Some(v) => f.text("grant-limits", v.to_string()),
            None => f,
        }
    };
    let post = |f| {
        admin
            .http
            .post(admin.url("/rest/cairn/1.0/plugins"))
            .header("X-Atlassian-Token", "no-check")
            .multipart(f)
            .send()
    };
    let r = post(form(None)).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("grant-limits"));
    let r = post(form(Some("true"))).await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    plugins.reload(false).await.unwrap();
    assert!(plugins.registry().provides("hostile-trap"));
    // The admin UI offers the grant.
    let (_, html) = admin.get_text("/admin/plugins").await;
    assert!(html.contains("name=\"grant-limits\""), "{html}");
}

#[tokio::test]
async fn a_page_stops_calling_plugins_once_its_budget_is_spent() {
    let node = TestNode::start().await;
    install_hostile(&node).await;
    node.state.spawn_settings_applier(None);
    node.state
        .cluster
        .set_setting("plugin_page_budget_ms", Some("1500"), "test")
        .await
        .unwrap();
    let plugins = node.state.plugins.clone();
    assert!(
        cairn_tests::wait_until(std::time::Duration::from_secs(10), || {
            let p = plugins.clone();
            async move { p.page_budget_ms() == 1500 }
        })
        .await,
        "the live setting was not applied"
    );
    let loops = "<ac:structured-macro ac:name=\"hostile-loop\"/>".repeat(6);
    let html = page_html(&node, &format!("{loops}<p>after</p>")).await;
    let spent = html.matches("not rendered: page budget spent").count();
    let timed_out = html.matches("took longer than its time limit").count();
    assert_eq!(timed_out + spent, 6, "{html}");
    assert!(timed_out <= 2 && spent >= 4, "{html}");
    assert!(html.contains("after"));
}

#[tokio::test]
async fn a_page_whose_client_has_gone_stops_calling_plugins() {
    let node = TestNode::start().await;
    let plugins = install_hostile(&node).await;
    let c = node.login("admin").await;
    c.create_space("GONE", "Gone").await;
    // Three seconds of plugin time (the page budget) if it ran to the end.
    let id = c
        .create_page(
            "GONE",
            "Slow page",
            &"<ac:structured-macro ac:name=\"hostile-loop\"/>".repeat(6),
            None,
        )
        .await;
    let url = c.url(&cairn::urls::page_url("GONE", id, "Slow page"));
    let r = c
        .http
        .get(url)
        .timeout(std::time::Duration::from_millis(300))
        .send()
        .await;
    assert!(r.is_err(), "the view should still be rendering");
    let m = plugins.metrics("test.hostile");
    // The call running when the client left ends at its limit; none follows.
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let calls = m.calls.load(std::sync::atomic::Ordering::Relaxed);
    assert!(calls <= 1, "{calls} calls after the client left");
}
