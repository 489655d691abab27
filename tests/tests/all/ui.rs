//! The web UI's behaviour without a browser: errors drawn in the viewer's own
//! frame, in words, and forms sent by the UI's script answered as JSON with
//! the field the error is about (the browser side is in `browser`).

use cairn_tests::TestNode;
use serde_json::Value;

/// askama escapes `'` as `&#39;`.
fn apostrophes(html: &str) -> String {
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

async fn is_admin(c: &cairn_tests::Client) -> bool {
    c.get_text("/admin/users").await.0 == 200
}

#[tokio::test]
async fn the_last_administrator_cannot_be_removed_deactivated_or_revoked() {
    let node = TestNode::start().await;
    let admin = node.login("admin").await;
    let refused = "would leave no active administrator";
    // The administration marks the screen you are on.
    let (_, html) = admin.get_text("/admin/groups").await;
    assert_eq!(html.matches("aria-current=\"page\"").count(), 1, "{html}");
    assert!(html.contains("<a href=\"/admin/groups\" aria-current=\"page\">Groups</a>"));

    // The only administrator cannot leave the administrators group.
    let r = admin
        .post(
            "/admin/groups",
            &[
                ("action", "remove"),
                ("group", "cairn-administrators"),
                ("username", "admin"),
            ],
        )
        .await;
    assert!(r.text().await.unwrap().contains(refused));
    assert!(is_admin(&admin).await, "admin lost the administration");

    // With a second administrator, each step that leaves one is allowed.
    node.user("bob", false).await;
    let r = admin
        .post(
            "/admin/permissions",
            &[
                ("grant", "1"),
                ("kind", "user"),
                ("name", "bob"),
                ("permission", "admin"),
            ],
        )
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
    let bob_id: i64 = node
        .sql()
        .await
        .query_one("SELECT id FROM users WHERE username = 'bob'", &[])
        .await
        .unwrap()
        .get(0);
    let r = admin
        .post(&format!("/admin/users/{bob_id}/active"), &[])
        .await;
    assert_eq!(r.status(), 303, "deactivating one of two administrators");
    let r = admin
        .post(
            &format!("/admin/users/{bob_id}/active"),
            &[("active", "on")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let bob = node.login("bob").await;
    assert!(is_admin(&bob).await);
    let r = bob
        .post(
            "/admin/groups",
            &[
                ("action", "remove"),
                ("group", "cairn-administrators"),
                ("username", "admin"),
            ],
        )
        .await;
    assert!(!r.text().await.unwrap().contains(refused));
    assert!(!is_admin(&admin).await, "admin left the group");

    // Now bob is the last: revoking his own grant is refused, and so is
    // deactivating him.
    let r = bob
        .post(
            "/admin/permissions",
            &[("kind", "user"), ("name", "bob"), ("permission", "admin")],
        )
        .await;
    assert!(r.text().await.unwrap().contains(refused));
    assert!(is_admin(&bob).await, "bob lost the administration");
    let db = node.sql().await;
    let mut pooled = node.pool.get().await.unwrap();
    let e = cairn::users::set_active(&mut pooled, bob_id, false)
        .await
        .unwrap_err();
    assert!(e.to_string().contains(refused), "{e}");
    let active: bool = db
        .query_one("SELECT active FROM users WHERE id = $1", &[&bob_id])
        .await
        .unwrap()
        .get(0);
    assert!(active, "the refused deactivation was written");
}

#[tokio::test]
async fn versions_compare_as_rendered_pages_with_words_and_blocks_marked() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("DIFF", "Diffs").await;
    let code = "<ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[let answer = 42;]]></ac:plain-text-body></ac:structured-macro>";
    let tail = "<p>kept one</p><p>kept two</p><p>kept three</p><p>kept four</p>";
    let v1 = format!(
        "<h2>Plan</h2><p>the quick brown fox</p><table><tbody><tr><td>cell 1</td></tr></tbody></table>{code}{tail}"
    );
    let v2 = format!(
        "<h2>Plan</h2><p>the slow brown fox jumps</p><table><tbody><tr><td>cell 2</td></tr></tbody></table><p>a new paragraph</p>{tail}"
    );
    let id = c.create_page("DIFF", "Compared", &v1, None).await;
    let (s, v) = node
        .rest(
            "admin",
            reqwest::Method::PUT,
            &format!("/rest/api/content/{id}"),
            Some(
                serde_json::json!({"version": {"number": 2}, "title": "Compared", "type": "page",
                "body": {"storage": {"value": v2, "representation": "storage"}}}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let diff_of = |html: &str| -> String {
        let start = html.find("id=\"diff\"").expect("the diff");
        html[start..].to_owned()
    };

    // Rendered (the default): words marked in the page, no storage markup.
    let (s, html) = c.get_text(&format!("/pages/{id}/diff?from=1&to=2")).await;
    assert_eq!(s, 200);
    let d = diff_of(&html);
    assert!(d.contains("<del class=\"diff-word\">quick</del>"), "{d}");
    assert!(d.contains("<ins class=\"diff-word\">slow</ins>"), "{d}");
    assert!(d.contains("<ins class=\"diff-word\">jumps</ins>"), "{d}");
    assert!(
        !d.contains("ac:structured-macro") && !d.contains("&lt;p&gt;"),
        "storage markup shown: {d}"
    );
    // The table is compared as a block: removed and added whole.
    let removed = d.matches("diff-block diff-removed").count();
    let added = d.matches("diff-block diff-added").count();
    assert_eq!(
        (removed, added),
        (2, 2),
        "table out and in, the code macro out, a paragraph in: {d}"
    );
    assert!(d.contains("cell 1") && d.contains("cell 2"));
    // The removed macro is shown as it rendered (highlighted code), not as XML.
    assert!(d.contains("code-block") && d.contains("answer"), "{d}");
    assert!(d.contains("a new paragraph"));

    // Side by side: only changed blocks with one block of context.
    let (s, html) = c
        .get_text(&format!("/pages/{id}/diff?from=1&to=2&mode=side"))
        .await;
    assert_eq!(s, 200);
    let d = diff_of(&html);
    assert!(d.contains("kept one"), "context after the last change: {d}");
    assert!(
        !d.contains("kept three"),
        "unchanged blocks far from a change are left out: {d}"
    );
    assert!(d.contains("3 unchanged blocks"), "{d}");

    // The source diff is one click away.
    assert!(html.contains("mode=source\""));
    let (s, html) = c
        .get_text(&format!("/pages/{id}/diff?from=1&to=2&mode=source"))
        .await;
    assert_eq!(s, 200);
    assert!(
        diff_of(&html).contains("ac:structured-macro"),
        "the source diff shows the XML"
    );
}

/// The grid's form as the page shows it: every row and every ticked cell.
fn grid_form(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for tag in html.split('<').filter(|t| t.starts_with("input ")) {
        let attr = |name: &str| {
            tag.split(&format!("{name}=\""))
                .nth(1)
                .and_then(|r| r.split('"').next())
                .map(str::to_owned)
        };
        match attr("name").as_deref() {
            Some("row") => out.push(("row".into(), attr("value").unwrap())),
            Some("cell") if tag.contains(" checked") => {
                out.push(("cell".into(), attr("value").unwrap()))
            }
            _ => {}
        }
    }
    out
}

async fn global_perms_of(node: &TestNode, user: &str) -> Vec<String> {
    let rows = node
        .sql()
        .await
        .query(
            "SELECT gp.permission FROM global_permissions gp JOIN users u ON u.id = gp.user_id
             WHERE u.username = $1 ORDER BY 1",
            &[&user],
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

#[tokio::test]
async fn permissions_are_a_grid_saved_all_at_once() {
    let node = TestNode::start().await;
    let admin = node.login("admin").await;
    node.user("bob", false).await;
    let (s, html) = admin.get_text("/admin/permissions").await;
    assert_eq!(s, 200);
    assert!(html.contains("id=\"perm-grid\"") && html.contains("Administer the site"));
    let shown = grid_form(&html);
    assert!(shown
        .iter()
        .any(|(k, v)| k == "row" && v == "group:cairn-administrators"));

    // A new row with two ticks, saved with everything else as it was.
    let mut form = shown.clone();
    form.extend(
        [
            ("action", "grid"),
            ("new_kind", "user"),
            ("new_name", "bob"),
            ("new_cell", "use"),
            ("new_cell", "create_space"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = admin.post("/admin/permissions", &fields).await;
    let html = r.text().await.unwrap();
    assert!(html.contains("Saved 2 changes."), "{html}");
    assert_eq!(global_perms_of(&node, "bob").await, ["create_space", "use"]);

    // Unticking revokes; the row is now part of the grid.
    let shown = grid_form(&html);
    let bob_row = shown
        .iter()
        .filter(|(k, _)| k == "row")
        .position(|(_, v)| v == "user:bob")
        .expect("bob's row");
    let mut form: Vec<(String, String)> = shown
        .into_iter()
        .filter(|(k, v)| !(k == "cell" && *v == format!("{bob_row}:create_space")))
        .collect();
    form.push(("action".into(), "grid".into()));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let html = admin
        .post("/admin/permissions", &fields)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Saved 1 change."), "{html}");
    assert_eq!(global_perms_of(&node, "bob").await, ["use"]);

    // A save with a refused cell changes nothing at all.
    let shown = grid_form(&html);
    let admins_row = shown
        .iter()
        .filter(|(k, _)| k == "row")
        .position(|(_, v)| v == "group:cairn-administrators")
        .unwrap();
    let mut form: Vec<(String, String)> = shown
        .into_iter()
        .filter(|(k, v)| !(k == "cell" && *v == format!("{admins_row}:admin")))
        .collect();
    form.push(("cell".into(), format!("{bob_row}:create_space")));
    form.push(("action".into(), "grid".into()));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let html = admin
        .post("/admin/permissions", &fields)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("keeps the admin permission"), "{html}");
    assert_eq!(
        global_perms_of(&node, "bob").await,
        ["use"],
        "a refused save wrote"
    );

    // A space's permissions are the same grid.
    admin.create_space("GRID", "Grid space").await;
    let (_, html) = admin.get_text("/spaces/GRID/settings").await;
    assert!(html.contains("id=\"perm-grid\""), "{html}");
    let mut form = grid_form(&html);
    form.extend(
        [
            ("action", "grid"),
            ("new_kind", "user"),
            ("new_name", "bob"),
            ("new_cell", "view"),
            ("new_cell", "edit"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let html = admin
        .post("/spaces/GRID/permissions", &fields)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Saved 2 permission changes."), "{html}");
    let bob = node.login("bob").await;
    assert_eq!(
        bob.get_text("/spaces/GRID/create").await.0,
        200,
        "bob may edit in GRID now"
    );
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
        .post(
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
async fn admins_find_users_and_edit_their_name_email_password_and_groups() {
    let node = TestNode::start().await;
    let admin = node.login("admin").await;
    let carol = node.user("carol", false).await;
    node.user("dave", false).await;
    let (s, html) = admin.get_text("/admin/users?q=CAR").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("/users/carol") && !html.contains("/users/dave"),
        "{html}"
    );
    assert!(html.contains("1 user</p>"), "{html}");

    let (s, html) = admin
        .get_text(&format!("/admin/users/{}/edit", carol.id))
        .await;
    assert_eq!(s, 200);
    assert!(html.contains("value=\"cairn-users\" checked"), "{html}");
    let r = admin
        .post(
            &format!("/admin/users/{}/edit", carol.id),
            &[
                ("display_name", "Carol Newname"),
                ("email", "carol@new.example"),
                ("password", "a-brand-new-password"),
                ("group", "cairn-users"),
                ("group", "cairn-administrators"),
            ],
        )
        .await;
    let html = r.text().await.unwrap();
    assert!(html.contains("Saved."), "{html}");
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            "/rest/api/user?username=carol",
            None,
        )
        .await;
    assert_eq!(v["displayName"], "Carol Newname", "{v}");
    // The new password works, and carol is an administrator now.
    let r = reqwest::Client::new()
        .get(format!("{}/rest/api/user/current", node.base))
        .basic_auth("carol", Some("a-brand-new-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Bad input is refused with words and changes nothing.
    let html = admin
        .post(
            &format!("/admin/users/{}/edit", carol.id),
            &[
                ("display_name", ""),
                ("email", "x"),
                ("group", "no-such-group"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("a full name needs 1 to 255 characters"),
        "{html}"
    );
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            "/rest/api/user?username=carol",
            None,
        )
        .await;
    assert_eq!(v["displayName"], "Carol Newname");
}

#[tokio::test]
async fn emoticons_are_bundled_images_with_their_character_as_text() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("EMO", "Emoticons").await;
    let id = c
        .create_page(
            "EMO",
            "Faces",
            "<p>ok <ac:emoticon ac:name=\"smile\"/> and <ac:emoticon ac:name=\"no-such-face\"/></p>",
            None,
        )
        .await;
    let html = c.view_page(id).await;
    assert!(
        html.contains(
            "<img class=\"emoticon emoticon-smile\" src=\"/assets/emoticons/smile.svg\" alt=\"🙂\""
        ),
        "{html}"
    );
    assert!(
        html.contains(":no-such-face:"),
        "an unknown name stays text"
    );
    for name in ["smile", "broken-heart", "blue-star", "information"] {
        let r = c.get(&format!("/assets/emoticons/{name}.svg")).await;
        assert_eq!(r.status(), 200, "{name}");
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
        assert!(r.text().await.unwrap().starts_with("<svg"));
    }
    assert_eq!(c.get("/assets/emoticons/nope.svg").await.status(), 404);
}
