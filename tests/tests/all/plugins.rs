//! WebAssembly plugins: install, upgrade, disable and remove without a
//! restart; validation at install; hostile plugins contained; parallel calls
//! beyond the instance bound queue and complete.

use std::path::{Path, PathBuf};

use cairn::plugins::{system_viewer, Capability, Manifest};
use cairn_tests::{build_plugin, TestNode};

fn hello_dir() -> PathBuf {
    build_plugin("examples/hello-rust", &[])
}

fn hostile_dir() -> PathBuf {
    build_plugin("tests/plugins/hostile", &[])
}

fn manifest_of(dir: &Path) -> (Manifest, Vec<u8>) {
    let m =
        Manifest::parse(&std::fs::read_to_string(dir.join("cairn-plugin.toml")).unwrap()).unwrap();
    let bytes = std::fs::read(dir.join(m.component.as_ref().unwrap())).unwrap();
    (m, bytes)
}

async fn page_html(node: &TestNode, body: &str) -> String {
    let c = node.login("admin").await;
    let key = format!("P{}", rand_suffix());
    c.create_space(&key, "Plugin space").await;
    let id = c.create_page(&key, "Plugin page", body, None).await;
    c.view_page(id).await
}

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

fn call(name: &str) -> String {
    format!("<ac:structured-macro ac:name=\"{name}\"><ac:parameter ac:name=\"name\">Ada</ac:parameter></ac:structured-macro>")
}

