//! The `profile` and `contributors` macros (`cairn.people`) against a real
//! node: a person's card, and contributors counted only on what the viewer
//! may see.

use super::*;

async fn save(node: &TestNode, user: &str, id: i64, body: &str) {
    let (_, cur) = node
        .rest(
            user,
            reqwest::Method::GET,
            &format!("/rest/api/content/{id}?expand=version"),
            None,
        )
        .await;
    let n = cur["version"]["number"].as_i64().unwrap();
    let (s, v) = node
        .rest(
            user,
            reqwest::Method::PUT,
            &format!("/rest/api/content/{id}"),
            Some(serde_json::json!({"type": "page", "title": cur["title"],
                "body": {"storage": {"value": body, "representation": "storage"}},
                "version": {"number": n + 1}})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn a_profile_card_and_contributors_counted_on_what_the_viewer_sees() {
    let node = TestNode::start().await;
    node.state
        .plugins
        .install_builtin(&cairn_tests::builtin_plugins())
        .await
        .unwrap();
    let reg = node.state.plugins.registry();
    assert!(reg.provides("profile") && reg.provides("contributors"));
    let ann_key = node.user("ann", false).await.user_key;
    for u in ["bob", "carol"] {
        node.user(u, false).await;
    }
    let admin = node.login("admin").await;
    admin.create_space("TEAM", "Team").await;
    let root = admin
        .create_page("TEAM", "Handbook", "<p>v1</p>", None)
        .await;
    save(&node, "ann", root, "<p>v2</p>").await;
    save(&node, "ann", root, "<p>v3</p>").await;
    let child = admin
        .create_page("TEAM", "Onboarding", "<p>c</p>", Some(root))
        .await;
    save(&node, "carol", child, "<p>c2</p>").await;
    // A secret page under the root, edited many times by bob: only admin
    // may read it, so bob's edits there count for nobody else.
    let secret = admin
        .create_page("TEAM", "Salaries", "<p>s</p>", Some(root))
        .await;
    for i in 0..5 {
        save(&node, "bob", secret, &format!("<p>s{i}</p>")).await;
    }
    assert_eq!(
        admin
            .restrict(secret, "read", "user", "admin")
            .await
            .status(),
        200
    );
    assert_eq!(
        admin.restrict(secret, "read", "user", "bob").await.status(),
        200
    );
    let page = admin
        .create_page(
            "TEAM",
            "People",
            &format!(
                "<ac:structured-macro ac:name=\"profile\"><ac:parameter ac:name=\"user\"><ri:user ri:userkey=\"{ann_key}\" /></ac:parameter></ac:structured-macro>\
                 <ac:structured-macro ac:name=\"contributors\"><ac:parameter ac:name=\"page\">Handbook</ac:parameter><ac:parameter ac:name=\"scope\">descendants</ac:parameter><ac:parameter ac:name=\"mode\">list</ac:parameter><ac:parameter ac:name=\"showCount\">true</ac:parameter></ac:structured-macro>\
                 <ac:structured-macro ac:name=\"contributors\"><ac:parameter ac:name=\"page\">Handbook</ac:parameter><ac:parameter ac:name=\"order\">name</ac:parameter></ac:structured-macro>\
                 <ac:structured-macro ac:name=\"contributors\"><ac:parameter ac:name=\"scope\">sideways</ac:parameter></ac:structured-macro>"
            ),
            None,
        )
        .await;
    let carol = node.login("carol").await;
    // (The sanitizer adds `rel` to every link.)
    let html = carol
        .view_page(page)
        .await
        .replace(" rel=\"noopener noreferrer\"", "");
    // The card: name, username, e-mail for a signed-in reader.
    assert!(html.contains("class=\"profile-card\""), "{html}");
    assert!(
        html.contains("href=\"/users/ann\">ann Example</a>"),
        "{html}"
    );
    assert!(html.contains("ann@example.com"), "{html}");
    // Contributors of the handbook and what is under it, as carol sees it:
    // ann (2 edits), admin (2 pages created), carol (1), and bob not at all.
    let list = html
        .split("<ul class=\"contributors\">")
        .nth(1)
        .expect(&html)
        .split("</ul>")
        .next()
        .unwrap();
    assert!(
        list.contains("ann Example</a> <span class=\"contributor-count\">(2)</span>"),
        "{list}"
    );
    assert!(
        list.contains("carol Example</a> <span class=\"contributor-count\">(1)</span>"),
        "{list}"
    );
    assert!(
        !list.contains("bob"),
        "bob's edits are on a page carol may not see: {list}"
    );
    // Admin sees the secret page: bob counts, first with 5 edits.
    let all = admin
        .view_page(page)
        .await
        .replace(" rel=\"noopener noreferrer\"", "");
    let list = all
        .split("<ul class=\"contributors\">")
        .nth(1)
        .unwrap()
        .split("</ul>")
        .next()
        .unwrap();
    assert!(list.starts_with("<li><a class=\"confluence-userlink\" href=\"/users/bob\">bob Example</a> <span class=\"contributor-count\">(5)</span>"), "{list}");
    // The page alone, by name: admin (v1), ann (v2, v3).
    assert!(
        html.contains(
            "<span class=\"contributors\"><a class=\"confluence-userlink\" href=\"/users/admin\">"
        ),
        "{html}"
    );
    // A bad parameter is named in the macro's error box.
    assert!(html.contains("scope"), "{html}");
    assert!(html.contains("sideways"), "{html}");
    // Anonymous readers (were the space public) would get no e-mail: the
    // capability answers none for a viewer who may not use the site.
    let anon = node.anon().get(&format!("/pages/{page}")).await;
    assert!(anon.status().as_u16() >= 300);
}
