//! Forms that keep the user on their screen: a refusal names the field it
//! is about (for `app.js`, which shows it there and keeps what was typed),
//! and a form that worked goes back to its screen, which says so.

use super::*;
use cairn_tests::Client;

/// A form's fields.
type Fields<'a> = Vec<(&'a str, &'a str)>;

/// A node with a space, a page, bob, the first-party plugins, and the
/// admin's client.
async fn scene() -> (TestNode, Client, i64) {
    let node = TestNode::start().await;
    node.state
        .plugins
        .install_builtin(&cairn_tests::builtin_plugins())
        .await
        .unwrap();
    node.user("bob", false).await;
    let c = node.login("admin").await;
    c.create_space("FRM", "Forms").await;
    let page = c.create_page("FRM", "Form Page", "<p>x</p>", None).await;
    (node, c, page)
}

#[tokio::test]
async fn every_refused_form_names_its_field_and_changes_nothing() {
    let (node, c, page) = scene().await;
    let restrictions = format!("/pages/{page}/restrictions");
    let long = "g".repeat(101);
    let password = cairn_tests::password_of("admin");
    let cases: Vec<(&str, Fields, &str, &str)> = vec![
        (
            "/admin/groups",
            vec![("action", "create"), ("name", &long), ("description", "d")],
            "name",
            "1 to 100 characters",
        ),
        (
            "/admin/groups",
            vec![
                ("action", "add"),
                ("group", "cairn-users"),
                ("username", "nobody"),
            ],
            "username",
            "no user named",
        ),
        (
            "/admin/groups",
            vec![
                ("action", "add"),
                ("group", "no-such-group"),
                ("username", "bob"),
            ],
            "group",
            "no group named",
        ),
        (
            "/admin/permissions",
            vec![
                ("grant", "1"),
                ("kind", "user"),
                ("name", "nobody"),
                ("permission", "use"),
            ],
            "name",
            "nobody",
        ),
        (
            "/admin/permissions",
            vec![
                ("action", "grid"),
                ("new_kind", "user"),
                ("new_name", "nobody"),
                ("new_cell", "use"),
            ],
            "new_name",
            "nobody",
        ),
        (
            "/spaces/FRM/permissions",
            vec![
                ("action", "grid"),
                ("new_kind", "group"),
                ("new_name", ""),
                ("new_cell", "view"),
            ],
            "new_name",
            "needs a group or user name",
        ),
        (
            "/spaces/FRM/settings",
            vec![("name", ""), ("description", "kept")],
            "name",
            "",
        ),
        (
            &restrictions,
            vec![
                ("operation", "read"),
                ("action", "add"),
                ("kind", "user"),
                ("name", "nobody"),
            ],
            "name",
            "nobody",
        ),
        (
            "/profile/password",
            vec![("current", "not-my-password"), ("new", "a-new-password-1")],
            "current",
            "not correct",
        ),
        (
            "/profile/password",
            vec![("current", &password), ("new", "short")],
            "new",
            "",
        ),
        (
            "/admin/plugins/cairn.content-report",
            vec![
                ("action", "limits"),
                ("timeout_ms", "soon"),
                ("memory_mib", ""),
            ],
            "timeout_ms",
            "soon",
        ),
        (
            "/admin/plugins/cairn.content-report",
            vec![
                ("action", "limits"),
                ("timeout_ms", ""),
                ("memory_mib", "999999"),
            ],
            "memory_mib",
            "memory limit",
        ),
        (
            "/admin/plugins/cairn.content-report",
            vec![
                ("action", "config"),
                ("config", "a line without an equals sign"),
            ],
            "config",
            "key = value",
        ),
        (
            "/admin/settings",
            vec![("access_mode", "sideways")],
            "access_mode",
            "",
        ),
        (
            "/notifications/settings",
            vec![("email", "hourly-ish")],
            "email",
            "",
        ),
    ];
    let before = counts(&node).await;
    for (path, fields, field, words) in &cases {
        let r = c.post_from_script(path, fields).await;
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap_or_else(|e| {
            panic!("{path} {fields:?}: the refusal is not JSON ({status}): {e}")
        });
        assert_eq!(status, 400, "{path} {fields:?}: {v}");
        assert_eq!(v["field"], *field, "{path} {fields:?}: {v}");
        let message = v["message"].as_str().unwrap_or("");
        assert!(
            message.to_lowercase().contains(&words.to_lowercase()) && message.ends_with('.'),
            "{path} {fields:?}: {v}"
        );
    }
    assert_eq!(
        counts(&node).await,
        before,
        "a refused form changed something"
    );
    let (_, html) = c.get_text("/spaces/FRM/settings").await;
    assert!(html.contains("value=\"Forms\""), "the space kept its name");
    // The admin's password is unchanged: logging in again works.
    node.login("admin").await;
}

