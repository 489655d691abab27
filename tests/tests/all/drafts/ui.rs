//! Drafts in the UI over plain HTTP, as `drafts.js` sends them: autosave,
//! the offer to resume, the conflict view, publishing, the dashboard list.

use super::*;

/// Saves the editor's form as a draft the way the autosave does; the JSON answer.
async fn autosave(c: &Client, fields: &[(&str, &str)]) -> Value {
    let r = c.post("/ui/drafts", fields).await;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    assert_eq!(status, 200, "autosave: {text}");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

async fn my_drafts(c: &Client) -> Vec<Value> {
    let (s, text) = c.get_text("/ui/drafts").await;
    assert_eq!(s, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    v["results"].as_array().unwrap().clone()
}

/// `s` as the templates escape text (askama's numeric references).
fn escaped(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

#[tokio::test]
async fn publishing_a_resumed_draft_over_a_change_shows_the_conflict_view_with_the_draft_text() {
    let node = setup().await;
    let id = page(&node, "admin", "Plan", "<p>one</p><p>two</p>").await;
    let alice = node.login("alice").await;
    let bob = node.login("bob").await;
    let idv = id.to_string();
    let mine = "<p>one</p><p>two, alice was here</p>";
    let v = autosave(
        &alice,
        &[
            ("id", &idv),
            ("space", "DR"),
            ("title", "Plan"),
            ("body", mine),
            ("format", "storage"),
            ("base_version", "1"),
        ],
    )
    .await;
    assert_eq!(v["state"], "saved", "{v}");
    assert!(v["savedAt"].is_string());

    // Someone else saves version 2.
    update(&node, "admin", id, 2, "Plan", "<p>ONE</p><p>two</p>").await;

    // The editor offers the draft (saying the page moved on); only to alice.
    let (s, html) = alice.get_text(&format!("/pages/{id}/edit")).await;
    assert_eq!(s, 200);
    assert!(html.contains("You have an unpublished draft"), "{html}");
    assert!(html.contains("the page has changed since you started it"));
    assert!(html.contains(&format!("href=\"/pages/{id}/edit?draft=resume\"")));
    assert!(
        !html.contains("alice was here"),
        "not filled in before Resume"
    );
    let (_, other) = bob.get_text(&format!("/pages/{id}/edit")).await;
    assert!(!other.contains("unpublished draft"));
    assert!(!other.contains("alice was here"));
    assert!(my_drafts(&bob).await.is_empty());

    // Resume fills the form with the draft and the version it started from.
    let (s, html) = alice
        .get_text(&format!("/pages/{id}/edit?draft=resume"))
        .await;
    assert_eq!(s, 200);
    assert!(html.contains(&escaped(mine)), "{html}");
    assert_eq!(input_value(&html, "base_version").as_deref(), Some("1"));

    // Publishing it: the conflict view, the draft's text kept, both merged.
    let r = alice
        .post(
            &format!("/pages/{id}/edit"),
            &[
                ("title", "Plan"),
                ("body", mine),
                ("format", "storage"),
                ("base_version", "1"),
                ("space", "DR"),
                ("id", &idv),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("Someone else saved this page"), "{html}");
    assert!(
        html.contains(&format!(">\n{}</textarea>", escaped(mine))),
        "yours kept"
    );
    assert!(
        html.contains("What changed since you started editing"),
        "theirs"
    );
    assert!(html.contains("What you changed"), "yours");
    assert!(
        html.contains(&escaped("<p>ONE</p><p>two, alice was here</p>")),
        "merged: {html}"
    );
    assert_eq!(input_value(&html, "base_version").as_deref(), Some("2"));
    assert_eq!(
        my_drafts(&alice).await.len(),
        1,
        "the draft survives a conflict"
    );
    let (_, v) = node
        .rest(
            "admin",
            Method::GET,
            &format!("/rest/api/content/{id}?expand=body.storage"),
            None,
        )
        .await;
    assert_eq!(
        v["body"]["storage"]["value"], "<p>ONE</p><p>two</p>",
        "no overwrite"
    );

    // Saving again on top of version 2 publishes and deletes the draft.
    let r = alice
        .post(
            &format!("/pages/{id}/edit"),
            &[
                ("title", "Plan"),
                ("body", "<p>ONE</p><p>two, alice was here</p>"),
                ("format", "storage"),
                ("base_version", "2"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(my_drafts(&alice).await.is_empty());
    assert_eq!(drafts_in_db(&node).await, 0);
}

#[tokio::test]
async fn a_new_pages_draft_is_offered_on_the_create_screen_and_becomes_the_page_with_its_id() {
    let node = setup().await;
    let alice = node.login("alice").await;
    let new_page = [
        ("id", "0"),
        ("space", "DR"),
        ("title", "Fresh"),
        ("body", "hello *draft*"),
        ("format", "markdown"),
        ("labels", "ideas"),
    ];
    let v = autosave(&alice, &new_page).await;
    assert_eq!(v["state"], "saved");
    let draft = v["draft"].as_i64().unwrap();
    let draft_s = draft.to_string();
    // The next autosave names the draft: the same one is updated.
    let mut again = new_page.to_vec();
    again.push(("draft", &draft_s));
    again[3] = ("body", "hello *draft*, more");
    let v = autosave(&alice, &again).await;
    assert_eq!(v["draft"].as_i64(), Some(draft));
    assert_eq!(drafts_in_db(&node).await, 1);

    // The dashboard's list and the Create screen offer it.
    let list = my_drafts(&alice).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["title"], "Fresh");
    let resume = format!("/spaces/DR/create?draft={draft}");
    assert_eq!(list[0]["url"], resume.as_str());
    let (_, html) = alice.get_text("/").await;
    assert!(
        html.contains("id=\"my-drafts\""),
        "the dashboard has the list"
    );
    let (_, html) = alice.get_text("/spaces/DR/create").await;
    assert!(html.contains("You have an unpublished draft"), "{html}");
    assert!(html.contains(&format!("href=\"{}\"", resume.replace('&', "&amp;"))));
    let (s, html) = alice.get_text(&resume).await;
    assert_eq!(s, 200);
    assert!(html.contains("value=\"Fresh\""), "the draft's title");
    assert_eq!(
        input_value(&html, "draft").as_deref(),
        Some(draft_s.as_str())
    );
    assert!(html.contains("hello *draft*, more</textarea>"));
    // Nobody else can resume it.
    let bob = node.login("bob").await;
    let (s, _) = bob.get_text(&resume).await;
    assert_eq!(s, 404);

    // Publishing gives the page the draft's id and deletes the draft; a
    // late autosave does not bring it back.
    let r = alice
        .post(
            "/spaces/DR/create",
            &[
                ("title", "Fresh"),
                ("body", "hello *draft*, more"),
                ("format", "markdown"),
                ("draft", &draft_s),
                ("labels", "ideas"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        cairn_tests::page_id_of(&Client::location(&r)),
        Some(draft),
        "the page has the draft's id"
    );
    let v = autosave(&alice, &again).await;
    assert_eq!(v["state"], "published", "{v}");
    assert_eq!(drafts_in_db(&node).await, 0);
    let (_, html) = alice.get_text("/spaces/DR/create").await;
    assert!(!html.contains("unpublished draft"));
}

#[tokio::test]
async fn discarding_or_trashing_the_page_removes_the_draft_and_saving_the_page_as_is_keeps_none() {
    let node = setup().await;
    let id = page(&node, "admin", "Doomed", "<p>x</p>").await;
    let idv = id.to_string();
    let alice = node.login("alice").await;
    let fields = |body: &'static str| {
        [
            ("id", idv.clone()),
            ("space", "DR".to_owned()),
            ("title", "Doomed".to_owned()),
            ("body", body.to_owned()),
            ("format", "storage".to_owned()),
            ("base_version", "1".to_owned()),
        ]
    };
    let as_refs = |f: &[(&'static str, String)]| -> Vec<(&'static str, String)> { f.to_vec() };
    let send = |f: Vec<(&'static str, String)>| {
        let alice = &alice;
        async move {
            let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            autosave(alice, &refs).await
        }
    };
    // Text equal to the page is no draft.
    let v = send(as_refs(&fields("<p>x</p>"))).await;
    assert_eq!(v["state"], "unchanged");
    assert_eq!(drafts_in_db(&node).await, 0);

    // Discard.
    assert_eq!(send(as_refs(&fields("<p>y</p>"))).await["state"], "saved");
    let r = alice.post(&format!("/ui/drafts/{id}/discard"), &[]).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(Client::location(&r), format!("/pages/{id}/edit"));
    assert_eq!(drafts_in_db(&node).await, 0);
    let bob = node.login("bob").await;
    assert_eq!(send(as_refs(&fields("<p>z</p>"))).await["state"], "saved");
    let r = bob.post(&format!("/ui/drafts/{id}/discard"), &[]).await;
    assert_eq!(r.status().as_u16(), 404, "bob cannot discard alice's draft");
    assert_eq!(drafts_in_db(&node).await, 1);

    // Trashing the page takes its drafts.
    let (s, _) = node
        .rest(
            "admin",
            Method::DELETE,
            &format!("/rest/api/content/{id}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(drafts_in_db(&node).await, 0);
}

#[tokio::test]
async fn a_draft_saved_through_one_node_is_offered_by_another() {
    // Nodes share PostgreSQL, the drafts' only store: what one node saved
    // is there for any other (a second node serving the same database).
    let node = setup().await;
    let id = page(&node, "admin", "Everywhere", "<p>x</p>").await;
    let idv = id.to_string();
    let a = node.login("alice").await;
    let v = autosave(
        &a,
        &[
            ("id", &idv),
            ("space", "DR"),
            ("title", "Everywhere"),
            ("body", "<p>typed on node A</p>"),
            ("format", "storage"),
            ("base_version", "1"),
        ],
    )
    .await;
    assert_eq!(v["state"], "saved");
    drop(a);
    let other = cairn_tests::serve(node.pool.clone(), true).await;
    let mut b = node.anon();
    b.base = other;
    b.login("alice", &password_of("alice")).await;
    let (s, html) = b.get_text(&format!("/pages/{id}/edit?draft=resume")).await;
    assert_eq!(s, 200);
    assert!(html.contains(&escaped("<p>typed on node A</p>")), "{html}");
}
