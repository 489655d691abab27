//! Task lists ticked in view mode: the stored body changes exactly one
//! task's status per tick, as a new minor version; concurrent ticks of
//! different tasks all survive; only editors may tick. The children test
//! assignment (`assign`), "My tasks" (`mine`) and the task report macro
//! (`report`), all read from the task index.

use cairn_tests::{password_of, TestNode};
use serde_json::Value;

mod assign;
mod mine;
mod report;

/// The user key of `name`.
async fn key_of(node: &TestNode, name: &str) -> String {
    node.sql()
        .await
        .query_one("SELECT user_key FROM users WHERE username = $1", &[&name])
        .await
        .unwrap()
        .get(0)
}

/// A task list item: id `id`, `text`, assigned to the user with `key`
/// (none when empty), due on `due` (none when empty).
fn assigned_task(id: &str, text: &str, key: &str, due: &str, complete: bool) -> String {
    let who = if key.is_empty() {
        String::new()
    } else {
        format!(" <ac:link><ri:user ri:userkey=\"{key}\"/></ac:link>")
    };
    let when = if due.is_empty() {
        String::new()
    } else {
        format!(" <time datetime=\"{due}\"/>")
    };
    let status = if complete { "complete" } else { "incomplete" };
    format!("<ac:task><ac:task-id>{id}</ac:task-id><ac:task-status>{status}</ac:task-status><ac:task-body>{text}{who}{when}</ac:task-body></ac:task>")
}

fn task_list(items: &[String]) -> String {
    format!("<ac:task-list>{}</ac:task-list>", items.concat())
}

async fn body_of(node: &TestNode, id: i64) -> (String, i64) {
    let v: Value = reqwest::Client::new()
        .get(format!(
            "{}/rest/api/content/{id}?expand=body.storage,version",
            node.base
        ))
        .basic_auth("admin", Some(password_of("admin")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        v["body"]["storage"]["value"].as_str().unwrap().to_owned(),
        v["version"]["number"].as_i64().unwrap(),
    )
}

fn task(n: usize) -> String {
    format!("<ac:task><ac:task-id>{n}</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>do thing {n}</ac:task-body></ac:task>")
}

#[tokio::test]
async fn concurrent_ticks_of_different_tasks_all_survive() {
    let node = TestNode::start().await;
    node.user("bob", false).await;
    node.user("carol", false).await;
    let admin = node.login("admin").await;
    admin.create_space("TEAM", "Team").await;
    let body = format!(
        "<p>Plan&nbsp;A</p><ac:task-list>{}</ac:task-list>",
        (1..=6).map(task).collect::<String>()
    );
    let id = admin.create_page("TEAM", "Checklist", &body, None).await;
    let bob = node.login("bob").await;
    let carol = node.login("carol").await;
    let mut handles = Vec::new();
    for n in 1..=6usize {
        let c = if n % 2 == 0 { &bob } else { &carol };
        let (http, url, csrf) = (
            c.http.clone(),
            c.url(&format!("/pages/{id}/tasks")),
            c.csrf.clone(),
        );
        handles.push(tokio::spawn(async move {
            http.post(url)
                .header("Accept", "application/json")
                .form(&[
                    ("_csrf", csrf.as_str()),
                    ("task", &n.to_string()),
                    ("complete", "1"),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), 200);
    }
    let (stored, version) = body_of(&node, id).await;
    assert_eq!(
        stored,
        body.replace("incomplete", "complete"),
        "every tick kept, nothing else changed"
    );
    assert_eq!(version, 7, "one minor version per tick");
    let (_, tasks) = bob.get_text(&format!("/pages/{id}/tasks")).await;
    let v: Value = serde_json::from_str(&tasks).unwrap();
    assert_eq!(v["canEdit"], true);
    assert!(v["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["complete"] == true));
    // Unticking one; a minor edit tells no watcher.
    let r = bob
        .post(
            &format!("/pages/{id}/tasks"),
            &[("task", "3"), ("complete", "0")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (stored, _) = body_of(&node, id).await;
    assert!(
        stored.contains("<ac:task-id>3</ac:task-id><ac:task-status>incomplete</ac:task-status>")
    );
    let db = node.sql().await;
    let updates: i64 = db
        .query_one(
            "SELECT count(*) FROM notify_outbox WHERE page_id = $1 AND kind = 'updated'",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(updates, 0);
    // Only editors tick: an update restriction to admin leaves carol out.
    let r = admin.restrict(id, "update", "user", "admin").await;
    assert_eq!(r.status(), 200);
    let r = carol
        .post(
            &format!("/pages/{id}/tasks"),
            &[("task", "3"), ("complete", "1")],
        )
        .await;
    assert_eq!(r.status(), 403);
    let (_, tasks) = carol.get_text(&format!("/pages/{id}/tasks")).await;
    assert!(tasks.contains("\"canEdit\":false"), "{tasks}");
    let r = bob
        .post(
            &format!("/pages/{id}/tasks"),
            &[("task", "3"), ("complete", "1")],
        )
        .await;
    assert_eq!(r.status(), 403, "bob is restricted too");
    let r = admin
        .post(
            &format!("/pages/{id}/tasks"),
            &[("task", "99"), ("complete", "1")],
        )
        .await;
    assert_eq!(r.status(), 404);
}
