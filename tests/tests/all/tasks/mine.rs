//! "My tasks" on the dashboard and the profile: open tasks assigned to the
//! person on pages the viewer may see, completed ones behind a link, kept
//! current by saves, ticks and the trash.

use super::{assigned_task, key_of, task_list};
use cairn_tests::TestNode;
use reqwest::Method;

#[tokio::test]
async fn my_tasks_lists_only_visible_tasks_and_follows_ticks_and_the_trash() {
    let node = TestNode::start().await;
    node.user("mia", false).await;
    node.user("ann", false).await;
    let admin = node.login("admin").await;
    admin.create_space("TEAM", "Team").await;
    let mia_key = key_of(&node, "mia").await;
    let seen = admin
        .create_page(
            "TEAM",
            "Chores",
            &task_list(&[
                assigned_task("1", "Visible chore", &mia_key, "2030-02-03", false),
                assigned_task("2", "Finished chore", &mia_key, "", true),
                assigned_task("3", "Nobody's chore", "", "", false),
            ]),
            None,
        )
        .await;
    let hidden = admin
        .create_page(
            "TEAM",
            "Hidden",
            &task_list(&[assigned_task("1", "Hidden chore", &mia_key, "", false)]),
            None,
        )
        .await;
    assert_eq!(
        admin
            .restrict(hidden, "read", "user", "admin")
            .await
            .status(),
        200
    );

    let mia = node.login("mia").await;
    let (s, dash) = mia.get_text("/").await;
    assert_eq!(s, 200);
    assert!(dash.contains("My tasks"), "{dash}");
    assert!(dash.contains("Visible chore"), "{dash}");
    assert!(dash.contains("3 Feb 2030"), "{dash}");
    assert!(
        dash.contains(&format!("/pages/{seen}/")),
        "links the page: {dash}"
    );
    for absent in [
        "Hidden chore",
        "Finished chore",
        "Nobody's chore",
        "Hidden<",
    ] {
        assert!(!dash.contains(absent), "{absent}: {dash}");
    }
    let (_, done) = mia.get_text("/?tasks=done").await;
    assert!(done.contains("Finished chore"), "{done}");
    assert!(!done.contains("Visible chore"), "{done}");

    // Another person's view of Mia's profile: her tasks they may see.
    let ann = node.login("ann").await;
    let (_, profile) = ann.get_text("/users/mia").await;
    assert!(
        profile.contains("Tasks assigned to mia Example"),
        "{profile}"
    );
    assert!(profile.contains("Visible chore"), "{profile}");
    assert!(!profile.contains("Hidden chore"), "{profile}");
    let (_, admin_view) = admin.get_text("/users/mia").await;
    assert!(admin_view.contains("Hidden chore"), "{admin_view}");

    // Ticking moves the task to the completed list.
    let r = mia
        .post(
            &format!("/pages/{seen}/tasks"),
            &[("task", "1"), ("complete", "1")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, dash) = mia.get_text("/").await;
    assert!(!dash.contains("Visible chore"), "{dash}");
    let (_, done) = mia.get_text("/?tasks=done").await;
    assert!(done.contains("Visible chore"), "{done}");

    // A trashed page's tasks are nobody's; restored, they are back.
    let (s, _) = node
        .rest(
            "admin",
            Method::DELETE,
            &format!("/rest/api/content/{seen}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (_, done) = mia.get_text("/?tasks=done").await;
    assert!(!done.contains("Visible chore"), "{done}");
    let (_, profile) = mia.get_text("/users/mia?tasks=done").await;
    assert!(profile.contains("My tasks"), "{profile}");
    assert!(!profile.contains("Finished chore"), "{profile}");
}
