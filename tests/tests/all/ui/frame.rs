//! The frame every screen shares: errors drawn in the viewer's own frame and
//! in words, forms sent by the UI's script answered as JSON naming the
//! field, and the tree kept open at the page on every screen of it.

use super::*;

/// askama escapes `'` as `&#39;`.
pub(super) fn apostrophes(html: &str) -> String {
    html.replace("&#39;", "'").replace("&#x27;", "'")
}

#[tokio::test]
async fn errors_keep_the_header_the_session_and_the_sidebar_and_say_what_went_wrong() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("ERR", "Errors Space").await;
    let id = c
        .create_page("ERR", "Home of errors", "<p>x</p>", None)
        .await;

    // A missing page: words, not internals; the space's sidebar; still signed in.
    let (s, html) = c.get_text("/spaces/ERR/pages/9999").await;
    let html = apostrophes(&html);
    assert_eq!(s, 404, "{html}");
    assert!(
        html.contains(
            "There is no page with id 9999, or you don&#x27;t have permission to see it."
        ) || html
            .contains("There is no page with id 9999, or you don't have permission to see it."),
        "{html}"
    );
    assert!(!html.contains("ContentId{"), "internals shown: {html}");
    assert!(
        html.contains("class=\"sidebar\"") && html.contains("Errors Space"),
        "no sidebar: {html}"
    );
    assert!(
        html.contains("href=\"/users/admin\"") && html.contains("/logout"),
        "the header lost the session: {html}"
    );
    assert!(
        !html.contains(">Log in<"),
        "offers Log in to a signed-in user: {html}"
    );

    // A refused form sent natively: the same frame, the page's sidebar, the message.
    let r = c
        .post(
            &format!("/pages/{id}/labels"),
            &[("labels", "fine bad!label")],
        )
        .await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("bad!label") && html.contains("contains a space or one of"),
        "{html}"
    );
    assert!(
        html.contains("class=\"sidebar\"") && html.contains("/logout"),
        "{html}"
    );
    assert!(!html.contains(">Log in<"), "{html}");
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            &format!("/rest/api/content/{id}/label"),
            None,
        )
        .await;
    assert_eq!(v["size"], 0, "a refused form wrote something: {v}");

    // The same form sent by the UI's script: JSON naming the field.
    let r = c
        .http
        .post(format!("{}/pages/{id}/labels", node.base))
        .header("X-Cairn-Form", "1")
        .form(&[("_csrf", c.csrf.as_str()), ("labels", "fine bad!label")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["field"], "labels", "{v}");
    assert!(v["message"].as_str().unwrap().contains("bad!label"), "{v}");
    // …and its success as a location the script follows.
    let r = c
        .http
        .post(format!("{}/pages/{id}/labels", node.base))
        .header("X-Cairn-Form", "1")
        .form(&[("_csrf", c.csrf.as_str()), ("labels", "fine")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let to = r.headers()["x-cairn-location"].to_str().unwrap().to_owned();
    assert!(to.contains(&format!("pageId={id}")), "{to}");

    // A missing space and an unknown page id outside a space: words, the header.
    let (s, html) = c.get_text("/spaces/NOPE").await;
    assert_eq!(s, 404);
    assert!(html.contains("There is no space with key NOPE"), "{html}");
    assert!(html.contains("/logout"), "{html}");

    // A screen the viewer may not use: said in words, in their own frame.
    node.user("bob", false).await;
    let bob = node.login("bob").await;
    let (s, html) = bob.get_text("/admin/users").await;
    let html = apostrophes(&html);
    assert_eq!(s, 403, "{html}");
    assert!(
        html.contains("You don&#x27;t have permission")
            || html.contains("You don't have permission"),
        "{html}"
    );
    assert!(
        html.contains("/logout") && !html.contains(">Log in<"),
        "{html}"
    );
}

#[tokio::test]
async fn every_screen_of_a_page_keeps_the_tree_open_at_it() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("TREE", "Tree").await;
    let parent = c.create_page("TREE", "Parent", "<p>p</p>", None).await;
    let child = c
        .create_page("TREE", "Child", "<p>c</p>", Some(parent))
        .await;
    for screen in [
        "history",
        "edit",
        "attachments",
        "restrictions",
        "move",
        "version/1",
    ] {
        let (s, html) = c.get_text(&format!("/pages/{child}/{screen}")).await;
        assert_eq!(s, 200, "{screen}: {html}");
        assert!(
            html.contains(&format!("data-current=\"{child}\"")),
            "{screen} does not mark the page in the tree"
        );
        let path = html
            .split("data-path=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("");
        assert!(
            path.split(',').any(|a| a == parent.to_string()),
            "{screen}: the tree does not open down to the page ({path:?})"
        );
    }
}

#[tokio::test]
async fn a_tree_move_needs_the_same_permissions_as_any_move() {
    let node = TestNode::start().await;
    let admin = node.login("admin").await;
    admin.create_space("TMV", "Tree moves").await;
    let a = admin.create_page("TMV", "Alpha", "<p>a</p>", None).await;
    let b = admin.create_page("TMV", "Bravo", "<p>b</p>", None).await;
    node.user("bob", false).await;
    // bob may read the space but not edit it.
    let r = admin
        .submit(
            "/spaces/TMV/permissions",
            &[
                ("kind", "group"),
                ("name", "cairn-users"),
                ("permission", "edit"),
                ("grant", "0"),
            ],
        )
        .await;
    assert!(r.status().is_success());
    let bob = node.login("bob").await;
    let html = bob.view_page(a).await;
    assert!(html.contains("class=\"page-tree\""));
    assert!(!html.contains("data-can-move"), "a reader gets no dragging");
    assert!(
        admin.view_page(a).await.contains("data-can-move"),
        "an editor does"
    );
    let r = bob
        .http
        .post(format!("{}/ui/tree/move", node.base))
        .header("X-Cairn-Form", "1")
        .form(&[
            ("_csrf", bob.csrf.as_str()),
            ("id", &b.to_string()),
            ("target", &a.to_string()),
            ("where", "inside"),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(status == 403 || status == 404, "{status} {v}");
    assert!(v["message"].as_str().is_some(), "{v}");
    // A page cannot go under itself.
    let r = admin
        .http
        .post(format!("{}/ui/tree/move", node.base))
        .header("X-Cairn-Form", "1")
        .form(&[
            ("_csrf", admin.csrf.as_str()),
            ("id", &a.to_string()),
            ("target", &a.to_string()),
            ("where", "inside"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn people_have_pictures_initials_until_they_upload_one() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    // Initials first, in the header and on the profile.
    let html = c.get_text("/users/admin").await.1;
    assert!(html.contains("src=\"/users/admin/avatar\""), "{html}");
    let r = c.get("/users/admin/avatar").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(
        r.text().await.unwrap().contains(">AE</text>"),
        "admin Example's initials"
    );
    // Upload a PNG: it is served instead.
    let png = one_pixel_png();
    let upload = |bytes: Vec<u8>, name: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("_csrf", c.csrf.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
        c.http
            .post(format!("{}/profile/avatar", node.base))
            .multipart(form)
            .send()
    };
    let r = upload(png.clone(), "me.png").await.unwrap();
    assert_eq!(r.status(), 303);
    let r = c.get("/users/admin/avatar").await;
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    // Anything that is not a picture is refused, whatever its name says.
    let r = upload(b"<svg onload=alert(1)></svg>".to_vec(), "evil.png")
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("PNG, JPEG, GIF or WebP"));
    assert_eq!(
        c.get("/users/admin/avatar").await.headers()["content-type"],
        "image/png",
        "the refused upload changed nothing"
    );
    // Back to initials.
    let form = reqwest::multipart::Form::new()
        .text("_csrf", c.csrf.clone())
        .text("remove", "1");
    let r = c
        .http
        .post(format!("{}/profile/avatar", node.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        c.get("/users/admin/avatar").await.headers()["content-type"],
        "image/svg+xml"
    );
}

fn one_pixel_png() -> Vec<u8> {
    // A 1×1 PNG.
    vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0xDA, 0x63, 0x64,
        0xF8, 0xCF, 0x50, 0x0F, 0x00, 0x03, 0x86, 0x01, 0x80, 0x5A, 0x34, 0x7D, 0x6B, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ]
}
