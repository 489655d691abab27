//! The first-party macros render storage format as the data-driven cases in
//! `plugins/cases/*.txt` say.

use super::*;

/// One data-driven case of `plugins/cases/*.txt`.
pub(super) struct Case {
    pub(super) name: String,
    pub(super) storage: String,
    pub(super) contains: Vec<String>,
    pub(super) excludes: Vec<String>,
}

pub(super) fn parse_cases(text: &str) -> Vec<Case> {
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
