//! Editing in place in the rich-text editor (`host/editor/src/popovers.js`):
//! a link's target and text changed from its popover, a web link too; an
//! image resized, aligned and titled; a task's assignee and due date set with
//! `@`, `//` and the toolbar, a date changed. Each stores exact storage
//! format, and what was not touched keeps its bytes.

use super::rich_editor::{keys, open_rich_editor, stored};
use super::*;

async fn save(d: &Driver) {
    d.click("#save").await;
    d.wait_for("the page", "return !!document.querySelector('#title-text')")
        .await;
}

/// Opens the popover's form for what `css` (in the editor) shows, once the
/// popover says `summary`.
async fn edit_in_place(d: &Driver, css: &str, summary: &str) {
    d.click(css).await;
    let what = serde_json::to_string(summary).unwrap();
    d.wait_for(
        &format!("the popover of {summary}"),
        &format!("const p = document.querySelector('.rich-popover'); return !!p && !p.hidden && !!p.querySelector('.pop-edit') && p.querySelector('.pop-what').textContent.includes({what})"),
    )
    .await;
    d.click(".rich-popover .pop-edit").await;
    d.wait_for(
        &format!("the form of {summary}"),
        "return !!document.querySelector('.rich-popover .pop-form') && document.querySelector('.rich-popover').contains(document.activeElement)",
    )
    .await;
}

/// Sets an input's value as a picker would.
async fn set_value(d: &Driver, css: &str, value: &str) {
    let (c, v) = (
        serde_json::to_string(css).unwrap(),
        serde_json::to_string(value).unwrap(),
    );
    d.js(&format!(
        "const i = document.querySelector({c}); i.value = {v}; i.dispatchEvent(new Event('input', {{bubbles: true}})); i.dispatchEvent(new Event('change', {{bubbles: true}}));"
    ))
    .await;
}

async fn popover_closed(d: &Driver) {
    d.wait_for(
        "the form closed",
        "return !document.querySelector('.rich-popover .pop-form') && document.activeElement.id === 'rich-body'",
    )
    .await;
}

#[tokio::test]
async fn a_links_target_and_text_change_in_place_and_the_rest_keeps_its_bytes() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("LK", "Links").await;
    let kept = "<p>Keep <ac:link><ri:page ri:content-title=\"Old target\"/><ac:plain-text-link-body><![CDATA[this&amp;that]]></ac:plain-text-link-body></ac:link> as&nbsp;is.</p>";
    let body = format!(
        "<p>See <ac:link><ri:page ri:content-title=\"Old target\"/></ac:link> and <a href=\"https://example.com/a\">the <strong>site</strong></a> or <ac:link><ri:attachment ri:filename=\"old.pdf\"/></ac:link>.</p>{kept}"
    );
    let id = c.create_page("LK", "Linked", &body, None).await;
    let d = Driver::start().await;
    d.login(&node.base, "admin").await;
    open_rich_editor(&d, &format!("{}/pages/{id}/edit", node.base)).await;

    // A page link: a new target page.
    edit_in_place(
        &d,
        "#rich-body p:first-child .cairn-link",
        "Link to page “Old target”",
    )
    .await;
    assert_eq!(
        d.js("return [document.querySelector('#pop-kind').value, document.querySelector('#pop-page').value, document.querySelector('#pop-text').value]").await,
        json!(["page", "Old target", "Old target"])
    );
    let v = d.axe_violations().await;
    assert!(v.is_empty(), "axe on the link popover: {v:#?}");
    set_value(&d, "#pop-page", "New target").await;
    set_value(&d, "#pop-text", "New target").await;
    d.click("#pop-save").await;
    popover_closed(&d).await;

    // A web link: a new address, its text (and the bold in it) kept.
    edit_in_place(&d, "#rich-body a strong", "Link to https://example.com/a").await;
    assert_eq!(
        d.js("return [document.querySelector('#pop-kind').value, document.querySelector('#pop-web').value]").await,
        json!(["web", "https://example.com/a"])
    );
    set_value(&d, "#pop-web", "https://example.org/b").await;
    d.click("#pop-save").await;
    popover_closed(&d).await;

    // An attachment link: another file, with its own text.
    edit_in_place(
        &d,
        "#rich-body p:first-child .cairn-link[title*=attachment]",
        "Link to attachment old.pdf",
    )
    .await;
    set_value(&d, "#pop-file", "new.pdf").await;
    set_value(&d, "#pop-text", "the notes").await;
    d.click("#pop-save").await;
    popover_closed(&d).await;

    save(&d).await;
    let (after, _) = stored(&node, id).await;
    assert_eq!(
        after,
        format!(
            "<p>See <ac:link><ri:page ri:content-title=\"New target\"/></ac:link> and <a href=\"https://example.org/b\">the <strong>site</strong></a> or <ac:link><ri:attachment ri:filename=\"new.pdf\"/><ac:plain-text-link-body><![CDATA[the notes]]></ac:plain-text-link-body></ac:link>.</p>{kept}"
        )
    );

    // Remove link leaves the text.
    open_rich_editor(&d, &format!("{}/pages/{id}/edit", node.base)).await;
    d.click("#rich-body p:first-child .cairn-link").await;
    d.wait_for(
        "the popover",
        "const p = document.querySelector('.rich-popover'); return !!p && !p.hidden && !!p.querySelector('.pop-remove')",
    )
    .await;
    d.click(".rich-popover .pop-remove").await;
    save(&d).await;
    let (after, _) = stored(&node, id).await;
    assert!(
        after.starts_with("<p>See New target and <a href"),
        "{after}"
    );
    assert!(after.ends_with(kept), "{after}");
}

