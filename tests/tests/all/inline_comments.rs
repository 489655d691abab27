//! Inline comments over Confluence's REST API: created with
//! `extensions.location = inline` and `inlineProperties`, listed with
//! `child/comment?location=inline|footer|resolved`, replies inherit the
//! marker, resolve and reopen.

use cairn_tests::TestNode;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn inline_comments_as_confluence() {
    let node = TestNode::start().await;
    node.user("bob", false).await;
    let admin = node.login("admin").await;
    admin.create_space("TEAM", "Team").await;
    let body = "<p>We ship <ac:inline-comment-marker ac:ref=\"m-1\">on Monday</ac:inline-comment-marker>.</p>";
    let page = admin.create_page("TEAM", "Plan", body, None).await;
    let comment = |extra: Value| {
        let mut c = json!({"type": "comment", "container": {"id": page.to_string(), "type": "page"},
                           "body": {"storage": {"value": "<p>Tuesday?</p>", "representation": "storage"}}});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    let (s, inline) = node.rest( "bob", Method::POST, "/rest/api/content", Some(comment(json!({
        "extensions": {"location": "inline", "inlineProperties": {"markerRef": "m-1", "originalSelection": "on Monday"}}
    })))).await;
    assert_eq!(s, 200, "{inline}");
    assert_eq!(inline["extensions"]["location"], "inline");
    assert_eq!(inline["extensions"]["inlineProperties"]["markerRef"], "m-1");
    assert_eq!(inline["extensions"]["resolution"]["status"], "open");
    let inline_id = inline["id"].as_str().unwrap().to_owned();
    let (s, footer) = node
        .rest(
            "bob",
            Method::POST,
            "/rest/api/content",
            Some(comment(json!({}))),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(footer["extensions"]["location"], "footer");
    // A reply to the inline comment is inline, on the same marker.
    let (s, reply) = node
        .rest(
            "admin",
            Method::POST,
            "/rest/api/content",
            Some(comment(json!({
                "ancestors": [{"id": inline_id}]
            }))),
        )
        .await;
    assert_eq!(s, 200, "{reply}");
    assert_eq!(reply["extensions"]["inlineProperties"]["markerRef"], "m-1");

    let list = |loc: &'static str| {
        let node = &node;
        async move {
            let (s, v) = node
                .rest(
                    "bob",
                    Method::GET,
                    &format!("/rest/api/content/{page}/child/comment?location={loc}"),
                    None,
                )
                .await;
            assert_eq!(s, 200, "{v}");
            v["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let reply_id = reply["id"].as_str().unwrap().to_owned();
    assert_eq!(list("inline").await, [inline_id.clone(), reply_id.clone()]);
    assert_eq!(
        list("footer").await,
        [footer["id"].as_str().unwrap().to_owned()]
    );
    assert!(list("resolved").await.is_empty());

    // Resolve, then reopen.
    let path = format!("/rest/cairn/1.0/comments/{inline_id}/resolution");
    let (s, v) = node
        .rest(
            "bob",
            Method::PUT,
            &path,
            Some(json!({"status": "resolved"})),
        )
        .await;
    assert_eq!((s, &v["status"]), (200, &json!("resolved")), "{v}");
    assert_eq!(list("resolved").await, std::slice::from_ref(&inline_id));
    let (_, c) = node
        .rest(
            "bob",
            Method::GET,
            &format!("/rest/api/content/{inline_id}"),
            None,
        )
        .await;
    assert_eq!(c["extensions"]["resolution"]["status"], "resolved");
    assert_eq!(
        c["extensions"]["resolution"]["lastModifier"]["username"],
        "bob"
    );
    let (_, v) = node
        .rest("bob", Method::PUT, &path, Some(json!({"status": "open"})))
        .await;
    assert_eq!(v["status"], "reopened");

    // Bad input: the envelope, naming the field.
    let (s, v) = node
        .rest(
            "bob",
            Method::POST,
            "/rest/api/content",
            Some(comment(json!({
                "extensions": {"location": "inline", "inlineProperties": {"markerRef": "<x>"}}
            }))),
        )
        .await;
    assert_eq!(s, 400);
    assert!(v["message"].as_str().unwrap().contains("markerRef"), "{v}");
    let (s, _) = node
        .rest(
            "bob",
            Method::POST,
            "/rest/api/content",
            Some(comment(json!({
                "extensions": {"location": "inline"}
            }))),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = node
        .rest(
            "bob",
            Method::GET,
            &format!("/rest/api/content/{page}/child/comment?location=side"),
            None,
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = node
        .rest(
            "bob",
            Method::PUT,
            &format!(
                "/rest/cairn/1.0/comments/{}/resolution",
                footer["id"].as_str().unwrap()
            ),
            Some(json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(s, 400, "a footer comment has no resolution");
}

/// A client that sends only the selection (no marker in the page yet) gets
/// the marker written, at the occurrence `matchIndex` names.
#[tokio::test]
async fn an_inline_comment_over_rest_writes_its_marker_when_the_page_has_none() {
    let node = TestNode::start().await;
    let admin = node.login("admin").await;
    admin.create_space("TEAM", "Team").await;
    let page = admin
        .create_page("TEAM", "Plan", "<p>alpha beta alpha</p>", None)
        .await;
    let post = |selection: &str, index: Value| {
        let node = &node;
        let body = json!({"type": "comment", "container": {"id": page.to_string(), "type": "page"},
            "body": {"storage": {"value": "<p>which alpha?</p>", "representation": "storage"}},
            "extensions": {"location": "inline", "inlineProperties":
                {"markerRef": "m-2", "originalSelection": selection, "matchIndex": index}}});
        async move {
            node.rest("admin", Method::POST, "/rest/api/content", Some(body))
                .await
        }
    };
    let (s, v) = post("zzz", json!(0)).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = post("alpha", json!(1)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["extensions"]["inlineProperties"]["markerRef"], "m-2");
    let (_, p) = node
        .rest(
            "admin",
            Method::GET,
            &format!("/rest/api/content/{page}?expand=body.storage,version"),
            None,
        )
        .await;
    assert_eq!(
        p["body"]["storage"]["value"],
        "<p>alpha beta <ac:inline-comment-marker ac:ref=\"m-2\">alpha</ac:inline-comment-marker></p>"
    );
    assert_eq!(p["version"]["number"], 2);
    let (_, list) = node
        .rest(
            "admin",
            Method::GET,
            &format!("/rest/api/content/{page}/child/comment?location=inline"),
            None,
        )
        .await;
    assert_eq!(list["size"], 1, "the refused one left nothing: {list}");
}
