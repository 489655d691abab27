//! The rich-text editor (`host/editor`, `/assets/editor.js`) in Chromium:
//! the round-trip corpus (`tests/browser/roundtrip/*.xml`, every file written
//! back byte for byte), an unchanged page saved unchanged, typing and
//! formatting with the keyboard, a table, a macro with parameters, a page
//! link and a mention, undo, and the exact storage format stored; paste
//! fixtures (`tests/browser/paste/`, expected output beside each, refreshed
//! with `UPDATE_EXPECT=1`); keyboard-only use and axe.

use super::*;

pub(super) const CTRL: &str = "\u{E009}";
pub(super) const SHIFT: &str = "\u{E008}";
pub(super) const ENTER: &str = "\u{E007}";
const TAB: &str = "\u{E004}";
const HOME: &str = "\u{E011}";
const END: &str = "\u{E010}";

fn dir(sub: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("browser")
        .join(sub)
}

/// Types `text` key by key as a keyboard would (`\n` is Enter).
pub(super) async fn keys(d: &Driver, text: &str) {
    let mut actions = Vec::new();
    for ch in text.chars() {
        let k = if ch == '\n' {
            ENTER.to_owned()
        } else {
            ch.to_string()
        };
        actions.push(json!({"type": "keyDown", "value": k}));
        actions.push(json!({"type": "keyUp", "value": k}));
    }
    d.cmd(
        reqwest::Method::POST,
        "/actions",
        json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
    )
    .await;
}

/// Holds `mods` down while pressing `key` (e.g. Ctrl+B).
pub(super) async fn chord(d: &Driver, mods: &[&str], key: &str) {
    let mut actions = Vec::new();
    for m in mods {
        actions.push(json!({"type": "keyDown", "value": m}));
    }
    actions.push(json!({"type": "keyDown", "value": key}));
    actions.push(json!({"type": "keyUp", "value": key}));
    for m in mods.iter().rev() {
        actions.push(json!({"type": "keyUp", "value": m}));
    }
    d.cmd(
        reqwest::Method::POST,
        "/actions",
        json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
    )
    .await;
}

pub(super) async fn stored(node: &TestNode, id: i64) -> (String, i64) {
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            &format!("/rest/api/content/{id}?expand=body.storage,version"),
            None,
        )
        .await;
    (
        v["body"]["storage"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        v["version"]["number"].as_i64().unwrap_or(0),
    )
}

