//! Doing things with the mouse and the keyboard: dragging pages in the tree,
//! dropping files to attach them, and the header, tree, page actions and
//! editor from the keyboard.

use super::*;

#[tokio::test]
async fn pages_move_by_dragging_in_the_tree_and_the_move_can_be_undone() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("DND", "Drag and drop").await;
    let a = c.create_page("DND", "Alpha", "<p>a</p>", None).await;
    c.create_page("DND", "Bravo", "<p>b</p>", None).await;
    let ch = c.create_page("DND", "Charlie", "<p>c</p>", None).await;
    let before = node.ancestors(ch).await;
    let d = Driver::start().await;
    let base = node.base.clone();
    d.login(&base, "admin").await;
    d.goto(&format!("{base}/pages/viewpage.action?pageId={a}"))
        .await;
    d.wait_for(
        "the tree",
        "return [...document.querySelectorAll('.page-tree a')].some(a => a.textContent === 'Charlie')",
    )
    .await;
    // Drag Charlie onto the middle of Alpha: it becomes Alpha's child.
    d.js("const find = t => [...document.querySelectorAll('.page-tree a')].find(a => a.textContent === t);
          const dt = new DataTransfer();
          const src = find('Charlie'), dst = find('Alpha');
          src.dispatchEvent(new DragEvent('dragstart', {dataTransfer: dt, bubbles: true}));
          const r = dst.getBoundingClientRect(), y = r.top + r.height / 2;
          dst.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true, clientY: y}));
          dst.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true, clientY: y}));")
        .await;
    d.wait_for(
        "the undo offer",
        "return !!document.querySelector('#tree-undo')",
    )
    .await;
    assert!(
        node.ancestors(ch).await.contains(&a.to_string()),
        "Charlie is under Alpha"
    );
    // Undo puts it back where it was.
    d.click("#tree-undo").await;
    d.wait_for(
        "the undone move",
        "return document.querySelector('#tree-status').textContent.includes('back')",
    )
    .await;
    assert_eq!(
        node.ancestors(ch).await,
        before,
        "Charlie is back at the root"
    );
}

#[tokio::test]
async fn files_dropped_on_the_attachments_screen_upload_with_progress_and_thumbnails() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("UPL", "Uploads").await;
    let id = c.create_page("UPL", "Files", "<p>f</p>", None).await;
    let d = Driver::start().await;
    let base = node.base.clone();
    d.login(&base, "admin").await;
    d.goto(&format!("{base}/pages/{id}/attachments")).await;
    d.wait_for(
        "the drop zone",
        "return !!document.querySelector('#drop-zone')",
    )
    .await;
    // Count the progress bars as they appear (the list reloads when done,
    // so the count is kept across the reload).
    d.js("sessionStorage.setItem('bars', '0');
          new MutationObserver(ms => { for (const m of ms) for (const n of m.addedNodes)
            if (n.querySelector && n.querySelector('progress'))
              sessionStorage.setItem('bars', String(Number(sessionStorage.getItem('bars')) + 1)); })
            .observe(document.querySelector('#upload-list'), {childList: true});")
        .await;
    d.js("const png = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='), c => c.charCodeAt(0));
          const dt = new DataTransfer();
          dt.items.add(new File([png], 'pixel.png', {type: 'image/png'}));
          dt.items.add(new File(['hello'], 'notes.txt', {type: 'text/plain'}));
          const zone = document.querySelector('#drop-zone');
          zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
          zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));")
        .await;
    // Both uploaded, the list reloads with the image's thumbnail.
    d.wait_for(
        "the uploaded files in the list",
        "const t = document.querySelector('img.thumb[src*=\"pixel.png\"]'); \
         return !!t && t.complete && t.naturalWidth === 1 && document.body.textContent.includes('notes.txt')",
    )
    .await;
    assert_eq!(
        d.js("return sessionStorage.getItem('bars')").await,
        "2",
        "a progress bar per file"
    );
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            &format!("/rest/api/content/{id}/child/attachment"),
            None,
        )
        .await;
    assert_eq!(v["size"], 2, "{v}");
}

pub(super) const TAB: &str = "\u{E004}";

pub(super) const ENTER: &str = "\u{E007}";

pub(super) const ESCAPE: &str = "\u{E00C}";

