//! The UI in headless Chromium driven over WebDriver (`cairn_tests::browser`):
//! log in, create a page (with the live preview), edit it, see it in history
//! and diff, and check that no script from a hostile page runs; bytes saved
//! from the browser; form errors beside their field; the main screens at a
//! desktop's and a phone's size.

use std::time::Duration;

use cairn_tests::browser::Driver;
use cairn_tests::TestNode;
use serde_json::{json, Value};

const HOSTILE_TITLE: &str = "Hostile <img src=x onerror=\"window.__pwned='title'\">";
const HOSTILE_BODY: &str = r#"<p>hostile</p><script>window.__pwned='script'</script>
<p><a href="javascript:window.__pwned='href'">click</a><img src="x" onerror="window.__pwned='img'"/></p>
<p style="background:url(javascript:window.__pwned='css')">styled</p>
<ac:structured-macro ac:name="code"><ac:parameter ac:name="title">&lt;img src=x onerror=window.__pwned='macro'&gt;</ac:parameter><ac:plain-text-body><![CDATA[</code><img src=x onerror="window.__pwned='cdata'">]]></ac:plain-text-body></ac:structured-macro>
<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">&quot;&gt;&lt;svg onload="window.__pwned='svg'"&gt;</ac:parameter><ac:rich-text-body><iframe src="javascript:window.__pwned='iframe'"></iframe></ac:rich-text-body></ac:structured-macro>
<ac:link><ri:page ri:content-title="x&quot; onmouseover=&quot;window.__pwned='link'"/><ac:plain-text-link-body><![CDATA[<b onmouseover="window.__pwned='body'">link</b>]]></ac:plain-text-link-body></ac:link>"#;

#[tokio::test]
async fn browser_login_create_edit_history_diff_and_no_hostile_script_runs() {
    let node = TestNode::start().await;
    let d = Driver::start().await;
    let base = node.base.clone();

    // Log in.
    d.login(&base, "admin").await;

    // Create a space through its form.
    d.goto(&format!("{base}/spaces/create")).await;
    d.type_into("input[name=name]", "Browser Space").await;
    d.type_into("input[name=key]", "BR").await;
    d.click("button[type=submit].primary").await;
    d.wait_for(
        "the space home",
        "return location.pathname.startsWith('/spaces/BR/pages/')",
    )
    .await;

    // Create a page in Markdown; the live preview renders it as we type.
    d.goto(&format!("{base}/spaces/BR/create")).await;
    d.type_into("#title", "Browser Page").await;
    d.type_into("#body", "# Release plan\n\nShip **on Tuesday**.\n")
        .await;
    d.wait_for("the live preview", "return !!document.querySelector('#preview h1') && document.querySelector('#preview strong').textContent === 'on Tuesday'").await;
    d.click("#save").await;
    d.wait_for("the new page", "return document.querySelector('#title-text') && document.querySelector('#title-text').textContent === 'Browser Page'").await;
    let url = d.current_url().await;
    let id = cairn_tests::page_id_of(&url).expect("page id in url");
    assert!(d
        .source()
        .await
        .contains("Ship <strong>on Tuesday</strong>"));

    // Edit it.
    d.click("#edit-page").await;
    d.wait_for("the editor", "return !!document.querySelector('#body')")
        .await;
    d.js("document.querySelector('#format').value = 'markdown'")
        .await;
    d.type_into("#body", "# Release plan\n\nShip **on Thursday**.\n")
        .await;
    d.click("#save").await;
    d.wait_for(
        "the edited page",
        "return document.body.textContent.includes('on Thursday')",
    )
    .await;
    assert!(d.source().await.contains("version 2"));

    // History and diff.
    d.goto(&format!("{base}/pages/{id}/history")).await;
    assert_eq!(
        d.js("return document.querySelectorAll('tr.version-row').length")
            .await,
        json!(2)
    );
    d.click("#compare").await;
    d.wait_for("the diff", "return !!document.querySelector('#diff')")
        .await;
    let diff = d
        .js("return document.querySelector('#diff').innerHTML")
        .await;
    let diff = diff.as_str().unwrap();
    assert!(
        diff.contains("<del")
            && diff.contains("Tuesday")
            && diff.contains("<ins")
            && diff.contains("Thursday"),
        "{diff}"
    );

    // A hostile page, written through the form as storage format.
    let c = node.login("admin").await;
    let hostile = c
        .create_page("BR", HOSTILE_TITLE, HOSTILE_BODY, Some(id))
        .await;
    c.post(
        &format!("/pages/{hostile}/comments"),
        &[(
            "body",
            "<img src=x onerror=\"window.__pwned='comment'\"> hi",
        )],
    )
    .await;
    c.post(
        &format!("/pages/{hostile}/labels"),
        &[("labels", "x\"onmouseover=alert(1)")],
    )
    .await;
    d.goto(&format!("{base}/pages/viewpage.action?pageId={hostile}"))
        .await;
    d.wait_for(
        "the hostile page",
        "return document.readyState === 'complete' && !!document.querySelector('#main-content')",
    )
    .await;
    // Let images fail and handlers fire if any slipped through, and hover everything.
    d.js("document.querySelectorAll('*').forEach(e => { e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})); })").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        d.js("return window.__pwned === undefined ? null : window.__pwned")
            .await,
        Value::Null,
        "a hostile script ran"
    );
    assert_eq!(d.js("return document.querySelectorAll('script:not([src]), iframe, svg:not(.ui-icon), [onerror], [onmouseover], [onload]').length").await, json!(0));
    assert_eq!(d.js("return [...document.querySelectorAll('a')].filter(a => a.href.startsWith('javascript')).length").await, json!(0));
    let title = d
        .js("return document.querySelector('#title-text').textContent")
        .await;
    assert_eq!(
        title,
        json!(HOSTILE_TITLE),
        "the hostile title shows as text"
    );

    // The same markup through the editor's live preview.
    d.goto(&format!("{base}/spaces/BR/create")).await;
    d.js("document.querySelector('#format').value = 'storage'")
        .await;
    d.type_into("#body", HOSTILE_BODY).await;
    d.wait_for(
        "the hostile preview",
        "return document.querySelector('#preview').textContent.includes('hostile')",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        d.js("return window.__pwned === undefined ? null : window.__pwned")
            .await,
        Value::Null,
        "a hostile script ran in the preview"
    );
}

