//! Comment boxes on the page view in rich text (`host/editor/src/comments.js`,
//! loaded by `app.js` on first use): a comment with bold and a mention, a
//! reply and an edit, each stored as exact storage format; Source mode one
//! click away, a refused body keeps what was typed; axe on the open box.

use super::rich_editor::{chord, keys, CTRL};
use super::*;

/// The page's comments, oldest first: (id, storage format).
async fn comments(node: &TestNode, page: i64) -> Vec<(i64, String)> {
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            &format!(
                "/rest/api/content/{page}/child/comment?expand=body.storage&depth=all&limit=100"
            ),
            None,
        )
        .await;
    let mut out: Vec<(i64, String)> = v["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0),
                c["body"]["storage"]["value"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Waits until the comment form `form` (a CSS selector) is in rich mode with
/// the text focused.
async fn rich_box(d: &Driver, form: &str) {
    let f = serde_json::to_string(form).unwrap();
    d.wait_for(
        "the rich comment box",
        &format!(
            "const f = document.querySelector({f}); return !!f && f.dataset.mode === 'rich' && f.querySelector('.rich-body') === document.activeElement"
        ),
    )
    .await;
}

async fn mention(d: &Driver, who: &str) {
    keys(d, "@").await;
    d.wait_for(
        "the mention dialog",
        "return !!document.querySelector('#mention-q')",
    )
    .await;
    keys(d, who).await;
    d.wait_for(
        "the person offered",
        "return !!document.querySelector('#mention-q-list [role=option]')",
    )
    .await;
    keys(d, "\n").await;
    d.wait_for(
        "the mention inserted",
        "return !document.querySelector('.rich-dialog')",
    )
    .await;
}

#[tokio::test]
async fn a_comment_a_reply_and_an_edit_written_in_rich_text_store_exact_storage_format() {
    let node = TestNode::start().await;
    let ann = node.user("ann", false).await;
    let c = node.login("admin").await;
    c.create_space("RC", "Rich comments").await;
    let page = c.create_page("RC", "Discussed", "<p>Text</p>", None).await;
    let d = Driver::start().await;
    d.login(&node.base, "admin").await;
    let url = format!("{}/pages/viewpage.action?pageId={page}", node.base);
    d.goto(&url).await;
    // The page as served has no editor (its HTML is the same for every
    // viewer): the bundle comes when the browser is idle, and a box becomes
    // rich text on its first focus.
    assert_eq!(
        d.js_async(
            "const done = arguments[arguments.length - 1];
             fetch(location.href).then((r) => r.text()).then((t) => done(t.includes('/assets/editor.js')));"
        )
        .await,
        json!(false)
    );
    d.wait_for(
        "the bundle fetched while idle",
        "return !!window.CairnEditor && !document.querySelector('.new-comment .rich-body')",
    )
    .await;
    d.click(".new-comment textarea").await;
    rich_box(&d, ".new-comment").await;
    assert_eq!(
        d.js("const b = document.querySelector('.new-comment .rich-body'); return [b.getAttribute('role'), b.getAttribute('aria-label'), document.querySelector('.new-comment [role=toolbar]').getAttribute('aria-label')]").await,
        json!(["textbox", "Write a comment", "Formatting"])
    );
    let v = d.axe_violations().await;
    assert!(v.is_empty(), "axe on the rich comment box: {v:#?}");
    keys(&d, "Looks ").await;
    chord(&d, &[CTRL], "b").await;
    keys(&d, "good").await;
    chord(&d, &[CTRL], "b").await;
    keys(&d, ", thanks ").await;
    mention(&d, "ann").await;
    assert_eq!(
        d.js("return document.querySelector('.new-comment input[name=format]').value")
            .await,
        json!("storage")
    );
    d.click(".new-comment button[type=submit]").await;
    d.wait_for(
        "the comment",
        "return document.querySelectorAll('#comments .comment').length === 1",
    )
    .await;
    let first = format!(
        "<p>Looks <strong>good</strong>, thanks <ac:link><ri:user ri:userkey=\"{}\"/></ac:link> </p>",
        ann.user_key
    );
    let list = comments(&node, page).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].1, first);
    let cid = list[0].0;

    // A reply: the Reply box opens in rich text.
    d.click(&format!("#comment-{cid} .comment-actions details summary"))
        .await;
    let reply_form = format!("#comment-{cid} details[open] form[data-rich-comment]");
    d.wait_for(
        "the reply box",
        &format!(
            "const f = document.querySelector('{reply_form}'); return !!f && f.dataset.mode === 'rich'"
        ),
    )
    .await;
    d.click(&format!("{reply_form} .rich-body")).await;
    keys(&d, "Agreed, ").await;
    d.click(&format!("{reply_form} [data-tb=em]")).await;
    keys(&d, "really").await;
    chord(&d, &[CTRL], "i").await;
    keys(&d, ".").await;
    d.click(&format!("{reply_form} button[type=submit]")).await;
    d.wait_for(
        "the reply",
        "return document.querySelectorAll('#comments .comment').length === 2",
    )
    .await;
    let list = comments(&node, page).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].1, "<p>Agreed, <em>really</em>.</p>");
    let rid = list[1].0;

    // Editing the first comment: its storage format opens in rich text; one
    // change, and only its paragraph is written anew.
    d.click(&format!(
        "#comment-{cid} .comment-actions details:nth-of-type(2) summary"
    ))
    .await;
    let edit_form = format!("#comment-{cid} details[open] form[data-rich-comment]");
    d.wait_for(
        "the edit box",
        &format!(
            "const f = document.querySelector('{edit_form}'); return !!f && f.dataset.mode === 'rich' && !!f.querySelector('.rich-body .cairn-mention')"
        ),
    )
    .await;
    assert_eq!(
        d.js(&format!(
            "const f = document.querySelector('{edit_form}'); f.cairnEditor.flush(); return f.querySelector('textarea').value"
        ))
        .await,
        json!(first),
        "an unchanged comment is written back byte for byte"
    );
    d.js(&format!(
        "const v = document.querySelector('{edit_form}').cairnEditor.view; v.focus();
         let at = null; v.state.doc.descendants((n, p) => {{ if (at === null && n.isText && n.text === 'Looks ') at = p; }});
         v.dispatch(v.state.tr.insertText('It ', at));"
    ))
    .await;
    d.click(&format!("{edit_form} button[type=submit]")).await;
    d.wait_for(
        "the edited comment",
        &format!(
            "return (document.querySelector('#comment-{cid} .comment-body') || {{}}).textContent?.startsWith('It Looks')"
        ),
    )
    .await;
    let list = comments(&node, page).await;
    assert_eq!(list[0].1, first.replacen("<p>Looks", "<p>It Looks", 1));
    assert_eq!(list[1], (rid, "<p>Agreed, <em>really</em>.</p>".to_owned()));

    // Source mode is one click away; a body that is not storage format is
    // refused with a message beside the box and nothing typed is lost.
    d.click(".new-comment textarea").await;
    rich_box(&d, ".new-comment").await;
    d.click(".new-comment [data-mode=source]").await;
    d.wait_for(
        "the source mode",
        "const f = document.querySelector('.new-comment'); return f.dataset.mode === 'source' && !f.querySelector('textarea').hidden",
    )
    .await;
    d.type_into(".new-comment textarea", "<p>unclosed").await;
    d.click(".new-comment button[type=submit]").await;
    d.wait_for(
        "the message",
        "const e = document.querySelector('.new-comment .form-error'); return !!e && e.textContent.includes('storage format')",
    )
    .await;
    assert_eq!(
        d.js("return document.querySelector('.new-comment textarea').value")
            .await,
        json!("<p>unclosed")
    );
    assert_eq!(comments(&node, page).await.len(), 2, "nothing stored");
    // Back to rich text, then Markdown: what was written moves along.
    d.type_into(".new-comment textarea", "<p>Now <em>fine</em></p>")
        .await;
    d.click(".new-comment [data-mode=markdown]").await;
    d.wait_for(
        "the Markdown mode",
        "const f = document.querySelector('.new-comment'); return f.dataset.mode === 'markdown' && f.querySelector('input[name=format]').value === 'markdown' && f.querySelector('textarea').value.includes('*fine*')",
    )
    .await;
    d.click(".new-comment button[type=submit]").await;
    d.wait_for(
        "the third comment",
        "return document.querySelectorAll('#comments .comment').length === 3",
    )
    .await;
    assert_eq!(comments(&node, page).await[2].1, "<p>Now <em>fine</em></p>");
}

