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

mod delivery;
mod exactly_once;
mod rest_and_settings;
mod together;

/// A running aiosmtpd and the directory its mails land in.
pub(crate) struct Smtp {
    _child: tokio::process::Child,
    dir: PathBuf,
    port: u16,
}

impl Smtp {
    pub(crate) async fn start() -> Smtp {
        Smtp::start_with(1, false).await
    }

    /// A sink of `workers` processes on one socket (for the benchmark;
    /// with more than one, [`Smtp::mails`] is no longer in arrival order).
    /// `raw`: mails are kept unparsed, only [`Smtp::count`] sees them.
    pub(crate) async fn start_with(workers: usize, raw: bool) -> Smtp {
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
        .arg(workers.to_string())
        .arg(if raw { "raw" } else { "parsed" })
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

    /// How many mails were received (parsed or raw).
    pub(crate) fn count(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| {
                        let p = e.path();
                        p.extension().is_some_and(|x| x == "json" || x == "eml")
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    /// Every mail received so far, in order.
    pub(crate) fn mails(&self) -> Vec<Value> {
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

    pub(crate) fn mails_to(&self, user: &str) -> Vec<Value> {
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
pub(crate) async fn node_with_mail(smtp: &Smtp) -> TestNode {
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

pub(crate) async fn create_page(
    node: &TestNode,
    user: &str,
    space: &str,
    title: &str,
    body: &str,
) -> i64 {
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

pub(crate) async fn edit_page(node: &TestNode, user: &str, id: i64, body: &str, message: &str) {
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
pub(crate) async fn settle(node: &TestNode) {
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

pub(crate) async fn wait_mails(smtp: &Smtp, user: &str, n: usize) -> Vec<Value> {
    let ok = wait_until(Duration::from_secs(30), || async {
        smtp.mails_to(user).len() >= n
    })
    .await;
    let got = smtp.mails_to(user);
    assert!(ok, "{user} got {} mails, expected {n}: {got:#?}", got.len());
    got
}

pub(crate) async fn space_of_users(node: &TestNode, users: &[&str]) -> Client {
    for u in users {
        node.user(u, false).await;
    }
    let admin = node.login("admin").await;
    admin.create_space("TEAM", "Team").await;
    admin
}