/// Chromium submits a textarea's line breaks as CRLF; the UI stores LF, so a
/// browser save is byte-identical to what REST or an import would store and
/// the diff marks only the lines that changed.
#[tokio::test]
async fn browser_saves_store_lf_line_endings() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("LF", "Line endings").await;
    let d = Driver::start().await;
    let base = node.base.clone();
    d.login(&base, "admin").await;

    d.goto(&format!("{base}/spaces/LF/create")).await;
    d.js("document.querySelector('#format').value = 'storage'")
        .await;
    d.type_into("#title", "Lines").await;
    d.type_into("#body", "<p>one</p>\n<p>two</p>\n<p>three</p>")
        .await;
    d.click("#save").await;
    d.wait_for(
        "the new page",
        "return !!document.querySelector('#title-text')",
    )
    .await;
    let id = cairn_tests::page_id_of(&d.current_url().await).expect("page id in url");
    let body = |v: &Value| v["body"]["storage"]["value"].as_str().unwrap().to_owned();
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            &format!("/rest/api/content/{id}?expand=body.storage"),
            None,
        )
        .await;
    assert_eq!(body(&v), "<p>one</p>\n<p>two</p>\n<p>three</p>");

    // Change one line in the browser: the new version differs in that line only.
    d.click("#edit-page").await;
    d.wait_for("the editor", "return !!document.querySelector('#body')")
        .await;
    d.type_into("#body", "<p>one</p>\n<p>2</p>\n<p>three</p>")
        .await;
    d.click("#save").await;
    d.wait_for(
        "the edited page",
        "return document.body.textContent.includes('version 2')",
    )
    .await;
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            &format!("/rest/api/content/{id}?expand=body.storage"),
            None,
        )
        .await;
    assert_eq!(body(&v), "<p>one</p>\n<p>2</p>\n<p>three</p>");
}