/// The editor's textarea once the document has been written into it.
pub(super) async fn body_now(d: &Driver) -> String {
    d.js("CairnEditor.editor.flush(); return document.querySelector('#body').value")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub(super) async fn open_rich_editor(d: &Driver, url: &str) {
    d.goto(url).await;
    d.wait_for(
        "the rich-text editor",
        "return !!document.querySelector('#rich-body') && document.querySelector('#editor').dataset.mode === 'rich'",
    )
    .await;
}

/// A node with one page holding `body` (in a new space `space`), a browser
/// logged in as admin, and the rich editor open on that page.
async fn edit_page(space: &str, body: &str) -> (TestNode, Driver, i64) {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space(space, space).await;
    let id = c.create_page(space, "Page", body, None).await;
    let d = Driver::start().await;
    d.login(&node.base, "admin").await;
    open_rich_editor(&d, &format!("{}/pages/{id}/edit", node.base)).await;
    (node, d, id)
}

fn corpus(sub: &str, ext: &str) -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir(sub))
        .expect("corpus directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(ext))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).expect("read corpus file"),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_round_trip_corpus_writes_every_file_back_byte_for_byte_in_chromium() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("RT", "Round trip").await;
    let d = Driver::start().await;
    d.login(&node.base, "admin").await;
    open_rich_editor(&d, &format!("{}/spaces/RT/create", node.base)).await;
    let files = corpus("roundtrip", ".xml");
    assert!(files.len() >= 20, "the corpus is there");
    let mut failures = Vec::new();
    for (name, xml) in &files {
        let src = serde_json::to_string(xml).unwrap();
        let v = d
            .js(&format!(
                "try {{ const x = {src};
                   const out = CairnEditor.roundTrip(x);
                   const c = CairnEditor.canonical(x);
                   // In sections (a long page's model) of one and of two
                   // blocks: the same bytes, the same canonical form.
                   const cuts = [1, 2].map((size) => ({{sections: true, size, from: 0}}));
                   const sectioned = cuts.every((o) => CairnEditor.roundTrip(x, o) === x && CairnEditor.canonical(x, o) === c && CairnEditor.roundTrip(c, o) === c);
                   return {{out, idempotent: CairnEditor.canonical(c) === c, reparsed: CairnEditor.roundTrip(c) === c, sectioned}};
                 }} catch (e) {{ return {{error: String(e)}}; }}"
            ))
            .await;
        if let Some(e) = v.get("error") {
            failures.push(format!("{name}: {e}"));
        } else if v["out"].as_str() != Some(xml) {
            failures.push(format!("{name}: wrote back\n{}", v["out"]));
        } else if v["idempotent"] != json!(true) || v["reparsed"] != json!(true) {
            failures.push(format!("{name}: its canonical form does not round-trip"));
        } else if v["sectioned"] != json!(true) {
            failures.push(format!(
                "{name}: in sections, it is not written back the same"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test]
async fn opening_and_saving_a_page_without_a_change_stores_the_same_bytes_and_one_edit_changes_only_its_block(
) {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("RS", "Resave").await;
    let d = Driver::start().await;
    d.login(&node.base, "admin").await;
    for name in [
        "24-real-world-runbook.xml",
        "23-real-world-meeting-notes.xml",
        "19-unknown-elements.xml",
    ] {
        let xml = std::fs::read_to_string(dir("roundtrip").join(name)).unwrap();
        let id = c.create_page("RS", name, &xml, None).await;
        let (before, v1) = stored(&node, id).await;
        assert_eq!(before, xml, "{name} is stored as sent");
        open_rich_editor(&d, &format!("{}/pages/{id}/edit", node.base)).await;
        assert_eq!(
            body_now(&d).await,
            xml,
            "{name}: the editor holds the same bytes"
        );
        d.click("#save").await;
        d.wait_for("the page", "return !!document.querySelector('#title-text')")
            .await;
        let (after, v2) = stored(&node, id).await;
        assert_eq!(after, xml, "{name}: saved unchanged");
        assert_eq!(v1, v2, "{name}: no new version for no change");
    }
    // One edit: only the edited heading is written anew.
    let xml =
        std::fs::read_to_string(dir("roundtrip").join("23-real-world-meeting-notes.xml")).unwrap();
    let id = c.create_page("RS", "Edited notes", &xml, None).await;
    open_rich_editor(&d, &format!("{}/pages/{id}/edit", node.base)).await;
    d.js("const v = CairnEditor.editor.view; let end = null;
          v.state.doc.descendants((n, p) => { if (end === null && n.type.name === 'heading') end = p + n.nodeSize - 1; });
          v.dispatch(v.state.tr.insertText('!', end));")
        .await;
    d.click("#save").await;
    d.wait_for("the page", "return !!document.querySelector('#title-text')")
        .await;
    let (after, v) = stored(&node, id).await;
    assert_eq!(after, xml.replacen("<h2>Date</h2>", "<h2>Date!</h2>", 1));
    assert_eq!(v, 2);
}

#[tokio::test]
async fn rich_editor_types_formats_inserts_a_table_a_macro_a_link_and_a_mention_undoes_and_saves_exact_storage(
) {
    let node = TestNode::start().await;
    let ann = node.user("ann", false).await;
    let c = node.login("admin").await;
    c.create_space("RE", "Rich editing").await;
    c.create_page("RE", "Target page", "<p>t</p>", None).await;
    let d = Driver::start().await;
    d.login(&node.base, "admin").await;
    open_rich_editor(&d, &format!("{}/spaces/RE/create", node.base)).await;
    d.type_into("#title", "Written richly").await;
    d.click("#rich-body").await;

    // Markdown-style shortcuts and Ctrl+B / Ctrl+I.
    keys(&d, "## Plan\nShip ").await;
    chord(&d, &[CTRL], "b").await;
    keys(&d, "bold").await;
    chord(&d, &[CTRL], "b").await;
    keys(&d, " and ").await;
    chord(&d, &[CTRL], "i").await;
    keys(&d, "italic").await;
    chord(&d, &[CTRL], "i").await;
    keys(&d, ".\n* one\n").await;
    // Tab nests a list item, Shift+Tab lifts it (out of the list at the top).
    keys(&d, TAB).await;
    keys(&d, "nested\n").await;
    chord(&d, &[SHIFT], TAB).await;
    chord(&d, &[SHIFT], TAB).await;

    // `{` opens the macro browser; the status macro's form comes from its parameters.
    keys(&d, "State {").await;
    d.wait_for(
        "the macro browser",
        "return !!document.querySelector('#macro-q')",
    )
    .await;
    keys(&d, "status").await;
    d.wait_for(
        "the status macro listed",
        "return !!document.querySelector('#macro-list button[data-macro=status]')",
    )
    .await;
    d.click("#macro-list button[data-macro=status]").await;
    d.wait_for(
        "the macro's form",
        "return !!document.querySelector('.rich-dialog [data-param=title]')",
    )
    .await;
    d.type_into(".rich-dialog [data-param=title]", "Done").await;
    d.js("document.querySelector('.rich-dialog [data-param=colour]').value = 'Green'")
        .await;
    d.click(".rich-dialog button[type=submit]").await;
    d.wait_for(
        "the dialog closed",
        "return !document.querySelector('.rich-dialog') && document.activeElement.id === 'rich-body'",
    )
    .await;

    // `[` completes a page link by title; `@` a mention.
    keys(&d, " see [").await;
    d.wait_for(
        "the link dialog",
        "return !!document.querySelector('#link-to')",
    )
    .await;
    keys(&d, "Target").await;
    d.wait_for(
        "the page offered",
        "return !!document.querySelector('#link-to-list [role=option]')",
    )
    .await;
    keys(&d, "\n").await;
    d.wait_for(
        "the link inserted",
        "return !document.querySelector('.rich-dialog') && !!document.querySelector('#rich-body .cairn-link')",
    )
    .await;
    keys(&d, " thanks @").await;
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
        "the mention inserted",
        "return !document.querySelector('.rich-dialog') && !!document.querySelector('#rich-body .cairn-mention')",
    )
    .await;

    // Undo takes back what was typed last (a separate history step).
    tokio::time::sleep(Duration::from_millis(700)).await;
    keys(&d, "oops").await;
    chord(&d, &[CTRL], "z").await;
    d.wait_for(
        "the undo",
        "return !document.querySelector('#rich-body').textContent.includes('oops')",
    )
    .await;

    // A table from the toolbar; Tab moves to the next cell.
    d.click("#tb-table").await;
    d.click("#rich-body th").await;
    keys(&d, "Name").await;
    keys(&d, TAB).await;
    keys(&d, "Role").await;
    d.wait_for(
        "the table tools",
        "return !document.querySelector('.tb-table').hidden",
    )
    .await;

    assert_eq!(
        d.js("return document.querySelector('#format').value").await,
        json!("storage")
    );
    let in_form = body_now(&d).await;
    d.click("#save").await;
    d.wait_for(
        "the new page",
        "return document.querySelector('#title-text')?.textContent === 'Written richly'",
    )
    .await;
    let id = cairn_tests::page_id_of(&d.current_url().await).expect("page id");
    let (body, _) = stored(&node, id).await;
    assert_eq!(body, in_form, "the form posted what the editor wrote");
    let expected = format!(
        concat!(
            "<h2>Plan</h2><p>Ship <strong>bold</strong> and <em>italic</em>.</p>",
            "<ul><li><p>one</p><ul><li><p>nested</p></li></ul></li></ul>",
            "<p>State <ac:structured-macro ac:name=\"status\"><ac:parameter ac:name=\"colour\">Green</ac:parameter><ac:parameter ac:name=\"title\">Done</ac:parameter></ac:structured-macro>",
            " see <ac:link><ri:page ri:content-title=\"Target page\"/></ac:link>",
            " thanks <ac:link><ri:user ri:userkey=\"{key}\"/></ac:link> </p>",
            "<table><tbody><tr><th><p>Name</p></th><th><p>Role</p></th><th><p></p></th></tr>",
            "<tr><td><p></p></td><td><p></p></td><td><p></p></td></tr>",
            "<tr><td><p></p></td><td><p></p></td><td><p></p></td></tr></tbody></table>"
        ),
        key = ann.user_key
    );
    assert_eq!(body, expected);
}

#[tokio::test]
async fn pasting_word_google_docs_web_and_markdown_gives_clean_storage_format() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("PA", "Paste").await;
    let d = Driver::start().await;
    d.login(&node.base, "admin").await;
    let update = std::env::var("UPDATE_EXPECT").is_ok();
    let mut failures = Vec::new();
    let mut fixtures = corpus("paste", ".html");
    fixtures.extend(corpus("paste", ".txt"));
    assert!(fixtures.len() >= 4, "the paste fixtures are there");
    for (name, content) in fixtures {
        open_rich_editor(&d, &format!("{}/spaces/PA/create", node.base)).await;
        d.click("#rich-body").await;
        let kind = if name.ends_with(".html") {
            "text/html"
        } else {
            "text/plain"
        };
        let data = serde_json::to_string(&content).unwrap();
        d.js(&format!(
            "const dt = new DataTransfer(); dt.setData('{kind}', {data});
             if ('{kind}' === 'text/html') dt.setData('text/plain', 'plain');
             document.querySelector('#rich-body').dispatchEvent(new ClipboardEvent('paste', {{clipboardData: dt, bubbles: true, cancelable: true}}));"
        ))
        .await;
        d.wait_for(
            "the pasted content",
            "return document.querySelector('#rich-body').textContent.trim().length > 0",
        )
        .await;
        let got = body_now(&d).await;
        let expect_path = dir("paste").join(format!("{name}.expected.xml"));
        if update {
            std::fs::write(&expect_path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&expect_path).unwrap_or_default();
        if got != want {
            failures.push(format!("{name}:\n got: {got}\nwant: {want}"));
        }
        for bad in [
            "mso-",
            "class=",
            "docs-internal-guid",
            "font-family",
            "<o:p",
            "onclick",
            "javascript:",
            "<span>",
        ] {
            if got.contains(bad) {
                failures.push(format!("{name}: kept {bad:?}: {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test]
async fn the_rich_editor_is_usable_by_keyboard_alone_and_axe_finds_nothing_serious() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("KB", "Keyboard").await;
    let d = Driver::start().await;
    d.login(&node.base, "admin").await;
    open_rich_editor(&d, &format!("{}/spaces/KB/create", node.base)).await;
    assert_eq!(
        d.js("const b = document.querySelector('#rich-body'); return [b.getAttribute('role'), b.getAttribute('aria-multiline'), b.getAttribute('aria-label'), document.querySelector('#rich-toolbar').getAttribute('role')]").await,
        json!(["textbox", "true", "Body", "toolbar"])
    );
    // Tab from the title reaches the toolbar (one stop), then the text.
    d.js("document.querySelector('#title').focus()").await;
    let mut in_toolbar = false;
    for _ in 0..8 {
        d.press(&[TAB]).await;
        if d.js("return !!document.activeElement.closest('#rich-toolbar')")
            .await
            == json!(true)
        {
            in_toolbar = true;
            break;
        }
    }
    assert!(in_toolbar, "Tab reaches the toolbar");
    // Arrows move along the toolbar; Tab leaves it for the text.
    let first = d.js("return document.activeElement.id").await;
    d.press(&["\u{E014}"]).await;
    assert_ne!(d.js("return document.activeElement.id").await, first);
    d.press(&[TAB]).await;
    assert_eq!(
        d.js("return document.activeElement.id").await,
        json!("rich-body")
    );
    keys(&d, "Hello").await;
    chord(&d, &[CTRL], "a").await;
    chord(&d, &[CTRL], "b").await;
    assert_eq!(
        d.js("return document.querySelector('#tb-strong').getAttribute('aria-pressed')")
            .await,
        json!("true")
    );
    chord(&d, &[CTRL], "u").await;
    assert_eq!(body_now(&d).await, "<p><strong><u>Hello</u></strong></p>");
    // Alt+F10 goes to the toolbar, Escape back to the text.
    chord(&d, &["\u{E00A}"], "\u{E03A}").await;
    assert_eq!(
        d.js("return !!document.activeElement.closest('#rich-toolbar')")
            .await,
        json!(true)
    );
    d.press(&["\u{E00C}"]).await;
    assert_eq!(
        d.js("return document.activeElement.id").await,
        json!("rich-body")
    );
    let v = d.axe_violations().await;
    assert!(v.is_empty(), "axe on the rich editor: {v:#?}");
    // The macro browser as a dialog, also clean.
    d.click("#tb-macro").await;
    d.wait_for(
        "the macro browser",
        "return !!document.querySelector('#macro-q') && document.activeElement.id === 'macro-q'",
    )
    .await;
    let v = d.axe_violations().await;
    assert!(v.is_empty(), "axe on the macro browser: {v:#?}");
    d.press(&["\u{E00C}"]).await;
    assert_eq!(
        d.js("return !document.querySelector('.rich-dialog') && document.activeElement.id === 'rich-body'").await,
        json!(true)
    );
}

#[tokio::test]
async fn a_pasted_image_uploads_as_an_attachment_of_the_page_or_waits_with_a_new_page_s_draft() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("IM", "Images").await;
    let id = c
        .create_page("IM", "With a picture", "<p>Look:</p>", None)
        .await;
    let d = Driver::start().await;
    d.login(&node.base, "admin").await;
    // A 1×1 PNG on the clipboard.
    let paste_png = "const b64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
        const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], 'diagram.png', {type: 'image/png'}));
        const v = CairnEditor.editor.view;
        v.focus();
        v.dispatch(v.state.tr.setSelection(CairnEditor.editor.view.state.selection.constructor.atEnd(v.state.doc)));
        v.dom.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));";
    open_rich_editor(&d, &format!("{}/pages/{id}/edit", node.base)).await;
    d.js(paste_png).await;
    d.wait_for(
        "the upload",
        "return document.querySelector('#rich-status').textContent.includes('Uploaded diagram.png')",
    )
    .await;
    assert_eq!(
        body_now(&d).await,
        "<p>Look:<ac:image><ri:attachment ri:filename=\"diagram.png\"/></ac:image></p>"
    );
    d.wait_for(
        "the image shown from the attachment",
        "const i = document.querySelector('#rich-body .cairn-image img'); return !!i && i.complete && i.naturalWidth === 1",
    )
    .await;
    d.click("#save").await;
    d.wait_for("the page", "return !!document.querySelector('#title-text')")
        .await;
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            &format!("/rest/api/content/{id}/child/attachment"),
            None,
        )
        .await;
    assert_eq!(v["results"][0]["title"], json!("diagram.png"), "{v}");

    // A page never saved: the file waits with the author's draft (saved
    // at once for it), shows in the editor, and becomes the page's
    // attachment when the page is published.
    open_rich_editor(&d, &format!("{}/spaces/IM/create", node.base)).await;
    d.js("document.querySelector('#title').value = 'New with a picture';")
        .await;
    d.js(paste_png).await;
    d.wait_for(
        "the upload into the draft",
        "return document.querySelector('#rich-status').textContent.includes('Uploaded diagram.png')",
    )
    .await;
    let draft: i64 = d
        .js("return document.querySelector('input[name=draft]').value")
        .await
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("the draft was saved for the file");
    d.wait_for(
        "the image shown from the draft",
        "const i = document.querySelector('#rich-body .cairn-image img'); return !!i && i.complete && i.naturalWidth === 1",
    )
    .await;
    // Nobody else can read the draft's file.
    node.user("eve", false).await;
    let eve = node.login("eve").await;
    let r = eve
        .get(&format!("/download/attachments/{draft}/diagram.png"))
        .await;
    assert_eq!(r.status(), 404);
    d.click("#save").await;
    d.wait_for("the page", "return !!document.querySelector('#title-text')")
        .await;
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            &format!("/rest/api/content/{draft}/child/attachment"),
            None,
        )
        .await;
    assert_eq!(
        v["results"][0]["title"],
        json!("diagram.png"),
        "the published page (id {draft}) has the file: {v}"
    );
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            &format!("/rest/api/content/{draft}?expand=body.storage"),
            None,
        )
        .await;
    assert!(
        v["body"]["storage"]["value"]
            .as_str()
            .unwrap_or_default()
            .contains("<ac:image><ri:attachment ri:filename=\"diagram.png\"/></ac:image>"),
        "{v}"
    );
}

