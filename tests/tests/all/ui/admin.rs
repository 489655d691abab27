//! The administration: the last administrator is kept, permissions are a
//! grid saved all at once, users are found and edited.

use super::*;

pub(super) async fn is_admin(c: &cairn_tests::Client) -> bool {
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
        .submit(
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
        .submit(
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
        .submit(
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
        .submit(
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

/// The grid's form as the page shows it: every row and every ticked cell.
pub(super) fn grid_form(html: &str) -> Vec<(String, String)> {
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

pub(super) async fn global_perms_of(node: &TestNode, user: &str) -> Vec<String> {
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
    let r = admin.submit("/admin/permissions", &fields).await;
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
        .submit("/admin/permissions", &fields)
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
        .submit("/admin/permissions", &fields)
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
        .submit("/spaces/GRID/permissions", &fields)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Saved 2 changes."), "{html}");
    let bob = node.login("bob").await;
    assert_eq!(
        bob.get_text("/spaces/GRID/create").await.0,
        200,
        "bob may edit in GRID now"
    );
}

#[tokio::test]
async fn admins_find_users_and_edit_their_name_email_password_and_groups() {
    let node = TestNode::start().await;
    let admin = node.login("admin").await;
    let carol = node.user("carol", false).await;
    node.user("dave", false).await;
    // Creating a user lands on the new user in the list; a refused one
    // names the field, and nothing is created.
    let r = admin
        .post(
            "/admin/users",
            &[
                ("username", "erin"),
                ("display_name", "Erin Example"),
                ("password", "erin-password-1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/users?q=erin");
    let r = admin
        .http
        .post(format!("{}/admin/users", node.base))
        .header("X-Cairn-Form", "1")
        .form(&[
            ("_csrf", admin.csrf.as_str()),
            ("username", "erin"),
            ("display_name", "Erin Again"),
            ("password", "erin-password-2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16() / 100, 4);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["field"], "username", "{v}");
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
        .submit(
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
        .submit(
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
        html.contains("A full name needs 1 to 255 characters"),
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