#[tokio::test]
async fn install_upgrade_disable_remove_take_effect_without_restart() {
    let node = TestNode::start().await;
    let plugins = node.state.plugins.clone();
    let admin = system_viewer();
    let dir = hello_dir();
    let (m, bytes) = manifest_of(&dir);
    let o = plugins
        .install(&admin, m.clone(), bytes.clone(), &[], false)
        .await
        .unwrap();
    assert_eq!(o.action, "installed");
    let c = node.login("admin").await;
    c.create_space("HELLO", "Hello").await;
    let id = c
        .create_page(
            "HELLO",
            "Greeting",
            &format!("<p>Before {} after</p>", call("hello")),
            None,
        )
        .await;
    let html = c.view_page(id).await;
    assert!(html.contains("Hello, Ada!"), "{html}");

    // Reinstalling the same thing changes nothing.
    let o = plugins
        .install(&admin, m.clone(), bytes, &[], false)
        .await
        .unwrap();
    assert_eq!(o.action, "unchanged");

    // Upgrade: a new build with new behaviour, same id.
    let formal = build_plugin(
        "examples/hello-rust",
        &["--features", "formal", "--target-dir", "target/formal"],
    );
    let mut m2 = m.clone();
    m2.version = "1.1.0".into();
    let bytes2 =
        std::fs::read(formal.join("target/formal/wasm32-wasip2/release/hello_rust.wasm")).unwrap();
    let o = plugins
        .install(&admin, m2, bytes2, &[], false)
        .await
        .unwrap();
    assert_eq!(o.action, "upgraded");
    assert_eq!(o.previous_version.as_deref(), Some("1.0.0"));
    let html = c.view_page(id).await;
    assert!(html.contains("Good day, Ada!"), "{html}");

    // Disable: the macro is unavailable; enable: back.
    plugins
        .set_enabled(&admin, "com.example.hello", false)
        .await
        .unwrap();
    let html = c.view_page(id).await;
    assert!(html.contains("macro-unavailable"), "{html}");
    assert!(!html.contains("Good day"), "{html}");
    plugins
        .set_enabled(&admin, "com.example.hello", true)
        .await
        .unwrap();
    let html = c.view_page(id).await;
    assert!(html.contains("Good day, Ada!"), "{html}");

    // A second node on the same database and shared home picks changes up by
    // itself (registry generation), without a restart.
    let other = cairn::plugins::Plugins::new(node.pool.clone(), &node.shared_home)
        .expect("the plugin engine");
    other.reload(true).await.unwrap();
    assert!(other.registry().provides("hello"));
    plugins.remove(&admin, "com.example.hello").await.unwrap();
    other.reload(false).await.unwrap();
    assert!(!other.registry().provides("hello"));
    let html = c.view_page(id).await;
    assert!(html.contains("macro-unavailable"), "{html}");
    let hist = plugins
        .history(Some("com.example.hello"), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = hist.iter().rev().map(|h| h.action.as_str()).collect();
    assert_eq!(
        actions,
        ["installed", "upgraded", "disabled", "enabled", "removed"]
    );
}

#[tokio::test]
async fn install_validates_everything_and_changes_nothing_on_error() {
    // No first-party plugins: the registry starts empty and must stay so.
    let node = TestNode::start_bare().await;
    let plugins = node.state.plugins.clone();
    let admin = system_viewer();
    let (hello, hello_bytes) = manifest_of(&hello_dir());
    let (hostile, hostile_bytes) = manifest_of(&hostile_dir());

    let mut core_module = b"\0asm\x01\0\0\0".to_vec();
    core_module.extend_from_slice(&[0x00, 0x02, 0x01, 0x00]); // a custom section
    let truncated = hello_bytes[..hello_bytes.len() / 2].to_vec();
    let mut admin_world = hello.clone();
    admin_world.worlds = vec![cairn::plugins::World::AdminExtension];
    admin_world.macros.clear();
    let mut extra_macro = hello.clone();
    extra_macro
        .macros
        .push(cairn::plugins::manifest::MacroEntry {
            name: "goodbye".into(),
            params: vec![],
        });
    let mut wrong_params = hello.clone();
    wrong_params.macros[0].params = vec!["who".into()];
    let mut undeclared_cap = hostile.clone();
    undeclared_cap.capabilities.clear();

    type Case<'a> = (&'a str, Manifest, Vec<u8>, Vec<Capability>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "random bytes",
            hello.clone(),
            b"hello, world".to_vec(),
            vec![],
            "not a WebAssembly file",
        ),
        (
            "core module",
            hello.clone(),
            core_module,
            vec![],
            "core WebAssembly module, not a component",
        ),
        (
            "truncated",
            hello.clone(),
            truncated,
            vec![],
            "cannot be installed",
        ),
        (
            "wrong world",
            admin_world,
            hello_bytes.clone(),
            vec![],
            "does not export cairn:plugin/admin",
        ),
        (
            "manifest lists more macros",
            extra_macro,
            hello_bytes.clone(),
            vec![],
            "does not describe it",
        ),
        (
            "manifest params differ",
            wrong_params,
            hello_bytes.clone(),
            vec![],
            "parameters",
        ),
        (
            "capability not granted",
            hostile.clone(),
            hostile_bytes.clone(),
            vec![Capability::Log],
            "not granted: content, kv",
        ),
        (
            "capability used but not requested",
            undeclared_cap,
            hostile_bytes.clone(),
            vec![],
            "does not request it",
        ),
    ];
    for (what, m, bytes, grant, want) in cases {
        let e = plugins
            .install(&admin, m, bytes, &grant, false)
            .await
            .expect_err(what);
        let msg = e.to_string();
        assert!(
            msg.contains(want),
            "{what}: {msg:?} should contain {want:?}"
        );
        assert_eq!(e.status().as_u16(), 400, "{what}: {msg}");
    }
    let db = node.sql().await;
    let n: i64 = db
        .query_one("SELECT count(*) FROM plugins", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "nothing was registered");
    assert!(plugins.registry().rows.is_empty());

    // Not an administrator.
    let u = node.user("mallory", false).await;
    let v = node.viewer(Some(&u)).await;
    let e = plugins
        .install(&v, hello.clone(), hello_bytes.clone(), &[], false)
        .await
        .unwrap_err();
    assert_eq!(e.status().as_u16(), 403);

    // A macro name another plugin provides.
    plugins
        .install(&admin, hello.clone(), hello_bytes.clone(), &[], false)
        .await
        .unwrap();
    let mut clash = hello.clone();
    clash.id = "com.example.other".into();
    let e = plugins
        .install(&admin, clash, hello_bytes, &[], false)
        .await
        .unwrap_err();
    assert_eq!(e.status().as_u16(), 409, "{e}");
}

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

/// One data-driven case of `plugins/cases/*.txt`.
struct Case {
    name: String,
    storage: String,
    contains: Vec<String>,
    excludes: Vec<String>,
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    let mut section = "";
    let mut storage: Vec<&str> = Vec::new();
    let flush = |out: &mut Vec<Case>, storage: &mut Vec<&str>| {
        if let Some(c) = out.last_mut() {
            if c.storage.is_empty() {
                c.storage = storage.join("\n");
            }
        }
        storage.clear();
    };
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("=== ") {
            flush(&mut out, &mut storage);
            out.push(Case {
                name: name.trim().to_string(),
                storage: String::new(),
                contains: Vec::new(),
                excludes: Vec::new(),
            });
            section = "";
            continue;
        }
        if let Some(s) = line.strip_prefix("--- ") {
            if section == "storage" {
                flush(&mut out, &mut storage);
            }
            section = match s.trim() {
                "storage" => "storage",
                "contains" => "contains",
                "excludes" => "excludes",
                other => panic!("unknown section {other:?}"),
            };
            continue;
        }
        let Some(c) = out.last_mut() else { continue };
        match section {
            "storage" => storage.push(line),
            "contains" if !line.is_empty() => c.contains.push(line.to_string()),
            "excludes" if !line.is_empty() => c.excludes.push(line.to_string()),
            _ => {}
        }
    }
    flush(&mut out, &mut storage);
    out
}

