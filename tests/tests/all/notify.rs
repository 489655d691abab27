//! Watching and notifications against a real SMTP server: aiosmtpd
//! (tests/python/smtp_sink.py, in the virtualenv tests/run.sh creates)
//! records every mail it accepts; the tests read what it received —
//! recipients, contents, threading headers — and what it did not.
//! Delivery runs as it does in production: the node's cluster job
//! scheduler (a standalone node is its own leader).

use std::path::PathBuf;
use std::time::Duration;

use cairn_tests::{password_of, wait_until, Client, TestNode};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;

/// A running aiosmtpd and the directory its mails land in.
struct Smtp {
    _child: tokio::process::Child,
    dir: PathBuf,
    port: u16,
}

impl Smtp {
    async fn start() -> Smtp {
        let dir = std::env::temp_dir().join(format!(
            "cairn-smtp-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/smtp_sink.py");
        let mut child = tokio::process::Command::new(cairn_tests::venv_tool(
            "CAIRN_AIOSMTPD_PYTHON",
            "venv-smtpd/bin/python",
        ))
        .arg(&script)
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start aiosmtpd");
        let stdout = child.stdout.take().expect("sink stdout");
        let mut line = String::new();
        tokio::io::BufReader::new(stdout)
            .read_line(&mut line)
            .await
            .expect("sink port");
        let port = line.trim().parse().expect("sink prints its port");
        Smtp {
            _child: child,
            dir,
            port,
        }
    }

    /// Every mail received so far, in order.
    fn mails(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }

    fn mails_to(&self, user: &str) -> Vec<Value> {
        let addr = format!("{user}@example.com");
        self.mails()
            .into_iter()
            .filter(|m| m["to"].as_array().unwrap().iter().any(|t| t == &addr))
            .collect()
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

fn header<'a>(m: &'a Value, name: &str) -> &'a str {
    m["headers"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// A node sending mail to `smtp`, with its job scheduler running.
async fn node_with_mail(smtp: &Smtp) -> TestNode {
    let node = TestNode::start().await;
    set(&node, "smtp_host", "127.0.0.1").await;
    set(&node, "smtp_port", &smtp.port.to_string()).await;
    set(&node, "base_url", &node.base).await;
    set(&node, "mail_from", "Wiki <wiki@example.com>").await;
    cairn::cluster::jobs::spawn(node.state.job_context());
    node
}

async fn set(node: &TestNode, key: &str, value: &str) {
    node.state
        .cluster
        .set_setting(key, Some(value), "test")
        .await
        .unwrap_or_else(|e| panic!("set {key}: {e}"));
}

async fn create_page(node: &TestNode, user: &str, space: &str, title: &str, body: &str) -> i64 {
    let (s, v) = node
        .rest(
            user,
            Method::POST,
            "/rest/api/content",
            Some(
                json!({"type": "page", "title": title, "space": {"key": space},
                    "body": {"storage": {"value": body, "representation": "storage"}}}),
            ),
        )
        .await;
    assert_eq!(s, 200, "create {title}: {v}");
    v["id"].as_str().unwrap().parse().unwrap()
}

async fn edit_page(node: &TestNode, user: &str, id: i64, body: &str, message: &str) {
    let (_, cur) = node
        .rest(
            user,
            Method::GET,
            &format!("/rest/api/content/{id}?expand=version"),
            None,
        )
        .await;
    let n = cur["version"]["number"].as_i64().unwrap();
    let (s, v) = node
        .rest(
            user,
            Method::PUT,
            &format!("/rest/api/content/{id}"),
            Some(json!({"type": "page", "title": cur["title"],
                    "body": {"storage": {"value": body, "representation": "storage"}},
                    "version": {"number": n + 1, "message": message}})),
        )
        .await;
    assert_eq!(s, 200, "edit {id}: {v}");
}

/// Waits until every event is fanned out and no mail is waiting to be
/// sent now (so what the server received is final).
async fn settle(node: &TestNode) {
    let ok = wait_until(Duration::from_secs(30), || async {
        let db = node.sql().await;
        let r = db
            .query_one(
                "SELECT (SELECT count(*) FROM notify_outbox WHERE processed_at IS NULL)
                      + (SELECT count(*) FROM mail_queue WHERE state IN ('pending', 'sending')
                           AND due_at <= now())",
                &[],
            )
            .await
            .unwrap();
        r.get::<_, i64>(0) == 0
    })
    .await;
    assert!(ok, "notifications did not settle");
}

async fn wait_mails(smtp: &Smtp, user: &str, n: usize) -> Vec<Value> {
    let ok = wait_until(Duration::from_secs(30), || async {
        smtp.mails_to(user).len() >= n
    })
    .await;
    let got = smtp.mails_to(user);
    assert!(ok, "{user} got {} mails, expected {n}: {got:#?}", got.len());
    got
}

async fn space_of_users(node: &TestNode, users: &[&str]) -> Client {
    for u in users {
        node.user(u, false).await;
    }
    let admin = node.login("admin").await;
    admin.create_space("TEAM", "Team").await;
    admin
}

#[tokio::test]
async fn watchers_get_one_threaded_mail_each_and_the_author_none() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    space_of_users(&node, &["ann", "bob", "carol", "dave"]).await;
    let page = create_page(
        &node,
        "ann",
        "TEAM",
        "Release plan",
        "<p>Ship on Monday.</p>",
    )
    .await;
    // The creation is told to nobody (ann is its author) before anyone watches.
    settle(&node).await;
    let (s, _) = node
        .rest(
            "bob",
            Method::POST,
            &format!("/rest/api/user/watch/content/{page}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = node
        .rest(
            "carol",
            Method::POST,
            "/rest/api/user/watch/space/TEAM",
            None,
        )
        .await;
    assert_eq!(s, 204);

    edit_page(
        &node,
        "ann",
        page,
        "<p>Ship on Tuesday.</p>",
        "moved the date",
    )
    .await;
    let bob = wait_mails(&smtp, "bob", 1).await;
    let carol = wait_mails(&smtp, "carol", 1).await;
    settle(&node).await;

    let m = &bob[0];
    assert_eq!(m["to"], json!(["bob@example.com"]));
    assert_eq!(m["from"], "wiki@example.com");
    assert!(header(m, "Subject").contains("Release plan"), "{m:#}");
    assert_eq!(m["multipart"], "multipart/alternative");
    let text = m["text"].as_str().unwrap();
    assert!(
        text.contains("ann Example edited \"Release plan\""),
        "{text}"
    );
    assert!(text.contains("Change comment: moved the date"), "{text}");
    assert!(text.contains("- Ship on Monday."), "{text}");
    assert!(text.contains("+ Ship on Tuesday."), "{text}");
    assert!(
        text.contains(&format!("{}/spaces/TEAM/pages/{page}/", node.base)),
        "{text}"
    );
    let html = m["html"].as_str().unwrap();
    assert!(
        html.contains("Release plan</a>") && html.contains("moved the date"),
        "{html}"
    );
    // Threading: every mail about the page replies to the page's root id.
    let root = format!("<page-{page}@127.0.0.1>");
    assert_eq!(header(m, "In-Reply-To"), root);
    assert_eq!(header(m, "References"), root);
    assert!(header(m, "Message-ID").starts_with('<'));
    assert_ne!(header(m, "Message-ID"), header(&carol[0], "Message-ID"));
    // Bob watches the page: his mail unsubscribes him from it.
    let unsub = header(m, "List-Unsubscribe");
    assert!(unsub.contains("/notifications/unsubscribe/"), "{m:#}");
    assert!(text.contains("Stop watching this:"), "{text}");
    assert_eq!(
        header(m, "List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );

    // Own actions never notify; nobody else watches.
    assert!(smtp.mails_to("ann").is_empty());
    assert!(smtp.mails_to("dave").is_empty());

    // A comment: ann watches since she created the page (auto-watch).
    let bob_client = node.login("bob").await;
    let r = bob_client
        .post(
            &format!("/pages/{page}/comments"),
            &[("body", "Tuesday works for me")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let ann = wait_mails(&smtp, "ann", 1).await;
    wait_mails(&smtp, "carol", 2).await;
    settle(&node).await;
    assert_eq!(
        smtp.mails_to("bob").len(),
        1,
        "bob's own comment reached him"
    );
    let text = ann[0]["text"].as_str().unwrap();
    assert!(text.contains("bob Example commented on"), "{text}");
    assert!(text.contains("Tuesday works for me"), "{text}");
    assert!(text.contains("#comment-"), "{text}");
    assert_eq!(header(&ann[0], "References"), root);

    // In-app: the same events, grouped by page, with an unread count.
    let (s, v) = node
        .rest("carol", Method::GET, "/rest/cairn/1.0/notifications", None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["unread"], 2, "{v:#}");
    assert_eq!(v["results"][0]["event"], "commented");
    assert_eq!(v["results"][1]["event"], "updated");
    let carol_ui = node.login("carol").await;
    let (s, count) = carol_ui.get_text("/ui/notifications/count").await;
    assert_eq!((s, count.as_str()), (200, "{\"unread\":2}"));
    let (_, list) = carol_ui.get_text("/notifications").await;
    assert_eq!(list.matches("class=\"notify-group\"").count(), 1, "{list}");
    assert!(list.contains("bob Example commented on") && list.contains("ann Example edited"));
    let r = carol_ui.post("/notifications/read-all", &[]).await;
    assert_eq!(r.status(), 303);
    let (_, count) = carol_ui.get_text("/ui/notifications/count").await;
    assert_eq!(count, "{\"unread\":0}");

    // The unsubscribe link works without a session and removes that watch.
    let anon = node.anon();
    let path = unsub
        .trim_matches(['<', '>'])
        .trim_start_matches(&node.base)
        .to_owned();
    let (s, form) = anon.get_text(&path).await;
    assert_eq!(s, 200);
    assert!(
        form.contains("Stop getting notifications from this page?"),
        "{form}"
    );
    assert!(
        !form.contains("Release plan"),
        "the link page names no title"
    );
    let r = anon.http.post(anon.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (_, v) = node
        .rest(
            "bob",
            Method::GET,
            &format!("/rest/api/user/watch/content/{page}"),
            None,
        )
        .await;
    assert_eq!(v, json!({"watching": false}));
}

#[tokio::test]
async fn restricted_content_reaches_nobody_without_access() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    let admin = space_of_users(&node, &["eve", "ivan"]).await;
    for u in ["eve", "ivan"] {
        let (s, _) = node
            .rest(u, Method::POST, "/rest/api/user/watch/space/TEAM", None)
            .await;
        assert_eq!(s, 204);
    }
    // A restricted parent: the secret page is restricted from its creation.
    let vault = create_page(&node, "admin", "TEAM", "Vault", "<p>v</p>").await;
    for name in ["admin", "ivan"] {
        let r = admin.restrict(vault, "read", "user", name).await;
        assert_eq!(r.status(), 200);
    }
    let (s, v) = node.rest( "admin", Method::POST, "/rest/api/content",
        Some(json!({"type": "page", "title": "Zebra Protocol", "space": {"key": "TEAM"},
                    "ancestors": [{"id": vault.to_string()}],
                    "body": {"storage": {"value": "<p>launch codes</p>", "representation": "storage"}}}))).await;
    assert_eq!(s, 200, "{v}");
    let secret: i64 = v["id"].as_str().unwrap().parse().unwrap();
    // Eve cannot watch what she cannot see: "not found", as reading it.
    let (s, _) = node
        .rest(
            "eve",
            Method::POST,
            &format!("/rest/api/user/watch/content/{secret}"),
            None,
        )
        .await;
    assert_eq!(s, 404);
    edit_page(&node, "admin", secret, "<p>launch codes v2</p>", "rotated").await;
    let ok = wait_until(Duration::from_secs(30), || async {
        smtp.mails_to("ivan")
            .iter()
            .filter(|m| {
                m["text"]
                    .as_str()
                    .unwrap()
                    .contains("edited \"Zebra Protocol\"")
            })
            .count()
            == 1
    })
    .await;
    assert!(ok, "ivan was not told of the edit");
    settle(&node).await;
    // Nothing about the secret page ever reached eve, in mail or in-app.
    for m in smtp.mails_to("eve") {
        assert!(!m.to_string().contains("Zebra"), "eve was told: {m:#}");
    }
    let (_, v) = node
        .rest("eve", Method::GET, "/rest/cairn/1.0/notifications", None)
        .await;
    assert!(!v.to_string().contains("Zebra"), "{v:#}");

    // Losing access after the event was queued: the mail is not sent.
    set(&node, "smtp_port", "1").await; // nothing listens: an outage
    let open = create_page(&node, "admin", "TEAM", "Open Page", "<p>hello</p>").await;
    let ok = wait_until(Duration::from_secs(30), || async {
        let db = node.sql().await;
        db.query_one(
            "SELECT count(*) FROM mail_queue WHERE page_id = $1 AND attempts > 0 AND state = 'pending'",
            &[&open],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
            == 2
    })
    .await;
    assert!(ok, "the outage was not retried");
    // The admin page shows the queue and the error.
    let (_, page) = admin.get_text("/admin/mail").await;
    assert!(page.contains("<td id=\"q-pending\">2</td>"), "{page}");
    assert!(page.contains("<td id=\"q-retrying\">2</td>"), "{page}");
    let r = admin.restrict(open, "read", "user", "admin").await;
    assert_eq!(r.status(), 200);
    set(&node, "smtp_port", &smtp.port.to_string()).await;
    settle(&node).await;
    for m in smtp.mails() {
        assert!(
            !m.to_string().contains("Open Page"),
            "sent after access was lost: {m:#}"
        );
    }
    let (_, v) = node
        .rest("eve", Method::GET, "/rest/cairn/1.0/notifications", None)
        .await;
    assert!(!v.to_string().contains("Open Page"), "{v:#}");
    let db = node.sql().await;
    let dropped: i64 = db
        .query_one(
            "SELECT count(*) FROM mail_queue WHERE page_id = $1 AND state = 'dropped'",
            &[&open],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(dropped, 2);
}

#[tokio::test]
async fn a_refused_recipient_does_not_block_the_queue() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    space_of_users(&node, &["refusedrita", "bob", "ann"]).await;
    for u in ["refusedrita", "bob"] {
        node.rest(u, Method::POST, "/rest/api/user/watch/space/TEAM", None)
            .await;
    }
    create_page(&node, "ann", "TEAM", "First", "<p>1</p>").await;
    create_page(&node, "ann", "TEAM", "Second", "<p>2</p>").await;
    wait_mails(&smtp, "bob", 2).await;
    settle(&node).await;
    let db = node.sql().await;
    let failed: i64 = db
        .query_one(
            "SELECT count(*) FROM mail_queue WHERE state = 'failed' AND last_error LIKE '%550%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(failed, 2);
    let admin = node.login("admin").await;
    let (_, page) = admin.get_text("/admin/mail").await;
    assert!(page.contains("<td id=\"q-failed\">2</td>"), "{page}");
}

#[tokio::test]
async fn batched_mail_collects_changes_into_one_mail() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    set(&node, "mail_batch_interval", "10s").await;
    space_of_users(&node, &["ann", "carol"]).await;
    node.rest(
        "carol",
        Method::POST,
        "/rest/api/user/watch/space/TEAM",
        None,
    )
    .await;
    let carol = node.login("carol").await;
    let r = carol
        .post(
            "/notifications/settings",
            &[("email", "batched"), ("auto_watch", "on")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let p = create_page(&node, "ann", "TEAM", "Minutes", "<p>a</p>").await;
    edit_page(&node, "ann", p, "<p>a b</p>", "second thoughts").await;
    let got = wait_mails(&smtp, "carol", 1).await;
    settle(&node).await;
    assert_eq!(smtp.mails_to("carol").len(), 1, "one digest");
    let text = got[0]["text"].as_str().unwrap();
    assert!(
        header(&got[0], "Subject").contains("2 updates"),
        "{:#}",
        got[0]
    );
    assert!(text.contains("ann Example created \"Minutes\""), "{text}");
    assert!(text.contains("ann Example edited \"Minutes\""), "{text}");
}

#[tokio::test]
async fn a_mention_notifies_once_per_version() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    space_of_users(&node, &["ann", "mia"]).await;
    let db = node.sql().await;
    let key: String = db
        .query_one("SELECT user_key FROM users WHERE username = 'mia'", &[])
        .await
        .unwrap()
        .get(0);
    let mention = format!("<ac:link><ri:user ri:userkey=\"{key}\"/></ac:link>");
    let p = create_page(&node, "ann", "TEAM", "Review", "<p>draft</p>").await;
    edit_page(
        &node,
        "ann",
        p,
        &format!("<p>{mention} please look, {mention}</p>"),
        "",
    )
    .await;
    let got = wait_mails(&smtp, "mia", 1).await;
    // A later version that mentions her again but not newly: no mail.
    edit_page(
        &node,
        "ann",
        p,
        &format!("<p>{mention} please look, {mention}. Thanks</p>"),
        "",
    )
    .await;
    settle(&node).await;
    assert_eq!(smtp.mails_to("mia").len(), 1);
    let text = got[0]["text"].as_str().unwrap();
    assert!(
        text.contains("ann Example mentioned you on \"Review\""),
        "{text}"
    );
    assert_eq!(
        header(&got[0], "List-Unsubscribe"),
        "",
        "a mention is no watch"
    );
}

#[tokio::test]
async fn moving_a_page_tells_its_watchers_where_it_went() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    space_of_users(&node, &["ann", "bob"]).await;
    let parent = create_page(&node, "ann", "TEAM", "Archive", "<p>old</p>").await;
    let page = create_page(&node, "ann", "TEAM", "Q3 notes", "<p>n</p>").await;
    settle(&node).await;
    node.rest(
        "bob",
        Method::POST,
        &format!("/rest/api/user/watch/content/{page}"),
        None,
    )
    .await;
    let (s, v) = node.rest(
        "ann",
        Method::PUT,
        &format!("/rest/api/content/{page}"),
        Some(
            json!({"type": "page", "title": "Q3 notes", "ancestors": [{"id": parent.to_string()}],
                    "version": {"number": 2}}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let got = wait_mails(&smtp, "bob", 1).await;
    settle(&node).await;
    let text = got[0]["text"].as_str().unwrap();
    assert!(text.contains("ann Example moved \"Q3 notes\""), "{text}");
    assert!(text.contains("Now at: Team > Archive"), "{text}");
    assert_eq!(smtp.mails_to("bob").len(), 1);
}

#[tokio::test]
async fn watch_rest_api_as_confluence() {
    let node = TestNode::start().await;
    space_of_users(&node, &["bob", "carol"]).await;
    let p = create_page(&node, "admin", "TEAM", "Watched", "<p>x</p>").await;
    let path = format!("/rest/api/user/watch/content/{p}");
    assert_eq!(
        node.rest("bob", Method::GET, &path, None).await,
        (200, json!({"watching": false}))
    );
    assert_eq!(node.rest("bob", Method::POST, &path, None).await.0, 204);
    assert_eq!(
        node.rest("bob", Method::POST, &path, None).await.0,
        204,
        "idempotent"
    );
    assert_eq!(
        node.rest("bob", Method::GET, &path, None).await.1,
        json!({"watching": true})
    );
    // Someone else's watch: admins only.
    let (s, v) = node
        .rest("carol", Method::GET, &format!("{path}?username=bob"), None)
        .await;
    assert_eq!(s, 403, "{v}");
    assert!(v["message"].as_str().unwrap().contains("administrators"));
    let (s, v) = node
        .rest("admin", Method::GET, &format!("{path}?username=bob"), None)
        .await;
    assert_eq!((s, v), (200, json!({"watching": true})));
    assert_eq!(
        node.rest(
            "admin",
            Method::POST,
            &format!("{path}?username=carol"),
            None
        )
        .await
        .0,
        204
    );
    // Who watches: the page (created) and its space (child-created).
    let (s, v) = node
        .rest(
            "bob",
            Method::GET,
            &format!("/rest/api/content/{p}/notification/created"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let names: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["watcher"]["username"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["admin", "bob", "carol"],
        "admin auto-watches what they created"
    );
    assert_eq!(node.rest("bob", Method::DELETE, &path, None).await.0, 204);
    assert_eq!(
        node.rest("bob", Method::GET, &path, None).await.1,
        json!({"watching": false})
    );
    // Spaces.
    let sp = "/rest/api/user/watch/space/TEAM";
    assert_eq!(node.rest("bob", Method::POST, sp, None).await.0, 204);
    assert_eq!(
        node.rest("bob", Method::GET, sp, None).await.1,
        json!({"watching": true})
    );
    let (_, v) = node
        .rest(
            "bob",
            Method::GET,
            &format!("/rest/api/content/{p}/notification/child-created"),
            None,
        )
        .await;
    assert_eq!(v["results"][0]["watcher"]["username"], "bob");
    assert_eq!(node.rest("bob", Method::DELETE, sp, None).await.0, 204);
    // Errors are the Confluence envelope.
    let (s, v) = node
        .rest("bob", Method::GET, "/rest/api/user/watch/space/NOPE", None)
        .await;
    assert_eq!(s, 404);
    assert_eq!(v["statusCode"], 404);
    let (s, _) = node
        .rest(
            "bob",
            Method::GET,
            "/rest/api/user/watch/content/999999",
            None,
        )
        .await;
    assert_eq!(s, 404);
    let r = reqwest::get(format!("{}{path}", node.base)).await.unwrap();
    assert_eq!(r.status(), 401);
    // The page's buttons.
    let bob = node.login("bob").await;
    let r = bob
        .post(&format!("/pages/{p}/watch"), &[("watch", "1")])
        .await;
    assert_eq!(r.status(), 303);
    let (_, _, html) = bob
        .follow(&format!("/pages/viewpage.action?pageId={p}"))
        .await;
    assert!(html.contains("Unwatch page"), "{html}");
    assert!(html.contains("Watch space"));
    // The space's blog page: watch the space's blog only.
    let (_, blog) = bob.get_text("/spaces/TEAM/blog").await;
    assert!(
        blog.contains("Watch blog") && blog.contains("Watch space"),
        "{blog}"
    );
    let r = bob
        .post(
            "/spaces/TEAM/watch",
            &[("blog", "1"), ("watch", "1"), ("next", "/spaces/TEAM/blog")],
        )
        .await;
    assert_eq!(Client::location(&r), "/spaces/TEAM/blog");
    let (_, v) = node
        .rest(
            "bob",
            Method::GET,
            "/rest/api/user/watch/space/TEAM?type=blogpost",
            None,
        )
        .await;
    assert_eq!(v, json!({"watching": true}));
    let (_, blog) = bob.get_text("/spaces/TEAM/blog").await;
    assert!(blog.contains("Unwatch blog"), "{blog}");
    let (_, watching) = bob.get_text("/notifications/settings").await;
    assert!(watching.contains(">Watched</a>"), "{watching}");
}

#[tokio::test]
async fn the_smtp_password_is_never_shown() {
    let node = TestNode::start().await;
    let secret = "hunter2-smtp-secret";
    let (s, v) = node
        .rest(
            "admin",
            Method::PUT,
            "/rest/cairn/1.0/config/smtp_password",
            Some(json!({"value": secret})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["value"], "********");
    let (_, v) = node
        .rest(
            "admin",
            Method::GET,
            "/rest/cairn/1.0/config/smtp_password",
            None,
        )
        .await;
    assert_eq!(v["value"], "********");
    assert_eq!(v["set"], true);
    for path in ["/rest/cairn/1.0/config", "/rest/cairn/1.0/config-history"] {
        let (_, v) = node.rest("admin", Method::GET, path, None).await;
        assert!(!v.to_string().contains(secret), "{path} shows it: {v}");
    }
    let admin = node.login("admin").await;
    let (_, page) = admin.get_text("/admin/settings").await;
    assert!(!page.contains(secret));
    assert!(
        page.contains("name=\"smtp_password\" type=\"password\" value=\"\""),
        "{page}"
    );
    // Saving the form with the password field left blank keeps it.
    let r = admin
        .post(
            "/admin/settings",
            &[("smtp_password", ""), ("smtp_host", "mail.example.com")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let s = node.state.cluster.settings();
    assert_eq!(s.text("smtp_password"), secret);
    assert_eq!(s.text("smtp_host"), "mail.example.com");
    // A bad value's error does not echo it.
    let (s, v) = node
        .rest(
            "admin",
            Method::PUT,
            "/rest/cairn/1.0/config/smtp_password",
            Some(json!({"value": "bad\u{7}secret"})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(!v.to_string().contains("bad"), "{v}");
}

#[tokio::test]
async fn concurrent_deliverers_send_each_mail_once_and_count_resends() {
    let smtp = Smtp::start().await;
    // No scheduler: this test runs the job by hand, several at once.
    let node = TestNode::start().await;
    set(&node, "smtp_host", "127.0.0.1").await;
    set(&node, "smtp_port", &smtp.port.to_string()).await;
    set(&node, "base_url", &node.base).await;
    let names: Vec<String> = (0..12).map(|i| format!("w{i}")).collect();
    for n in &names {
        node.user(n, false).await;
    }
    let admin = node.login("admin").await;
    admin.create_space("TEAM", "Team").await;
    for n in &names {
        node.rest(n, Method::POST, "/rest/api/user/watch/space/TEAM", None)
            .await;
    }
    for i in 0..5 {
        create_page(&node, "admin", "TEAM", &format!("Page {i}"), "<p>x</p>").await;
    }
    let settings = node.state.cluster.settings();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let pool = node.pool.clone();
            let s = settings.clone();
            tokio::spawn(async move { cairn::notify::deliver::run(&pool, &s).await.unwrap() })
        })
        .collect();
    for r in runs {
        r.await.unwrap();
    }
    while !cairn::notify::deliver::run(&node.pool, &settings)
        .await
        .unwrap()
        .is_empty()
    {}
    assert_eq!(smtp.mails().len(), 12 * 5, "each (event, watcher) once");
    for n in &names {
        assert_eq!(smtp.mails_to(n).len(), 5);
    }
    // A process that died between the server's acceptance and marking the
    // row sent: its claim is recovered, the mail sent again with the same
    // Message-ID, and counted.
    let db = node.sql().await;
    let key: String = db
        .query_one(
            "UPDATE mail_queue SET state = 'sending', claimed_by = 'dead-process'
             WHERE id = (SELECT min(id) FROM mail_queue) RETURNING idem_key",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let s = cairn::notify::deliver::run(&node.pool, &settings)
        .await
        .unwrap();
    assert_eq!((s.recovered, s.sent), (1, 1));
    let again: Vec<Value> = smtp
        .mails()
        .into_iter()
        .filter(|m| header(m, "Message-ID").contains(&key))
        .collect();
    assert_eq!(again.len(), 2, "the resend is recognisably the same mail");
    let (_, page) = admin.get_text("/admin/mail").await;
    assert!(page.contains("<td id=\"q-resent\">1</td>"), "{page}");
}

/// The benchmark of the "Numbers" (not a timed test: it asserts
/// only that every mail arrived, and prints the figures). A page with 1,000
/// watchers: the time from the save to the last mail accepted by aiosmtpd,
/// and what the save itself pays (p50/p99 of 200 saves without watchers,
/// then 200 with 1,000 watchers, whose events are fanned out afterwards —
/// the save's share does not depend on the watchers). The job runs in a
/// loop here, as the scheduler would run it, without its half-second tick.
/// Run with
/// `/tmp/quicktest.sh DIR -- notify::fanout_benchmark --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn fanout_benchmark() {
    use std::time::Instant;
    let smtp = Smtp::start().await;
    let node = TestNode::start().await;
    set(&node, "smtp_host", "127.0.0.1").await;
    set(&node, "smtp_port", &smtp.port.to_string()).await;
    set(&node, "base_url", &node.base).await;
    let settings = node.state.cluster.settings();
    let drain = || async {
        while !cairn::notify::deliver::run(&node.pool, &settings)
            .await
            .unwrap()
            .is_empty()
        {}
    };
    node.user("ann", false).await;
    let admin = node.login("admin").await;
    admin.create_space("TEAM", "Team").await;
    let page = create_page(&node, "ann", "TEAM", "Busy page", "<p>v0</p>").await;
    let http = reqwest::Client::new();
    let save = |n: i64| {
        let http = http.clone();
        let url = format!("{}/rest/api/content/{page}", node.base);
        async move {
            let t = Instant::now();
            let r = http
                .put(url)
                .basic_auth("ann", Some(password_of("ann")))
                .json(&json!({"type": "page", "title": "Busy page",
                    "body": {"storage": {"value": format!("<p>v{n}</p>"), "representation": "storage"}},
                    "version": {"number": n + 1}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            t.elapsed()
        }
    };
    let pct = |mut v: Vec<Duration>, p: f64| {
        v.sort();
        v[((v.len() as f64 - 1.0) * p).round() as usize]
    };
    let mut before = Vec::new();
    for n in 1..=200 {
        before.push(save(n).await);
    }
    drain().await;
    // 1,000 watchers, made in SQL (argon2 per user would dominate).
    let db = node.sql().await;
    db.batch_execute(
        "INSERT INTO users (username, display_name, email, password_hash)
           SELECT 'w' || i, 'Watcher ' || i, 'w' || i || '@example.com', 'x' FROM generate_series(1, 1000) i;
         INSERT INTO group_members (group_id, user_id)
           SELECT g.id, u.id FROM groups g, users u WHERE g.name = 'cairn-users' AND u.username LIKE 'w%';
         INSERT INTO watches (user_id, space_id, token)
           SELECT id, (SELECT id FROM spaces WHERE space_key = 'TEAM'), md5(id::text) || md5(username)
           FROM users WHERE username LIKE 'w%';",
    )
    .await
    .unwrap();
    let t0 = Instant::now();
    save(201).await;
    cairn::notify::fanout::run(&node.pool, 10, true, 600.0)
        .await
        .unwrap();
    let fanned = t0.elapsed();
    drain().await;
    let fanout = t0.elapsed();
    println!("fan-out of the event: {:.2} s", fanned.as_secs_f64());
    assert_eq!(smtp.mails().len(), 1000);
    let mut with = Vec::new();
    for n in 202..=401 {
        with.push(save(n).await);
    }
    println!(
        "fan-out: 1000 mails accepted {:.2} s after the save ({:.0} mails/s)",
        fanout.as_secs_f64(),
        1000.0 / fanout.as_secs_f64()
    );
    println!(
        "save without watchers: p50 {:?} p99 {:?}; with 1000 watchers: p50 {:?} p99 {:?}",
        pct(before.clone(), 0.5),
        pct(before, 0.99),
        pct(with.clone(), 0.5),
        pct(with, 0.99)
    );
}

/// Two `cairn serve` processes on etcd: the leader is killed (-9) while it
/// is sending a 400-mail fan-out; the other takes over. Every mail arrives;
/// a mail that arrived twice is one the new leader recovered from the dead
/// one's claim (`resent`), so duplicates are counted, never silent. Also
/// `cairn config list` on the cluster never prints the SMTP password.
#[tokio::test]
async fn a_killed_sender_loses_no_mail_and_its_duplicates_are_counted() {
    use cairn_tests::cluster::{ClusterSpec, Etcd};
    let smtp = Smtp::start().await;
    let etcd = Etcd::start();
    let spec = ClusterSpec::new(&etcd)
        .await
        .with_env("CAIRN_LEASE_TTL", "3");
    let mut nodes = vec![spec.node("n1").await, spec.node("n2").await];
    let secret = "cluster-smtp-secret-42";
    for (k, v) in [
        ("smtp_host", "127.0.0.1".to_owned()),
        ("smtp_port", smtp.port.to_string()),
        ("base_url", nodes[0].url.clone()),
        ("smtp_password", secret.to_owned()),
    ] {
        let (ok, out, err) = spec.cli(&["config", "set", k, &v]).await;
        assert!(ok, "config set {k}: {out}{err}");
        assert!(!out.contains(secret) && !err.contains(secret), "{out}{err}");
    }
    let (ok, list, _) = spec.cli(&["config", "list"]).await;
    assert!(ok);
    assert!(list.contains("smtp_password = \"********\""), "{list}");
    assert!(!list.contains(secret));
    let (ok, hist, _) = spec.cli(&["config", "history"]).await;
    assert!(ok && !hist.contains(secret), "{hist}");

    assert_eq!(nodes[0].create_space("TEAM").await, 200);
    let (db, conn) = tokio_postgres::connect(&spec.db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    db.batch_execute(
        "INSERT INTO users (username, display_name, email, password_hash)
           SELECT 'w' || i, 'Watcher ' || i, 'w' || i || '@example.com', 'x' FROM generate_series(1, 400) i;
         INSERT INTO group_members (group_id, user_id)
           SELECT g.id, u.id FROM groups g, users u WHERE g.name = 'cairn-users' AND u.username LIKE 'w%';
         INSERT INTO watches (user_id, space_id, token)
           SELECT id, (SELECT id FROM spaces WHERE space_key = 'TEAM'), md5(id::text) || md5(username)
           FROM users WHERE username LIKE 'w%';",
    )
    .await
    .unwrap();
    let ok = wait_until(Duration::from_secs(20), || async {
        nodes[0].leader().await.is_some()
    })
    .await;
    assert!(ok, "no leader");
    let leader = nodes[0].leader().await.unwrap();
    let (s, v) = nodes[0]
        .create_page("TEAM", "Big news", "<p>read me</p>")
        .await;
    assert_eq!(s, 200, "{v}");
    // Kill the leader once it is part-way through.
    let ok = wait_until(Duration::from_secs(60), || async {
        smtp.mails().len() >= 20
    })
    .await;
    assert!(ok, "the leader sent nothing");
    let li = nodes.iter().position(|n| n.id == leader).unwrap();
    let mut dead = nodes.remove(li);
    dead.kill9();
    let at_kill = smtp.mails().len();
    let distinct = || {
        smtp.mails()
            .iter()
            .map(|m| header(m, "Message-ID").to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let ok = wait_until(Duration::from_secs(120), || async {
        distinct().len() == 400
    })
    .await;
    assert!(
        ok,
        "only {} of 400 mails arrived; {at_kill} before the kill",
        distinct().len()
    );
    assert_ne!(nodes[0].leader().await.as_deref(), Some(leader.as_str()));
    let ok = wait_until(Duration::from_secs(30), || async {
        db.query_one("SELECT count(*) FROM mail_queue WHERE state <> 'sent'", &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
            == 0
    })
    .await;
    assert!(ok, "rows left unsent");
    let resent: i64 = db
        .query_one(
            "SELECT coalesce(sum(resent), 0)::bigint FROM mail_queue",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let duplicates = smtp.mails().len() - 400;
    assert!(
        duplicates as i64 <= resent,
        "{duplicates} duplicates but only {resent} counted resends"
    );
    println!("killed after {at_kill} mails; {duplicates} duplicates, {resent} counted resends");
}