/// Long pages display only the blocks on screen and around the caret (the
/// others are `display: none`): what is typed must still land at the caret,
/// blocks made by input rules included, and the rest of the page stay as it
/// was.
#[tokio::test]
async fn typing_in_a_long_page_lands_at_the_caret() {
    let body: String = (0..600).map(|i| format!("<p>para {i}</p>")).collect();
    let (_node, d, _id) = edit_page("LP", &body).await;
    assert_eq!(
        d.js("return document.querySelector('#rich-body').classList.contains('rich-long')")
            .await,
        json!(true)
    );
    // The caret at the end of "para 0" (the page is in sections: the first
    // textblock is not at the document's start).
    d.js("const v = CairnEditor.editor.view; v.focus(); let at = null;
          v.state.doc.descendants((n, pos) => { if (at === null && n.isTextblock) at = pos + n.nodeSize - 1; });
          v.dispatch(v.state.tr.setSelection(v.state.selection.constructor.near(v.state.doc.resolve(at))));")
        .await;
    keys(&d, "\n## Head\nBody").await;
    let want = body.replacen("<p>para 0</p>", "<p>para 0</p><h2>Head</h2><p>Body</p>", 1);
    assert_eq!(body_now(&d).await, want);
}

/// On a long page (in sections of 48 blocks) the sections hidden away from
/// the screen come back as it scrolls to them: the screen is never blank, a click there lands in the
/// block under the pointer, Ctrl+End and Ctrl+Home reach the document's
/// ends (not those of the displayed blocks), and nothing else changes.
#[tokio::test]
async fn a_long_page_shows_what_scrolls_on_screen_and_edits_land_where_they_should() {
    let body: String = (0..1500).map(|i| format!("<p>para {i}</p>")).collect();
    let (_node, d, _id) = edit_page("LW", &body).await;
    let displayed = d
        .js("return [...document.querySelectorAll('#rich-body p')].filter((e) => e.offsetParent).length")
        .await
        .as_u64()
        .unwrap();
    assert!(
        (10..300).contains(&displayed),
        "{displayed} of 1500 blocks displayed"
    );
    // The hidden sections are empty placeholders: the DOM holds the
    // displayed sections' content only.
    let far = d
        .js("const far = [...document.querySelectorAll('#rich-body > .rich-far')];
             return [far.length, far.filter((e) => e.firstChild).length, document.querySelectorAll('#rich-body p').length, document.querySelectorAll('#rich-body > *').length];")
        .await;
    assert_eq!(far[3], json!(32), "1500 blocks in sections of 48: {far}");
    assert!(far[0].as_u64().unwrap() >= 28, "placeholders: {far}");
    assert_eq!(far[1], json!(0), "placeholders are empty: {far}");
    assert!(
        far[2].as_u64().unwrap() < 300,
        "paragraphs in the DOM: {far}"
    );

    // Scrolled to the middle: displayed paragraphs cover the screen.
    d.js("window.scrollTo(0, document.documentElement.scrollHeight / 2)")
        .await;
    let covered = "const ps = [...document.querySelectorAll('#rich-body p')].filter((p) => p.offsetParent).map((p) => p.getBoundingClientRect());
                   return ps.some((r) => r.top < innerHeight * 0.2 && r.bottom > 0) && ps.some((r) => r.top < innerHeight && r.bottom > innerHeight * 0.8);";
    d.wait_for("paragraphs on the whole screen", covered).await;
    // Click just after the text of the paragraph in the middle of the screen.
    let at = d
        .js("const p = [...document.querySelectorAll('#rich-body p')].find((p) => { const r = p.getBoundingClientRect(); return p.offsetParent && r.top > innerHeight * 0.4; });
             const r = document.createRange(); r.selectNodeContents(p); const b = r.getBoundingClientRect();
             return [p.textContent, Math.round(b.right + 4), Math.round((b.top + b.bottom) / 2)];")
        .await;
    let para = at[0].as_str().unwrap().to_owned();
    assert!(para.starts_with("para "), "{at}");
    d.cmd(
        reqwest::Method::POST,
        "/actions",
        json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": [
            {"type": "pointerMove", "x": at[1], "y": at[2], "origin": "viewport"},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0}
        ]}]}),
    )
    .await;
    keys(&d, "M").await;

    chord(&d, &[CTRL], END).await;
    keys(&d, "Z").await;
    chord(&d, &[CTRL], HOME).await;
    keys(&d, "A").await;
    let want = body
        .replacen(&format!("<p>{para}</p>"), &format!("<p>{para}M</p>"), 1)
        .replacen("<p>para 1499</p>", "<p>para 1499Z</p>", 1)
        .replacen("<p>para 0</p>", "<p>Apara 0</p>", 1);
    assert_eq!(body_now(&d).await, want);
    // The end is on screen after Ctrl+End (and the start after Ctrl+Home).
    assert_eq!(
        d.js("const r = document.querySelector('#rich-body p').getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight").await,
        json!(true)
    );
    // Replacing everything makes a short document (every block displayed),
    // and undo brings the long one back whole.
    // (Past the history's grouping delay, so undo takes back this alone.)
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    chord(&d, &[CTRL], "a").await;
    keys(&d, "Q").await;
    assert_eq!(body_now(&d).await, "<p>Q</p>");
    chord(&d, &[CTRL], "z").await;
    assert_eq!(body_now(&d).await, want);
    assert!(
        d.js("return document.querySelectorAll('#rich-body > .rich-far').length")
            .await
            .as_u64()
            .unwrap()
            >= 28
    );
}

