//! The spaces people live in: a personal space for everyone, made from the
//! profile and listed apart in the directory.

use super::*;

#[tokio::test]
async fn everyone_makes_a_personal_space_from_their_profile() {
    let node = TestNode::start().await;
    node.user("ann", false).await;
    node.user("bob", false).await;
    let ann = node.login("ann").await;
    let (_, html) = ann.get_text("/users/ann").await;
    assert!(html.contains("id=\"create-personal-space\""), "{html}");
    // No right to create spaces is needed; a second click finds the same one.
    for _ in 0..2 {
        let r = ann.post("/profile/space", &[]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(cairn_tests::Client::location(&r), "/spaces/~ann");
    }
    let (s, home) = ann.get_text("/spaces/~ann").await;
    assert!(s == 200 || s == 303, "{s}");
    let (_, v) = node
        .rest("bob", reqwest::Method::GET, "/rest/api/space/~ann", None)
        .await;
    assert_eq!(v["type"], "personal", "{v} {home}");
    assert_eq!(v["name"], "ann Example");
    // Listed under "Personal spaces", linked from the profile; bob may read
    // and comment there but not write.
    let bob = node.login("bob").await;
    let (_, dir) = bob.get_text("/spaces").await;
    let personal = dir.split("id=\"personal-spaces\"").nth(1).unwrap();
    assert!(personal.contains("~ann"), "{dir}");
    assert!(!dir
        .split("id=\"personal-spaces\"")
        .next()
        .unwrap()
        .contains("~ann"));
    let (_, profile) = bob.get_text("/users/ann").await;
    assert!(profile.contains("id=\"personal-space\""), "{profile}");
    assert!(
        !profile.contains("create-personal-space"),
        "only on one's own profile"
    );
    let (s, _) = bob.get_text("/spaces/~ann/create").await;
    assert_eq!(s, 403);
    let (s, _) = node
        .rest(
            "ann",
            reqwest::Method::POST,
            "/rest/api/content",
            Some(
                serde_json::json!({"type": "page", "title": "My notes", "space": {"key": "~ann"},
                "body": {"storage": {"value": "<p>mine</p>", "representation": "storage"}}}),
            ),
        )
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn the_dashboard_shows_what_was_saved_for_later_favourite_spaces_and_recent_views() {
    let node = TestNode::start().await;
    node.user("ann", false).await;
    let admin = node.login("admin").await;
    admin.create_space("AAA", "Alpha space").await;
    admin.create_space("ZZZ", "Zulu space").await;
    let p = admin.create_page("ZZZ", "Handbook", "<p>h</p>", None).await;
    let q = admin.create_page("AAA", "Roadmap", "<p>r</p>", None).await;
    let ann = node.login("ann").await;
    for (path, on) in [
        (format!("/pages/{p}/favourite"), "1"),
        (format!("/pages/{q}/favourite"), "1"),
    ] {
        let r = ann.post(&path, &[("on", on)]).await;
        assert_eq!(r.status(), 303);
    }
    let r = ann
        .post("/spaces/ZZZ/favourite", &[("on", "1"), ("next", "/")])
        .await;
    assert_eq!(cairn_tests::Client::location(&r), "/");
    let html = ann.view_page(p).await;
    assert!(
        html.contains("★ Saved for later") && html.contains("Remove space from favourites"),
        "{html}"
    );
    let (_, dash) = ann.get_text("/").await;
    let saved = dash.split("id=\"saved-for-later\"").nth(1).unwrap();
    let saved = &saved[..saved.find("</ul>").unwrap()];
    assert!(
        saved.contains("Roadmap") && saved.contains("Handbook"),
        "{dash}"
    );
    let spaces = dash.split("class=\"spaces\"").nth(1).unwrap();
    assert!(
        spaces.find("Zulu space").unwrap() < spaces.find("Alpha space").unwrap(),
        "the favourite space first: {spaces}"
    );
    assert!(spaces.contains("class=\"favourite\""), "{spaces}");
    // Views are recorded by the page script; a cross-site form cannot.
    let r = ann
        .http
        .post(ann.url(&format!("/ui/viewed/{q}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    for id in [q, p] {
        let r = ann
            .http
            .post(ann.url(&format!("/ui/viewed/{id}")))
            .header("X-Cairn-View", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    let (_, v) = ann.get_text("/ui/recent").await;
    let v: serde_json::Value = serde_json::from_str(&v).unwrap();
    let titles: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Handbook", "Roadmap"], "newest first");
    // What ann may no longer see leaves both lists.
    admin.restrict(p, "read", "user", "admin").await;
    let (_, dash) = ann.get_text("/").await;
    assert!(!dash.contains("Handbook"), "{dash}");
    let (_, v) = ann.get_text("/ui/recent").await;
    assert!(!v.contains("Handbook"), "{v}");
}
