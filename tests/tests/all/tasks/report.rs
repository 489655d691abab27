//! The task report macro (first-party plugin `cairn.tasks-report`, reading
//! through the `tasks` capability): filters by assignee, status, space and
//! page, and never shows tasks of pages the viewer may not see.

use super::{assigned_task, key_of, task_list};
use cairn_tests::{Client, TestNode};

fn report(params: &[(&str, &str)]) -> String {
    let ps: String = params
        .iter()
        .map(|(k, v)| format!("<ac:parameter ac:name=\"{k}\">{v}</ac:parameter>"))
        .collect();
    format!("<p>Report</p><ac:structured-macro ac:name=\"tasks-report-macro\">{ps}</ac:structured-macro>")
}

/// The tasks named `*-open`/`*-done` that the view of `page` shows.
async fn shown(c: &Client, page: i64) -> Vec<&'static str> {
    let html = c.view_page(page).await;
    assert!(!html.contains("could not render"), "{html}");
    ALL.iter().copied().filter(|t| html.contains(t)).collect()
}

const ALL: [&str; 6] = [
    "alpha-mia-open",
    "alpha-rex-open",
    "alpha-mia-done",
    "child-mia-open",
    "beta-mia-open",
    "secret-mia-open",
];

#[tokio::test]
async fn the_report_filters_by_assignee_status_space_and_page_and_hides_restricted_pages() {
    let node = TestNode::start().await;
    node.user("mia", false).await;
    node.user("rex", false).await;
    let admin = node.login("admin").await;
    admin.create_space("TEAM", "Team").await;
    admin.create_space("OPS", "Ops").await;
    let (mia, rex) = (key_of(&node, "mia").await, key_of(&node, "rex").await);
    let alpha = admin
        .create_page(
            "TEAM",
            "Alpha",
            &task_list(&[
                assigned_task("1", "alpha-mia-open", &mia, "2030-01-02", false),
                assigned_task("2", "alpha-rex-open", &rex, "", false),
                assigned_task("3", "alpha-mia-done", &mia, "", true),
            ]),
            None,
        )
        .await;
    admin
        .create_page(
            "TEAM",
            "Alpha child",
            &task_list(&[assigned_task("1", "child-mia-open", &mia, "", false)]),
            Some(alpha),
        )
        .await;
    admin
        .create_page(
            "OPS",
            "Beta",
            &task_list(&[assigned_task("1", "beta-mia-open", "mia", "", false)]),
            None,
        )
        .await;
    let secret = admin
        .create_page(
            "TEAM",
            "Secret",
            &task_list(&[assigned_task("1", "secret-mia-open", &mia, "", false)]),
            None,
        )
        .await;
    assert_eq!(
        admin
            .restrict(secret, "read", "user", "admin")
            .await
            .status(),
        200
    );

    let page = |title: &'static str, params: &'static [(&'static str, &'static str)]| {
        let admin = &admin;
        async move {
            admin
                .create_page("TEAM", title, &report(params), None)
                .await
        }
    };
    let by_mia_in_team = page("R1", &[("assignees", "mia"), ("spaces", "TEAM")]).await;
    let done = page("R2", &[("status", "complete")]).await;
    let everything = page("R3", &[("status", "all"), ("pageSize", "50")]).await;
    let under_alpha = page(
        "R4",
        &[
            ("pages", "Alpha"),
            ("columns", "description,assignee,location"),
        ],
    )
    .await;
    let rex_open = page("R5", &[("assignees", "rex,nobody")]).await;

    let viewer = node.login("rex").await;
    assert_eq!(
        shown(&viewer, by_mia_in_team).await,
        ["alpha-mia-open", "child-mia-open"]
    );
    assert_eq!(shown(&viewer, done).await, ["alpha-mia-done"]);
    assert_eq!(
        shown(&viewer, everything).await,
        [
            "alpha-mia-open",
            "alpha-rex-open",
            "alpha-mia-done",
            "child-mia-open",
            "beta-mia-open"
        ],
        "everything but the restricted page's task"
    );
    assert_eq!(
        shown(&viewer, under_alpha).await,
        ["alpha-mia-open", "alpha-rex-open", "child-mia-open"]
    );
    assert_eq!(shown(&viewer, rex_open).await, ["alpha-rex-open"]);
    let html = viewer.view_page(under_alpha).await;
    assert!(html.contains("class=\"tasks-report\""), "{html}");
    assert!(html.contains("mia Example"), "assignee column: {html}");

    // Who may read the restricted page sees its task in the same report.
    assert!(shown(&admin, everything).await.contains(&"secret-mia-open"));
    assert!(!shown(&viewer, everything)
        .await
        .contains(&"secret-mia-open"));

    // A bad parameter is the macro's error box, naming it.
    let bad = page("R6", &[("status", "maybe")]).await;
    let html = viewer.view_page(bad).await;
    assert!(
        html.contains("could not render") && html.contains("status"),
        "{html}"
    );
}