/// Where a long page's sections meet (every 48 blocks), the keys act on the
/// blocks, as anywhere else: Backspace at the start of a section joins its
/// first paragraph to the one before, Delete at the end of a section joins
/// its last to the next, a selection across a boundary is replaced by what
/// is typed, and the list button wraps every selected block; each is one
/// undo step, and undoing them all gives the page back byte for byte.
#[tokio::test]
async fn keys_act_on_blocks_where_the_sections_of_a_long_page_meet() {
    let body: String = (0..600).map(|i| format!("<p>para {i}</p>")).collect();
    let (_node, d, _id) = edit_page("SB", &body).await;
    assert_eq!(
        d.js("const doc = CairnEditor.editor.view.state.doc; return [doc.childCount, doc.child(0).type.name, doc.child(0).childCount]")
            .await,
        json!([13, "section", 48])
    );
    // The caret (or a selection) at `off` characters into paragraph k.
    let select = |k: usize, off: usize, k2: usize, off2: usize| {
        format!(
            "const v = CairnEditor.editor.view; v.focus();
             const at = (k, off) => {{ let i = 0, r = null; v.state.doc.descendants((n, pos) => {{ if (r !== null) return false; if (n.isTextblock) {{ if (i === k) r = pos + 1 + off; i++; return false; }} }}); return r; }};
             const S = v.state.selection.constructor;
             v.dispatch(v.state.tr.setSelection(S.between(v.state.doc.resolve(at({k}, {off})), v.state.doc.resolve(at({k2}, {off2})))));"
        )
    };
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(700));
    // Backspace at the start of paragraph 48, the first of the second section.
    d.js(&select(48, 0, 48, 0)).await;
    d.press(&["\u{E003}"]).await;
    let joined = body.replacen("<p>para 47</p><p>para 48</p>", "<p>para 47para 48</p>", 1);
    assert_eq!(body_now(&d).await, joined);
    pause().await;
    keys(&d, "!").await;
    let typed = joined.replacen("<p>para 47para 48</p>", "<p>para 47!para 48</p>", 1);
    assert_eq!(body_now(&d).await, typed);
    pause().await;
    // Delete at the end of paragraph 143, the last of a section (after the
    // join, the first section holds 95 blocks: this is the 143rd block).
    d.js(&select(142, 8, 142, 8)).await;
    assert_eq!(
        d.js("const s = CairnEditor.editor.view.state.selection; return [s.$head.parent.textContent, s.$head.index(0), s.$head.index(1) + 1 === s.$head.node(1).childCount]")
            .await,
        json!(["para 143", 1, true])
    );
    d.press(&["\u{E017}"]).await;
    let deleted = typed.replacen(
        "<p>para 143</p><p>para 144</p>",
        "<p>para 143para 144</p>",
        1,
    );
    assert_eq!(body_now(&d).await, deleted);
    pause().await;
    // A selection from "para 19|0" to "para 20|0", across a boundary
    // (paragraph 192 starts a section), replaced by what is typed.
    d.js(&select(188, 7, 198, 7)).await;
    keys(&d, "X").await;
    let mut replaced = String::new();
    for (i, p) in deleted.split_inclusive("</p>").enumerate() {
        match i {
            188 => replaced.push_str("<p>para 19X0</p>"),
            189..=198 => {}
            _ => replaced.push_str(p),
        }
    }
    assert_eq!(body_now(&d).await, replaced);
    pause().await;
    // The bullet list button on paragraphs 238 to 244 (a section starts
    // with paragraph 240).
    d.js(&select(226, 2, 232, 2)).await;
    assert_eq!(
        d.js("const s = CairnEditor.editor.view.state.selection; return [s.$from.parent.textContent, s.$to.parent.textContent, s.$from.index(0) < s.$to.index(0)]")
            .await,
        json!(["para 238", "para 244", true])
    );
    d.click("#tb-bullet").await;
    let items: String = (238..=244)
        .map(|i| format!("<li><p>para {i}</p></li>"))
        .collect();
    let listed = replaced.replacen(
        &(238..=244)
            .map(|i| format!("<p>para {i}</p>"))
            .collect::<String>(),
        &format!("<ul>{items}</ul>"),
        1,
    );
    assert_ne!(listed, replaced);
    assert_eq!(body_now(&d).await, listed);
    // Each was one undo step.
    for want in [&replaced, &deleted, &typed, &joined, &body] {
        chord(&d, &[CTRL], "z").await;
        assert_eq!(&body_now(&d).await, want);
    }
    // Markdown mode reads through the sections.
    d.click("#mode-markdown").await;
    let md: String = (0..600).map(|i| format!("para {i}\n\n")).collect();
    assert_eq!(
        d.js("return document.querySelector('#body').value").await,
        json!(md.trim_end().to_owned() + "\n")
    );
}

