//! The content model through the UI and the services: versions, conflicts,
//! tree operations, labels, comments, trash, validation.

use cairn::content::{self, ContentType, NewContent, Saved, Update};
use cairn::error::Error;
use cairn_tests::{page_id_of, Client, TestNode};

async fn node_with_space() -> (TestNode, Client) {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("DOC", "Docs").await;
    (node, c)
}

#[tokio::test]
async fn create_edit_history_diff_restore() {
    let (_node, c) = node_with_space().await;
    let id = c
        .create_page("DOC", "Runbook", "<p>first text</p>", None)
        .await;
    let r = c
        .post(
            &format!("/pages/{id}/edit"),
            &[
                ("title", "Runbook"),
                ("body", "<p>second text</p>"),
                ("format", "storage"),
                ("base_version", "1"),
                ("message", "tweak"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (s, hist) = c.get_text(&format!("/pages/{id}/history")).await;
    assert_eq!(s, 200);
    assert!(hist.contains("tweak") && hist.contains("v. 1"), "{hist}");
    let (s, diff) = c.get_text(&format!("/pages/{id}/diff?from=1&to=2")).await;
    assert_eq!(s, 200);
    assert!(diff.contains("<del") && diff.contains("<ins"), "{diff}");
    assert!(diff.contains("first") && diff.contains("second"));
    let (s, side) = c
        .get_text(&format!("/pages/{id}/diff?from=1&to=2&mode=side"))
        .await;
    assert_eq!(s, 200);
    assert!(side.contains("<table"));
    // Restore v1 as v3.
    let r = c
        .post(&format!("/pages/{id}/restore/1"), &[("base_version", "2")])
        .await;
    assert_eq!(r.status(), 303);
    let (_, _, page) = c
        .follow(&format!("/pages/viewpage.action?pageId={id}"))
        .await;
    assert!(
        page.contains("first text") && page.contains("version 3"),
        "{page}"
    );
    // An old version renders.
    let (s, v1) = c.get_text(&format!("/pages/{id}/version/2")).await;
    assert_eq!(s, 200);
    assert!(v1.contains("second text"));
}

#[tokio::test]
async fn stale_save_is_a_conflict_and_keeps_the_text() {
    let (_node, c) = node_with_space().await;
    let id = c.create_page("DOC", "Shared", "<p>base</p>", None).await;
    let first = c
        .post(
            &format!("/pages/{id}/edit"),
            &[
                ("title", "Shared"),
                ("body", "<p>alice wins</p>"),
                ("format", "storage"),
                ("base_version", "1"),
            ],
        )
        .await;
    assert_eq!(first.status(), 303);
    let second = c
        .post(
            &format!("/pages/{id}/edit"),
            &[
                ("title", "Shared"),
                ("body", "<p>bob was late</p>"),
                ("format", "storage"),
                ("base_version", "1"),
            ],
        )
        .await;
    assert_eq!(second.status(), 409);
    let html = second.text().await.unwrap();
    assert!(
        html.contains("bob was late"),
        "the editor keeps the user's text"
    );
    assert!(html.contains("alice wins"), "and shows what changed");
    assert!(
        html.contains("name=\"base_version\" value=\"2\""),
        "the next save is based on the current version"
    );
}

#[tokio::test]
async fn concurrent_saves_one_wins_one_conflicts_nothing_lost() {
    let node = TestNode::start().await;
    let admin = node.user("writer", true).await;
    let c = node.login("admin").await;
    c.create_space("CON", "Concurrency").await;
    let id = c.create_page("CON", "Hot page", "<p>v1</p>", None).await;
    let viewer = node.viewer(Some(&admin)).await;
    for round in 0..10 {
        let base: i32 = {
            let db = node.sql().await;
            content::get(&db, &viewer, id).await.unwrap().version
        };
        let mut tasks = Vec::new();
        for who in 0..4 {
            let pool = node.pool.clone();
            let viewer = viewer.clone();
            tasks.push(tokio::spawn(async move {
                let mut db = pool.get().await.unwrap();
                let body = format!("<p>round {round} writer {who}</p>");
                let r = content::update(
                    &mut db,
                    &viewer,
                    id,
                    Update {
                        title: None,
                        body: Some(&body),
                        base_version: base,
                        message: "",
                        minor_edit: false,
                    },
                )
                .await;
                (body, r)
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            let (body, r) = t.await.unwrap();
            match r {
                Ok(Saved::NewVersion(c)) => winners.push((body, c.version)),
                Err(Error::Conflict(m)) => assert!(m.contains("Current version is"), "{m}"),
                Ok(Saved::Unchanged(_)) => panic!("unexpected no-op"),
                Err(e) => panic!("unexpected error {e}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one writer wins each round");
        let db = node.sql().await;
        let now = content::get(&db, &viewer, id).await.unwrap();
        assert_eq!(now.version, base + 1);
        assert_eq!(
            now.body, winners[0].0,
            "the winner's text is what is stored"
        );
        let hist = content::history(&db, &viewer, id).await.unwrap();
        assert_eq!(hist.len() as i32, now.version, "every version is kept");
    }
}

#[tokio::test]
async fn bodies_are_stored_byte_for_byte_and_ill_formed_xml_is_refused() {
    let (node, c) = node_with_space().await;
    let body = "<p>caf&eacute; &nbsp;&mdash; <ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[a ]]]]><![CDATA[> b]]></ac:plain-text-body></ac:structured-macro></p>\n  ";
    let id = c.create_page("DOC", "Bytes", body, None).await;
    let db = node.sql().await;
    let stored: String = db
        .query_one("SELECT body FROM content WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, body);
    let r = c
        .post(
            "/spaces/DOC/create",
            &[
                ("title", "Broken"),
                ("body", "<p>one\n<b>two</p>"),
                ("format", "storage"),
            ],
        )
        .await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("line 2"), "the error says where: {html}");
    assert!(
        html.contains("&lt;b&gt;two") || html.contains("two"),
        "the text is kept"
    );
}

#[tokio::test]
async fn titles_are_unique_per_space_case_insensitively() {
    let (_node, c) = node_with_space().await;
    c.create_page("DOC", "Release Notes", "", None).await;
    let r = c
        .post(
            "/spaces/DOC/create",
            &[
                ("title", "release notes"),
                ("body", ""),
                ("format", "storage"),
            ],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("already exists"));
    c.create_space("OTHER", "Other").await;
    c.create_page("OTHER", "Release Notes", "", None).await;
}

#[tokio::test]
async fn markdown_is_converted_to_storage_on_save() {
    let (node, c) = node_with_space().await;
    let r = c
        .post(
            "/spaces/DOC/create",
            &[
                ("title", "Md"),
                (
                    "body",
                    "# Title\n\n* one\n* two\n\n```sql\nselect 1;\n```\n",
                ),
                ("format", "markdown"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let id = page_id_of(&Client::location(&r)).unwrap();
    let db = node.sql().await;
    let stored: String = db
        .query_one("SELECT body FROM content WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert!(
        stored.contains("<h1>") && stored.contains("<li>"),
        "{stored}"
    );
    assert!(stored.contains("ac:name=\"code\""), "{stored}");
}

#[tokio::test]
async fn tree_move_reorder_copy() {
    let (node, c) = node_with_space().await;
    let a = c.create_page("DOC", "A", "", None).await;
    let b = c.create_page("DOC", "B", "", Some(a)).await;
    let cc = c.create_page("DOC", "C", "", Some(b)).await;
    let d = c.create_page("DOC", "D", "", None).await;
    // Move B (with C) under D.
    let r = c
        .post(&format!("/pages/{b}/move"), &[("parent", &d.to_string())])
        .await;
    assert_eq!(r.status(), 303);
    let db = node.sql().await;
    let anc: Vec<i64> = db
        .query_one("SELECT ancestors FROM content WHERE id = $1", &[&cc])
        .await
        .unwrap()
        .get(0);
    assert_eq!(anc, vec![d, b], "the subtree's ancestors follow the move");
    // Under its own descendant: refused.
    let r = c
        .post(&format!("/pages/{d}/move"), &[("parent", &cc.to_string())])
        .await;
    assert_eq!(r.status(), 400);
    // Reorder: D first among the roots.
    let r = c
        .post(&format!("/pages/{d}/move"), &[("position", "0")])
        .await;
    assert_eq!(r.status(), 303);
    let (_, tree) = c.get_text("/ui/tree?space=DOC").await;
    let v: serde_json::Value = serde_json::from_str(&tree).unwrap();
    assert_eq!(v["results"][0]["title"], "D", "{tree}");
    // Move by title.
    let r = c
        .post(
            &format!("/pages/{a}/move"),
            &[("parent", "D"), ("position", "")],
        )
        .await;
    assert_eq!(r.status(), 303);
    // Copy.
    let r = c
        .post(&format!("/pages/{a}/copy"), &[("title", "A copy")])
        .await;
    assert_eq!(r.status(), 303);
    let (_, _, html) = c.follow(&Client::location(&r)).await;
    assert!(html.contains("A copy"));
    // Move to another space.
    c.create_space("ARCH", "Archive").await;
    let r = c
        .post(
            &format!("/pages/{b}/move"),
            &[("space", "ARCH"), ("parent", "")],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let spaces: Vec<String> = db
        .query("SELECT s.space_key FROM content c JOIN spaces s ON s.id = c.space_id WHERE c.id = ANY($1)", &[&vec![b, cc]])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(spaces, vec!["ARCH", "ARCH"]);
}

#[tokio::test]
async fn labels_comments_and_threads() {
    let (_node, c) = node_with_space().await;
    let id = c.create_page("DOC", "Talk", "<p>x</p>", None).await;
    let r = c
        .post(&format!("/pages/{id}/labels"), &[("labels", "Alpha, beta")])
        .await;
    assert_eq!(r.status(), 303);
    let r = c
        .post(&format!("/pages/{id}/labels"), &[("labels", "bad label!")])
        .await;
    assert_eq!(r.status(), 400);
    let r = c
        .post(
            &format!("/pages/{id}/comments"),
            &[("body", "first **comment**")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let loc = Client::location(&r);
    let cid: i64 = loc.rsplit("comment-").next().unwrap().parse().unwrap();
    let r = c
        .post(
            &format!("/pages/{id}/comments"),
            &[("body", "a reply"), ("reply_to", &cid.to_string())],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, _, html) = c
        .follow(&format!("/pages/viewpage.action?pageId={id}"))
        .await;
    assert!(html.contains("alpha") && html.contains("beta"));
    assert!(html.contains("<strong>comment</strong>"));
    assert!(html.contains("depth-1"), "the reply is threaded");
    let r = c
        .post(
            &format!("/comments/{cid}/edit"),
            &[
                ("body", "<p>edited</p>"),
                ("format", "storage"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = c
        .post(&format!("/pages/{id}/labels"), &[("remove", "alpha")])
        .await;
    assert_eq!(r.status(), 303);
    let r = c.post(&format!("/comments/{cid}/delete"), &[]).await;
    assert_eq!(r.status(), 303);
    let (_, _, html) = c
        .follow(&format!("/pages/viewpage.action?pageId={id}"))
        .await;
    assert!(
        !html.contains("<p>edited</p>") && html.contains("a reply") && !html.contains(">alpha<")
    );
}

/// The rich-text comment boxes post storage format (`format=storage`): kept
/// as written for comments and replies, refused with a clear message when it
/// is not well formed, and sanitised on view like every body.
#[tokio::test]
async fn comments_and_replies_in_storage_format_are_stored_as_written_and_sanitised_on_view() {
    let (node, c) = node_with_space().await;
    let id = c.create_page("DOC", "Talk", "<p>x</p>", None).await;
    let body =
        "<p>Plain <strong>bold</strong> &amp; <em>more</em></p><script>window.pwned = 1</script>";
    let r = c
        .post(
            &format!("/pages/{id}/comments"),
            &[("body", body), ("format", "storage")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let cid: i64 = Client::location(&r)
        .rsplit("comment-")
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let r = c
        .post(
            &format!("/pages/{id}/comments"),
            &[
                ("body", "<p>re: *not* Markdown</p>"),
                ("format", "storage"),
                ("reply_to", &cid.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            &format!("/rest/api/content/{id}/child/comment?expand=body.storage&depth=all"),
            None,
        )
        .await;
    let stored: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"]["storage"]["value"].as_str().unwrap())
        .collect();
    assert_eq!(stored, [body, "<p>re: *not* Markdown</p>"]);
    let (_, _, html) = c
        .follow(&format!("/pages/viewpage.action?pageId={id}"))
        .await;
    assert!(html.contains("<strong>bold</strong>"));
    assert!(
        !html.contains("<script>window.pwned"),
        "the script is not run (only its escaped source in the Edit box)"
    );
    // Not storage format: a 400 that says so, nothing stored.
    let r = c
        .post(
            &format!("/pages/{id}/comments"),
            &[("body", "<p>open"), ("format", "storage")],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("not well-formed storage format"));
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            &format!("/rest/api/content/{id}/child/comment"),
            None,
        )
        .await;
    assert_eq!(v["size"], 2);
}

#[tokio::test]
async fn trash_restore_and_purge() {
    let (node, c) = node_with_space().await;
    let p = c.create_page("DOC", "Parent", "", None).await;
    let k = c.create_page("DOC", "Kid", "", Some(p)).await;
    let r = c.post(&format!("/pages/{p}/delete"), &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        c.get(&format!("/pages/viewpage.action?pageId={k}"))
            .await
            .status(),
        404,
        "the subtree goes with it"
    );
    let (_, trash) = c.get_text("/spaces/DOC/trash").await;
    assert!(
        trash.contains("Parent") && trash.contains("1 page below"),
        "{trash}"
    );
    // A new page takes the title; restoring must not silently duplicate it.
    let other = c.create_page("DOC", "Parent", "", None).await;
    let r = c.post(&format!("/trash/{p}/restore"), &[]).await;
    assert_eq!(r.status(), 409);
    c.post(&format!("/pages/{other}/delete"), &[]).await;
    let r = c.post(&format!("/trash/{p}/restore"), &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        c.follow(&format!("/pages/viewpage.action?pageId={k}"))
            .await
            .0,
        200
    );
    let r = c.post(&format!("/trash/{other}/purge"), &[]).await;
    assert_eq!(r.status(), 303);
    let db = node.sql().await;
    let n: i64 = db
        .query_one("SELECT count(*) FROM content WHERE id = $1", &[&other])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    // The home page cannot be deleted.
    let home: i64 = db
        .query_one(
            "SELECT homepage_id FROM spaces WHERE space_key = 'DOC'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        c.post(&format!("/pages/{home}/delete"), &[]).await.status(),
        400
    );
}

#[tokio::test]
async fn blog_posts_and_confluence_urls() {
    let (node, c) = node_with_space().await;
    let r = c
        .post(
            "/spaces/DOC/create",
            &[
                ("title", "Launch day"),
                ("body", "<p>we shipped</p>"),
                ("format", "storage"),
                ("type", "blogpost"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, blog) = c.get_text("/spaces/DOC/blog").await;
    assert!(blog.contains("Launch day"));
    let id = c.create_page("DOC", "Old Link Target", "", None).await;
    let r = c.get("/display/DOC/Old+Link+Target").await;
    assert_eq!(r.status(), 303);
    assert!(Client::location(&r).ends_with(&format!("/pages/{id}/Old+Link+Target")));
    let r = c.get(&format!("/pages/viewpage.action?pageId={id}")).await;
    assert_eq!(r.status(), 303);
    let r = c.get(&format!("/spaces/DOC/pages/{id}/Wrong+Title")).await;
    assert_eq!(
        r.status(),
        303,
        "a stale title in the URL redirects to the canonical one"
    );
    let r = c.get("/pages/viewpage.action?pageId=abc").await;
    assert_eq!(r.status(), 404);
    // Services agree: blog posts are content too.
    let admin = cairn::users::by_name(&node.sql().await, "admin")
        .await
        .unwrap()
        .unwrap();
    let v = node.viewer(Some(&admin)).await;
    let mut db = node.sql().await;
    let b = content::create(
        &mut db,
        &v,
        NewContent {
            content_type: ContentType::BlogPost,
            space_key: "DOC",
            title: "Second post",
            body: "",
            parent_id: None,
            message: "",
            labels: &[],
            posting_day: None,
        },
    )
    .await
    .unwrap();
    assert!(b.posting_day.is_some());
}

#[tokio::test]
async fn likes_on_the_page_and_over_rest() {
    let (node, c) = node_with_space().await;
    let id = c.create_page("DOC", "Liked", "<p>text</p>", None).await;
    // Nobody yet; the button says Like.
    let (_, _, page) = c
        .follow(&format!("/pages/viewpage.action?pageId={id}"))
        .await;
    assert!(
        page.contains("Be the first to like this") && page.contains(">Like<"),
        "{page}"
    );
    let r = c.post(&format!("/pages/{id}/like"), &[("like", "1")]).await;
    assert_eq!(r.status(), 303);
    // Liking twice is one like.
    c.post(&format!("/pages/{id}/like"), &[("like", "1")]).await;
    let (_, _, page) = c
        .follow(&format!("/pages/viewpage.action?pageId={id}"))
        .await;
    assert!(
        page.contains("1 person likes this") && page.contains(">Unlike<"),
        "{page}"
    );

    // A second user likes it over REST (Confluence Server's likes resource).
    node.user("bob", false).await;
    let http = reqwest::Client::new();
    let url = c.url(&format!("/rest/likes/1.0/content/{id}/likes"));
    let r = http
        .post(&url)
        .basic_auth("bob", Some(cairn_tests::password_of("bob")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["content_id"], id);
    assert_eq!(v["content_type"], "page");
    let names: Vec<&str> = v["likes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["user"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "bob"]);
    let (_, _, page) = c
        .follow(&format!("/pages/viewpage.action?pageId={id}"))
        .await;
    assert!(page.contains("2 people like this"), "{page}");

    // Unlike over REST and in the page.
    let r = http
        .delete(&url)
        .basic_auth("bob", Some(cairn_tests::password_of("bob")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    c.post(&format!("/pages/{id}/like"), &[("like", "0")]).await;
    let v: serde_json::Value = http
        .get(&url)
        .basic_auth("admin", Some(cairn_tests::password_of("admin")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["likes"].as_array().unwrap().len(), 0);

    // Anonymous cannot like (401); unknown content is a 404 in the
    // Confluence error shape; nothing changed.
    let r = http.post(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(c.url("/rest/likes/1.0/content/999999/likes"))
        .basic_auth("bob", Some(cairn_tests::password_of("bob")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["statusCode"], 404);
    // Likes are rows of their own, gone with the page when it is purged.
    c.post(&format!("/pages/{id}/like"), &[("like", "1")]).await;
    let db = node.sql().await;
    let count = "SELECT count(*) FROM likes WHERE content_id = $1";
    let n: i64 = db.query_one(count, &[&id]).await.unwrap().get(0);
    assert_eq!(n, 1);
    assert_eq!(
        c.post(&format!("/pages/{id}/delete"), &[]).await.status(),
        303
    );
    let r = c.post(&format!("/trash/{id}/purge"), &[]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let n: i64 = db.query_one(count, &[&id]).await.unwrap().get(0);
    assert_eq!(n, 0);
}
