//! Working together on a page: inline comments anchored to selected text
//! (and the thread told when it is resolved), Share, @-mentions as people
//! type, and the daily digest.

use super::*;

async fn page_body(node: &TestNode, id: i64) -> (String, i64, Value) {
    let (_, v) = node
        .rest(
            "admin",
            Method::GET,
            &format!("/rest/api/content/{id}?expand=body.storage,version"),
            None,
        )
        .await;
    (
        v["body"]["storage"]["value"].as_str().unwrap().to_owned(),
        v["version"]["number"].as_i64().unwrap(),
        v["version"].clone(),
    )
}

#[tokio::test]
async fn an_inline_comment_is_anchored_to_the_selected_text_and_its_thread_hears_of_the_resolution()
{
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    space_of_users(&node, &["ann", "carol", "dave"]).await;
    node.rest(
        "dave",
        Method::POST,
        "/rest/api/user/watch/space/TEAM",
        None,
    )
    .await;
    let p = create_page(
        &node,
        "ann",
        "TEAM",
        "Runbook",
        "<p>The deploy runs <strong>every night</strong> at two.</p><p>Ask the on-call.</p>",
    )
    .await;
    settle(&node).await;
    let before_mails = smtp.mails().len();
    let carol = node.login("carol").await;

    // Text that is not in the page is refused beside the selection.
    let r = carol
        .post_from_script(
            &format!("/pages/{p}/inline-comments"),
            &[("selection", "runs every day"), ("body", "hm")],
        )
        .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["field"], "selection", "{v}");
    assert_eq!(page_body(&node, p).await.1, 1, "nothing was written");

    // Carol comments on "runs every night" (across the bold) and mentions ann.
    let r = carol
        .post(
            &format!("/pages/{p}/inline-comments"),
            &[
                ("selection", "runs every night"),
                ("before", "The deploy "),
                ("after", " at two."),
                ("body", "Why nightly, @ann?"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let to = Client::location(&r);
    let first: i64 = to.rsplit("#comment-").next().unwrap().parse().unwrap();
    let (body, version, v) = page_body(&node, p).await;
    let marker = body
        .split("ac:ref=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let m = format!("<ac:inline-comment-marker ac:ref=\"{marker}\">");
    assert_eq!(
        body,
        format!("<p>The deploy {m}runs</ac:inline-comment-marker> <strong>{m}every night</ac:inline-comment-marker></strong> at two.</p><p>Ask the on-call.</p>"),
        "the marker wraps exactly the selection"
    );
    assert_eq!(version, 2);
    assert_eq!(v["minorEdit"], true, "{v}");
    assert_eq!(v["message"], "Inline comment added", "{v}");
    // Confluence's REST sees an inline comment on that marker.
    let (_, list) = node
        .rest(
            "ann",
            Method::GET,
            &format!("/rest/api/content/{p}/child/comment?location=inline&expand=extensions.inlineProperties,body.storage"),
            None,
        )
        .await;
    let c = &list["results"][0];
    assert_eq!(
        c["extensions"]["inlineProperties"]["markerRef"],
        marker.as_str(),
        "{list}"
    );
    assert_eq!(
        c["extensions"]["inlineProperties"]["originalSelection"],
        "runs every night"
    );
    assert!(
        c["body"]["storage"]["value"]
            .as_str()
            .unwrap()
            .contains("<ri:user ri:userkey="),
        "@ann became a mention: {c}"
    );
    // Ann hears of it as a mention; the inline version itself notifies nobody.
    let got = wait_mails(&smtp, "ann", 1).await;
    assert!(
        got[0]["text"]
            .as_str()
            .unwrap()
            .contains("mentioned you on"),
        "{:#}",
        got[0]
    );

    // The page shows the highlighted text and the thread beside it.
    let ann = node.login("ann").await;
    let html = ann.view_page(p).await;
    assert!(
        html.contains(&format!(
            "<span class=\"inline-marker\" data-ref=\"{marker}\">runs</span>"
        )),
        "{html}"
    );
    assert!(html.contains(&format!("id=\"thread-{first}\"")), "{html}");
    assert!(html.contains("1 inline comment<"), "{html}");
    assert!(
        html.contains("0 Comments"),
        "an inline comment is not a page comment"
    );

    // Ann replies in the thread and resolves it: carol hears, dave (a
    // watcher, not in the thread) does not.
    let r = ann
        .post(
            &format!("/pages/{p}/comments"),
            &[("reply_to", &first.to_string()), ("body", "Backups.")],
        )
        .await;
    assert_eq!(r.status(), 303);
    settle(&node).await;
    let dave_before = smtp.mails_to("dave").len();
    let carol_before = smtp.mails_to("carol").len();
    let r = ann
        .post(&format!("/comments/{first}/resolve"), &[("resolved", "1")])
        .await;
    assert_eq!(r.status(), 303);
    let got = wait_mails(&smtp, "carol", carol_before + 1).await;
    let text = got.last().unwrap()["text"].as_str().unwrap();
    assert!(
        text.contains("ann Example resolved a comment thread on \"Runbook\""),
        "{text}"
    );
    settle(&node).await;
    assert_eq!(
        smtp.mails_to("dave").len(),
        dave_before,
        "watchers are not told of a resolution"
    );
    let html = ann.view_page(p).await;
    assert!(html.contains("Resolved comments (1)"), "{html}");
    assert!(html.contains("Resolved by ann Example"), "{html}");
    assert!(html.contains("0 inline comments"), "{html}");

    // Reopened, then the text is deleted: the thread becomes a page comment
    // that says what it was on.
    ann.post(&format!("/comments/{first}/resolve"), &[("resolved", "0")])
        .await;
    edit_page(&node, "ann", p, "<p>Deploys are manual now.</p>", "rewrite").await;
    let html = ann.view_page(p).await;
    assert!(
        html.contains(
            "Commented on text that was later removed from the page: <q>runs every night</q>"
        ),
        "{html}"
    );
    assert!(!html.contains("id=\"inline-comments\""), "{html}");
    assert!(smtp.mails().len() > before_mails);
}

#[tokio::test]
async fn share_tells_the_people_named_and_only_people_who_may_see_the_page() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    let admin = space_of_users(&node, &["ann", "carol", "mia", "zed"]).await;
    let p = create_page(&node, "ann", "TEAM", "Roadmap", "<p>Q3 goals</p>").await;
    let secret = create_page(&node, "ann", "TEAM", "Salaries", "<p>numbers</p>").await;
    let r = admin.restrict(secret, "read", "user", "ann").await;
    assert_eq!(r.status(), 200);
    settle(&node).await;
    let ann = node.login("ann").await;

    for (to, field, words) in [
        ("", "to", "at least one person"),
        ("carol, nobody-here", "to", "nobody-here"),
        ("ann", "to", "yourself"),
    ] {
        let r = ann
            .post_from_script(&format!("/pages/{p}/share"), &[("to", to), ("note", "")])
            .await;
        assert_eq!(r.status(), 400, "{to}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["field"], field, "{v}");
        assert!(v["message"].as_str().unwrap().contains(words), "{v}");
    }
    // Zed may not see the salaries: the share is refused, nothing is sent.
    let r = ann
        .post_from_script(
            &format!("/pages/{secret}/share"),
            &[("to", "zed"), ("note", "")],
        )
        .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("zed example cannot see this page"),
        "{v}"
    );

    // By username and by e-mail address, with a note.
    let r = ann
        .submit(
            &format!("/pages/{p}/share"),
            &[
                ("to", "carol; mia@example.com"),
                ("note", "Please review before Friday"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Shared with carol Example, mia Example."),
        "{html}"
    );
    for who in ["carol", "mia"] {
        let got = wait_mails(&smtp, who, 1).await;
        let text = got[0]["text"].as_str().unwrap();
        assert!(
            text.contains("ann Example shared with you: \"Roadmap\""),
            "{text}"
        );
        assert!(text.contains("Please review before Friday"), "{text}");
        let (_, list) = node.login(who).await.get_text("/notifications").await;
        assert!(list.contains("shared with you:"), "{list}");
    }
    settle(&node).await;
    assert!(
        smtp.mails_to("zed").is_empty(),
        "{:#?}",
        smtp.mails_to("zed")
    );
    assert!(smtp.mails_to("ann").is_empty(), "the sharer is not told");
}

#[tokio::test]
async fn an_address_without_an_account_gets_a_share_only_of_a_page_anyone_may_read() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    let admin = space_of_users(&node, &["ann", "carol"]).await;
    admin.create_space("PUB", "Public").await;
    let open = admin
        .create_page("PUB", "Opening hours", "<p>9 to 5</p>", None)
        .await;
    let team = create_page(&node, "ann", "TEAM", "Roadmap", "<p>Q3 goals</p>").await;
    // Anonymous readers may use the site and view PUB, not TEAM.
    node.sql()
        .await
        .batch_execute(
            "INSERT INTO global_permissions (permission) VALUES ('use');
             INSERT INTO space_permissions (space_id, permission)
               SELECT id, 'view' FROM spaces WHERE space_key = 'PUB';",
        )
        .await
        .unwrap();
    settle(&node).await;
    let ann = node.login("ann").await;
    let count = |sql: &'static str| {
        let node = &node;
        async move {
            node.sql()
                .await
                .query_one(sql, &[])
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    };
    let events = "SELECT count(*) FROM notify_outbox WHERE kind = 'shared'";

    // A team page: the address is refused, and nothing at all is recorded
    // (carol, named too, is not told either).
    let before = count(events).await;
    for (to, words) in [
        (
            "carol, pat@outside.example",
            "only people with an account may see this page",
        ),
        ("pat@@outside", "not an e-mail address"),
    ] {
        let r = ann
            .post_from_script(&format!("/pages/{team}/share"), &[("to", to), ("note", "")])
            .await;
        assert_eq!(r.status(), 400, "{to}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["field"], "to");
        assert!(v["message"].as_str().unwrap().contains(words), "{v}");
    }
    assert_eq!(count(events).await, before);

    // A public page: the address gets one mail with the note and the link,
    // no unsubscribe link and no settings; carol gets hers as usual.
    let r = ann
        .submit(
            &format!("/pages/{open}/share"),
            &[
                ("to", "Pat@Outside.example, carol, pat@outside.example"),
                ("note", "Our hours, for the visit"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Shared with pat@outside.example, carol Example."),
        "{html}"
    );
    wait_mails(&smtp, "carol", 1).await;
    let to_pat = || -> Vec<Value> {
        smtp.mails()
            .into_iter()
            .filter(|m| {
                m["to"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t == "pat@outside.example")
            })
            .collect()
    };
    assert!(wait_until(Duration::from_secs(30), || async { !to_pat().is_empty() }).await);
    settle(&node).await;
    let pat = to_pat();
    assert_eq!(pat.len(), 1, "{pat:#?}");
    let text = pat[0]["text"].as_str().unwrap();
    assert!(
        text.contains("ann Example shared with you: \"Opening hours\""),
        "{text}"
    );
    assert!(text.contains("Our hours, for the visit"), "{text}");
    assert!(
        text.contains(&format!("/pages/{open}/")) || text.contains("Opening+hours"),
        "{text}"
    );
    assert!(text.contains("shared this page of"), "{text}");
    assert!(!text.contains("Notification settings"), "{text}");
    assert!(pat[0]["headers"].get("List-Unsubscribe").is_none());
    assert_eq!(
        count("SELECT count(*) FROM mail_queue WHERE to_address IS NOT NULL").await,
        1
    );

    // Made private before the mail goes out: nothing is sent (checked as
    // an anonymous reader when composed).
    node.sql()
        .await
        .batch_execute(
            "DELETE FROM space_permissions WHERE user_id IS NULL AND group_id IS NULL
               AND space_id = (SELECT id FROM spaces WHERE space_key = 'PUB')",
        )
        .await
        .unwrap();
    let ev = share_event_as_recorded(&node, open, "late@outside.example").await;
    settle(&node).await;
    let state: String = node
        .sql()
        .await
        .query_one(
            "SELECT state FROM mail_queue WHERE event_id = $1 AND to_address IS NOT NULL",
            &[&ev],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(state, "dropped");
    assert!(smtp.mails().iter().all(|m| !m["to"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "late@outside.example")));
}

/// A share event as `share` records it (written directly, as if the page
/// had been public when it was shared).
async fn share_event_as_recorded(node: &TestNode, page: i64, addr: &str) -> i64 {
    node.sql()
        .await
        .query_one(
        "INSERT INTO notify_outbox (kind, page_id, version, actor_id, detail)
         SELECT 'shared', $1, 1, id, jsonb_build_object('message', '', 'to', '[]'::jsonb, 'guests', jsonb_build_array($2::text))
         FROM users WHERE username = 'ann' RETURNING id",
        &[&page, &addr],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn at_completes_people_who_can_see_the_page_first_and_names_no_addresses() {
    let node = TestNode::start().await;
    let admin = space_of_users(&node, &["mia", "mike"]).await;
    let p = admin.create_page("TEAM", "Budget", "<p>b</p>", None).await;
    admin.restrict(p, "read", "user", "mike").await;
    let (s, body) = admin.get_text(&format!("/ui/users?q=mi&page={p}")).await;
    assert_eq!(s, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    let names: Vec<(&str, bool)> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["username"].as_str().unwrap(),
                u["canSee"].as_bool().unwrap(),
            )
        })
        .collect();
    // "mi" also matches adMIn; mia, who may not see the page, comes last.
    assert_eq!(
        names,
        [("mike", true), ("admin", true), ("mia", false)],
        "{v}"
    );
    assert!(
        !body.contains("@example.com"),
        "no e-mail addresses: {body}"
    );
    assert_eq!(
        node.anon().get("/ui/users?q=mi").await.status(),
        401,
        "signed-in only"
    );
    // Markdown's @name of a user becomes a mention; an unknown one stays text.
    let r = admin
        .post(
            &format!("/pages/{p}/comments"),
            &[("body", "Thanks @mike, cc @nobody and mike@example.com")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let key: String = node
        .sql()
        .await
        .query_one("SELECT user_key FROM users WHERE username = 'mike'", &[])
        .await
        .unwrap()
        .get(0);
    let body: String = node
        .sql()
        .await
        .query_one(
            "SELECT body FROM content WHERE container_id = $1 AND content_type = 'comment'",
            &[&p],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        body,
        format!("<p>Thanks <ac:link><ri:user ri:userkey=\"{key}\"/></ac:link>, cc @nobody and mike@example.com</p>")
    );
}

#[tokio::test]
async fn the_daily_digest_collects_the_days_changes_into_one_mail_the_next_morning() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
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
            &[("email", "daily"), ("auto_watch", "on")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let p = create_page(&node, "ann", "TEAM", "Journal", "<p>a</p>").await;
    edit_page(&node, "ann", p, "<p>a b</p>", "more").await;
    create_page(&node, "ann", "TEAM", "Ideas", "<p>c</p>").await;
    settle(&node).await;
    assert!(
        smtp.mails_to("carol").is_empty(),
        "nothing before the morning"
    );
    let db = node.sql().await;
    let due: Vec<bool> = db
        .query(
            "SELECT due_at = date_trunc('day', now()) + interval '1 day' FROM mail_queue m
             JOIN users u ON u.id = m.user_id WHERE u.username = 'carol'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        due,
        [true, true, true],
        "all three wait for tomorrow's digest"
    );
    // The next morning comes.
    db.execute(
        "UPDATE mail_queue SET due_at = now() WHERE user_id = (SELECT id FROM users WHERE username = 'carol')",
        &[],
    )
    .await
    .unwrap();
    let got = wait_mails(&smtp, "carol", 1).await;
    settle(&node).await;
    assert_eq!(smtp.mails_to("carol").len(), 1, "one digest");
    let text = got[0]["text"].as_str().unwrap();
    assert!(
        header(&got[0], "Subject").contains("3 updates"),
        "{:#}",
        got[0]
    );
    for line in [
        "ann Example created \"Journal\"",
        "ann Example edited \"Journal\"",
        "ann Example created \"Ideas\"",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
}
