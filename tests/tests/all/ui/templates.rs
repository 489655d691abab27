//! Templates and blueprints: managed over REST as Confluence's
//! `/rest/api/template`, and used from the Create screen — a template's
//! variables filled in, a blueprint's page made under its index page.

use super::*;
use reqwest::Method;
use serde_json::json;

const BODY: &str = "<at:declarations><at:string at:name=\"owner\" /><at:list at:name=\"status\"><at:option at:value=\"Draft\" /><at:option at:value=\"Final\" /></at:list></at:declarations><p>Owner: <at:var at:name=\"owner\" /></p><p>Status: <at:var at:name=\"status\" /></p>";

#[tokio::test]
async fn templates_over_rest_as_confluence() {
    let node = TestNode::start().await;
    node.user("bob", false).await;
    let admin = node.login("admin").await;
    admin.create_space("TPL", "Templates").await;
    let post = |user: &'static str, body: Value| {
        let node = &node;
        async move {
            node.rest(user, Method::POST, "/rest/api/template", Some(body))
                .await
        }
    };
    // A global template (site admins) and a space template (space admins).
    let (s, global) = post(
        "admin",
        json!({"name": "Status report", "templateType": "page", "description": "Weekly",
               "body": {"storage": {"value": BODY, "representation": "storage"}},
               "labels": [{"prefix": "global", "name": "report"}]}),
    )
    .await;
    assert_eq!(s, 200, "{global}");
    assert_eq!(global["templateType"], "page");
    assert_eq!(global["labels"][0]["name"], "report");
    assert!(global.get("space").is_none(), "{global}");
    let (s, space_t) = post(
        "admin",
        json!({"name": "Runbook", "space": {"key": "TPL"},
               "body": {"storage": {"value": "<p>Steps</p>", "representation": "storage"}}}),
    )
    .await;
    assert_eq!(s, 200, "{space_t}");
    assert_eq!(space_t["space"]["key"], "TPL");
    // Bob may read but not write.
    let (s, _) = post(
        "bob",
        json!({"name": "Mine", "space": {"key": "TPL"}, "body": {"storage": {"value": "<p/>"}}}),
    )
    .await;
    assert_eq!(s, 403);
    for (body, words) in [
        (json!({"body": {"storage": {"value": "<p/>"}}}), "name"),
        (
            json!({"name": "X", "body": {"storage": {"value": "<p>unclosed"}}}),
            "",
        ),
        (
            json!({"name": "X", "templateType": "blueprint", "body": {"storage": {"value": "<p/>"}}}),
            "templateType",
        ),
        (
            json!({"name": "Runbook", "space": {"key": "TPL"}, "body": {"storage": {"value": "<p/>"}}}),
            "already exists",
        ),
    ] {
        let (s, v) = post("admin", body.clone()).await;
        assert_eq!(s, 400, "{body}: {v}");
        assert!(v["message"].as_str().unwrap().contains(words), "{v}");
        assert_eq!(v["statusCode"], 400, "Confluence's error shape: {v}");
    }
    // Listed for the space: its own first, then the global ones.
    let (s, list) = node
        .rest(
            "bob",
            Method::GET,
            "/rest/api/template/page?spaceKey=TPL&expand=body",
            None,
        )
        .await;
    assert_eq!(s, 200, "{list}");
    let names: Vec<&str> = list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Runbook", "Status report"]);
    assert_eq!(list["results"][1]["body"]["storage"]["value"], BODY);
    let id = global["templateId"].as_str().unwrap();
    let (s, one) = node
        .rest(
            "bob",
            Method::GET,
            &format!("/rest/api/template/{id}"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(one["name"], "Status report");
    // PUT with the version it was made on; a stale one is a conflict.
    let put = json!({"templateId": id, "name": "Status report", "templateType": "page",
                     "body": {"storage": {"value": "<p>v2</p>", "representation": "storage"}},
                     "version": {"number": 2}});
    let (s, v) = node
        .rest(
            "admin",
            Method::PUT,
            "/rest/api/template",
            Some(put.clone()),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["version"], 2);
    let (s, v) = node
        .rest("admin", Method::PUT, "/rest/api/template", Some(put))
        .await;
    assert_eq!(s, 409, "{v}");
    // Blueprints: all six, and a space offers only those not switched off.
    let (_, bps) = node
        .rest(
            "bob",
            Method::GET,
            "/rest/api/template/blueprint?spaceKey=TPL",
            None,
        )
        .await;
    assert_eq!(bps["size"], 6, "{bps}");
    assert_eq!(bps["results"][0]["templateType"], "blueprint");
    let r = admin
        .post(
            "/spaces/TPL/blueprints",
            &[("blueprint", "retrospective"), ("enabled", "0")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, bps) = node
        .rest(
            "bob",
            Method::GET,
            "/rest/api/template/blueprint?spaceKey=TPL",
            None,
        )
        .await;
    assert_eq!(bps["size"], 5, "{bps}");
    let (_, html) = admin.get_text("/spaces/TPL/new").await;
    assert!(
        !html.contains("Retrospective") && html.contains("Meeting notes"),
        "{html}"
    );
    // Deleted, it is gone.
    let (s, _) = node
        .rest(
            "admin",
            Method::DELETE,
            &format!("/rest/api/template/{id}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = node
        .rest(
            "admin",
            Method::GET,
            &format!("/rest/api/template/{id}"),
            None,
        )
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn a_page_starts_from_a_template_or_a_blueprint() {
    let node = TestNode::start().await;
    node.user("ann", false).await;
    let admin = node.login("admin").await;
    admin.create_space("TPL", "Templates").await;
    let (_, t) = node
        .rest(
            "admin",
            Method::POST,
            "/rest/api/template",
            Some(json!({"name": "Status report", "space": {"key": "TPL"},
                        "body": {"storage": {"value": BODY, "representation": "storage"}},
                        "labels": [{"name": "report"}]})),
        )
        .await;
    let id = t["templateId"].as_str().unwrap().to_owned();
    // The Create screen offers blank pages, the template and the blueprints.
    let (s, html) = admin.get_text("/spaces/TPL/new").await;
    assert_eq!(s, 200);
    for what in [
        "Blank page",
        "Blog post",
        "Status report",
        "Meeting notes",
        "Decision",
        "How-to article",
        "Troubleshooting article",
        "Retrospective",
        "Product requirements",
    ] {
        assert!(html.contains(what), "{what}: {html}");
    }
    // The template asks for its variables, then opens the editor filled in.
    let (_, form) = admin
        .get_text(&format!("/spaces/TPL/new/template/{id}"))
        .await;
    assert!(
        form.contains("name=\"var-owner\"") && form.contains("<option>Final</option>"),
        "{form}"
    );
    let r = admin
        .post(
            &format!("/spaces/TPL/new/template/{id}"),
            &[("var-owner", "Ann <the boss>"), ("var-status", "Final")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let editor = r.text().await.unwrap();
    let source = cairn_tests::input_value(&editor, "labels").unwrap_or_default();
    assert_eq!(source, "report");
    assert!(
        editor.contains("&#60;p&#62;Owner: Ann &#38;lt;the boss&#38;gt;&#60;/p&#62;&#60;p&#62;Status: Final&#60;/p&#62;"),
        "the body, escaped once for storage and once for the textarea: {editor}"
    );
    // A blueprint: meeting notes with a dated title, attendees as mentions,
    // saved under its index page, which the first one makes.
    let r = admin
        .post(
            "/spaces/TPL/new/blueprint/meeting-notes",
            &[
                ("var-date", "2026-12-06"),
                ("var-attendees", "ann, admin"),
                ("var-goals", "Plan the release"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let editor = r.text().await.unwrap();
    assert!(
        editor.contains("id=\"title\" value=\"2026-12-06 Meeting notes\""),
        "{editor}"
    );
    assert!(
        editor.contains("name=\"blueprint\" value=\"meeting-notes\""),
        "{editor}"
    );
    assert!(
        editor.contains("ri:userkey"),
        "attendees as mentions: {editor}"
    );
    let bad = admin
        .post(
            "/spaces/TPL/new/blueprint/meeting-notes",
            &[("var-date", "2026-12-06"), ("var-attendees", "nobody-here")],
        )
        .await;
    assert_eq!(bad.status(), 400);
    let kept = bad.text().await.unwrap();
    assert!(
        kept.contains("value=\"nobody-here\"") && kept.contains("Nobody here has the username"),
        "{kept}"
    );
    let body = "<h2>Date</h2><p>today</p>";
    for day in ["2026-12-06", "2026-12-13"] {
        let r = admin
            .post(
                "/spaces/TPL/create",
                &[
                    ("title", &format!("{day} Meeting notes")),
                    ("body", body),
                    ("format", "storage"),
                    ("labels", "meeting-notes"),
                    ("blueprint", "meeting-notes"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    }
    let (_, v) = node
        .rest("admin", Method::GET, "/rest/api/content?spaceKey=TPL&title=2026-12-13+Meeting+notes&expand=ancestors,metadata.labels", None)
        .await;
    let page = &v["results"][0];
    let ancestors: Vec<&str> = page["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(ancestors.last(), Some(&"Meeting notes"), "{page}");
    assert_eq!(
        page["metadata"]["labels"]["results"][0]["name"],
        "meeting-notes"
    );
    let (_, v) = node
        .rest(
            "admin",
            Method::GET,
            "/rest/api/content?spaceKey=TPL&title=Meeting+notes",
            None,
        )
        .await;
    assert_eq!(v["size"], 1, "one index page: {v}");
    let index: i64 = v["results"][0]["id"].as_str().unwrap().parse().unwrap();
    let html = admin.view_page(index).await;
    assert!(
        html.contains("2026-12-06 Meeting notes") && html.contains("2026-12-13 Meeting notes"),
        "the index lists them: {html}"
    );
    // Ann (no space admin) cannot manage templates.
    let ann = node.login("ann").await;
    let (s, _) = ann.get_text("/spaces/TPL/templates").await;
    assert!(s == 403 || s == 404, "{s}");
}