/// What the refused forms above could have written.
async fn counts(node: &TestNode) -> Vec<i64> {
    let db = node.sql().await;
    let mut out = Vec::new();
    for q in [
        "SELECT count(*) FROM groups",
        "SELECT count(*) FROM group_members",
        "SELECT count(*) FROM global_permissions",
        "SELECT count(*) FROM space_permissions",
        "SELECT count(*) FROM content_restrictions",
        "SELECT count(*) FROM settings_audit",
    ] {
        out.push(db.query_one(q, &[]).await.unwrap().get(0));
    }
    out
}

#[tokio::test]
async fn a_form_that_worked_goes_back_to_its_screen_which_says_so() {
    let (_node, c, page) = scene().await;
    let restrictions = format!("/pages/{page}/restrictions");
    let cases: Vec<(&str, Fields, &str)> = vec![
        (
            "/admin/groups",
            vec![
                ("action", "create"),
                ("name", "writers"),
                ("description", ""),
            ],
            "Group writers created.",
        ),
        (
            "/admin/groups",
            vec![("action", "add"), ("group", "writers"), ("username", "bob")],
            "bob added to writers.",
        ),
        (
            "/spaces/FRM/settings",
            vec![("name", "Forms Renamed"), ("description", "about forms")],
            "Saved.",
        ),
        (
            &restrictions,
            vec![
                ("operation", "update"),
                ("action", "add"),
                ("kind", "user"),
                ("name", "admin"),
            ],
            "Restrictions saved.",
        ),
        (
            "/admin/plugins/cairn.content-report",
            vec![
                ("action", "limits"),
                ("timeout_ms", "900"),
                ("memory_mib", ""),
            ],
            "Limits saved.",
        ),
        (
            "/admin/settings",
            vec![("access_mode", "read-write"), ("site_title", "Forms Wiki")],
            "Saved site_title; every node applies it within a second.",
        ),
        (
            "/notifications/settings",
            vec![("email", "daily")],
            "Saved.",
        ),
    ];
    for (path, fields, said) in &cases {
        let r = c.post_from_script(path, fields).await;
        assert_eq!(r.status(), 204, "{path} {fields:?}");
        let to = r.headers()["x-cairn-location"].to_str().unwrap().to_owned();
        assert!(to.contains("done="), "{to}");
        let (s, html) = c.get_text(&to).await;
        assert_eq!(s, 200, "{to}");
        assert!(
            html.contains(&format!("\">{said}</p>")),
            "{to} should say {said:?}: {html}"
        );
    }
    // Without the script, the same forms redirect (303) to the same place.
    let r = c
        .post(
            "/admin/groups",
            &[
                ("action", "remove"),
                ("group", "writers"),
                ("username", "bob"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        Client::location(&r),
        "/admin/groups?done=member-removed&what=bob&to=writers"
    );
}

#[tokio::test]
async fn a_crafted_notice_says_nothing_of_its_own() {
    let (_node, c, _) = scene().await;
    let (_, html) = c
        .get_text("/admin/groups?done=Your%20account%20is%20locked")
        .await;
    assert!(!html.contains("id=\"notice\""), "{html}");
    assert!(!html.contains("account is locked"));
    let (_, html) = c
        .get_text("/admin/groups?done=group-created&what=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert!(
        html.contains("Group &#60;script&#62;") || html.contains("Group &lt;script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert(1)"));
}

#[tokio::test]
async fn a_refused_token_redraws_the_form_with_what_was_typed() {
    let (_node, c, _) = scene().await;
    let r = c
        .post(
            "/profile/tokens",
            &[("name", "deploy bot"), ("days", "forever")],
        )
        .await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("value=\"deploy bot\""),
        "the name is kept: {html}"
    );
    assert!(html.contains("value=\"forever\""), "the days are kept");
    assert!(
        html.contains("aria-invalid=\"true\" aria-describedby=\"token-error\"> days"),
        "the days field is marked: {html}"
    );
    assert!(html.contains("id=\"token-error\">Field"), "{html}");
    assert!(!html.contains("id=\"new-token\""), "no token was made");
}