#[tokio::test]
async fn browser_form_errors_keep_the_input_beside_the_field() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("FE", "Form errors").await;
    let id = c.create_page("FE", "Labelled", "<p>x</p>", None).await;
    let d = Driver::start().await;
    let base = node.base.clone();
    d.login(&base, "admin").await;
    let page = format!("{base}/pages/viewpage.action?pageId={id}");
    d.goto(&page).await;
    d.wait_for(
        "the label form",
        "return !!document.querySelector('#add-labels')",
    )
    .await;
    // Times read as people say them; the exact time is the tooltip.
    d.wait_for(
        "a relative time",
        "const t = document.querySelector('.byline time'); return !!t && t.textContent === 'just now'",
    )
    .await;
    assert!(
        d.js("return document.querySelector('.byline time').title")
            .await
            .as_str()
            .unwrap_or("")
            .contains("UTC"),
        "the exact time on hover"
    );
    assert_eq!(
        d.js("return document.querySelector('link[rel=icon]').href")
            .await
            .as_str()
            .map(|h| h.ends_with("/assets/favicon.svg")),
        Some(true)
    );
    let at = d.current_url().await;
    d.type_into("#add-labels", "fine bad!label").await;
    d.click(".add-label button[type=submit]").await;
    d.wait_for(
        "the message beside the field",
        "const e = document.querySelector('#add-labels + .form-error'); return !!e && e.textContent.includes('bad!label')",
    )
    .await;
    assert_eq!(d.current_url().await, at, "the page stayed");
    assert_eq!(
        d.js("return document.querySelector('#add-labels').value")
            .await,
        "fine bad!label",
        "what was typed is kept"
    );
    assert_eq!(
        d.js("return document.querySelector('#add-labels').getAttribute('aria-invalid')")
            .await,
        "true"
    );
    assert_eq!(
        d.js("return document.activeElement.id").await,
        "add-labels",
        "the field has the focus"
    );
    // Corrected, the same form saves and the page shows the label.
    d.type_into("#add-labels", "fine").await;
    d.click(".add-label button[type=submit]").await;
    d.wait_for(
        "the saved label",
        "return [...document.querySelectorAll('.labels .label')].some(l => l.textContent.startsWith('fine'))",
    )
    .await;
    assert!(
        d.js("return !document.querySelector('.form-error')").await == true,
        "the old message is gone"
    );
    // A comment refused by the server keeps its text too (here: the session's
    // form token has been replaced, as after logging in elsewhere).
    d.js("document.querySelector('.new-comment input[name=_csrf]').value = 'stale'")
        .await;
    d.type_into(
        ".new-comment textarea",
        "a long comment I do not want to lose",
    )
    .await;
    d.click(".new-comment button[type=submit]").await;
    d.wait_for(
        "the comment form's message",
        "const e = document.querySelector('.new-comment .form-error'); return !!e && e.textContent.includes('reload the page')",
    )
    .await;
    assert_eq!(
        d.js("return document.querySelector('.new-comment textarea').value")
            .await,
        "a long comment I do not want to lose"
    );
}