#[tokio::test]
async fn an_image_is_resized_aligned_and_titled_in_place() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("IMG", "Images").await;
    let logo = format!("{}/assets/favicon.svg", node.base);
    let other = "<p>Other <ac:image ac:border=\"true\"><ri:attachment ri:filename=\"x.png\"/></ac:image></p>";
    let body = format!(
        "<p>Logo: <ac:image ac:width=\"100\" ac:thumbnail=\"true\"><ri:url ri:value=\"{logo}\"/></ac:image></p>{other}"
    );
    let id = c.create_page("IMG", "Pictures", &body, None).await;
    let d = Driver::start().await;
    d.login(&node.base, "admin").await;
    open_rich_editor(&d, &format!("{}/pages/{id}/edit", node.base)).await;
    d.wait_for(
        "the image",
        "const i = document.querySelector('#rich-body .cairn-image img'); return !!i && i.complete",
    )
    .await;
    edit_in_place(&d, "#rich-body .cairn-image img", "Image").await;
    assert_eq!(
        d.js("return ['#pop-width', '#pop-height', '#pop-align', '#pop-src'].map((s) => document.querySelector(s).value)").await,
        json!(["100", "", "", logo])
    );
    let v = d.axe_violations().await;
    assert!(v.is_empty(), "axe on the image popover: {v:#?}");
    set_value(&d, "#pop-width", "240").await;
    set_value(&d, "#pop-height", "120").await;
    set_value(&d, "#pop-align", "center").await;
    set_value(&d, "#pop-alt", "Our logo").await;
    set_value(&d, "#pop-title", "The \"logo\"").await;
    d.click("#pop-save").await;
    popover_closed(&d).await;
    assert_eq!(
        d.js("const i = document.querySelector('#rich-body .cairn-image img'); return [i.getAttribute('width'), i.closest('.cairn-image').classList.contains('align-center')]").await,
        json!(["240", true])
    );
    // A width that is not a number is refused where it is typed.
    edit_in_place(&d, "#rich-body .cairn-image img", "Image").await;
    set_value(&d, "#pop-width", "wide").await;
    d.click("#pop-save").await;
    d.wait_for(
        "the message",
        "return document.querySelector('.rich-popover .rich-dialog-error').textContent.includes('number of pixels')",
    )
    .await;
    d.click("#pop-cancel").await;
    popover_closed(&d).await;
    save(&d).await;
    let (after, _) = stored(&node, id).await;
    assert_eq!(
        after,
        format!(
            "<p>Logo: <ac:image ac:align=\"center\" ac:width=\"240\" ac:height=\"120\" ac:alt=\"Our logo\" ac:title=\"The &quot;logo&quot;\" ac:thumbnail=\"true\"><ri:url ri:value=\"{logo}\"/></ac:image></p>{other}"
        )
    );
}

