//! `status=draft` over REST, as Confluence: create, read, list, save and
//! publish, for the author only.

use super::*;

fn enc(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn ids(v: &Value) -> Vec<i64> {
    v["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {v}"))
        .iter()
        .map(id_of)
        .collect()
}

#[tokio::test]
async fn a_new_pages_draft_is_its_authors_alone_until_published_with_its_id() {
    let node = setup().await;
    let (s, v) = node
        .rest(
            "alice",
            Method::POST,
            "/rest/api/content",
            Some(
                json!({"type": "page", "status": "draft", "title": "Secret plan",
                        "space": {"key": "DR"}, "body": storage("<p>first thoughts</p>")}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "draft");
    assert_eq!(v["version"]["number"], 1);
    let id = id_of(&v);

    // The author reads it; nobody else learns it exists, administrators included.
    let (s, v) = node
        .rest(
            "alice",
            Method::GET,
            &format!("/rest/api/content/{id}?status=draft&expand=body.storage,version"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["title"], "Secret plan");
    assert_eq!(v["status"], "draft");
    assert_eq!(v["body"]["storage"]["value"], "<p>first thoughts</p>");
    for user in ["bob", "admin"] {
        let (s, _) = node
            .rest(
                user,
                Method::GET,
                &format!("/rest/api/content/{id}?status=draft"),
                None,
            )
            .await;
        assert_eq!(s, 404, "{user} must not see alice's draft");
    }
    let (s, _) = node
        .rest(
            "alice",
            Method::GET,
            &format!("/rest/api/content/{id}"),
            None,
        )
        .await;
    assert_eq!(s, 404, "a draft is not current content");

    // Lists: the author's drafts only, and never among current content.
    let list = |user: &'static str, q: &'static str| {
        let node = &node;
        async move {
            let (s, v) = node
                .rest(user, Method::GET, &format!("/rest/api/content?{q}"), None)
                .await;
            assert_eq!(s, 200, "{q}: {v}");
            ids(&v)
        }
    };
    assert_eq!(list("alice", "status=draft").await, [id]);
    assert_eq!(list("alice", "type=page&status=draft").await, [id]);
    assert_eq!(list("alice", "spaceKey=DR&status=draft").await, [id]);
    assert!(list("alice", "type=blogpost&status=draft").await.is_empty());
    assert!(list("bob", "status=draft").await.is_empty());
    assert!(list("admin", "status=draft").await.is_empty());
    assert!(!list("alice", "spaceKey=DR&limit=100").await.contains(&id));
    assert!(!list("admin", "spaceKey=DR&status=any&limit=100")
        .await
        .contains(&id));

    // Saving the draft again keeps its id; another user cannot.
    let (s, v) = node
        .rest(
            "alice",
            Method::PUT,
            &format!("/rest/api/content/{id}"),
            Some(
                json!({"type": "page", "status": "draft", "title": "Secret plan v2",
                        "version": {"number": 1}, "body": storage("<p>second thoughts</p>")}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(id_of(&v), id);
    assert_eq!(v["title"], "Secret plan v2");
    let (s, _) = node
        .rest(
            "bob",
            Method::PUT,
            &format!("/rest/api/content/{id}"),
            Some(json!({"type": "page", "status": "current", "title": "Stolen", "version": {"number": 1}})),
        )
        .await;
    assert_eq!(s, 404, "bob cannot publish alice's draft");

    // Publishing: the page gets the draft's id and text; the draft is gone.
    let (s, v) = node
        .rest(
            "alice",
            Method::PUT,
            &format!("/rest/api/content/{id}?expand=body.storage,version"),
            Some(
                json!({"type": "page", "status": "current", "title": "Secret plan v2",
                        "version": {"number": 1}}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(id_of(&v), id);
    assert_eq!(v["status"], "current");
    assert_eq!(v["version"]["number"], 1);
    assert_eq!(v["body"]["storage"]["value"], "<p>second thoughts</p>");
    let (s, _) = node
        .rest(
            "alice",
            Method::GET,
            &format!("/rest/api/content/{id}?status=draft"),
            None,
        )
        .await;
    assert_eq!(s, 404, "publishing deletes the draft");
    assert!(list("alice", "status=draft").await.is_empty());
    assert_eq!(drafts_in_db(&node).await, 0);
    let (s, v) = node
        .rest("bob", Method::GET, &format!("/rest/api/content/{id}"), None)
        .await;
    assert_eq!((s, v["title"].as_str()), (200, Some("Secret plan v2")));
}

#[tokio::test]
async fn publishing_a_draft_over_someone_elses_change_is_a_conflict_never_an_overwrite() {
    let node = setup().await;
    let id = page(&node, "admin", "Shared", "<p>one</p>").await;

    // Alice's draft of the page starts from version 1.
    let (s, v) = node
        .rest(
            "alice",
            Method::PUT,
            &format!("/rest/api/content/{id}"),
            Some(json!({"type": "page", "status": "draft", "title": "Shared",
                        "version": {"number": 2}, "body": storage("<p>one, by alice</p>")})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "draft");
    assert_eq!(id_of(&v), id);
    assert_eq!(
        v["version"]["number"], 1,
        "a draft carries the version it started from"
    );
    let (s, v) = node
        .rest(
            "bob",
            Method::GET,
            &format!("/rest/api/content/{id}?status=draft"),
            None,
        )
        .await;
    assert_eq!(s, 404, "{v}");
    let (s, v) = node
        .rest(
            "bob",
            Method::GET,
            &format!("/rest/api/content/{id}?expand=body.storage"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        v["body"]["storage"]["value"], "<p>one</p>",
        "the page is unchanged"
    );

    // Bob saves version 2 meanwhile.
    update(
        &node,
        "bob",
        id,
        2,
        "Shared",
        "<p>one</p><p>two, by bob</p>",
    )
    .await;

    // Publishing the draft as it was read (version 1 + 1) or the draft's
    // text alone (version 2 + 1) is refused: bob's change would be lost.
    for number in [2, 3] {
        let (s, v) = node
            .rest(
                "alice",
                Method::PUT,
                &format!("/rest/api/content/{id}"),
                Some(
                    json!({"type": "page", "status": "current", "title": "Shared",
                            "version": {"number": number}}),
                ),
            )
            .await;
        assert_eq!(s, 409, "version {number}: {v}");
        assert!(v["message"]
            .as_str()
            .unwrap()
            .starts_with("Version must be incremented on update. Current version is: 2"));
    }
    let (s, v) = node
        .rest(
            "alice",
            Method::GET,
            &format!("/rest/api/content/{id}?status=draft&expand=body.storage"),
            None,
        )
        .await;
    assert_eq!(s, 200, "the draft is kept after a conflict: {v}");
    assert_eq!(v["body"]["storage"]["value"], "<p>one, by alice</p>");
    let (_, v) = node
        .rest(
            "admin",
            Method::GET,
            &format!("/rest/api/content/{id}?expand=body.storage"),
            None,
        )
        .await;
    assert_eq!(
        v["body"]["storage"]["value"],
        "<p>one</p><p>two, by bob</p>"
    );

    // Alice publishes her text on top of bob's version, stating it: the
    // draft goes in the same transaction.
    let (s, v) = node
        .rest(
            "alice",
            Method::PUT,
            &format!("/rest/api/content/{id}"),
            Some(json!({"type": "page", "status": "current", "title": "Shared", "version": {"number": 3},
                        "body": storage("<p>one, by alice</p><p>two, by bob</p>")})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(drafts_in_db(&node).await, 0);

    // Discarding a draft: DELETE …?status=draft.
    let (s, _) = node
        .rest(
            "alice",
            Method::PUT,
            &format!("/rest/api/content/{id}"),
            Some(json!({"type": "page", "status": "draft", "body": storage("<p>scratch</p>")})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = node
        .rest(
            "bob",
            Method::DELETE,
            &format!("/rest/api/content/{id}?status=draft"),
            None,
        )
        .await;
    assert_eq!(s, 404, "bob has no draft to discard");
    let (s, _) = node
        .rest(
            "alice",
            Method::DELETE,
            &format!("/rest/api/content/{id}?status=draft"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(drafts_in_db(&node).await, 0);
}

#[tokio::test]
async fn publishing_an_existing_pages_draft_takes_its_text_when_the_page_did_not_move() {
    let node = setup().await;
    let id = page(&node, "admin", "Calm", "<p>before</p>").await;
    let (s, _) = node
        .rest(
            "alice",
            Method::PUT,
            &format!("/rest/api/content/{id}"),
            Some(json!({"type": "page", "status": "draft", "body": storage("<p>after</p>")})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = node
        .rest(
            "alice",
            Method::PUT,
            &format!("/rest/api/content/{id}?expand=body.storage,version"),
            Some(json!({"type": "page", "status": "current", "version": {"number": 2}})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["version"]["number"], 2);
    assert_eq!(v["title"], "Calm");
    assert_eq!(v["body"]["storage"]["value"], "<p>after</p>");
    assert_eq!(drafts_in_db(&node).await, 0);
}

#[tokio::test]
async fn draft_text_is_never_found_by_search_or_cql() {
    let node = setup().await;
    let existing = page(&node, "alice", "Plain", "<p>nothing special</p>").await;
    let (s, _) = node
        .rest(
            "alice",
            Method::POST,
            "/rest/api/content",
            Some(
                json!({"type": "page", "status": "draft", "title": "Quetzalcoatlus notes",
                        "space": {"key": "DR"}, "body": storage("<p>quetzalcoatlus</p>")}),
            ),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = node
        .rest(
            "alice",
            Method::PUT,
            &format!("/rest/api/content/{existing}"),
            Some(
                json!({"type": "page", "status": "draft", "body": storage("<p>brachiosaurus</p>")}),
            ),
        )
        .await;
    assert_eq!(s, 200);
    // A page published after the drafts: once the index has it, it has
    // seen everything written before.
    page(&node, "alice", "Marker", "<p>ankylosaurus</p>").await;
    let found = |user: &'static str, cql: &'static str| {
        let node = &node;
        async move {
            let (s, v) = node
                .rest(
                    user,
                    Method::GET,
                    &format!("/rest/api/search?cql={}", enc(cql)),
                    None,
                )
                .await;
            assert_eq!(s, 200, "{cql}: {v}");
            v["totalSize"].as_i64().unwrap()
        }
    };
    assert!(
        wait_until(Duration::from_secs(20), || async {
            found("alice", "text ~ ankylosaurus").await == 1
        })
        .await,
        "the index caught up"
    );
    for user in ["alice", "admin"] {
        for cql in [
            "text ~ quetzalcoatlus",
            "title ~ Quetzalcoatlus",
            "text ~ brachiosaurus",
        ] {
            assert_eq!(found(user, cql).await, 0, "{user}: {cql}");
        }
        let (s, v) = node
            .rest(
                user,
                Method::GET,
                &format!(
                    "/rest/api/content/search?cql={}",
                    enc("text ~ quetzalcoatlus")
                ),
                None,
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(v["size"], 0, "{user}: {v}");
    }
    assert_eq!(
        found("alice", "text ~ nothing").await,
        1,
        "the page itself is found"
    );
    // The search journal never mentioned a draft.
    let journaled: i64 = node
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM index_journal j JOIN drafts d ON d.id = j.content_id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(journaled, 0);
}
