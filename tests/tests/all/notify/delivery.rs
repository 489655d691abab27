//! What watchers receive: one threaded mail each and none for the author,
//! nothing without access, refused recipients that do not block the queue,
//! batches, mentions once per version, and moves.

use super::*;

#[tokio::test]
async fn watchers_get_one_threaded_mail_each_and_the_author_none() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    space_of_users(&node, &["ann", "bob", "carol", "dave"]).await;
    let page = create_page(
        &node,
        "ann",
        "TEAM",
        "Release plan",
        "<p>Ship on Monday.</p>",
    )
    .await;
    // The creation is told to nobody (ann is its author) before anyone watches.
    settle(&node).await;
    let (s, _) = node
        .rest(
            "bob",
            Method::POST,
            &format!("/rest/api/user/watch/content/{page}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = node
        .rest(
            "carol",
            Method::POST,
            "/rest/api/user/watch/space/TEAM",
            None,
        )
        .await;
    assert_eq!(s, 204);

    edit_page(
        &node,
        "ann",
        page,
        "<p>Ship on Tuesday.</p>",
        "moved the date",
    )
    .await;
    let bob = wait_mails(&smtp, "bob", 1).await;
    let carol = wait_mails(&smtp, "carol", 1).await;
    settle(&node).await;

    let m = &bob[0];
    assert_eq!(m["to"], json!(["bob@example.com"]));
    assert_eq!(m["from"], "wiki@example.com");
    assert!(header(m, "Subject").contains("Release plan"), "{m:#}");
    assert_eq!(m["multipart"], "multipart/alternative");
    let text = m["text"].as_str().unwrap();
    assert!(
        text.contains("ann Example edited \"Release plan\""),
        "{text}"
    );
    assert!(text.contains("Change comment: moved the date"), "{text}");
    assert!(text.contains("- Ship on Monday."), "{text}");
    assert!(text.contains("+ Ship on Tuesday."), "{text}");
    assert!(
        text.contains(&format!("{}/spaces/TEAM/pages/{page}/", node.base)),
        "{text}"
    );
    let html = m["html"].as_str().unwrap();
    assert!(
        html.contains("Release plan</a>") && html.contains("moved the date"),
        "{html}"
    );
    // Threading: every mail about the page replies to the page's root id.
    let root = format!("<page-{page}@127.0.0.1>");
    assert_eq!(header(m, "In-Reply-To"), root);
    assert_eq!(header(m, "References"), root);
    assert!(header(m, "Message-ID").starts_with('<'));
    assert_ne!(header(m, "Message-ID"), header(&carol[0], "Message-ID"));
    // Bob watches the page: his mail unsubscribes him from it.
    let unsub = header(m, "List-Unsubscribe");
    assert!(unsub.contains("/notifications/unsubscribe/"), "{m:#}");
    assert!(text.contains("Stop watching this:"), "{text}");
    assert_eq!(
        header(m, "List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );

    // Own actions never notify; nobody else watches.
    assert!(smtp.mails_to("ann").is_empty());
    assert!(smtp.mails_to("dave").is_empty());

    // A comment: ann watches since she created the page (auto-watch).
    let bob_client = node.login("bob").await;
    let r = bob_client
        .post(
            &format!("/pages/{page}/comments"),
            &[("body", "Tuesday works for me")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let ann = wait_mails(&smtp, "ann", 1).await;
    wait_mails(&smtp, "carol", 2).await;
    settle(&node).await;
    assert_eq!(
        smtp.mails_to("bob").len(),
        1,
        "bob's own comment reached him"
    );
    let text = ann[0]["text"].as_str().unwrap();
    assert!(text.contains("bob Example commented on"), "{text}");
    assert!(text.contains("Tuesday works for me"), "{text}");
    assert!(text.contains("#comment-"), "{text}");
    assert_eq!(header(&ann[0], "References"), root);

    // In-app: the same events, grouped by page, with an unread count.
    let (s, v) = node
        .rest("carol", Method::GET, "/rest/cairn/1.0/notifications", None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["unread"], 2, "{v:#}");
    assert_eq!(v["results"][0]["event"], "commented");
    assert_eq!(v["results"][1]["event"], "updated");
    let carol_ui = node.login("carol").await;
    let (s, count) = carol_ui.get_text("/ui/notifications/count").await;
    assert_eq!((s, count.as_str()), (200, "{\"unread\":2}"));
    let (_, list) = carol_ui.get_text("/notifications").await;
    assert_eq!(list.matches("class=\"notify-group\"").count(), 1, "{list}");
    assert!(list.contains("bob Example commented on") && list.contains("ann Example edited"));
    let r = carol_ui.post("/notifications/read-all", &[]).await;
    assert_eq!(r.status(), 303);
    let (_, count) = carol_ui.get_text("/ui/notifications/count").await;
    assert_eq!(count, "{\"unread\":0}");

    // The unsubscribe link works without a session and removes that watch.
    let anon = node.anon();
    let path = unsub
        .trim_matches(['<', '>'])
        .trim_start_matches(&node.base)
        .to_owned();
    let (s, form) = anon.get_text(&path).await;
    assert_eq!(s, 200);
    assert!(
        form.contains("Stop getting notifications from this page?"),
        "{form}"
    );
    assert!(
        !form.contains("Release plan"),
        "the link page names no title"
    );
    let r = anon.http.post(anon.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (_, v) = node
        .rest(
            "bob",
            Method::GET,
            &format!("/rest/api/user/watch/content/{page}"),
            None,
        )
        .await;
    assert_eq!(v, json!({"watching": false}));
}

#[tokio::test]
async fn restricted_content_reaches_nobody_without_access() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    let admin = space_of_users(&node, &["eve", "ivan"]).await;
    for u in ["eve", "ivan"] {
        let (s, _) = node
            .rest(u, Method::POST, "/rest/api/user/watch/space/TEAM", None)
            .await;
        assert_eq!(s, 204);
    }
    // A restricted parent: the secret page is restricted from its creation.
    let vault = create_page(&node, "admin", "TEAM", "Vault", "<p>v</p>").await;
    for name in ["admin", "ivan"] {
        let r = admin.restrict(vault, "read", "user", name).await;
        assert_eq!(r.status(), 200);
    }
    let (s, v) = node.rest( "admin", Method::POST, "/rest/api/content",
        Some(json!({"type": "page", "title": "Zebra Protocol", "space": {"key": "TEAM"},
                    "ancestors": [{"id": vault.to_string()}],
                    "body": {"storage": {"value": "<p>launch codes</p>", "representation": "storage"}}}))).await;
    assert_eq!(s, 200, "{v}");
    let secret: i64 = v["id"].as_str().unwrap().parse().unwrap();
    // Eve cannot watch what she cannot see: "not found", as reading it.
    let (s, _) = node
        .rest(
            "eve",
            Method::POST,
            &format!("/rest/api/user/watch/content/{secret}"),
            None,
        )
        .await;
    assert_eq!(s, 404);
    edit_page(&node, "admin", secret, "<p>launch codes v2</p>", "rotated").await;
    let ok = wait_until(Duration::from_secs(30), || async {
        smtp.mails_to("ivan")
            .iter()
            .filter(|m| {
                m["text"]
                    .as_str()
                    .unwrap()
                    .contains("edited \"Zebra Protocol\"")
            })
            .count()
            == 1
    })
    .await;
    assert!(ok, "ivan was not told of the edit");
    settle(&node).await;
    // Nothing about the secret page ever reached eve, in mail or in-app.
    for m in smtp.mails_to("eve") {
        assert!(!m.to_string().contains("Zebra"), "eve was told: {m:#}");
    }
    let (_, v) = node
        .rest("eve", Method::GET, "/rest/cairn/1.0/notifications", None)
        .await;
    assert!(!v.to_string().contains("Zebra"), "{v:#}");

    // Losing access after the event was queued: the mail is not sent.
    set(&node, "smtp_port", "1").await; // nothing listens: an outage
    let open = create_page(&node, "admin", "TEAM", "Open Page", "<p>hello</p>").await;
    let ok = wait_until(Duration::from_secs(30), || async {
        let db = node.sql().await;
        db.query_one(
            "SELECT count(*) FROM mail_queue WHERE page_id = $1 AND attempts > 0 AND state = 'pending'",
            &[&open],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
            == 2
    })
    .await;
    assert!(ok, "the outage was not retried");
    // The admin page shows the queue and the error.
    let (_, page) = admin.get_text("/admin/mail").await;
    assert!(page.contains("<td id=\"q-pending\">2</td>"), "{page}");
    assert!(page.contains("<td id=\"q-retrying\">2</td>"), "{page}");
    let r = admin.restrict(open, "read", "user", "admin").await;
    assert_eq!(r.status(), 200);
    set(&node, "smtp_port", &smtp.port.to_string()).await;
    settle(&node).await;
    for m in smtp.mails() {
        assert!(
            !m.to_string().contains("Open Page"),
            "sent after access was lost: {m:#}"
        );
    }
    let (_, v) = node
        .rest("eve", Method::GET, "/rest/cairn/1.0/notifications", None)
        .await;
    assert!(!v.to_string().contains("Open Page"), "{v:#}");
    let db = node.sql().await;
    let dropped: i64 = db
        .query_one(
            "SELECT count(*) FROM mail_queue WHERE page_id = $1 AND state = 'dropped'",
            &[&open],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(dropped, 2);
}

#[tokio::test]
async fn a_refused_recipient_does_not_block_the_queue() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    space_of_users(&node, &["refusedrita", "bob", "ann"]).await;
    for u in ["refusedrita", "bob"] {
        node.rest(u, Method::POST, "/rest/api/user/watch/space/TEAM", None)
            .await;
    }
    create_page(&node, "ann", "TEAM", "First", "<p>1</p>").await;
    create_page(&node, "ann", "TEAM", "Second", "<p>2</p>").await;
    wait_mails(&smtp, "bob", 2).await;
    settle(&node).await;
    let db = node.sql().await;
    let failed: i64 = db
        .query_one(
            "SELECT count(*) FROM mail_queue WHERE state = 'failed' AND last_error LIKE '%550%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(failed, 2);
    let admin = node.login("admin").await;
    let (_, page) = admin.get_text("/admin/mail").await;
    assert!(page.contains("<td id=\"q-failed\">2</td>"), "{page}");
}

#[tokio::test]
async fn batched_mail_collects_changes_into_one_mail() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    set(&node, "mail_batch_interval", "10s").await;
    space_of_users(&node, &["ann", "carol"]).await;
    node.rest(
        "carol",
        Method::POST,
        "/rest/api/user/watch/space/TEAM",
        None,
    )
    .await;
    let carol = node.login("carol").await;
    let r = carol
        .submit(
            "/notifications/settings",
            &[("email", "batched"), ("auto_watch", "on")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let p = create_page(&node, "ann", "TEAM", "Minutes", "<p>a</p>").await;
    edit_page(&node, "ann", p, "<p>a b</p>", "second thoughts").await;
    let got = wait_mails(&smtp, "carol", 1).await;
    settle(&node).await;
    assert_eq!(smtp.mails_to("carol").len(), 1, "one digest");
    let text = got[0]["text"].as_str().unwrap();
    assert!(
        header(&got[0], "Subject").contains("2 updates"),
        "{:#}",
        got[0]
    );
    assert!(text.contains("ann Example created \"Minutes\""), "{text}");
    assert!(text.contains("ann Example edited \"Minutes\""), "{text}");
}

#[tokio::test]
async fn a_mention_notifies_once_per_version() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    space_of_users(&node, &["ann", "mia"]).await;
    let db = node.sql().await;
    let key: String = db
        .query_one("SELECT user_key FROM users WHERE username = 'mia'", &[])
        .await
        .unwrap()
        .get(0);
    let mention = format!("<ac:link><ri:user ri:userkey=\"{key}\"/></ac:link>");
    let p = create_page(&node, "ann", "TEAM", "Review", "<p>draft</p>").await;
    edit_page(
        &node,
        "ann",
        p,
        &format!("<p>{mention} please look, {mention}</p>"),
        "",
    )
    .await;
    let got = wait_mails(&smtp, "mia", 1).await;
    // A later version that mentions her again but not newly: no mail.
    edit_page(
        &node,
        "ann",
        p,
        &format!("<p>{mention} please look, {mention}. Thanks</p>"),
        "",
    )
    .await;
    settle(&node).await;
    assert_eq!(smtp.mails_to("mia").len(), 1);
    let text = got[0]["text"].as_str().unwrap();
    assert!(
        text.contains("ann Example mentioned you on \"Review\""),
        "{text}"
    );
    assert_eq!(
        header(&got[0], "List-Unsubscribe"),
        "",
        "a mention is no watch"
    );
}

#[tokio::test]
async fn moving_a_page_tells_its_watchers_where_it_went() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    space_of_users(&node, &["ann", "bob"]).await;
    let parent = create_page(&node, "ann", "TEAM", "Archive", "<p>old</p>").await;
    let page = create_page(&node, "ann", "TEAM", "Q3 notes", "<p>n</p>").await;
    settle(&node).await;
    node.rest(
        "bob",
        Method::POST,
        &format!("/rest/api/user/watch/content/{page}"),
        None,
    )
    .await;
    let (s, v) = node.rest(
        "ann",
        Method::PUT,
        &format!("/rest/api/content/{page}"),
        Some(
            json!({"type": "page", "title": "Q3 notes", "ancestors": [{"id": parent.to_string()}],
                    "version": {"number": 2}}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let got = wait_mails(&smtp, "bob", 1).await;
    settle(&node).await;
    let text = got[0]["text"].as_str().unwrap();
    assert!(text.contains("ann Example moved \"Q3 notes\""), "{text}");
    assert!(text.contains("Now at: Team > Archive"), "{text}");
    assert_eq!(smtp.mails_to("bob").len(), 1);
}
