//! Copying a page, and a page with everything under it (a long task): in
//! the UI and over Confluence's REST.

use std::time::Duration;

use cairn_tests::{wait_until, Client, TestNode};
use reqwest::Method;
use serde_json::{json, Value};

use crate::perms::upload;

/// Polls the long task until it ends; its final state.
async fn finished(node: &TestNode, user: &str, task: &str) -> Value {
    let path = format!("/rest/api/longtask/{task}");
    let ok = wait_until(Duration::from_secs(60), || async {
        node.rest(user, Method::GET, &path, None).await.1["finished"] == true
    })
    .await;
    let (s, v) = node.rest(user, Method::GET, &path, None).await;
    assert_eq!(s, 200, "{v}");
    assert!(ok, "the task did not finish: {v}");
    v
}

async fn body_of(node: &TestNode, id: i64) -> String {
    let (_, v) = node
        .rest(
            "admin",
            Method::GET,
            &format!("/rest/api/content/{id}?expand=body.storage"),
            None,
        )
        .await;
    v["body"]["storage"]["value"].as_str().unwrap().to_owned()
}

/// The titles under page `id`, in order, as `user` sees them.
async fn children(node: &TestNode, user: &str, id: i64) -> Vec<(i64, String)> {
    let (s, v) = node
        .rest(
            user,
            Method::GET,
            &format!("/rest/api/content/{id}/child/page?limit=100"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().parse().unwrap(),
                p["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn page_count(node: &TestNode) -> i64 {
    node.sql()
        .await
        .query_one(
            "SELECT count(*) FROM content WHERE content_type IN ('page', 'attachment')",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

struct Tree {
    root: i64,
    a: i64,
    hidden: i64,
}

/// Root (a label, an attachment, a property, an edit restriction) › Child A
/// (an attachment) › Grandchild (links to Child A by title); Root › Secret
/// child (only admin may read it) › Its child.
async fn tree(node: &TestNode, admin: &Client) -> Tree {
    let root = admin
        .create_page("TEAM", "Root", "<p>The root</p>", None)
        .await;
    let a = admin
        .create_page("TEAM", "Child A", "<p>A</p>", Some(root))
        .await;
    admin
        .create_page(
            "TEAM",
            "Grandchild",
            "<p>See <ac:link><ri:page ri:content-title=\"Child A\" /></ac:link> and <ac:link><ri:page ri:content-title=\"Elsewhere\" /></ac:link></p>",
            Some(a),
        )
        .await;
    let hidden = admin
        .create_page("TEAM", "Secret child", "<p>s</p>", Some(root))
        .await;
    admin
        .create_page("TEAM", "Under the secret", "<p>u</p>", Some(hidden))
        .await;
    admin
        .create_page("TEAM", "Elsewhere", "<p>e</p>", None)
        .await;
    assert_eq!(
        admin
            .restrict(hidden, "read", "user", "admin")
            .await
            .status(),
        200
    );
    assert_eq!(
        admin
            .restrict(root, "update", "group", "cairn-users")
            .await
            .status(),
        200
    );
    assert_eq!(
        upload(admin, root, "plan.txt", b"the plan").await.status(),
        200
    );
    assert_eq!(
        upload(admin, a, "a.bin", &[0u8, 1, 2, 3]).await.status(),
        200
    );
    let (s, _) = node
        .rest(
            "admin",
            Method::POST,
            &format!("/rest/api/content/{root}/label"),
            Some(json!([{"prefix": "global", "name": "handbook"}])),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = node
        .rest(
            "admin",
            Method::POST,
            &format!("/rest/api/content/{root}/property"),
            Some(json!({"key": "status", "value": {"state": "draft"}})),
        )
        .await;
    assert_eq!(s, 200);
    Tree { root, a, hidden }
}

#[tokio::test]
async fn a_page_tree_is_copied_with_its_attachments_labels_and_restrictions_as_a_long_task() {
    let node = TestNode::start().await;
    node.user("bob", false).await;
    let admin = node.login("admin").await;
    admin.create_space("TEAM", "Team").await;
    let t = tree(&node, &admin).await;
    let bob = node.login("bob").await;

    // The copy screen offers the pages under it.
    let (s, html) = bob.get_text(&format!("/pages/{}/copy", t.root)).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("id=\"copy-children\"") && !html.contains("id=\"copy-children\" disabled"),
        "{html}"
    );

    // A copy whose titles clash is refused beside the field, and writes
    // nothing: "Copy of Child A" would be taken.
    admin
        .create_page("TEAM", "Copy of Child A", "<p>taken</p>", None)
        .await;
    let before = page_count(&node).await;
    let r = bob
        .post_from_script(
            &format!("/pages/{}/copy", t.root),
            &[
                ("options", "1"),
                ("title", "Root 2"),
                ("children", "on"),
                ("prefix", "Copy of "),
            ],
        )
        .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["field"], "title", "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("\"Copy of Child A\" already exists"),
        "{v}"
    );
    assert_eq!(page_count(&node).await, before);

    // With another prefix it runs as a long task, shown with progress.
    let r = bob
        .post(
            &format!("/pages/{}/copy", t.root),
            &[
                ("options", "1"),
                ("title", "Root 2"),
                ("children", "on"),
                ("prefix", "2026 "),
                ("attachments", "on"),
                ("labels", "on"),
                ("restrictions", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let at = Client::location(&r);
    assert!(at.starts_with("/tasks/"), "{at}");
    let task = at.trim_start_matches("/tasks/").to_owned();
    let v = finished(&node, "bob", &task).await;
    assert_eq!(v["successful"], true, "{v}");
    assert_eq!(v["percentageComplete"], 100, "{v}");
    let (_, page) = bob.get_text(&at).await;
    assert!(page.contains("Copied 3 pages"), "{page}");

    // Root 2 sits where Root is, with the visible tree under it in order;
    // the secret child (and what is under it) stayed behind.
    let (_, v) = node
        .rest(
            "bob",
            Method::GET,
            "/rest/api/content?spaceKey=TEAM&title=Root%202&expand=ancestors",
            None,
        )
        .await;
    let copy: i64 = v["results"][0]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(v["results"][0]["ancestors"], json!([]), "{v}");
    let kids = children(&node, "bob", copy).await;
    assert_eq!(
        kids.iter().map(|k| k.1.as_str()).collect::<Vec<_>>(),
        ["2026 Child A"]
    );
    let grand = children(&node, "bob", kids[0].0).await;
    assert_eq!(
        grand.iter().map(|k| k.1.as_str()).collect::<Vec<_>>(),
        ["2026 Grandchild"]
    );
    assert_eq!(
        children(&node, "admin", copy).await.len(),
        1,
        "the hidden page was not copied"
    );
    assert_eq!(
        children(&node, "admin", t.root).await.len(),
        2,
        "the original is untouched"
    );
    // A link to a copied page follows it; a link outside stays.
    let body = body_of(&node, grand[0].0).await;
    assert_eq!(
        body,
        "<p>See <ac:link><ri:page ri:content-title=\"2026 Child A\" /></ac:link> and <ac:link><ri:page ri:content-title=\"Elsewhere\" /></ac:link></p>"
    );
    // Attachments: same bytes, new attachment rows; label, property and
    // the edit restriction came along.
    for (page, name, bytes) in [
        (copy, "plan.txt", b"the plan".to_vec()),
        (kids[0].0, "a.bin", vec![0u8, 1, 2, 3]),
    ] {
        let (s, v) = node
            .rest(
                "bob",
                Method::GET,
                &format!("/rest/api/content/{page}/child/attachment"),
                None,
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(v["results"][0]["title"], name, "{v}");
        let link = v["results"][0]["_links"]["download"]
            .as_str()
            .unwrap()
            .to_owned();
        let got = reqwest::Client::new()
            .get(format!("{}{link}", node.base))
            .basic_auth("bob", Some(cairn_tests::password_of("bob")))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(got.as_ref(), bytes.as_slice(), "{name}");
    }
    let (_, v) = node
        .rest(
            "bob",
            Method::GET,
            &format!("/rest/api/content/{copy}?expand=metadata.labels,metadata.properties.status"),
            None,
        )
        .await;
    assert_eq!(
        v["metadata"]["labels"]["results"][0]["name"], "handbook",
        "{v}"
    );
    assert_eq!(
        v["metadata"]["properties"]["status"]["value"],
        json!({"state": "draft"}),
        "{v}"
    );
    let (_, v) = node
        .rest(
            "bob",
            Method::GET,
            &format!("/rest/api/content/{copy}/restriction/byOperation"),
            None,
        )
        .await;
    assert!(v.to_string().contains("cairn-users"), "{v}");
    let _ = t.a;
    let _ = t.hidden;
}

#[tokio::test]
async fn copies_over_rest_as_confluence_answers_them() {
    let node = TestNode::start().await;
    let admin = node.login("admin").await;
    admin.create_space("TEAM", "Team").await;
    admin.create_space("ARCH", "Archive").await;
    let t = tree(&node, &admin).await;
    let target = admin
        .create_page("ARCH", "Archive shelf", "<p>h</p>", None)
        .await;

    // The page alone, to the top of another space, without its attachments.
    let (s, v) = node
        .rest(
            "admin",
            Method::POST,
            &format!("/rest/api/content/{}/copy?expand=space", t.root),
            Some(
                json!({"destination": {"type": "space", "value": "ARCH"}, "pageTitle": "Root kept",
                        "copyAttachments": false, "copyLabels": true}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["title"], "Root kept");
    assert_eq!(v["space"]["key"], "ARCH");
    let kept: i64 = v["id"].as_str().unwrap().parse().unwrap();
    assert!(children(&node, "admin", kept).await.is_empty());
    let (_, files) = node
        .rest(
            "admin",
            Method::GET,
            &format!("/rest/api/content/{kept}/child/attachment"),
            None,
        )
        .await;
    assert_eq!(files["size"], 0, "{files}");
    // Under a page, with the default title.
    let (s, v) = node
        .rest(
            "admin",
            Method::POST,
            &format!("/rest/api/content/{}/copy?expand=ancestors", t.a),
            Some(json!({"destination": {"type": "parent_page", "value": target.to_string()}})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["title"], "Copy of Child A");
    assert_eq!(v["ancestors"][0]["id"], target.to_string(), "{v}");
    // Refusals name what is wrong.
    for (body, words) in [
        (
            json!({"destination": {"type": "existing_page", "value": "1"}}),
            "not supported",
        ),
        (
            json!({"destination": {"type": "galaxy", "value": "1"}}),
            "unknown destination.type",
        ),
        (json!({"pageTitle": "x"}), "destination.value is required"),
        (
            json!({"destination": {"type": "space", "value": "NOPE"}}),
            "NOPE",
        ),
        (
            json!({"destination": {"type": "space", "value": "TEAM"}, "pageTitle": "Child A"}),
            "already exists",
        ),
        (
            json!({"destination": {"type": "space", "value": "ARCH"}, "copyLabels": "yes"}),
            "copyLabels must be a boolean",
        ),
    ] {
        let (s, v) = node
            .rest(
                "admin",
                Method::POST,
                &format!("/rest/api/content/{}/copy", t.root),
                Some(body.clone()),
            )
            .await;
        assert!(s == 400 || s == 404, "{body}: {s} {v}");
        assert!(
            v["message"].as_str().unwrap_or("").contains(words),
            "{body}: {v}"
        );
    }

    // The hierarchy, under a page of another space, as a long task; the
    // title options apply to every copied page.
    let (s, v) = node
        .rest(
            "admin",
            Method::POST,
            &format!("/rest/api/content/{}/pagehierarchy/copy", t.root),
            Some(
                json!({"destinationPageId": target.to_string(), "copyAttachments": true,
                        "titleOptions": {"prefix": "Old ", "search": "Child", "replace": "Kid"}}),
            ),
        )
        .await;
    assert_eq!(s, 202, "{v}");
    let task = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["links"]["status"], format!("/rest/api/longtask/{task}"));
    let done = finished(&node, "admin", &task).await;
    assert_eq!(done["successful"], true, "{done}");
    let under = children(&node, "admin", target).await;
    let titles: Vec<&str> = under.iter().map(|k| k.1.as_str()).collect();
    assert!(titles.contains(&"Old Root"), "{titles:?}");
    let root2 = under.iter().find(|k| k.1 == "Old Root").unwrap().0;
    let kids: Vec<String> = children(&node, "admin", root2)
        .await
        .into_iter()
        .map(|k| k.1)
        .collect();
    assert_eq!(
        kids,
        ["Old Kid A", "Old Secret child"],
        "admin sees and copies the secret child"
    );
    let (s, v) = node
        .rest(
            "admin",
            Method::POST,
            &format!("/rest/api/content/{}/pagehierarchy/copy", t.root),
            Some(json!({"titleOptions": {"prefix": "x"}})),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("destinationPageId"),
        "{v}"
    );
}
