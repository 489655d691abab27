//! The first-party plugins embedded in the `cairn` binary: installed or
//! upgraded when a node starts, the standard macros' only home, and an
//! administrator's choices (disabling one, installing a newer copy) kept
//! across restarts.

use cairn::plugins::embedded::embedded;
use cairn::plugins::{system_viewer, Capability, Manifest};
use cairn_tests::TestNode;

const CODE: &str = "<ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">rust</ac:parameter><ac:plain-text-body><![CDATA[fn main() {}]]></ac:plain-text-body></ac:structured-macro>";

fn embedded_manifest(id: &str) -> (Manifest, Vec<u8>) {
    let p = embedded()
        .iter()
        .find(|p| Manifest::parse(p.manifest).unwrap().id == id)
        .unwrap_or_else(|| panic!("{id} is embedded"));
    (Manifest::parse(p.manifest).unwrap(), p.component.to_vec())
}

async fn row(node: &TestNode, id: &str) -> (String, bool, bool) {
    let r = node
        .sql()
        .await
        .query_one(
            "SELECT version, builtin, enabled FROM plugins WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1), r.get(2))
}

#[tokio::test]
async fn a_fresh_node_renders_the_standard_macros_through_its_embedded_plugins() {
    let node = TestNode::start().await;
    let reg = node.state.plugins.registry();
    assert!(reg.failed.is_empty(), "{:?}", reg.failed);
    for m in [
        "code",
        "noformat",
        "info",
        "note",
        "warning",
        "tip",
        "panel",
        "expand",
        "status",
        "anchor",
        "excerpt",
        "toc",
        "children",
        "pagetree",
        "contentbylabel",
        "recently-updated",
        "attachments",
        "include",
        "excerpt-include",
    ] {
        assert!(reg.provides(m), "{m} is provided by a first-party plugin");
    }
    for p in embedded() {
        let id = Manifest::parse(p.manifest).unwrap().id;
        let (_, builtin, enabled) = row(&node, &id).await;
        assert!(builtin && enabled, "{id} is installed as first-party");
    }
    let c = node.login("admin").await;
    c.create_space("FP", "First party").await;
    let id = c.create_page("FP", "Code", CODE, None).await;
    let html = c.view_page(id).await;
    // Highlighted: the code plugin answered, not a plain native copy.
    assert!(
        html.contains("<pre><code class=\"language-rust\"><span class=\"tok-kw\">fn</span>"),
        "{html}"
    );
    // Starting again (a restart) changes nothing.
    let again = node.state.plugins.install_embedded().await;
    assert!(again.iter().all(|o| o.action == "unchanged"), "{again:?}");
}

#[tokio::test]
async fn a_disabled_first_party_plugin_stays_disabled_after_a_restart() {
    let node = TestNode::start().await;
    let plugins = node.state.plugins.clone();
    let admin = system_viewer();
    plugins
        .set_enabled(&admin, "cairn.code", false)
        .await
        .unwrap();
    let c = node.login("admin").await;
    c.create_space("FPD", "Disabled").await;
    let id = c.create_page("FPD", "Code", CODE, None).await;
    let html = c.view_page(id).await;
    assert!(html.contains("macro-unavailable"), "{html}");
    // A node starting installs the embedded plugins again.
    let outcomes = plugins.install_embedded().await;
    assert!(
        outcomes.iter().any(|o| o.id == "cairn.code"),
        "{outcomes:?}"
    );
    assert!(!row(&node, "cairn.code").await.2, "still disabled");
    assert!(!plugins.registry().provides("code"));
    let html = c.view_page(id).await;
    assert!(html.contains("macro-unavailable"), "{html}");
    assert!(!html.contains("tok-kw"), "{html}");
}

#[tokio::test]
async fn an_administrators_copy_of_the_same_or_a_newer_version_is_kept_an_older_one_upgraded() {
    let node = TestNode::start_bare().await;
    let plugins = node.state.plugins.clone();
    let admin = system_viewer();
    // Newer than the embedded copy: kept, not downgraded.
    let (mut toc, toc_bytes) = embedded_manifest("cairn.toc");
    let embedded_version = toc.version.clone();
    toc.version = "99.0.0".into();
    plugins
        .install(&admin, toc, toc_bytes, &[], false)
        .await
        .unwrap();
    // The same version, installed by an administrator: kept.
    let (panels, panels_bytes) = embedded_manifest("cairn.panels");
    let panels_version = panels.version.clone();
    plugins
        .install(&admin, panels, panels_bytes, &[], false)
        .await
        .unwrap();
    // Older than the embedded copy: upgraded.
    let (mut code, code_bytes) = embedded_manifest("cairn.code");
    let code_version = code.version.clone();
    code.version = "0.0.1".into();
    plugins
        .install(&admin, code, code_bytes, &[], false)
        .await
        .unwrap();

    let outcomes = plugins.install_embedded().await;
    let action = |id: &str| {
        outcomes
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.action)
            .unwrap_or("missing")
    };
    assert_eq!(action("cairn.toc"), "kept", "{outcomes:?}");
    assert_eq!(action("cairn.panels"), "kept", "{outcomes:?}");
    assert_eq!(action("cairn.code"), "upgraded", "{outcomes:?}");
    assert_eq!(action("cairn.include"), "installed", "{outcomes:?}");
    assert_eq!(
        row(&node, "cairn.toc").await,
        ("99.0.0".to_string(), false, true)
    );
    assert_ne!(embedded_version, "99.0.0");
    assert_eq!(
        row(&node, "cairn.panels").await,
        (panels_version, false, true)
    );
    assert_eq!(row(&node, "cairn.code").await, (code_version, true, true));
    // A first-party copy of a newer version (a node of a newer release
    // installed it) is not downgraded by an older node either.
    let (mut include, include_bytes) = embedded_manifest("cairn.include");
    include.version = "50.0.0".into();
    plugins
        .install(
            &admin,
            include,
            include_bytes,
            &[Capability::parse("content").unwrap()],
            true,
        )
        .await
        .unwrap();
    let again = plugins.install_embedded().await;
    assert!(
        again
            .iter()
            .any(|o| o.id == "cairn.include" && o.action == "kept"),
        "{again:?}"
    );
    assert_eq!(row(&node, "cairn.include").await.0, "50.0.0");
}