#[tokio::test]
async fn browser_main_screens_fit_a_phone_and_a_desktop_and_the_phone_has_a_drawer() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space(
        "PH",
        "Phone space with a long name that must not push anything off",
    )
    .await;
    let home = c
        .create_page("PH", "Parent page", "<p>parent</p>", None)
        .await;
    let child = c
        .create_page(
            "PH",
            "Child",
            "<table><tr><td>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</td><td>bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb</td></tr></table><pre>a very long line of code that is much wider than a phone screen, kept on one line</pre>",
            Some(home),
        )
        .await;
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth";
    let inside = |css: &str| {
        format!(
            "const e = document.querySelector('{css}'); if (!e) return false; const r = e.getBoundingClientRect(); \
             return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth + 0.5"
        )
    };
    let base = node.base.clone();
    let screens = [
        ("page", format!("/pages/viewpage.action?pageId={child}")),
        ("dashboard", "/".to_owned()),
        ("search", "/search?q=parent".to_owned()),
        ("editor", format!("/pages/{child}/edit")),
        ("history", format!("/pages/{child}/history")),
        ("diff", format!("/pages/{child}/diff?from=1&to=1&mode=side")),
        ("admin-users", "/admin/users".to_owned()),
        ("spaces", "/spaces".to_owned()),
        ("error", "/spaces/PH/pages/999999".to_owned()),
        ("attachments", format!("/pages/{child}/attachments")),
        ("restrictions", format!("/pages/{child}/restrictions")),
        ("move", format!("/pages/{child}/move")),
        ("space-settings", "/spaces/PH/settings".to_owned()),
        ("trash", "/spaces/PH/trash".to_owned()),
        ("blog", "/spaces/PH/blog".to_owned()),
        ("create", "/spaces/PH/create".to_owned()),
        ("notifications", "/notifications".to_owned()),
        (
            "notification-settings",
            "/notifications/settings".to_owned(),
        ),
        ("tokens", "/profile/tokens".to_owned()),
        ("profile", "/users/admin".to_owned()),
        ("admin-groups", "/admin/groups".to_owned()),
        ("admin-user-edit", "/admin/users/1/edit".to_owned()),
        ("admin-permissions", "/admin/permissions".to_owned()),
        ("admin-plugins", "/admin/plugins".to_owned()),
        ("admin-plugin", "/admin/plugins/cairn.code".to_owned()),
        ("admin-search", "/admin/search".to_owned()),
        ("admin-cluster", "/admin/cluster".to_owned()),
        ("admin-settings", "/admin/settings".to_owned()),
        ("admin-mail", "/admin/mail".to_owned()),
        ("admin-import", "/admin/import".to_owned()),
    ];
    // Both sizes: nothing wider than the screen, search and the user menu in
    // reach, and a screenshot of each screen.
    for (size, width, height) in [("desktop", 1440, 900), ("phone", 390, 844)] {
        let d = Driver::start_sized(width, height).await;
        d.login(&base, "admin").await;
        assert_eq!(d.js("return window.innerWidth").await, width, "{size}");
        for (name, path) in &screens {
            d.goto(&format!("{base}{path}")).await;
            d.wait_for("the header", "return !!document.querySelector('.topbar')")
                .await;
            assert_eq!(
                d.js(fits).await,
                true,
                "{size}: {path} is wider than the screen"
            );
            assert_eq!(
                d.js(&inside("#search-q")).await,
                true,
                "{size}: {path}: the search box"
            );
            assert_eq!(
                d.js(&inside("#user-menu summary")).await,
                true,
                "{size}: {path}: the user menu"
            );
            d.screenshot(&format!("{size}-{name}")).await;
            let bad = d.axe_violations().await;
            assert!(
                bad.is_empty(),
                "{size}: {path}: accessibility:\n{}",
                bad.join("\n")
            );
        }
        // The login page, as an anonymous visitor sees it.
        let anon = Driver::start_sized(width, height).await;
        anon.goto(&format!("{base}/login")).await;
        anon.wait_for(
            "the login form",
            "return !!document.querySelector('#password')",
        )
        .await;
        anon.screenshot(&format!("{size}-login")).await;
        let bad = anon.axe_violations().await;
        assert!(
            bad.is_empty(),
            "{size}: /login: accessibility:\n{}",
            bad.join("\n")
        );
    }
    let d = Driver::start_sized(390, 844).await;
    d.login(&base, "admin").await;
    // The user menu opens inside the screen and offers Log out.
    d.goto(&format!("{base}/pages/viewpage.action?pageId={child}"))
        .await;
    d.click("#user-menu summary").await;
    assert_eq!(
        d.js(&inside("#log-out")).await,
        true,
        "Log out is reachable"
    );
    d.click("#user-menu summary").await;
    // The drawer brings the space and its tree, opened down to this page.
    assert_eq!(
        d.js(&inside("#sidebar")).await,
        false,
        "the drawer starts closed"
    );
    d.click("#drawer-toggle").await;
    d.wait_for(
        "the open drawer with the tree",
        &format!(
            "const s = document.querySelector('#sidebar'); const r = s.getBoundingClientRect(); \
             return r.left >= 0 && r.right <= window.innerWidth && !!s.querySelector('.page-tree a.current[href*=\"/{child}/\"]')"
        ),
    )
    .await;
    assert_eq!(
        d.js("return document.querySelector('#drawer-toggle').getAttribute('aria-expanded')")
            .await,
        "true"
    );
    // Escape closes it again.
    d.js("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}))")
        .await;
    d.wait_for(
        "the closed drawer",
        "return document.querySelector('#sidebar').getBoundingClientRect().right <= 0",
    )
    .await;
}

#[tokio::test]
async fn pages_move_by_dragging_in_the_tree_and_the_move_can_be_undone() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("DND", "Drag and drop").await;
    let a = c.create_page("DND", "Alpha", "<p>a</p>", None).await;
    c.create_page("DND", "Bravo", "<p>b</p>", None).await;
    let ch = c.create_page("DND", "Charlie", "<p>c</p>", None).await;
    let ancestors = |id: i64| {
        let node = &node;
        async move {
            let (_, v) = node
                .rest(
                    "admin",
                    reqwest::Method::GET,
                    &format!("/rest/api/content/{id}?expand=ancestors"),
                    None,
                )
                .await;
            v["ancestors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let before = ancestors(ch).await;
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
        ancestors(ch).await.contains(&a.to_string()),
        "Charlie is under Alpha"
    );
    // Undo puts it back where it was.
    d.click("#tree-undo").await;
    d.wait_for(
        "the undone move",
        "return document.querySelector('#tree-status').textContent.includes('back')",
    )
    .await;
    assert_eq!(ancestors(ch).await, before, "Charlie is back at the root");
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