#[tokio::test]
async fn a_tasks_assignee_and_due_date_are_set_with_at_slash_slash_and_the_toolbar() {
    let node = TestNode::start().await;
    let ann = node.user("ann", false).await;
    let bob = node.user("bob", false).await;
    let c = node.login("admin").await;
    c.create_space("TK", "Tasks").await;
    let task = |n: u32, body: &str| {
        format!("<ac:task><ac:task-id>{n}</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>{body}</ac:task-body></ac:task>")
    };
    let kept = task(3, "Untouched &amp; <em>kept</em>");
    let body = format!(
        "<p>Plan:</p><ac:task-list>{}{}{kept}</ac:task-list>",
        task(1, "Ship it"),
        task(2, "Write notes")
    );
    let id = c.create_page("TK", "Plan", &body, None).await;
    let d = Driver::start().await;
    d.login(&node.base, "admin").await;
    open_rich_editor(&d, &format!("{}/pages/{id}/edit", node.base)).await;
    // The caret at the end of a task's text.
    let caret_in = |text: &'static str| {
        format!(
            "const v = CairnEditor.editor.view; v.focus(); let at = null;
             v.state.doc.descendants((n, p) => {{ if (at === null && n.isText && n.text === '{text}') at = p + n.nodeSize; }});
             v.dispatch(v.state.tr.setSelection(v.state.selection.constructor.near(v.state.doc.resolve(at))));"
        )
    };
    assert_eq!(
        d.js("return document.querySelector('.tb-task').hidden")
            .await,
        json!(true),
        "the task tools only show in a task"
    );

    // Task 1: `@` assigns, `//` opens the date picker.
    d.js(&caret_in("Ship it")).await;
    keys(&d, " @").await;
    d.wait_for(
        "the mention dialog",
        "return !!document.querySelector('#mention-q')",
    )
    .await;
    keys(&d, "ann").await;
    d.wait_for(
        "ann offered",
        "return !!document.querySelector('#mention-q-list [role=option]')",
    )
    .await;
    keys(&d, "\n").await;
    d.wait_for(
        "the assignee",
        "return !document.querySelector('.rich-dialog') && !!document.querySelector('#rich-body .cairn-mention')",
    )
    .await;
    keys(&d, "by //").await;
    d.wait_for(
        "the date picker",
        "const i = document.querySelector('.rich-dialog input[type=date]'); return !!i && document.activeElement === i",
    )
    .await;
    set_value(&d, ".rich-dialog input[type=date]", "2026-12-24").await;
    d.click(".rich-dialog button[type=submit]").await;
    d.wait_for(
        "the date",
        "return !document.querySelector('.rich-dialog') && !!document.querySelector('#rich-body .cairn-time')",
    )
    .await;

    // Task 2: the toolbar's Assign and Due date buttons.
    d.js(&caret_in("Write notes")).await;
    d.wait_for(
        "the task tools",
        "return !document.querySelector('.tb-task').hidden",
    )
    .await;
    d.click("#tb-assign").await;
    d.wait_for(
        "the mention dialog",
        "return !!document.querySelector('#mention-q')",
    )
    .await;
    keys(&d, "ann").await;
    d.wait_for(
        "ann offered",
        "return !!document.querySelector('#mention-q-list [role=option]')",
    )
    .await;
    keys(&d, "\n").await;
    d.wait_for(
        "the second assignee",
        "return !document.querySelector('.rich-dialog') && document.querySelectorAll('#rich-body .cairn-mention').length === 2",
    )
    .await;
    d.click("#tb-due").await;
    d.wait_for(
        "the date picker",
        "return !!document.querySelector('.rich-dialog input[type=date]')",
    )
    .await;
    set_value(&d, ".rich-dialog input[type=date]", "2027-01-15").await;
    d.click(".rich-dialog button[type=submit]").await;
    d.wait_for(
        "the second date",
        "return !document.querySelector('.rich-dialog') && document.querySelectorAll('#rich-body .cairn-time').length === 2",
    )
    .await;
    // Due date again in a task that has one: its date's popover.
    d.click("#tb-due").await;
    d.wait_for(
        "the date's form",
        "return document.activeElement === document.querySelector('#pop-date')",
    )
    .await;
    assert_eq!(
        d.js("return document.querySelector('#pop-date').value")
            .await,
        json!("2027-01-15")
    );
    d.press(&["\u{E00C}"]).await;
    // Task 1's date changed from its popover.
    edit_in_place(&d, "#rich-body .cairn-time", "Date 2026-12-24").await;
    set_value(&d, "#pop-date", "2026-12-31").await;
    d.click("#pop-save").await;
    popover_closed(&d).await;

    // Task 1 reassigned: Assign in a task that has an assignee opens the
    // mention's popover, whose person completes as `@` does.
    d.js(&caret_in("Ship it ")).await;
    d.click("#tb-assign").await;
    d.wait_for(
        "the person field",
        "return document.activeElement === document.querySelector('#pop-person')",
    )
    .await;
    keys(&d, "bob").await;
    d.wait_for(
        "bob offered",
        "return !!document.querySelector('#pop-person-list [role=option]')",
    )
    .await;
    keys(&d, "\n").await;
    popover_closed(&d).await;

    save(&d).await;
    let (after, _) = stored(&node, id).await;
    let user = format!(
        "<ac:link><ri:user ri:userkey=\"{}\"/></ac:link>",
        ann.user_key
    );
    let bob = format!(
        "<ac:link><ri:user ri:userkey=\"{}\"/></ac:link>",
        bob.user_key
    );
    assert_eq!(
        after,
        format!(
            "<p>Plan:</p><ac:task-list>{}{}{kept}</ac:task-list>",
            task(
                1,
                &format!("Ship it {bob} by <time datetime=\"2026-12-31\"/>")
            ),
            task(
                2,
                &format!("Write notes {user} <time datetime=\"2027-01-15\"/>")
            )
        )
    );
    // The page shows them as each task's assignee and due date.
    let html = d
        .js("return document.querySelector('#main-content').innerHTML")
        .await;
    let html = html.as_str().unwrap_or_default();
    for shown in [
        "Ship it <a href=\"/users/bob\"",
        "Write notes <a href=\"/users/ann\"",
        "data-exact=\"31 Dec 2026\"",
        "data-exact=\"15 Jan 2027\"",
    ] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
}