// The sizes of the document's sections (the page must be in sections).
async fn section_sizes(d: &Driver, shape: &str) -> Vec<u64> {
    d.js(shape)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().expect("sections"))
        .collect()
}

/// A page that grows long while it is edited (a long paste) comes into
/// sections, and into the window of displayed sections, as if it had been
/// opened long; a section that a paste makes too long is split; what is
/// typed still lands at the caret, and undo takes the paste back whole.
#[tokio::test]
async fn a_long_paste_brings_a_page_into_sections_and_undo_takes_it_back() {
    let (_node, d, _id) = edit_page("LS", "<p>first</p><p>last</p>").await;
    let shape = "const doc = CairnEditor.editor.view.state.doc; const n = [];
                 doc.forEach((s) => n.push(s.type.name === 'section' ? s.childCount : s.type.name));
                 return n;";
    assert_eq!(d.js(shape).await, json!(["paragraph", "paragraph"]));
    // The caret after "first", then 600 paragraphs pasted.
    let pasted: String = (0..600).map(|i| format!("<p>pasted {i}</p>")).collect();
    d.js(&format!(
        "const v = CairnEditor.editor.view; v.focus();
         v.dispatch(v.state.tr.setSelection(v.state.selection.constructor.near(v.state.doc.resolve(6))));
         v.pasteHTML({});",
        serde_json::to_string(&pasted).unwrap()
    ))
    .await;
    let after_paste = body_now(&d).await;
    let want = format!(
        "<p>firstpasted 0</p>{}<p>last</p>",
        (1..600)
            .map(|i| format!("<p>pasted {i}</p>"))
            .collect::<String>()
    );
    assert_eq!(after_paste, want);
    // 601 blocks: twelve sections of 48 and one of 25, none longer than 96.
    let sizes = section_sizes(&d, shape).await;
    assert_eq!(sizes.iter().sum::<u64>(), 601, "{sizes:?}");
    assert!(sizes.iter().all(|&n| n <= 96), "{sizes:?}");
    assert!(
        d.js("return document.querySelectorAll('#rich-body > .rich-far').length")
            .await
            .as_u64()
            .unwrap()
            >= 8,
        "hidden sections are placeholders"
    );
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    keys(&d, "Z").await;
    assert_eq!(
        body_now(&d).await,
        want.replacen("<p>pasted 599</p>", "<p>pasted 599Z</p>", 1)
    );
    // Another 300 pasted into one section: it is split.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let more: String = (0..300).map(|i| format!("<p>more {i}</p>")).collect();
    d.js(&format!(
        "const v = CairnEditor.editor.view;
         let at = null; v.state.doc.descendants((n, pos) => {{ if (at === null && n.textContent === 'pasted 100') at = pos + n.nodeSize - 1; }});
         v.dispatch(v.state.tr.setSelection(v.state.selection.constructor.near(v.state.doc.resolve(at))));
         v.pasteHTML({});",
        serde_json::to_string(&more).unwrap()
    ))
    .await;
    let sizes = section_sizes(&d, shape).await;
    assert_eq!(sizes.iter().sum::<u64>(), 900, "{sizes:?}");
    assert!(sizes.iter().all(|&n| n <= 96), "{sizes:?}");
    assert!(body_now(&d)
        .await
        .contains("<p>pasted 100more 0</p><p>more 1</p>"));
    // Undo: the second paste, the typing, the first paste (the page short
    // again, as it was).
    chord(&d, &[CTRL], "z").await;
    assert_eq!(
        body_now(&d).await,
        want.replacen("<p>pasted 599</p>", "<p>pasted 599Z</p>", 1)
    );
    chord(&d, &[CTRL], "z").await;
    assert_eq!(body_now(&d).await, want);
    chord(&d, &[CTRL], "z").await;
    assert_eq!(body_now(&d).await, "<p>first</p><p>last</p>");
    assert_eq!(d.js(shape).await, json!(["paragraph", "paragraph"]));
}

