//! The layout and media macros (`cairn.page-macros`) against a real node:
//! galleries and file views of real attachments, blog posts as the viewer
//! may see them.

use super::*;

/// The smallest valid PNG (1×1, transparent).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

async fn upload(c: &cairn_tests::Client, page: i64, name: &str, bytes: &[u8]) {
    let form = reqwest::multipart::Form::new()
        .text("_csrf", c.csrf.clone())
        .text("comment", "")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()),
        );
    let r = c
        .http
        .post(c.url(&format!("/pages/{page}/attachments")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{name}: {}",
        r.status()
    );
}

async fn set_body(node: &TestNode, id: i64, body: &str) {
    let (_, cur) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            &format!("/rest/api/content/{id}?expand=version"),
            None,
        )
        .await;
    let n = cur["version"]["number"].as_i64().unwrap();
    let (s, v) = node
        .rest(
            "admin",
            reqwest::Method::PUT,
            &format!("/rest/api/content/{id}"),
            Some(
                serde_json::json!({"type": cur["type"], "title": cur["title"],
                "body": {"storage": {"value": body, "representation": "storage"}},
                "version": {"number": n + 1}}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn galleries_files_media_and_blog_posts_render_what_the_viewer_may_see() {
    let node = TestNode::start().await;
    node.state
        .plugins
        .install_builtin(&cairn_tests::builtin_plugins())
        .await
        .unwrap();
    let reg = node.state.plugins.registry();
    for m in [
        "section",
        "column",
        "gallery",
        "view-file",
        "viewpdf",
        "viewdoc",
        "viewxls",
        "viewppt",
        "widget",
        "multimedia",
        "livesearch",
        "blog-posts",
    ] {
        assert!(reg.provides(m), "no plugin provides {m}");
    }
    node.user("bob", false).await;
    let admin = node.login("admin").await;
    admin.create_space("MED", "Media").await;
    let p = admin.create_page("MED", "Photos", "<p>x</p>", None).await;
    upload(&admin, p, "b-sunset.png", PNG).await;
    upload(&admin, p, "a-dawn.png", PNG).await;
    upload(&admin, p, "notes.pdf", b"%PDF-1.4\n%%EOF\n").await;
    upload(&admin, p, "clip.mp4", b"\0\0\0\x18ftypmp42").await;
    set_body(
        &node,
        p,
        "<ac:structured-macro ac:name=\"gallery\"><ac:parameter ac:name=\"title\">Trip</ac:parameter><ac:parameter ac:name=\"columns\">2</ac:parameter></ac:structured-macro>\
         <ac:structured-macro ac:name=\"view-file\"><ac:parameter ac:name=\"name\"><ri:attachment ri:filename=\"notes.pdf\" /></ac:parameter><ac:parameter ac:name=\"height\">250</ac:parameter></ac:structured-macro>\
         <ac:structured-macro ac:name=\"multimedia\"><ac:parameter ac:name=\"name\"><ri:attachment ri:filename=\"clip.mp4\" /></ac:parameter></ac:structured-macro>\
         <ac:structured-macro ac:name=\"viewpdf\"><ac:parameter ac:name=\"name\"><ri:attachment ri:filename=\"missing.pdf\" /></ac:parameter></ac:structured-macro>",
    )
    .await;
    let html = admin.view_page(p).await;
    let gallery = html
        .split("gallery-grid gallery-cols-2")
        .nth(1)
        .expect(&html);
    let dawn = gallery.find("a-dawn.png").expect("dawn");
    let sunset = gallery.find("b-sunset.png").expect("sunset");
    assert!(dawn < sunset, "sorted by name");
    assert_eq!(
        gallery.matches("class=\"gallery-item\"").count(),
        2,
        "only the images: {gallery}"
    );
    assert!(html.contains("<strong>Trip</strong>"));
    assert!(
        html.contains("<strong>notes.pdf</strong></a> <span class=\"meta\">PDF document · 15 B"),
        "{html}"
    );
    assert!(
        html.contains("Video · 12 B · <a href=\"/download/attachments/"),
        "{html}"
    );
    assert!(html.contains(">Play</a>"), "{html}");
    assert!(html.contains("no attachment \"missing.pdf\""), "{html}");

    // Blog posts: the restricted one is not shown to bob.
    for (title, body) in [
        ("Launch day", "<p>We launched.</p>"),
        ("Pay rises", "<p>secret numbers</p>"),
    ] {
        let (s, v) = node
            .rest(
                "admin",
                reqwest::Method::POST,
                "/rest/api/content",
                Some(
                    serde_json::json!({"type": "blogpost", "title": title, "space": {"key": "MED"},
                    "body": {"storage": {"value": body, "representation": "storage"}}}),
                ),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        if title == "Pay rises" {
            let id: i64 = v["id"].as_str().unwrap().parse().unwrap();
            admin.restrict(id, "read", "user", "admin").await;
        }
    }
    let news = admin
        .create_page(
            "MED",
            "News",
            "<ac:structured-macro ac:name=\"blog-posts\"><ac:parameter ac:name=\"max\">5</ac:parameter></ac:structured-macro>",
            None,
        )
        .await;
    let html = admin.view_page(news).await;
    assert!(
        html.contains("We launched.") && html.contains("secret numbers"),
        "{html}"
    );
    let bob = node.login("bob").await;
    let html = bob.view_page(news).await;
    assert!(
        html.contains("Launch day") && html.contains("We launched."),
        "{html}"
    );
    assert!(
        !html.contains("Pay rises") && !html.contains("secret numbers"),
        "{html}"
    );
}

#[tokio::test]
async fn a_page_properties_report_collects_the_properties_of_pages_the_viewer_may_see() {
    let node = TestNode::start().await;
    node.state
        .plugins
        .install_builtin(&cairn_tests::builtin_plugins())
        .await
        .unwrap();
    node.user("bob", false).await;
    let admin = node.login("admin").await;
    admin.create_space("DEC", "Decisions").await;
    let props = |status: &str, owner: &str| {
        format!(
            "<ac:structured-macro ac:name=\"details\"><ac:rich-text-body><table><tbody>\
             <tr><th>Status</th><td><ac:structured-macro ac:name=\"status\"><ac:parameter ac:name=\"title\">{status}</ac:parameter></ac:structured-macro></td></tr>\
             <tr><th>Owner</th><td>{owner}</td></tr></tbody></table></ac:rich-text-body></ac:structured-macro><p>Background</p>"
        )
    };
    let mut ids = Vec::new();
    for (title, status, owner) in [
        ("Use Postgres", "Decided", "Ann"),
        ("Drop IE11", "In progress", "Bob"),
        ("Acquire Initech", "Secret", "CFO"),
    ] {
        let id = admin
            .create_page("DEC", title, &props(status, owner), None)
            .await;
        admin
            .post(&format!("/pages/{id}/labels"), &[("labels", "decisions")])
            .await;
        ids.push(id);
    }
    admin.restrict(ids[2], "read", "user", "admin").await;
    let report = admin
        .create_page(
            "DEC",
            "Decision log",
            "<ac:structured-macro ac:name=\"detailssummary\"><ac:parameter ac:name=\"cql\">label = \"decisions\" and space = currentSpace()</ac:parameter><ac:parameter ac:name=\"firstcolumn\">Decision</ac:parameter><ac:parameter ac:name=\"sortBy\">title</ac:parameter></ac:structured-macro>",
            None,
        )
        .await;
    let html = admin.view_page(report).await;
    let table = html.split("details-summary").nth(1).expect(&html);
    assert!(
        table.contains("<th>Decision</th><th>Status</th><th>Owner</th>"),
        "{table}"
    );
    let order: Vec<usize> = ["Acquire Initech", "Drop IE11", "Use Postgres"]
        .iter()
        .map(|t| table.find(t).unwrap_or_else(|| panic!("{t}: {table}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "by title");
    assert!(
        table.contains("<td>In progress</td><td>Bob</td>"),
        "{table}"
    );
    let html = node.login("bob").await.view_page(report).await;
    assert!(
        html.contains("Use Postgres") && html.contains("Drop IE11"),
        "{html}"
    );
    assert!(
        !html.contains("Acquire Initech") && !html.contains("CFO"),
        "{html}"
    );
}