#[tokio::test]
async fn the_header_tree_page_actions_and_editor_work_from_the_keyboard() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("KEY", "Keyboard").await;
    let parent = c.create_page("KEY", "Parent", "<p>p</p>", None).await;
    c.create_page("KEY", "Child", "<p>c</p>", Some(parent))
        .await;
    let d = Driver::start().await;
    let base = node.base.clone();
    d.login(&base, "admin").await;
    d.goto(&format!("{base}/spaces/KEY")).await;
    d.wait_for(
        "the tree",
        "return !!document.querySelector('.page-tree button.twisty')",
    )
    .await;
    // Tab through the whole page from the top, noting what takes the focus
    // and that it is visibly marked.
    d.js("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
        .await;
    let describe = "const e = document.activeElement; if (!e || e === document.body) return '';
        const outline = getComputedStyle(e).outlineStyle;
        return (e.id || e.getAttribute('aria-label') || e.textContent.trim().slice(0, 30)) + '|' + e.tagName + '|' + outline;";
    let mut seen = Vec::new();
    for _ in 0..40 {
        d.press(&[TAB]).await;
        let v = d.js(describe).await;
        seen.push(v.as_str().unwrap_or("").to_owned());
    }
    let has = |what: &str| seen.iter().any(|s| s.starts_with(what));
    assert!(
        has("Skip to content|A"),
        "a skip link comes first: {seen:?}"
    );
    assert!(has("search-q|INPUT"), "the search box: {seen:?}");
    assert!(
        seen.iter().any(|s| s.contains("|SUMMARY|")),
        "the user menu: {seen:?}"
    );
    assert!(
        has("Show the pages under Parent|BUTTON"),
        "the tree's toggle: {seen:?}"
    );
    assert!(has("Parent|A"), "the tree's links: {seen:?}");
    assert!(
        seen.iter()
            .filter(|s| !s.is_empty())
            .all(|s| !s.ends_with("|none")),
        "every focused element shows its focus: {seen:?}"
    );

    // The tree opens with Enter.
    d.js("document.querySelector('.page-tree button.twisty').focus()")
        .await;
    d.press(&[ENTER]).await;
    d.wait_for(
        "the opened branch",
        "const b = document.querySelector('.page-tree button.twisty'); return b.getAttribute('aria-expanded') === 'true' && [...document.querySelectorAll('.page-tree a')].some(a => a.textContent === 'Child')",
    )
    .await;

    // The user menu opens with Enter, reaches Log out, closes with Escape.
    d.js("document.querySelector('#user-menu summary').focus()")
        .await;
    d.press(&[ENTER]).await;
    assert_eq!(
        d.js("return document.querySelector('#user-menu').open")
            .await,
        true
    );
    let mut reached = false;
    for _ in 0..8 {
        d.press(&[TAB]).await;
        if d.js("return document.activeElement.id").await == "log-out" {
            reached = true;
            break;
        }
    }
    assert!(reached, "Log out is reachable by Tab");
    d.press(&[ESCAPE]).await;
    assert_eq!(
        d.js("return document.querySelector('#user-menu').open")
            .await,
        false
    );

    // Page actions: the More menu opens with Enter; Edit leads to the editor,
    // whose fields take typing.
    d.goto(&format!("{base}/pages/viewpage.action?pageId={parent}"))
        .await;
    d.wait_for("the page", "return !!document.querySelector('#edit-page')")
        .await;
    // Focused once the page's scripts have run (a late script moving the
    // focus would take the key elsewhere).
    d.wait_for(
        "the page's scripts",
        "return document.readyState === 'complete'",
    )
    .await;
    d.js("document.querySelector('summary[aria-label=\"More actions\"]').focus()")
        .await;
    d.wait_for(
        "the More button focused",
        "return document.activeElement === document.querySelector('summary[aria-label=\"More actions\"]')",
    )
    .await;
    d.press(&[ENTER]).await;
    // A wait, not an immediate read: under load the key's activation can
    // land after WebDriver has returned (it failed so in a full parallel run).
    d.wait_for(
        "the More menu open",
        "return document.querySelector('summary[aria-label=\"More actions\"]').parentElement.open",
    )
    .await;
    d.press(&[ESCAPE]).await;
    d.js("document.querySelector('#edit-page').focus()").await;
    d.press(&[ENTER]).await;
    d.wait_for("the editor", "return !!document.querySelector('#title')")
        .await;
    d.js("document.querySelector('#title').focus()").await;
    d.press(&[TAB]).await;
    d.press(&[TAB]).await;
    let focused = d.js("return document.activeElement.id").await;
    assert!(
        ["mode-rich", "mode-source", "mode-markdown"].contains(&focused.as_str().unwrap_or("")),
        "Tab moves through the editor's fields: {focused}"
    );
}