/// On a document of more than 100,000 positions the find bar searches once
/// typing in its field pauses, not at each key; Enter typed before that
/// pause searches the query at once and selects its match.
#[tokio::test]
async fn find_on_a_very_long_page_searches_when_typing_pauses_and_enter_does_not_wait() {
    let body: String = (0..2500)
        .map(|i| format!("<p>paragraph number {i} about the quick brown fox</p>"))
        .collect();
    let (_node, d, _id) = edit_page("FL", &body).await;
    assert!(
        d.js("return CairnEditor.editor.view.state.doc.content.size")
            .await
            .as_u64()
            .unwrap()
            > 100_000
    );
    d.js("CairnEditor.editor.view.focus()").await;
    chord(&d, &[CTRL], "f").await;
    d.wait_for(
        "the find bar",
        "return !document.querySelector('#rich-find').hidden && document.activeElement.id === 'find-q'",
    )
    .await;
    let count = |want: &str| {
        format!("return document.querySelector('#find-count').textContent === {want:?}")
    };
    // Typed: found once typing pauses.
    keys(&d, "number 1999 ").await;
    d.wait_for("1 of 1", &count("1 of 1")).await;
    // Typed with Enter at once: searched and selected without the pause.
    chord(&d, &[CTRL], "a").await;
    keys(&d, "number 1234 about\n").await;
    assert_eq!(
        d.js("const s = CairnEditor.editor.view.state; return [s.doc.textBetween(s.selection.from, s.selection.to), document.querySelector('#find-count').textContent]")
            .await,
        json!(["number 1234 about", "1 of 1"])
    );
    // "fox": 2,500 matches, 300 of them around the current one highlighted.
    chord(&d, &[CTRL], "a").await;
    keys(&d, "fox").await;
    d.wait_for(
        "2,500 matches",
        "return / of 2500$/.test(document.querySelector('#find-count').textContent)",
    )
    .await;
    // A change of the query is not searched in the input event itself.
    let sync = d
        .js("const q = document.querySelector('#find-q'); q.value = 'number 777 about'; q.dispatchEvent(new Event('input'));
             return document.querySelector('#find-count').textContent")
        .await;
    assert!(sync.as_str().unwrap().ends_with(" of 2500"), "{sync}");
    d.wait_for("1 of 1", &count("1 of 1")).await;
}

/// Confluence's other typing shortcuts: "---" alone in a paragraph is a
/// rule (the caret in a new paragraph after it), and "[]" then a space
/// makes the paragraph a task ("[" opens the link dialog; "]" typed first
/// there gives the brackets back). The toolbar's task button keeps the
/// caret on its text.
#[tokio::test]
async fn dashes_make_a_rule_and_brackets_make_a_task_with_the_caret_kept() {
    let (_node, d, _id) = edit_page("SC", "<p>x</p>").await;
    d.js("const v = CairnEditor.editor.view; v.focus(); v.dispatch(v.state.tr.setSelection(v.state.selection.constructor.atEnd(v.state.doc)));")
        .await;
    keys(&d, "\n---after\n[").await;
    d.wait_for(
        "the link dialog",
        "return document.activeElement && document.activeElement.id === 'link-to'",
    )
    .await;
    keys(&d, "] first task").await;
    let ids = |s: String| {
        let mut out = String::new();
        let mut rest = s.as_str();
        while let Some(i) = rest.find("<ac:task-id>") {
            let j = rest[i..].find("</ac:task-id>").expect("closed") + i;
            out.push_str(&rest[..i]);
            out.push_str("<ac:task-id>N</ac:task-id>");
            rest = &rest[j + "</ac:task-id>".len()..];
        }
        out + rest
    };
    let task = |t: &str| {
        format!("<ac:task-list><ac:task><ac:task-id>N</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body><p>{t}</p></ac:task-body></ac:task></ac:task-list>")
    };
    assert_eq!(
        ids(body_now(&d).await),
        format!("<p>x</p><hr/><p>after</p>{}", task("first task"))
    );
    // The toolbar's button on "after": the caret stays where it was.
    d.js("const v = CairnEditor.editor.view; let at = null; v.state.doc.descendants((n, pos) => { if (at === null && n.textContent === 'after') at = pos + 3; });
          v.dispatch(v.state.tr.setSelection(v.state.selection.constructor.near(v.state.doc.resolve(at)))); v.focus();")
        .await;
    d.click("#tb-task").await;
    keys(&d, "X").await;
    assert_eq!(
        ids(body_now(&d).await),
        format!("<p>x</p><hr/>{}{}", task("afXter"), task("first task"))
    );
}

/// Random edits on a long page, driven through the editor's own key
/// handling (Enter, Backspace and Delete, often where sections meet),
/// typing, selections across sections, pastes and the list button: after
/// each, the document is valid, no section holds more than 96 blocks, the
/// selection's section is displayed and the storage format is that of the
/// same blocks unsectioned; undoing everything gives the page back byte for
/// byte. (Seeded: a failure names its seed and step.)
#[tokio::test]
async fn random_edits_on_a_long_page_keep_its_sections_whole_and_undo_gives_it_back() {
    let body: String = (0..700)
        .map(|i| match i % 50 {
            7 => format!("<ul><li><p>item {i}</p></li><li><p>item {i}b</p></li></ul>"),
            23 => format!("<h2>head {i}</h2>"),
            31 => format!("<table><tbody><tr><td><p>cell {i}</p></td></tr></tbody></table>"),
            _ => format!("<p>para {i} <strong>bold</strong> text</p>"),
        })
        .collect();
    let (node, d, id) = edit_page("RX", &body).await;
    for seed in [1u32, 2, 3] {
        // Each seed on a freshly opened editor (the first is open).
        if seed > 1 {
            open_rich_editor(&d, &format!("{}/pages/{id}/edit", node.base)).await;
        }
        let v = d
            .js(&format!(
                "const seed0 = {seed};
                 let seed = seed0;
                 const rnd = (n) => {{ seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; }};
                 const v = CairnEditor.editor.view; v.focus();
                 const S = v.state.selection.constructor;
                 const key = (k, mods) => v.someProp('handleKeyDown', (f) => f(v, new KeyboardEvent('keydown', {{ key: k, ctrlKey: !!mods, bubbles: true, cancelable: true }})));
                 const blocks = (doc) => {{ const out = []; doc.forEach((n) => (n.type.name === 'section' ? n.forEach((b) => out.push(b)) : out.push(n))); return out; }};
                 const textblocks = () => {{ const out = []; v.state.doc.descendants((n, pos) => {{ if (n.isTextblock) {{ out.push([pos, n]); return false; }} }}); return out; }};
                 const at = () => {{ const tb = textblocks(); let i = rnd(tb.length);
                   if (rnd(2)) {{ const b = 48 * (1 + rnd(Math.max(1, Math.floor(tb.length / 48)))); i = Math.min(tb.length - 1, Math.max(0, b - 1 + rnd(3))); }}
                   const [pos, n] = tb[i]; const r = rnd(3); return pos + 1 + (r === 0 ? 0 : r === 1 ? n.content.size : rnd(n.content.size + 1)); }};
                 const original = CairnEditor.serialize(v.state.doc);
                 for (let step = 0; step < 120; step++) {{
                   const a = at();
                   const action = rnd(9);
                   try {{
                     if (action === 5) {{ const b = at(); v.dispatch(v.state.tr.setSelection(S.between(v.state.doc.resolve(Math.min(a, b)), v.state.doc.resolve(Math.max(a, b))))); }}
                     else v.dispatch(v.state.tr.setSelection(S.near(v.state.doc.resolve(a))));
                     if (action === 0) v.dispatch(v.state.tr.insertText('xy'));
                     else if (action === 1) key('Enter');
                     else if (action === 2 || action === 5) key('Backspace');
                     else if (action === 3) key('Delete');
                     else if (action === 4) {{ let h = ''; const n = 1 + rnd(150); for (let i = 0; i < n; i++) h += '<p>pasted ' + step + '.' + i + '</p>'; v.pasteHTML(h); }}
                     else if (action === 6) document.querySelector('#tb-bullet').click();
                     else if (action === 7) key('z', true);
                     else v.dispatch(v.state.tr.insertText(' '));
                   }} catch (e) {{ return {{ seed: seed0, step, action, error: String(e && e.stack || e) }}; }}
                   const doc = v.state.doc;
                   try {{ doc.check(); }} catch (e) {{ return {{ seed: seed0, step, action, error: 'invalid: ' + e }}; }}
                   const long = doc.firstChild.type.name === 'section';
                   if (!long && doc.childCount > 400) return {{ seed: seed0, step, action, error: 'long but not in sections' }};
                   if (long) {{
                     let big = null; doc.forEach((s) => {{ if (s.childCount > 96) big = s.childCount; }});
                     if (big) return {{ seed: seed0, step, action, error: 'a section of ' + big }};
                     const i = v.state.selection.$head.index(0); let pos = 0; for (let k = 0; k < i; k++) pos += doc.child(k).nodeSize;
                     const dom = v.nodeDOM(pos);
                     if (v.state.selection.$head.depth > 0 && !(dom && dom.classList.contains('rich-section'))) return {{ seed: seed0, step, action, error: 'the section of the selection is not displayed' }};
                   }}
                   const flat = doc.type.create(doc.attrs, blocks(doc));
                   if (CairnEditor.serialize(doc) !== CairnEditor.serialize(flat)) return {{ seed: seed0, step, action, error: 'sections change the storage format' }};
                 }}
                 let undos = 0; while (key('z', true) && undos < 1000) undos++;
                 const back = CairnEditor.serialize(v.state.doc);
                 return {{ seed: seed0, undos, same: back === original, long: v.state.doc.firstChild.type.name === 'section', diff: back === original ? null : [back.length, original.length] }};"
            ))
            .await;
        assert!(v.get("error").is_none(), "{v}");
        // (Fewer than 100 undo steps: the history keeps 100.)
        assert_eq!(v["same"], json!(true), "{v}");
        assert_eq!(v["long"], json!(true), "{v}");
    }
    assert_eq!(body_now(&d).await, body);
}

/// Find and replace (Ctrl+F) searches the document, not the DOM: on a long
/// page it reaches a word in a block hidden away from the screen (an empty
/// placeholder until then), which the match displays and selects; Replace
/// changes that word alone, Replace all (with Match case and Whole words)
/// is one undo step, every other block keeps its bytes, and Escape gives
/// the text the focus back at the match. The bar passes axe.
#[tokio::test]
async fn find_and_replace_reaches_text_in_hidden_blocks_of_a_long_page_and_replace_all_is_one_undo()
{
    let para = |i: usize| {
        if i == 1200 {
            "<p>para 1200 zebraword</p>".to_owned()
        } else if i.is_multiple_of(97) {
            format!("<p>para {i} <em>Fox</em> fox Foxes</p>")
        } else {
            format!("<p>para {i}</p>")
        }
    };
    let body: String = (0..1500).map(para).collect();
    let (node, d, id) = edit_page("FR", &body).await;
    // Paragraph 1200's section: a placeholder, or its blocks.
    let block_1200 = "const v = CairnEditor.editor.view; let i = 0, k = 1200;
                      while (k >= v.state.doc.child(i).childCount) { k -= v.state.doc.child(i).childCount; i++; }
                      const s = document.querySelectorAll('#rich-body > *')[i];
                      return [s.className, s.classList.contains('near') ? s.children[k].textContent : s.textContent];";
    assert_eq!(d.js(block_1200).await, json!(["rich-far", ""]));

    // Ctrl+F in the text opens the bar, the focus in its Find field.
    d.js("CairnEditor.editor.view.focus()").await;
    chord(&d, &[CTRL], "f").await;
    d.wait_for(
        "the find bar",
        "return !document.querySelector('#rich-find').hidden && document.activeElement.id === 'find-q'",
    )
    .await;
    keys(&d, "zebraword").await;
    let count = |want: &str| {
        format!("return document.querySelector('#find-count').textContent === {want:?}")
    };
    d.wait_for("1 of 1", &count("1 of 1")).await;
    assert_eq!(
        d.js("const c = document.querySelector('#find-count'); return c.getAttribute('aria-live')")
            .await,
        json!("polite")
    );
    let v = d.axe_violations().await;
    assert!(v.is_empty(), "axe with the find bar open: {v:#?}");

    // Enter: the match is selected, its block displayed (no longer a
    // placeholder), highlighted as the current match and on screen.
    d.press(&[ENTER]).await;
    assert_eq!(
        d.js("const s = CairnEditor.editor.view.state; return s.doc.textBetween(s.selection.from, s.selection.to)")
            .await,
        json!("zebraword")
    );
    assert_eq!(
        d.js(block_1200).await,
        json!(["rich-section near", "para 1200 zebraword"])
    );
    d.wait_for(
        "the current match on screen",
        "const m = document.querySelector('#rich-body .rich-match-current'); if (!m || m.textContent !== 'zebraword') return false;
         const r = m.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight;",
    )
    .await;
    assert_eq!(
        d.js("return document.activeElement.id").await,
        json!("find-q")
    );

    // Tab to Replace, Enter replaces the current match only.
    d.press(&[TAB]).await;
    assert_eq!(
        d.js("return document.activeElement.id").await,
        json!("find-r")
    );
    keys(&d, "okapi").await;
    d.press(&[ENTER]).await;
    d.wait_for("no more matches", &count("No results")).await;
    let replaced = body.replacen("<p>para 1200 zebraword</p>", "<p>para 1200 okapi</p>", 1);
    assert_eq!(body_now(&d).await, replaced);

    // "Fox": 48 matches, 32 with Match case, 16 with Whole words too (the
    // current one the first after the caret, in paragraph 1261, after 13
    // paragraphs with "Fox").
    d.click("#find-q").await;
    chord(&d, &[CTRL], "a").await;
    keys(&d, "Fox").await;
    d.wait_for("48 matches", &count("40 of 48")).await;
    d.click("#find-case").await;
    d.wait_for("32 matches", &count("27 of 32")).await;
    d.click("#find-words").await;
    d.wait_for("16 matches", &count("14 of 16")).await;
    // Moving the caret (here to the start) moves the current match: the
    // count says which one Next goes to.
    d.js("const v = CairnEditor.editor.view; v.dispatch(v.state.tr.setSelection(v.state.selection.constructor.atStart(v.state.doc)));")
        .await;
    d.wait_for("the first of 16", &count("1 of 16")).await;
    d.click("#find-r").await;
    chord(&d, &[CTRL], "a").await;
    keys(&d, "Wolf").await;
    d.click("#find-all").await;
    d.wait_for("Replaced 16", &count("Replaced 16")).await;
    let wolves = replaced.replace("<em>Fox</em>", "<em>Wolf</em>");
    assert_eq!(wolves.matches("<em>Wolf</em>").count(), 16);
    assert_eq!(body_now(&d).await, wolves);

    // Escape closes the bar, the focus back in the text; one undo takes
    // back every replacement (and only those).
    d.press(&["\u{E00C}"]).await;
    assert_eq!(
        d.js("return [document.querySelector('#rich-find').hidden, document.activeElement.id, document.querySelectorAll('#rich-body .rich-match').length]")
            .await,
        json!([true, "rich-body", 0])
    );
    chord(&d, &[CTRL], "z").await;
    assert_eq!(body_now(&d).await, replaced);

    // The toolbar's button opens it too; Escape leaves the match selected,
    // so what is typed replaces it.
    d.click("#tb-find").await;
    d.wait_for(
        "the find bar",
        "return !document.querySelector('#rich-find').hidden && document.activeElement.id === 'find-q'",
    )
    .await;
    chord(&d, &[CTRL], "a").await;
    keys(&d, "okapi").await;
    d.wait_for("1 of 1", &count("1 of 1")).await;
    d.press(&["\u{E00C}"]).await;
    assert_eq!(
        d.js("return document.activeElement.id").await,
        json!("rich-body")
    );
    keys(&d, "gnu").await;
    let last = replaced.replacen("<p>para 1200 okapi</p>", "<p>para 1200 gnu</p>", 1);
    assert_eq!(body_now(&d).await, last);
    // Saved: the server stores exactly that, every other block's bytes as
    // they were.
    d.click("#save").await;
    d.wait_for("the page", "return !!document.querySelector('#title-text')")
        .await;
    let (saved, version) = stored(&node, id).await;
    assert_eq!(saved, last);
    assert_eq!(version, 2);
}
