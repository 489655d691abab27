//! Confluence's watch REST API, and an SMTP password that no surface shows.

use super::*;

#[tokio::test]
async fn watch_rest_api_as_confluence() {
    let node = TestNode::start().await;
    space_of_users(&node, &["bob", "carol"]).await;
    let p = create_page(&node, "admin", "TEAM", "Watched", "<p>x</p>").await;
    let path = format!("/rest/api/user/watch/content/{p}");
    assert_eq!(
        node.rest("bob", Method::GET, &path, None).await,
        (200, json!({"watching": false}))
    );
    assert_eq!(node.rest("bob", Method::POST, &path, None).await.0, 204);
    assert_eq!(
        node.rest("bob", Method::POST, &path, None).await.0,
        204,
        "idempotent"
    );
    assert_eq!(
        node.rest("bob", Method::GET, &path, None).await.1,
        json!({"watching": true})
    );
    // Someone else's watch: admins only.
    let (s, v) = node
        .rest("carol", Method::GET, &format!("{path}?username=bob"), None)
        .await;
    assert_eq!(s, 403, "{v}");
    assert!(v["message"].as_str().unwrap().contains("administrators"));
    let (s, v) = node
        .rest("admin", Method::GET, &format!("{path}?username=bob"), None)
        .await;
    assert_eq!((s, v), (200, json!({"watching": true})));
    // A name PostgreSQL cannot hold (found by schemathesis: it was a 500).
    let (s, v) = node
        .rest(
            "admin",
            Method::POST,
            &format!("{path}?username=a%00b"),
            None,
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("NUL"), "{v}");
    assert_eq!(
        node.rest(
            "admin",
            Method::POST,
            &format!("{path}?username=carol"),
            None
        )
        .await
        .0,
        204
    );
    // Who watches: the page (created) and its space (child-created).
    let (s, v) = node
        .rest(
            "bob",
            Method::GET,
            &format!("/rest/api/content/{p}/notification/created"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let names: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["watcher"]["username"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["admin", "bob", "carol"],
        "admin auto-watches what they created"
    );
    assert_eq!(node.rest("bob", Method::DELETE, &path, None).await.0, 204);
    assert_eq!(
        node.rest("bob", Method::GET, &path, None).await.1,
        json!({"watching": false})
    );
    // Spaces.
    let sp = "/rest/api/user/watch/space/TEAM";
    assert_eq!(node.rest("bob", Method::POST, sp, None).await.0, 204);
    assert_eq!(
        node.rest("bob", Method::GET, sp, None).await.1,
        json!({"watching": true})
    );
    let (_, v) = node
        .rest(
            "bob",
            Method::GET,
            &format!("/rest/api/content/{p}/notification/child-created"),
            None,
        )
        .await;
    assert_eq!(v["results"][0]["watcher"]["username"], "bob");
    assert_eq!(node.rest("bob", Method::DELETE, sp, None).await.0, 204);
    // Errors are the Confluence envelope.
    let (s, v) = node
        .rest("bob", Method::GET, "/rest/api/user/watch/space/NOPE", None)
        .await;
    assert_eq!(s, 404);
    assert_eq!(v["statusCode"], 404);
    let (s, _) = node
        .rest(
            "bob",
            Method::GET,
            "/rest/api/user/watch/content/999999",
            None,
        )
        .await;
    assert_eq!(s, 404);
    let r = reqwest::get(format!("{}{path}", node.base)).await.unwrap();
    assert_eq!(r.status(), 401);
    // The page's buttons.
    let bob = node.login("bob").await;
    let r = bob
        .post(&format!("/pages/{p}/watch"), &[("watch", "1")])
        .await;
    assert_eq!(r.status(), 303);
    let (_, _, html) = bob
        .follow(&format!("/pages/viewpage.action?pageId={p}"))
        .await;
    assert!(html.contains("Unwatch page"), "{html}");
    assert!(html.contains("Watch space"));
    // The space's blog page: watch the space's blog only.
    let (_, blog) = bob.get_text("/spaces/TEAM/blog").await;
    assert!(
        blog.contains("Watch blog") && blog.contains("Watch space"),
        "{blog}"
    );
    let r = bob
        .post(
            "/spaces/TEAM/watch",
            &[("blog", "1"), ("watch", "1"), ("next", "/spaces/TEAM/blog")],
        )
        .await;
    assert_eq!(Client::location(&r), "/spaces/TEAM/blog");
    let (_, v) = node
        .rest(
            "bob",
            Method::GET,
            "/rest/api/user/watch/space/TEAM?type=blogpost",
            None,
        )
        .await;
    assert_eq!(v, json!({"watching": true}));
    let (_, blog) = bob.get_text("/spaces/TEAM/blog").await;
    assert!(blog.contains("Unwatch blog"), "{blog}");
    let (_, watching) = bob.get_text("/notifications/settings").await;
    assert!(watching.contains(">Watched</a>"), "{watching}");
}

#[tokio::test]
async fn the_smtp_password_is_never_shown() {
    let node = TestNode::start().await;
    let secret = "hunter2-smtp-secret";
    let (s, v) = node
        .rest(
            "admin",
            Method::PUT,
            "/rest/cairn/1.0/config/smtp_password",
            Some(json!({"value": secret})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["value"], "********");
    let (_, v) = node
        .rest(
            "admin",
            Method::GET,
            "/rest/cairn/1.0/config/smtp_password",
            None,
        )
        .await;
    assert_eq!(v["value"], "********");
    assert_eq!(v["set"], true);
    for path in ["/rest/cairn/1.0/config", "/rest/cairn/1.0/config-history"] {
        let (_, v) = node.rest("admin", Method::GET, path, None).await;
        assert!(!v.to_string().contains(secret), "{path} shows it: {v}");
    }
    let admin = node.login("admin").await;
    let (_, page) = admin.get_text("/admin/settings").await;
    assert!(!page.contains(secret));
    assert!(
        page.contains("name=\"smtp_password\" type=\"password\" value=\"\""),
        "{page}"
    );
    // Saving the form with the password field left blank keeps it.
    let r = admin
        .submit(
            "/admin/settings",
            &[("smtp_password", ""), ("smtp_host", "mail.example.com")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let s = node.state.cluster.settings();
    assert_eq!(s.text("smtp_password"), secret);
    assert_eq!(s.text("smtp_host"), "mail.example.com");
    // A bad value's error does not echo it.
    let (s, v) = node
        .rest(
            "admin",
            Method::PUT,
            "/rest/cairn/1.0/config/smtp_password",
            Some(json!({"value": "bad\u{7}secret"})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(!v.to_string().contains("bad"), "{v}");
}
