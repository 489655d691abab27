//! A draft survives the browser: Chromium is killed (no `pagehide`, no
//! session end) after the autosave said "Draft saved"; a new browser
//! session offers the draft and Resume restores the text.

use super::*;
use cairn_tests::browser::Driver;

const TYPED: &str = "Typed before the crash: the migration runs on Friday.";

/// What the editor's status line says.
const STATUS: &str = "((document.getElementById('draft-status') || {}).textContent || '')";

#[tokio::test]
async fn browser_a_draft_survives_the_browser_being_killed_and_resume_restores_it() {
    let node = setup().await;
    let id = page(&node, "admin", "Runbook", "<p>Steps.</p>").await;
    let base = node.base.clone();

    let d = Driver::start().await;
    d.login(&base, "alice").await;
    d.goto(&format!("{base}/pages/{id}/edit")).await;
    d.wait_for(
        "the editor",
        "return !!document.querySelector('form#editor #body') && !!document.querySelector('#mode-source')",
    )
    .await;
    // Rich text is the default; the source is one click away.
    d.click("#mode-source").await;
    d.type_into("#body", TYPED).await;
    // The autosave's answer, within its period (~5 s) and a margin.
    d.wait_for(
        "the draft saved",
        &format!("return ({STATUS}).startsWith('Draft saved')"),
    )
    .await;
    assert_eq!(drafts_in_db(&node).await, 1);
    d.kill().await;

    // A new browser: the editor offers the draft; Resume fills it in.
    let d = Driver::start().await;
    d.login(&base, "alice").await;
    d.goto(&format!("{base}/pages/{id}/edit")).await;
    d.wait_for(
        "the offer",
        "return !!document.querySelector('#draft-resume')",
    )
    .await;
    d.click("#draft-resume").await;
    d.wait_for(
        "the draft's text",
        &format!(
            "return document.querySelector('#body').value === {}",
            serde_json::to_string(TYPED).unwrap()
        ),
    )
    .await;
    // Publishing it stores the text and leaves no draft.
    d.click("#save").await;
    d.wait_for(
        "the saved page",
        "return document.body.textContent.includes('migration runs on Friday')",
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            drafts_in_db(&node).await == 0
        })
        .await,
        "publishing deleted the draft"
    );
    let (_, v) = node
        .rest(
            "admin",
            Method::GET,
            &format!("/rest/api/content/{id}?expand=body.storage,version"),
            None,
        )
        .await;
    assert_eq!(v["version"]["number"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_cluster_a_draft_autosaved_through_a_node_that_dies_is_offered_by_another() {
    use cairn_tests::cluster::{ClusterSpec, Etcd};
    let etcd = Etcd::start();
    let spec = ClusterSpec::new(&etcd).await;
    let mut a = spec.node("a").await;
    let b = spec.node("b").await;
    assert_eq!(a.create_space("ND").await, 200);
    let (code, page) = a.create_page("ND", "Node death", "<p>x</p>").await;
    assert_eq!(code, 200, "{page}");
    let id = page["id"].as_str().unwrap().to_owned();

    let d = Driver::start().await;
    d.login(&a.url, "admin").await;
    d.goto(&format!("{}/pages/{id}/edit", a.url)).await;
    d.wait_for(
        "the editor",
        "return !!document.querySelector('form#editor #body') && !!document.querySelector('#mode-source')",
    )
    .await;
    // Rich text is the default; the source is one click away.
    d.click("#mode-source").await;
    d.type_into("#body", TYPED).await;
    d.wait_for(
        "the draft saved",
        &format!("return ({STATUS}).startsWith('Draft saved')"),
    )
    .await;
    // Node a dies (kill -9) with the editor open on it.
    a.kill9();
    assert!(
        a.exited(Duration::from_secs(10)).await.is_some(),
        "a is gone"
    );

    // Node b offers the draft.
    d.login(&b.url, "admin").await;
    d.goto(&format!("{}/pages/{id}/edit", b.url)).await;
    d.wait_for(
        "the offer",
        "return !!document.querySelector('#draft-resume')",
    )
    .await;
    d.click("#draft-resume").await;
    d.wait_for(
        "the draft's text",
        &format!(
            "return document.querySelector('#body').value === {}",
            serde_json::to_string(TYPED).unwrap()
        ),
    )
    .await;
}

/// In rich text the autosave saves what the editor writes into the form
/// when typing pauses (not a stale copy on every key): the draft holds the
/// typed text as storage format.
#[tokio::test]
async fn browser_typing_in_rich_text_autosaves_the_typed_text() {
    let node = setup().await;
    let id = page(&node, "admin", "Rich runbook", "<p>Steps.</p>").await;
    let d = Driver::start().await;
    d.login(&node.base, "alice").await;
    d.goto(&format!("{}/pages/{id}/edit", node.base)).await;
    d.wait_for(
        "the rich-text editor",
        "return !!document.querySelector('#rich-body') && document.querySelector('#editor').dataset.mode === 'rich'",
    )
    .await;
    let e = d.find("#rich-body").await;
    d.cmd(
        Method::POST,
        &format!("/element/{e}/value"),
        json!({"text": " Rich and saved."}),
    )
    .await;
    d.wait_for(
        "the draft saved",
        &format!("return ({STATUS}).startsWith('Draft saved')"),
    )
    .await;
    let body: String = node
        .sql()
        .await
        .query_one("SELECT body FROM drafts", &[])
        .await
        .unwrap()
        .get(0);
    assert!(body.contains("Rich and saved."), "{body}");
    assert!(
        body.trim_start().starts_with("<p>"),
        "storage format: {body}"
    );
}
