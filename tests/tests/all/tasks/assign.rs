//! Assigning a task notifies the assignee — in the app and by mail through
//! the real SMTP server the notify tests use — once per version, only when
//! they may see the page, never for self-assignment; the page shows the
//! assignee's name and the due date.

use super::super::notify::{
    create_page, edit_page, node_with_mail, settle, space_of_users, wait_mails, Smtp,
};
use super::{assigned_task, key_of, task_list};

async fn notifications_of(node: &cairn_tests::TestNode, user: &str) -> Vec<(i64, String)> {
    node.sql()
        .await
        .query(
            "SELECT n.page_id, n.reason FROM notifications n JOIN users u ON u.id = n.user_id
             WHERE u.username = $1 ORDER BY n.id",
            &[&user],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn assigning_a_task_tells_the_assignee_once_and_only_if_they_may_see_it() {
    let smtp = Smtp::start().await;
    let node = node_with_mail(&smtp).await;
    let admin = space_of_users(&node, &["ann", "mia", "rex"]).await;
    let (ann_key, mia_key, rex_key) = (
        key_of(&node, "ann").await,
        key_of(&node, "mia").await,
        key_of(&node, "rex").await,
    );
    // Mia is assigned a task; Ann assigns one to herself.
    let body = task_list(&[
        assigned_task("1", "Write the notes", &mia_key, "2020-01-01", false),
        assigned_task("2", "Book the room", &ann_key, "", false),
    ]);
    let plan = create_page(&node, "ann", "TEAM", "Plan", &format!("<p>Todo</p>{body}")).await;
    let got = wait_mails(&smtp, "mia", 1).await;
    let text = got[0]["text"].as_str().unwrap();
    assert!(
        text.contains("ann Example assigned you a task on \"Plan\""),
        "{text}"
    );
    assert!(text.contains("Task: Write the notes"), "{text}");
    assert!(text.contains("(due 1 Jan 2020)"), "{text}");
    assert!(
        !text.contains("Book the room"),
        "only her own tasks: {text}"
    );
    assert_eq!(
        notifications_of(&node, "mia").await,
        [(plan, "task-assigned".to_owned())]
    );
    let mia = node.login("mia").await;
    let (_, list) = mia.get_text("/notifications").await;
    assert!(list.contains("assigned you a task on"), "{list}");

    // A later version that keeps the assignment (and edits around it), and
    // one that moves Mia's task below another: nothing new.
    let body2 = task_list(&[
        assigned_task("3", "New task", "", "", false),
        assigned_task("2", "Book the big room", &ann_key, "", false),
        assigned_task("1", "Write the notes today", &mia_key, "2020-01-01", false),
    ]);
    edit_page(&node, "ann", plan, &format!("<p>Todo!</p>{body2}"), "").await;
    settle(&node).await;
    assert_eq!(smtp.mails_to("mia").len(), 1, "no second mail");
    assert_eq!(notifications_of(&node, "mia").await.len(), 1);
    assert!(
        smtp.mails_to("ann").is_empty(),
        "self-assignment tells no one"
    );
    assert!(notifications_of(&node, "ann").await.is_empty());

    // Rex is assigned a task on a page only Ann may read: nothing reaches him.
    let secret = create_page(&node, "ann", "TEAM", "Secret", "<p>s</p>").await;
    for who in ["admin", "ann"] {
        let r = admin.restrict(secret, "read", "user", who).await;
        assert_eq!(r.status(), 200);
    }
    let secret_body = task_list(&[assigned_task("1", "Hidden job", &rex_key, "", false)]);
    edit_page(&node, "ann", secret, &secret_body, "").await;
    // And a task on Plan newly assigned to him: that one he hears of.
    let body3 = task_list(&[
        assigned_task("3", "New task", &rex_key, "", false),
        assigned_task("1", "Write the notes today", &mia_key, "2020-01-01", false),
    ]);
    edit_page(&node, "ann", plan, &body3, "").await;
    let rex_mails = wait_mails(&smtp, "rex", 1).await;
    settle(&node).await;
    assert_eq!(smtp.mails_to("rex").len(), 1);
    assert!(
        !rex_mails[0].to_string().contains("Secret")
            && !rex_mails[0].to_string().contains("Hidden job"),
        "{rex_mails:#?}"
    );
    assert_eq!(
        notifications_of(&node, "rex").await,
        [(plan, "task-assigned".to_owned())]
    );

    // The page shows the assignee by name, linked to the profile, and the due
    // date readably, marked overdue while the task is open.
    let html = mia.view_page(plan).await;
    assert!(
        html.contains("href=\"/users/mia\" class=\"user-mention\"")
            && html.contains(">mia Example</a>"),
        "{html}"
    );
    assert!(
        html.contains("<time datetime=\"2020-01-01\" class=\"date-lozenge overdue\""),
        "{html}"
    );
    assert!(html.contains(">1 Jan 2020</time>"), "{html}");
}