#[tokio::test]
async fn first_party_macros_render_from_storage_format() {
    let node = TestNode::start().await;
    let plugins = node.state.plugins.clone();
    let installed = plugins
        .install_builtin(&cairn_tests::builtin_plugins())
        .await
        .unwrap();
    assert!(installed.len() >= 5, "{installed:?}");
    let reg = plugins.registry();
    assert!(reg.failed.is_empty(), "{:?}", reg.failed);
    for m in [
        "toc",
        "code",
        "info",
        "note",
        "warning",
        "tip",
        "panel",
        "expand",
        "status",
        "anchor",
        "children",
        "excerpt",
        "noformat",
        "pagetree",
        "contentbylabel",
        "recently-updated",
        "attachments",
    ] {
        assert!(reg.provides(m), "no plugin provides {m}");
    }

    // The fixture of plugins/cases/README.md.
    let admin = node.login("admin").await;
    admin.create_space("CASE", "Cases").await;
    let page = admin
        .create_page("CASE", "Case page", "<p>x</p>", None)
        .await;
    let a = admin
        .create_page("CASE", "Child A", "<p>a</p>", Some(page))
        .await;
    let b = admin
        .create_page("CASE", "Child B", "<p>b</p>", Some(page))
        .await;
    admin
        .create_page("CASE", "Grandchild", "<p>g</p>", Some(a))
        .await;
    let secret = admin
        .create_page("CASE", "Secret", "<p>s</p>", Some(page))
        .await;
    for (id, labels) in [(a, "alpha"), (b, "alpha beta"), (secret, "alpha beta")] {
        let r = admin
            .post(&format!("/pages/{id}/labels"), &[("labels", labels)])
            .await;
        assert!(r.status().is_success() || r.status().is_redirection());
    }
    let r = admin.restrict(secret, "read", "user", "admin").await;
    assert_eq!(r.status(), 200);
    let r = crate::perms::upload(&admin, page, "notes.txt", b"twelve bytes").await;
    assert_eq!(r.status(), 200);
    let reader = node.user("reader", false).await;
    let viewer = node.viewer(Some(&reader)).await;
    let db = node.sql().await;
    let case_page = cairn::content::get(&db, &viewer, page).await.unwrap();

    let mut failures = Vec::new();
    let mut n = 0;
    for file in ["code", "panels", "toc", "content-macros"] {
        let path = cairn_tests::repo_root().join(format!("plugins/cases/{file}.txt"));
        let text = std::fs::read_to_string(&path).unwrap();
        for case in parse_cases(&text) {
            n += 1;
            let html = match node
                .state
                .presenter
                .render_source(&db, &viewer, "CASE", Some(&case_page), &case.storage)
                .await
            {
                Ok(r) => r.html,
                Err(e) => {
                    failures.push(format!("{file}: {}: render error {e}", case.name));
                    continue;
                }
            };
            for want in &case.contains {
                if !html.contains(want.as_str()) {
                    failures.push(format!(
                        "{file}: {}: missing {want:?} in\n{html}",
                        case.name
                    ));
                }
            }
            for bad in &case.excludes {
                if html.contains(bad.as_str()) {
                    failures.push(format!(
                        "{file}: {}: unwanted {bad:?} in\n{html}",
                        case.name
                    ));
                }
            }
        }
    }
    assert!(n >= 60, "only {n} cases");

    // An included page's macros render too (the host renders includes).
    let lister = admin
        .create_page("CASE", "Lister", "<ac:structured-macro ac:name=\"children\"/><ac:structured-macro ac:name=\"status\"><ac:parameter ac:name=\"title\">Inner</ac:parameter></ac:structured-macro>", None)
        .await;
    admin
        .create_page("CASE", "Listed", "<p>l</p>", Some(lister))
        .await;
    let include = "<ac:structured-macro ac:name=\"include\"><ac:parameter ac:name=\"\"><ac:link><ri:page ri:content-title=\"Lister\"/></ac:link></ac:parameter></ac:structured-macro>";
    let html = node
        .state
        .presenter
        .render_source(&db, &viewer, "CASE", Some(&case_page), include)
        .await
        .unwrap()
        .html;
    assert!(html.contains(">Listed</a>"), "{html}");
    assert!(html.contains("Inner"), "{html}");
    assert!(!html.contains("macro-unavailable"), "{html}");
    assert!(!html.contains("macro-error"), "{html}");

    // Cycles, restricted pages and excerpts.
    let inc = |title: &str| {
        format!("<ac:structured-macro ac:name=\"include\"><ac:parameter ac:name=\"\"><ac:link><ri:page ri:content-title=\"{title}\"/></ac:link></ac:parameter></ac:structured-macro>")
    };
    admin
        .create_page(
            "CASE",
            "Loop A",
            &format!("<p>in A</p>{}", inc("Loop B")),
            None,
        )
        .await;
    let loop_b = admin
        .create_page(
            "CASE",
            "Loop B",
            &format!("<p>in B</p>{}", inc("Loop A")),
            None,
        )
        .await;
    let b_page = cairn::content::get(&db, &viewer, loop_b).await.unwrap();
    let html = node
        .state
        .presenter
        .render_content(&db, &viewer, &b_page)
        .await
        .unwrap()
        .html
        .clone();
    assert!(html.contains("in A") && html.contains("in B"), "{html}");
    assert!(html.contains("includes itself"), "{html}");
    let html = node
        .state
        .presenter
        .render_source(&db, &viewer, "CASE", Some(&case_page), &inc("Secret"))
        .await
        .unwrap()
        .html;
    assert!(
        html.contains("does not exist or you may not view it"),
        "{html}"
    );
    assert!(!html.contains("<p>s</p>"), "{html}");
    admin
        .create_page(
            "CASE",
            "Has Excerpt",
            "<p>before</p><ac:structured-macro ac:name=\"excerpt\"><ac:parameter ac:name=\"name\">short</ac:parameter><ac:rich-text-body><p>The <strong>gist</strong>.</p></ac:rich-text-body></ac:structured-macro>",
            None,
        )
        .await;
    let html = node
        .state
        .presenter
        .render_source(&db, &viewer, "CASE", Some(&case_page), "<ac:structured-macro ac:name=\"excerpt-include\"><ac:parameter ac:name=\"\"><ac:link><ri:page ri:space-key=\"CASE\" ri:content-title=\"Has Excerpt\"/></ac:link></ac:parameter><ac:parameter ac:name=\"name\">short</ac:parameter></ac:structured-macro>")
        .await
        .unwrap()
        .html;
    assert!(
        html.contains("excerpt-include") && html.contains("<strong>gist</strong>"),
        "{html}"
    );
    assert!(!html.contains("before"), "{html}");
    assert!(
        failures.is_empty(),
        "{} of {n} cases failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

async fn rest(
    node: &TestNode,
    method: reqwest::Method,
    path: &str,
    user: &str,
) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", node.base))
        .basic_auth(user, Some(cairn_tests::password_of(user)))
        .header("X-Atlassian-Token", "no-check")
}

#[tokio::test]
async fn plugins_are_managed_over_rest_and_in_the_admin_ui() {
    use reqwest::multipart::{Form, Part};
    use reqwest::Method;
    // Only the plugin this test installs: the editor's macro list is its.
    let node = TestNode::start_bare().await;
    node.user("eve", false).await;
    let dir = hello_dir();
    let manifest = std::fs::read_to_string(dir.join("cairn-plugin.toml")).unwrap();
    let (_, bytes) = manifest_of(&dir);
    let form = |m: &str, b: &[u8]| {
        Form::new()
            .part(
                "manifest",
                Part::text(m.to_string()).file_name("cairn-plugin.toml"),
            )
            .part("component", Part::bytes(b.to_vec()).file_name("hello.wasm"))
    };

    // REST: bad component → 400 with a reason; non-admin → 403.
    let r = rest(&node, Method::POST, "/rest/cairn/1.0/plugins", "admin")
        .await
        .multipart(form(&manifest, b"not wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("not a WebAssembly file"),
        "{v}"
    );
    let r = rest(&node, Method::POST, "/rest/cairn/1.0/plugins", "eve")
        .await
        .multipart(form(&manifest, &bytes))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = rest(&node, Method::POST, "/rest/cairn/1.0/plugins", "admin")
        .await
        .multipart(form(&manifest, &bytes))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["outcome"]["action"], "installed");
    assert_eq!(v["plugin"]["state"], "enabled");

    let v: serde_json::Value = rest(&node, Method::GET, "/rest/cairn/1.0/macros", "eve")
        .await
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["results"][0]["name"], "hello", "{v}");
    assert_eq!(v["results"][0]["params"][0]["name"], "name");

    let r = rest(&node, Method::PUT, "/rest/cairn/1.0/plugins/com.example.hello", "admin")
        .await
        .json(&serde_json::json!({"enabled": false, "limits": {"timeoutMs": 250}, "config": {"greeting": "hi"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["enabled"], false);
    assert_eq!(v["limits"]["timeoutMs"], 250);
    assert_eq!(v["config"]["greeting"], "hi");
    let r = rest(
        &node,
        Method::PUT,
        "/rest/cairn/1.0/plugins/com.example.hello",
        "admin",
    )
    .await
    .json(&serde_json::json!({"limits": {"timeoutMs": 0}}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let r = rest(&node, Method::GET, "/rest/cairn/1.0/plugins/nope", "admin")
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Admin UI: the list, a failed upload keeps everything, enable again.
    let c = node.login("admin").await;
    let (s, html) = c.get_text("/admin/plugins").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("com.example.hello") && html.contains("disabled"),
        "{html}"
    );
    let r = c
        .http
        .post(c.url("/admin/plugins"))
        .multipart(
            form(&manifest.replace("1.0.0", "2.0.0"), &bytes[..100])
                .text("_csrf", c.csrf.clone())
                .text("grant", "log"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("Nothing was changed"), "{html}");
    let r = c
        .post("/admin/plugins/com.example.hello", &[("action", "enable")])
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Enabled."), "{html}");
    assert!(html.contains("250 ms"), "{html}");
    let r = c
        .post(
            "/admin/plugins/com.example.hello",
            &[("action", "limits"), ("timeout_ms", "soon")],
        )
        .await;
    assert_eq!(r.status(), 400);
    let html = page_html(&node, &call("hello")).await;
    assert!(html.contains("Hello, Ada!"), "{html}");
    let r = rest(
        &node,
        Method::DELETE,
        "/rest/cairn/1.0/plugins/com.example.hello",
        "admin",
    )
    .await
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn admin_extension_serves_pages_and_receives_events() {
    let node = TestNode::start().await;
    let plugins = node.state.plugins.clone();
    plugins
        .install_builtin(&cairn_tests::builtin_plugins())
        .await
        .unwrap();
    assert!(plugins
        .registry()
        .loaded
        .contains_key("cairn.content-report"));
    // Events start from the newest one when a plugin first subscribes.
    plugins.dispatch_events().await.unwrap();
    let c = node.login("admin").await;
    c.create_space("REP", "Reports").await;
    let top = c
        .create_page("REP", "Lonely Top Page", "<p>x</p>", None)
        .await;
    c.create_page("REP", "A Child", "<p>y</p>", Some(top)).await;
    let delivered = plugins.dispatch_events().await.unwrap();
    assert!(delivered >= 2, "{delivered}");
    let m = plugins.metrics("cairn.content-report");
    assert_eq!(
        m.failures.load(std::sync::atomic::Ordering::Relaxed),
        0,
        "{:?}",
        m.last_failure()
    );

    let (s, _, html) = c.follow("/admin/plugins/cairn.content-report/ext/").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("Orphaned pages"), "{html}");
    assert!(html.contains("Lonely Top Page"), "{html}");
    // Forms post back with the session's CSRF token; without it, refused.
    assert!(
        html.contains(&format!("name=\"_csrf\" value=\"{}\"", c.csrf)),
        "{html}"
    );
    let r = c
        .post("/admin/plugins/cairn.content-report/ext/scan", &[])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        cairn_tests::Client::location(&r),
        "/admin/plugins/cairn.content-report/ext/"
    );
    let r = c
        .http
        .post(c.url("/admin/plugins/cairn.content-report/ext/scan"))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Not for non-admins.
    let eve = node.user("eve", false).await;
    let _ = eve;
    let e = node.login("eve").await;
    let (s, _) = e.get_text("/admin/plugins/cairn.content-report/ext/").await;
    assert_eq!(s, 403);
}
/// The Python example (examples/hello-python, built with componentize-py)
/// installs with no capability and renders like the Rust one, escaping its
/// parameter. tests/run.sh provisions the componentize-py virtualenv
/// (CAIRN_CPY_VENV) and builds it first, so build.sh normally finds the
/// component up to date.
#[tokio::test]
async fn python_hello_plugin_renders_and_escapes() {
    let dir = cairn_tests::repo_root().join("examples/hello-python");
    let out = std::process::Command::new("bash")
        .arg(dir.join("build.sh"))
        .current_dir(&dir)
        .output()
        .expect("run examples/hello-python/build.sh");
    assert!(
        out.status.success(),
        "examples/hello-python/build.sh failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // A node of its own: the Rust hello plugin provides the same macro name,
    // so only the Python plugin may be installed here.
    let node = TestNode::start().await;
    let plugins = node.state.plugins.clone();
    let (m, bytes) = manifest_of(&dir);
    assert_eq!(m.id, "com.example.hello-python");
    assert!(m.capabilities.is_empty(), "{:?}", m.capabilities);
    let grant: [Capability; 0] = [];
    // Its manifest asks for more time and memory than the site defaults.
    let o = plugins
        .install_granting(&system_viewer(), m, bytes, &grant, true, false)
        .await
        .unwrap();
    assert_eq!(o.action, "installed");
    assert_eq!(o.macros, ["hello"]);
    assert!(plugins.registry().provides("hello"));

    let html = page_html(&node, &format!("<p>Before {} after</p>", call("hello"))).await;
    assert!(html.contains("Hello, Ada!"), "{html}");
    assert!(html.contains("class=\"hello\""), "{html}");
    assert!(!html.contains("macro-error"), "{html}");

    // A hostile value: the parameter's text is `<b>x</b>` (written escaped in
    // storage format, as an editor saves it); the plugin escapes it, so the
    // page shows the text and gets no <b> element.
    let hostile = "<ac:structured-macro ac:name=\"hello\"><ac:parameter ac:name=\"name\">&lt;b&gt;x&lt;/b&gt;</ac:parameter></ac:structured-macro>";
    let html = page_html(&node, &format!("<p>{hostile}</p>")).await;
    assert!(html.contains("Hello, &lt;b&gt;x&lt;/b&gt;!"), "{html}");
    assert!(!html.contains("<b>x</b>"), "{html}");
    assert!(!html.contains("macro-error"), "{html}");
}

#[tokio::test]
async fn the_cli_installs_lists_disables_and_removes_plugins() {
    let node = TestNode::start_bare().await;
    let dir = hostile_dir();
    let local = std::env::temp_dir().join(format!("cairn-cli-plugins-{}", std::process::id()));
    let run = |args: &[&str]| {
        let out = std::process::Command::new(crate::embedded::cairn_binary())
            .args(["plugin"])
            .args(args)
            .env("CAIRN_DATABASE_URL", &node.db.url)
            .env("CAIRN_SHARED_HOME", &node.shared_home)
            .env("CAIRN_LOCAL_HOME", &local)
            .env("CAIRN_LOG", "warn")
            .output()
            .expect("run cairn plugin");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let manifest = dir.join("cairn-plugin.toml");
    let manifest = manifest.to_str().unwrap();
    let (ok, _, err) = run(&["install", manifest]);
    assert!(!ok);
    assert!(err.contains("not granted: log"), "{err}");
    let (ok, _, err) = run(&["install", manifest, "--grant", "log,teleport"]);
    assert!(!ok);
    assert!(err.contains("unknown capability \"teleport\""), "{err}");
    let (ok, _, err) = run(&["install", manifest, "--grant", "log,content,kv"]);
    assert!(!ok);
    assert!(err.contains("--grant-limits"), "{err}");
    let (ok, out, err) = run(&[
        "install",
        manifest,
        "--grant",
        "log,content,kv",
        "--grant-limits",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("installed test.hostile 1.0.0"), "{out}");
    let (ok, out, _) = run(&["list"]);
    assert!(ok);
    assert!(out.contains("test.hostile\t1.0.0\tenabled"), "{out}");
    // The running node picks the change up by itself.
    let plugins = node.state.plugins.clone();
    plugins.reload(false).await.unwrap();
    assert!(plugins.registry().provides("hostile-trap"));
    let (ok, out, _) = run(&["disable", "test.hostile"]);
    assert!(ok && out.contains("disabled test.hostile"), "{out}");
    plugins.reload(false).await.unwrap();
    assert!(!plugins.registry().provides("hostile-trap"));
    let (ok, _, err) = run(&["remove", "no.such.plugin"]);
    assert!(
        !ok && err.contains("No plugin with id no.such.plugin"),
        "{err}"
    );
    let (ok, out, _) = run(&["remove", "test.hostile"]);
    assert!(ok && out.contains("removed test.hostile"), "{out}");
    let (_, out, _) = run(&["list"]);
    assert!(out.contains("no plugins installed"), "{out}");
    let _ = std::fs::remove_dir_all(&local);
}

/// The hostile plugin with everything it asks for granted (its manifest sets
/// a time limit above the site default, so the limits too).
async fn install_hostile(node: &TestNode) -> cairn::plugins::Plugins {
    let plugins = node.state.plugins.clone();
    let (m, bytes) = manifest_of(&hostile_dir());
    plugins
        .install_granting(
            &system_viewer(),
            m,
            bytes,
            &[Capability::Log, Capability::Content, Capability::Kv],
            true,
            false,
        )
        .await
        .unwrap();
    plugins
}

fn peek(q: &str) -> String {
    format!("<ac:structured-macro ac:name=\"hostile-peek\"><ac:parameter ac:name=\"q\">{q}</ac:parameter></ac:structured-macro>")
}

/// Restricts viewing of `page` to user `name`.
async fn restrict_to(admin: &cairn_tests::Client, page: i64, name: &str) {
    let r = admin.restrict(page, "read", "user", name).await;
    assert_eq!(r.status(), 200);
}

/// What a viewer gets for page `id` (status, html).
async fn try_view(c: &cairn_tests::Client, id: i64) -> (u16, String) {
    let (s, _, html) = c
        .follow(&format!("/pages/viewpage.action?pageId={id}"))
        .await;
    (s, html)
}

#[tokio::test]
async fn cacheable_macros_that_read_content_never_show_it_to_another_viewer() {
    let node = TestNode::start().await;
    install_hostile(&node).await;
    node.user("eve", false).await;
    let admin = node.login("admin").await;
    let eve = node.login("eve").await;
    admin.create_space("LEAK", "Leak").await;
    let parent = admin
        .create_page("LEAK", "Open Parent", "<p>open</p>", None)
        .await;
    let secret = admin
        .create_page(
            "LEAK",
            "Zebra Secret Title",
            "<p>zebra-body</p><ac:structured-macro ac:name=\"excerpt\"><ac:rich-text-body><p>zebra-excerpt</p></ac:rich-text-body></ac:structured-macro>",
            Some(parent),
        )
        .await;
    restrict_to(&admin, secret, "admin").await;
    let r = admin
        .post(
            &format!("/pages/{secret}/labels"),
            &[("labels", "zebra-label")],
        )
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
    crate::perms::upload(&admin, secret, "zebra-file.txt", b"zebra bytes").await;
    let markers = [
        "Zebra Secret Title",
        "zebra-body",
        "zebra-excerpt",
        "zebra-label",
        "zebra-file.txt",
    ];
    // Every function of the content capability, each on a page of its own.
    let calls = [
        format!("get:{secret}"),
        "find:LEAK:Zebra Secret Title".to_string(),
        format!("children:{parent}"),
        format!("attachments:{secret}"),
        format!("labels:{secret}"),
        "with-labels:zebra-label".to_string(),
        format!("render-page:{secret}"),
        format!("render-excerpt:{secret}"),
        "recent:LEAK".to_string(),
    ];
    for (i, q) in calls.iter().enumerate() {
        let id = admin
            .create_page("LEAK", &format!("Peek {i}"), &peek(q), None)
            .await;
        // The admin first (so a viewer-less cache would hold the secret) …
        for _ in 0..2 {
            let (s, html) = try_view(&admin, id).await;
            assert_eq!(s, 200);
            assert!(
                markers.iter().any(|m| html.contains(m)),
                "{q}: the admin should see the secret: {html}"
            );
        }
        // … then someone who may not read it, twice.
        for _ in 0..2 {
            let (s, html) = try_view(&eve, id).await;
            assert_eq!(s, 200);
            for m in markers {
                assert!(!html.contains(m), "{q}: {m} leaked to eve: {html}");
            }
        }
    }
}

#[tokio::test]
async fn list_macro_output_is_reused_until_what_it_lists_changes() {
    use std::sync::atomic::Ordering::Relaxed;
    let node = TestNode::start().await;
    node.user("eve", false).await;
    let admin = node.login("admin").await;
    let eve = node.login("eve").await;
    admin.create_space("LIST", "Lists").await;
    let parent = admin
        .create_page(
            "LIST",
            "List Parent",
            "<ac:structured-macro ac:name=\"children\"/>",
            None,
        )
        .await;
    admin
        .create_page("LIST", "Koala First Child", "<p>1</p>", Some(parent))
        .await;
    let m = node.state.plugins.metrics("cairn.content-macros");
    let (calls, hits) = (|| m.calls.load(Relaxed), || m.cache_hits.load(Relaxed));

    // The first view calls the plugin; views after it reuse its output.
    assert!(admin.view_page(parent).await.contains("Koala First Child"));
    let (called, hit) = (calls(), hits());
    for _ in 0..2 {
        assert!(admin.view_page(parent).await.contains("Koala First Child"));
    }
    assert_eq!(
        calls(),
        called,
        "a view with nothing changed calls no plugin"
    );
    assert_eq!(hits(), hit + 2);
    // Another viewer to whom the list reads the same gets it too.
    assert!(eve.view_page(parent).await.contains("Koala First Child"));
    assert_eq!(calls(), called);

    // A new child changes what the macro lists: the plugin renders again.
    let second = admin
        .create_page("LIST", "Koala Second Child", "<p>2</p>", Some(parent))
        .await;
    let html = admin.view_page(parent).await;
    assert!(html.contains("Koala Second Child"), "{html}");
    assert_eq!(calls(), called + 1);
    // So does a renamed child.
    let r = admin
        .post(
            &format!("/pages/{second}/edit"),
            &[
                ("title", "Koala Renamed Child"),
                ("body", "<p>2</p>"),
                ("format", "storage"),
                ("base_version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let html = admin.view_page(parent).await;
    assert!(html.contains("Koala Renamed Child"), "{html}");
    assert!(!html.contains("Koala Second Child"), "{html}");
    assert_eq!(calls(), called + 2);
    // A child eve may not read: her list differs from the admin's, so the
    // admin's output is not hers.
    restrict_to(&admin, second, "admin").await;
    assert!(admin
        .view_page(parent)
        .await
        .contains("Koala Renamed Child"));
    let html = eve.view_page(parent).await;
    assert!(html.contains("Koala First Child"), "{html}");
    assert!(!html.contains("Koala Renamed Child"), "{html}");
    let before = calls();
    let html = eve.view_page(parent).await;
    assert!(!html.contains("Koala Renamed Child"), "{html}");
    assert_eq!(calls(), before, "eve's own list is reused for her");
}

/// A deterministic generator for the property test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[tokio::test]
async fn nothing_a_macro_outputs_is_text_its_viewer_may_not_read() {
    let node = TestNode::start().await;
    install_hostile(&node).await;
    let users = ["ann", "bob"];
    for u in users {
        node.user(u, false).await;
    }
    let admin = node.login("admin").await;
    let mut clients = vec![("admin", node.login("admin").await)];
    for u in users {
        clients.push((u, node.login(u).await));
    }
    let mut rng = Rng(0x5eed_cafe_f00d_u64);
    for round in 0..3 {
        let key = format!("PROP{round}");
        admin.create_space(&key, "Property").await;
        // Random pages: random parents, random read restrictions (inherited
        // by children), each with words of its own.
        let mut pages: Vec<(i64, String, String)> = Vec::new();
        for i in 0..6 {
            let title = format!("Quokka{round}x{i}");
            let word = format!("wombat{round}x{i}");
            let parent = match rng.below(3) {
                0 if !pages.is_empty() => Some(pages[rng.below(pages.len())].0),
                _ => None,
            };
            let id = admin
                .create_page(
                    &key,
                    &title,
                    &format!("<p>{word}</p><ac:structured-macro ac:name=\"excerpt\"><ac:rich-text-body><p>{word}</p></ac:rich-text-body></ac:structured-macro>"),
                    parent,
                )
                .await;
            let r = admin
                .post(&format!("/pages/{id}/labels"), &[("labels", "prop")])
                .await;
            assert!(r.status().is_success() || r.status().is_redirection());
            match rng.below(3) {
                0 => restrict_to(&admin, id, users[rng.below(2)]).await,
                1 => restrict_to(&admin, id, "admin").await,
                _ => {}
            }
            pages.push((id, title, word));
        }
        // A page of random capability calls over those pages.
        let fns = [
            "get",
            "children",
            "attachments",
            "labels",
            "render-page",
            "render-excerpt",
        ];
        let mut body = String::new();
        for _ in 0..8 {
            let (id, title, _) = &pages[rng.below(pages.len())];
            let q = match rng.below(fns.len() + 3) {
                n if n < fns.len() => format!("{}:{id}", fns[n]),
                n if n == fns.len() => format!("find:{key}:{title}"),
                n if n == fns.len() + 1 => "with-labels:prop".to_string(),
                _ => format!("recent:{key}"),
            };
            body.push_str(&peek(&q));
        }
        let host = admin
            .create_page(&key, &format!("Host {round}"), &body, None)
            .await;
        // Viewers in a random order, each twice (the second from caches).
        let mut order: Vec<usize> = (0..clients.len()).chain(0..clients.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        for v in order {
            let (who, c) = &clients[v];
            let (s, html) = try_view(c, host).await;
            assert_eq!(s, 200, "{who}");
            for (id, title, word) in &pages {
                let (s, _) = try_view(c, *id).await;
                if s == 200 {
                    continue;
                }
                assert!(
                    !html.contains(title.as_str()) && !html.contains(word.as_str()),
                    "round {round}: {who} may not read page {id} ({title}) but the macros show it"
                );
            }
        }
    }
}

async fn status_of(node: &TestNode) -> String {
    let r = reqwest::get(format!("{}/status", node.base)).await.unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    v["state"].as_str().unwrap_or_default().to_string()
}

/// Views `hostile` 16 times at once; meanwhile a plain page answers and the
/// node stays RUNNING. Returns the hostile pages' HTML.
async fn view_concurrently_while_healthy(node: &TestNode, body: &str) -> Vec<String> {
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
