//! Writing in the browser: log in, create, edit, history and diff with no
//! hostile script running; the bytes a browser save stores; form errors
//! beside their field.

use super::*;

pub(super) const HOSTILE_TITLE: &str = "Hostile <img src=x onerror=\"window.__pwned='title'\">";

pub(super) const HOSTILE_BODY: &str = r#"<p>hostile</p><script>window.__pwned='script'</script>
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
    // Rich text is the default; Markdown is one click away.
    d.click("#mode-markdown").await;
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
    d.click("#mode-markdown").await;
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
    d.click("#mode-source").await;
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
    d.click("#mode-source").await;
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
    d.wait_for(
        "the editor",
        "return !!document.querySelector('#mode-source')",
    )
    .await;
    d.click("#mode-source").await;
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
    // The comment box is rich text once focused.
    d.js("document.querySelector('.new-comment input[name=_csrf]').value = 'stale'")
        .await;
    d.click(".new-comment textarea").await;
    d.wait_for(
        "the rich comment box",
        "const f = document.querySelector('.new-comment'); return f.dataset.mode === 'rich' && f.querySelector('.rich-body') === document.activeElement",
    )
    .await;
    super::rich_editor::keys(&d, "a long comment I do not want to lose").await;
    d.click(".new-comment button[type=submit]").await;
    d.wait_for(
        "the comment form's message",
        "const e = document.querySelector('.new-comment .form-error'); return !!e && e.textContent.includes('reload the page')",
    )
    .await;
    assert_eq!(
        d.js("return [document.querySelector('.new-comment textarea').value, document.querySelector('.new-comment .rich-body').textContent]")
            .await,
        json!([
            "<p>a long comment I do not want to lose</p>",
            "a long comment I do not want to lose"
        ])
    );
}

#[tokio::test]
async fn a_page_starts_from_a_blueprint_and_from_a_template_with_variables() {
    let node = TestNode::start().await;
    node.user("ann", false).await;
    let admin = node.login("admin").await;
    admin.create_space("BPT", "Blueprints").await;
    let (s, _) = node
        .rest(
            "admin",
            reqwest::Method::POST,
            "/rest/api/template",
            Some(json!({"name": "Incident review", "space": {"key": "BPT"},
                "body": {"storage": {"value": "<at:declarations><at:string at:name=\"service\" /></at:declarations><p>Service: <at:var at:name=\"service\" /></p>", "representation": "storage"}}})),
        )
        .await;
    assert_eq!(s, 200);
    let d = Driver::start().await;
    let base = node.base.clone();
    d.login(&base, "admin").await;
    d.goto(&format!("{base}/spaces/BPT")).await;
    d.click("#sidebar a[href='/spaces/BPT/new']").await;
    // Typing filters the choices.
    d.type_into("#create-filter", "meet").await;
    d.wait_for(
        "only meeting notes",
        "const shown = [...document.querySelectorAll('#create-choices li')].filter(li => !li.hidden); return shown.length === 1 && shown[0].textContent.includes('Meeting notes')",
    )
    .await;
    d.click("#create-choices li:not([hidden]) a").await;
    d.wait_for(
        "the blueprint's form",
        "return !!document.querySelector('#fill-form input[name=var-date]')",
    )
    .await;
    d.type_into("#fill-form input[name=var-attendees]", "ann")
        .await;
    // The people list offers ann; Escape closes it without choosing.
    d.wait_for(
        "the people list",
        "const l = document.querySelector('#fill-form .completions'); return !!l && !l.hidden",
    )
    .await;
    d.press(&["\u{E00C}"]).await;
    d.wait_for(
        "the list closed",
        "return document.querySelector('#fill-form .completions').hidden",
    )
    .await;
    d.type_into(
        "#fill-form textarea[name=var-goals]",
        "Agree the launch date",
    )
    .await;
    d.click("#fill-form button[type=submit]").await;
    d.wait_for(
        "the editor, filled in",
        "const t = document.querySelector('#title'); return !!t && t.value.endsWith('Meeting notes') && document.querySelector('#body').value.includes('Agree the launch date')",
    )
    .await;
    d.click("#save").await;
    d.wait_for(
        "the saved page under its index",
        "return document.querySelector('h1#title-text')?.textContent.endsWith('Meeting notes') && [...document.querySelectorAll('.breadcrumbs a')].some(a => a.textContent === 'Meeting notes')",
    )
    .await;
    // A template asks for its variable first.
    d.goto(&format!("{base}/spaces/BPT/new")).await;
    d.type_into("#create-filter", "incident").await;
    d.click("#create-choices li:not([hidden]) a").await;
    d.wait_for(
        "the template's form",
        "return !!document.querySelector('#fill-form input[name=var-service]')",
    )
    .await;
    d.type_into("#fill-form input[name=var-service]", "billing")
        .await;
    d.click("#fill-form button[type=submit]").await;
    d.wait_for(
        "the editor with the value",
        "return (document.querySelector('#body')?.value || '').includes('Service: billing')",
    )
    .await;
}
