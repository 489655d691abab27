//! One browser test in headless Chromium driven over WebDriver
//! (chromedriver): log in, create a page (with the live preview), edit it,
//! see it in history and diff, and check that no script from a hostile page
//! runs. The WebDriver client is a few JSON calls over reqwest.

use std::time::Duration;

use cairn_tests::{wait_until, TestNode};
use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    _process: tokio::process::Child,
    http: reqwest::Client,
    url: String,
}

impl Driver {
    async fn start() -> Driver {
        Driver::start_sized(1280, 900).await
    }

    /// A browser whose window is `width` × `height` CSS pixels (390 × 844 is a phone).
    async fn start_sized(width: u32, height: u32) -> Driver {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect(
                "chromedriver is not installed: tests/run.sh installs chromium and chromium-driver",
            );
        let process = tokio::process::Command::new(bin)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let ready = wait_until(Duration::from_secs(20), || {
            let http = http.clone();
            let u = format!("{base}/status");
            async move { http.get(u).send().await.is_ok() }
        })
        .await;
        assert!(ready, "chromedriver did not start");
        let mut chrome = json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-dev-shm-usage", format!("--window-size={},{}", width.max(800), height)]
        });
        // Headless windows are at least 500 px wide: a phone is emulated.
        if width < 800 {
            chrome["mobileEmulation"] = json!({
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 3.0, "touch": true}
            });
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "unhandledPromptBehavior": "accept",
            "goog:chromeOptions": chrome
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sid = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_owned();
        Driver {
            _process: process,
            http,
            url: format!("{base}/session/{sid}"),
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        if v["value"].get("error").is_some() {
            panic!("webdriver {path}: {v}");
        }
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            json!({}),
        )
        .await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            json!({"text": text}),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            json!({}),
        )
        .await;
    }

    async fn js(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Saves a screenshot as a test artifact, `target/screenshots/NAME.png`
    /// (not committed: for a reviewer to look at).
    async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let v = self
            .cmd(reqwest::Method::GET, "/screenshot", json!({}))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("a screenshot"))
            .expect("base64");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot");
    }

    /// Logs in through the login form and waits for the dashboard.
    async fn login(&self, base: &str, user: &str) {
        self.goto(&format!("{base}/login")).await;
        self.type_into("#username", user).await;
        self.type_into("#password", &cairn_tests::password_of(user))
            .await;
        self.click("#login-submit").await;
        self.wait_for(
            "the dashboard",
            "return document.title.startsWith('Dashboard')",
        )
        .await;
    }

    async fn current_url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", json!({}))
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", json!({}))
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    async fn wait_for(&self, what: &str, script: &str) {
        let ok = wait_until(Duration::from_secs(15), || async {
            self.js(script).await == json!(true)
        })
        .await;
        assert!(
            ok,
            "timed out waiting for {what}; page:\n{}",
            self.source().await
        );
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Best effort: end the browser session; chromedriver is killed on drop.
        let _ = std::thread::spawn({
            let url = self.url.clone();
            move || {
                let _ = std::process::Command::new("curl")
                    .args(["-s", "-X", "DELETE", &url])
                    .output();
            }
        })
        .join();
    }
}

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
    assert_eq!(d.js("return document.querySelectorAll('script:not([src]), iframe, svg:not(.bell-icon), [onerror], [onmouseover], [onload]').length").await, json!(0));
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
        ("admin-users", "/admin/users".to_owned()),
        ("spaces", "/spaces".to_owned()),
        ("error", "/spaces/PH/pages/999999".to_owned()),
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
        }
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
