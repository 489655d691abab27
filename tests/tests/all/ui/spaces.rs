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
        // A view is the reader's own history: no token, no cache retired.
        assert!(r.headers().get("x-cairn-consistency").is_none());
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

#[tokio::test]
async fn a_space_is_deleted_as_a_long_task_with_its_progress_readable() {
    let node = TestNode::start().await;
    node.user("ann", false).await;
    let admin = node.login("admin").await;
    admin.create_space("GONE", "Going away").await;
    admin.create_space("UI", "Deleted from the UI").await;
    let mut parent = None;
    for i in 0..30 {
        let id = admin
            .create_page("GONE", &format!("Page {i}"), "<p>x</p>", parent)
            .await;
        if i % 3 == 0 {
            parent = Some(id);
        }
    }
    // Over REST, as Confluence: 202 and where to follow the task.
    let (s, v) = node
        .rest("ann", reqwest::Method::DELETE, "/rest/api/space/GONE", None)
        .await;
    assert_eq!(s, 403, "only space admins: {v}");
    let (s, v) = node
        .rest(
            "admin",
            reqwest::Method::DELETE,
            "/rest/api/space/GONE",
            None,
        )
        .await;
    assert_eq!(s, 202, "{v}");
    let status = v["links"]["status"].as_str().unwrap().to_owned();
    let done = cairn_tests::wait_until(std::time::Duration::from_secs(30), || async {
        let (_, t) = node
            .rest("admin", reqwest::Method::GET, &status, None)
            .await;
        t["finished"] == true
    })
    .await;
    assert!(done, "the deletion finished");
    let (_, t) = node
        .rest("admin", reqwest::Method::GET, &status, None)
        .await;
    assert_eq!(t["successful"], true, "{t}");
    assert_eq!(t["percentageComplete"], 100, "{t}");
    assert!(
        t["messages"][0]["translation"]
            .as_str()
            .unwrap()
            .contains("was deleted"),
        "{t}"
    );
    let (s, _) = node.rest("ann", reqwest::Method::GET, &status, None).await;
    assert_eq!(s, 404, "someone else's task is not shown");
    let (s, _) = node
        .rest("admin", reqwest::Method::GET, "/rest/api/space/GONE", None)
        .await;
    assert_eq!(s, 404);
    // From the space settings: the key must be typed again.
    let r = admin
        .post("/spaces/UI/delete", &[("confirm", "nope")])
        .await;
    assert_eq!(r.status(), 400);
    let r = admin.post("/spaces/UI/delete", &[("confirm", "ui")]).await;
    assert_eq!(r.status(), 303);
    let task = cairn_tests::Client::location(&r);
    assert!(task.starts_with("/tasks/"), "{task}");
    let finished = cairn_tests::wait_until(std::time::Duration::from_secs(30), || async {
        admin.get_text(&task).await.1.contains("was deleted")
    })
    .await;
    assert!(finished);
    let (_, list) = admin.get_text("/tasks").await;
    assert!(
        list.contains("Delete space Deleted from the UI (UI)"),
        "{list}"
    );
}

