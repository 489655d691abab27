//! A plugin's life: install, upgrade, disable and remove take effect without
//! a restart, from the admin UI, REST and the CLI; installation validates
//! everything and changes nothing on error; admin extensions serve pages and
//! receive events; a guest in another language works the same.

use super::*;

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

pub(super) async fn rest(
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
        .submit("/admin/plugins/com.example.hello", &[("action", "enable")])
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
