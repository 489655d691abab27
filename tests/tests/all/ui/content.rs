//! How content reads: versions compared as rendered pages, emoticons as
//! bundled images.

use super::*;

#[tokio::test]
async fn versions_compare_as_rendered_pages_with_words_and_blocks_marked() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("DIFF", "Diffs").await;
    let code = "<ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[let answer = 42;]]></ac:plain-text-body></ac:structured-macro>";
    let tail = "<p>kept one</p><p>kept two</p><p>kept three</p><p>kept four</p>";
    let v1 = format!(
        "<h2>Plan</h2><p>the quick brown fox</p><table><tbody><tr><td>cell 1</td></tr></tbody></table>{code}{tail}"
    );
    let v2 = format!(
        "<h2>Plan</h2><p>the slow brown fox jumps</p><table><tbody><tr><td>cell 2</td></tr></tbody></table><p>a new paragraph</p>{tail}"
    );
    let id = c.create_page("DIFF", "Compared", &v1, None).await;
    let (s, v) = node
        .rest(
            "admin",
            reqwest::Method::PUT,
            &format!("/rest/api/content/{id}"),
            Some(
                serde_json::json!({"version": {"number": 2}, "title": "Compared", "type": "page",
                "body": {"storage": {"value": v2, "representation": "storage"}}}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let diff_of = |html: &str| -> String {
        let start = html.find("id=\"diff\"").expect("the diff");
        html[start..].to_owned()
    };

    // Rendered (the default): words marked in the page, no storage markup.
    let (s, html) = c.get_text(&format!("/pages/{id}/diff?from=1&to=2")).await;
    assert_eq!(s, 200);
    let d = diff_of(&html);
    assert!(d.contains("<del class=\"diff-word\">quick</del>"), "{d}");
    assert!(d.contains("<ins class=\"diff-word\">slow</ins>"), "{d}");
    assert!(d.contains("<ins class=\"diff-word\">jumps</ins>"), "{d}");
    assert!(
        !d.contains("ac:structured-macro") && !d.contains("&lt;p&gt;"),
        "storage markup shown: {d}"
    );
    // The table is compared as a block: removed and added whole.
    let removed = d.matches("diff-block diff-removed").count();
    let added = d.matches("diff-block diff-added").count();
    assert_eq!(
        (removed, added),
        (2, 2),
        "table out and in, the code macro out, a paragraph in: {d}"
    );
    assert!(d.contains("cell 1") && d.contains("cell 2"));
    // The removed macro is shown as it rendered (highlighted code), not as XML.
    assert!(d.contains("code-block") && d.contains("answer"), "{d}");
    assert!(d.contains("a new paragraph"));

    // Side by side: only changed blocks with one block of context.
    let (s, html) = c
        .get_text(&format!("/pages/{id}/diff?from=1&to=2&mode=side"))
        .await;
    assert_eq!(s, 200);
    let d = diff_of(&html);
    assert!(d.contains("kept one"), "context after the last change: {d}");
    assert!(
        !d.contains("kept three"),
        "unchanged blocks far from a change are left out: {d}"
    );
    assert!(d.contains("3 unchanged blocks"), "{d}");

    // The source diff is one click away.
    assert!(html.contains("mode=source\""));
    let (s, html) = c
        .get_text(&format!("/pages/{id}/diff?from=1&to=2&mode=source"))
        .await;
    assert_eq!(s, 200);
    assert!(
        diff_of(&html).contains("ac:structured-macro"),
        "the source diff shows the XML"
    );
}

#[tokio::test]
async fn emoticons_are_bundled_images_with_their_character_as_text() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("EMO", "Emoticons").await;
    let id = c
        .create_page(
            "EMO",
            "Faces",
            "<p>ok <ac:emoticon ac:name=\"smile\"/> and <ac:emoticon ac:name=\"no-such-face\"/></p>",
            None,
        )
        .await;
    let html = c.view_page(id).await;
    assert!(
        html.contains(
            "<img class=\"emoticon emoticon-smile\" src=\"/assets/emoticons/smile.svg\" alt=\"🙂\""
        ),
        "{html}"
    );
    assert!(
        html.contains(":no-such-face:"),
        "an unknown name stays text"
    );
    for name in ["smile", "broken-heart", "blue-star", "information"] {
        let r = c.get(&format!("/assets/emoticons/{name}.svg")).await;
        assert_eq!(r.status(), 200, "{name}");
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
        assert!(r.text().await.unwrap().starts_with("<svg"));
    }
    assert_eq!(c.get("/assets/emoticons/nope.svg").await.status(), 404);
}

#[tokio::test]
async fn moves_are_in_the_page_history_with_an_undo() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("MV", "Moves").await;
    let a = c.create_page("MV", "Alpha", "<p>a</p>", None).await;
    let b = c.create_page("MV", "Bravo", "<p>b</p>", None).await;
    let r = c
        .post(&format!("/pages/{b}/move"), &[("parent", &a.to_string())])
        .await;
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(node.ancestors(b).await.last().cloned(), Some(a.to_string()));
    let (s, html) = c.get_text(&format!("/pages/{b}/history")).await;
    assert_eq!(s, 200);
    assert!(html.contains("id=\"moves\""), "{html}");
    assert!(html.contains("under “Alpha” in MV"), "{html}");
    let undo = html
        .split(&format!("action=\"/pages/{b}/moves/"))
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("an undo form")
        .to_owned();
    let r = c.post(&format!("/pages/{b}/moves/{undo}/undo"), &[]).await;
    assert_eq!(r.status(), 303);
    assert_ne!(
        node.ancestors(b).await.last().cloned(),
        Some(a.to_string()),
        "back at the top"
    );
    let (_, html) = c.get_text(&format!("/pages/{b}/history")).await;
    assert_eq!(
        html.matches("Undo this move").count(),
        1,
        "only the latest move (the undo) can be undone: {html}"
    );
}