#[tokio::test]
async fn a_space_admin_chooses_the_home_page_in_the_space_settings() {
    let node = TestNode::start().await;
    let admin = node.login("admin").await;
    admin.create_space("HOME", "Home test").await;
    admin.create_space("ELSE", "Elsewhere").await;
    let start = admin
        .create_page("HOME", "Start here", "<p>s</p>", None)
        .await;
    let other = admin
        .create_page("ELSE", "Not here", "<p>n</p>", None)
        .await;
    let (_, html) = admin.get_text("/spaces/HOME/settings").await;
    assert!(
        html.contains(&format!("<option value=\"{start}\">")),
        "{html}"
    );
    let r = admin
        .post(
            "/spaces/HOME/settings",
            &[
                ("name", "Home test"),
                ("description", ""),
                ("homepage", &start.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            "/rest/api/space/HOME?expand=homepage",
            None,
        )
        .await;
    assert_eq!(v["homepage"]["title"], "Start here", "{v}");
    let r = admin
        .post(
            "/spaces/HOME/settings",
            &[
                ("name", "Home test"),
                ("description", ""),
                ("homepage", &other.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), 400, "a page of another space");
}

#[tokio::test]
async fn a_space_has_a_logo_and_categories_and_the_directory_filters_by_category() {
    let node = TestNode::start().await;
    node.user("bob", false).await;
    let admin = node.login("admin").await;
    admin.create_space("ENG", "Engineering").await;
    admin.create_space("OPS", "Operations").await;
    let settings = |key: &'static str, cats: &'static str| {
        let admin = &admin;
        async move {
            admin
                .post_from_script(
                    &format!("/spaces/{key}/settings"),
                    &[
                        ("name", key),
                        ("description", ""),
                        ("homepage", ""),
                        ("categories", cats),
                    ],
                )
                .await
        }
    };
    assert!(settings("ENG", "Handbook, engineering")
        .await
        .status()
        .is_success());
    assert!(settings("OPS", "handbook").await.status().is_success());
    // A bad category is refused beside its field, and changes nothing.
    let r = settings("OPS", "has:colon!").await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["field"], "categories", "{v}");
    let (_, html) = admin.get_text("/spaces/OPS/settings").await;
    assert!(html.contains("value=\"handbook\""), "{html}");

    // The directory lists the categories and filters by one.
    let bob = node.login("bob").await;
    let (_, html) = bob.get_text("/spaces").await;
    assert!(html.contains("id=\"space-categories\""), "{html}");
    assert!(
        html.contains("engineering <span class=\"muted\">(1)</span>"),
        "{html}"
    );
    assert!(
        html.contains("handbook <span class=\"muted\">(2)</span>"),
        "{html}"
    );
    let (_, html) = bob.get_text("/spaces?category=engineering").await;
    assert!(
        html.contains(">ENG</a>") || html.contains("/spaces/ENG\""),
        "{html}"
    );
    assert!(!html.contains("/spaces/OPS\""), "{html}");

    // The logo: initials until one is uploaded, by a space admin only.
    let r = bob.get("/spaces/ENG/logo").await;
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(r.text().await.unwrap().contains("<rect"));
    let png = vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0xDA, 0x63, 0x64,
        0xF8, 0xCF, 0x50, 0x0F, 0x00, 0x03, 0x86, 0x01, 0x80, 0x5A, 0x34, 0x7D, 0x6B, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    let upload = |c: &cairn_tests::Client, bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .text("_csrf", c.csrf.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name("logo.png"),
            );
        c.http
            .post(format!("{}/spaces/ENG/logo", node.base))
            .multipart(form)
            .send()
    };
    let r = upload(&bob, png.clone()).await.unwrap();
    assert!(r.status() == 403 || r.status() == 404, "{}", r.status());
    let r = upload(&admin, b"<svg onload=alert(1)>".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = upload(&admin, png.clone()).await.unwrap();
    assert_eq!(r.status(), 303);
    let r = bob.get("/spaces/ENG/logo").await;
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    // The sidebar shows it.
    let (_, _, html) = bob.follow("/spaces/ENG").await;
    assert!(html.contains("src=\"/spaces/ENG/logo\""), "{html}");

    // REST: the icon and the categories as `team` labels.
    let (s, v) = node
        .rest(
            "bob",
            reqwest::Method::GET,
            "/rest/api/space/ENG?expand=icon,metadata.labels",
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["icon"]["path"], "/spaces/ENG/logo");
    assert_eq!(v["icon"]["isDefault"], false);
    let labels: Vec<(&str, &str)> = v["metadata"]["labels"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["prefix"].as_str().unwrap(), l["name"].as_str().unwrap()))
        .collect();
    assert_eq!(labels, [("team", "engineering"), ("team", "handbook")]);
    let (_, v) = node
        .rest(
            "bob",
            reqwest::Method::GET,
            "/rest/api/space/OPS?expand=icon",
            None,
        )
        .await;
    assert_eq!(v["icon"]["isDefault"], true, "{v}");
}