#[tokio::test]
async fn an_inline_comment_thread_takes_a_rich_text_reply() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("RI", "Rich inline").await;
    let page = c
        .create_page(
            "RI",
            "Plan",
            "<p>We ship <ac:inline-comment-marker ac:ref=\"m-1\">on Friday</ac:inline-comment-marker>.</p>",
            None,
        )
        .await;
    let (s, v) = node
        .rest(
            "admin",
            reqwest::Method::POST,
            "/rest/api/content",
            Some(json!({
                "type": "comment",
                "container": {"id": page.to_string(), "type": "page"},
                "body": {"storage": {"value": "<p>Which Friday?</p>", "representation": "storage"}},
                "extensions": {"location": "inline", "inlineProperties": {"markerRef": "m-1", "originalSelection": "on Friday"}}
            })),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let d = Driver::start().await;
    d.login(&node.base, "admin").await;
    d.goto(&format!(
        "{}/pages/viewpage.action?pageId={page}",
        node.base
    ))
    .await;
    d.click(".inline-thread .thread-actions details summary")
        .await;
    let form = ".inline-thread .thread-actions details[open] form[data-rich-comment]";
    d.wait_for(
        "the reply box",
        &format!(
            "const f = document.querySelector('{form}'); return !!f && f.dataset.mode === 'rich'"
        ),
    )
    .await;
    d.click(&format!("{form} .rich-body")).await;
    keys(&d, "This ").await;
    chord(&d, &[CTRL], "b").await;
    keys(&d, "one").await;
    d.click(&format!("{form} button[type=submit]")).await;
    d.wait_for(
        "the reply in the thread",
        "return document.querySelectorAll('.inline-thread .comment').length === 2",
    )
    .await;
    let list = comments(&node, page).await;
    assert_eq!(
        list.iter().map(|(_, b)| b.as_str()).collect::<Vec<_>>(),
        ["<p>Which Friday?</p>", "<p>This <strong>one</strong></p>"]
    );
}