#[tokio::test]
async fn a_refused_admin_form_keeps_what_was_typed_and_says_why_beside_the_field() {
    let node = TestNode::start().await;
    let d = Driver::start().await;
    let base = node.base.clone();
    d.login(&base, "admin").await;
    d.goto(&format!("{base}/admin/groups")).await;
    // A name that is taken: the message appears beside it, nothing typed is lost.
    d.type_into("#create-group input[name=name]", "cairn-users")
        .await;
    d.type_into(
        "#create-group input[name=description]",
        "the people who write",
    )
    .await;
    d.click("#create-group button[type=submit]").await;
    d.wait_for(
        "the message beside the name",
        "const e = document.querySelector('#create-group input[name=name] + .form-error'); return !!e && e.textContent.includes('cairn-users')",
    )
    .await;
    assert_eq!(
        d.js("return [document.querySelector('#create-group input[name=name]').value, document.querySelector('#create-group input[name=description]').value]")
            .await,
        json!(["cairn-users", "the people who write"]),
        "what was typed is kept"
    );
    assert_eq!(d.js("return document.activeElement.name").await, "name");
    // Corrected, the form saves and the screen says so.
    d.type_into("#create-group input[name=name]", "writers")
        .await;
    d.click("#create-group button[type=submit]").await;
    d.wait_for(
        "the notice",
        "const n = document.querySelector('#notice'); return !!n && n.textContent === 'Group writers created.'",
    )
    .await;
    assert!(
        d.js("return document.querySelector('#create-group input[name=description]').value === ''")
            .await
            == true,
        "a fresh form after the save"
    );
}

#[tokio::test]
async fn selected_text_takes_an_inline_comment_whose_thread_sits_beside_it() {
    let node = TestNode::start().await;
    node.user("bob", false).await;
    let admin = node.login("admin").await;
    admin.create_space("INL", "Inline").await;
    let p = admin
        .create_page(
            "INL",
            "Schedule",
            "<p>The deploy runs every night at two.</p>",
            None,
        )
        .await;
    let d = Driver::start().await;
    let base = node.base.clone();
    d.login(&base, "bob").await;
    d.goto(&format!("{base}/pages/viewpage.action?pageId={p}"))
        .await;
    // Select "every night" as a reader would.
    d.js(
        "const p = document.querySelector('#main-content p'); const t = p.firstChild;
          const i = t.data.indexOf('every night'); const r = document.createRange();
          r.setStart(t, i); r.setEnd(t, i + 'every night'.length);
          const s = getSelection(); s.removeAllRanges(); s.addRange(r);",
    )
    .await;
    d.wait_for(
        "the Comment button",
        "const b = document.querySelector('#inline-comment-button'); return !!b && !b.hidden",
    )
    .await;
    d.click("#inline-comment-button").await;
    // The box is rich text (rich_comments tests it); Markdown is one click away.
    d.wait_for(
        "the comment form",
        "const f = document.querySelector('#new-inline-comment'); return !!f && f.dataset.mode === 'rich' && document.activeElement === f.querySelector('.rich-body')",
    )
    .await;
    d.click("#new-inline-comment [data-mode=markdown]").await;
    d.wait_for(
        "the Markdown mode",
        "return document.activeElement === document.querySelector('#new-inline-comment textarea')",
    )
    .await;
    // @ completes people.
    d.type_into("#new-inline-comment textarea", "Why so often, @adm")
        .await;
    d.wait_for(
        "the people list",
        "const l = document.querySelector('#new-inline-comment .completions'); return !!l && !l.hidden && l.textContent.includes('@admin')",
    )
    .await;
    d.press(&["\u{E007}"]).await; // Enter picks the highlighted person
    assert_eq!(
        d.js("return document.querySelector('#new-inline-comment textarea').value")
            .await,
        "Why so often, @admin "
    );
    d.click("#new-inline-comment button[type=submit]").await;
    d.wait_for(
        "the highlighted text and its thread",
        "const m = document.querySelector('.inline-marker.commented'); return !!m && m.textContent === 'every night' && !!document.querySelector('.inline-thread .comment-body a')",
    )
    .await;
    // The text leads to its thread.
    d.click(".inline-marker.commented").await;
    d.wait_for(
        "the thread shown",
        "return !!document.querySelector('.inline-thread.active')",
    )
    .await;
    let bad = d.axe_violations().await;
    assert!(bad.is_empty(), "accessibility:\n{}", bad.join("\n"));
    // Resolved, it moves to the resolved comments and the text is plain again.
    d.click(".inline-thread button.resolve").await;
    d.wait_for(
        "the resolved view",
        "return !!document.querySelector('#resolved-comments') && !document.querySelector('.inline-marker.commented')",
    )
    .await;
}
