//! The spaces people live in, in Chromium: a personal space made from the
//! profile, pages saved for later and a favourite space on the dashboard,
//! and a page properties report across pages sorted in the browser.

use super::*;

#[tokio::test]
async fn a_personal_space_favourites_on_the_dashboard_and_a_sortable_properties_report() {
    let node = TestNode::start().await;
    node.state
        .plugins
        .install_builtin(&cairn_tests::builtin_plugins())
        .await
        .unwrap();
    node.user("bob", false).await;
    let admin = node.login("admin").await;
    admin.create_space("DEC", "Decisions").await;
    admin.create_space("ZOO", "Zoo").await;
    let props = |status: &str, owner: &str| {
        format!(
            "<ac:structured-macro ac:name=\"details\"><ac:rich-text-body><table><tbody>\
             <tr><th>Status</th><td>{status}</td></tr>\
             <tr><th>Owner</th><td>{owner}</td></tr></tbody></table></ac:rich-text-body></ac:structured-macro>"
        )
    };
    for (title, status, owner) in [
        ("Use Postgres", "Decided", "Carol"),
        ("Drop IE11", "In progress", "Ann"),
        ("Adopt Rust", "Open", "Bob"),
    ] {
        let id = admin
            .create_page("DEC", title, &props(status, owner), None)
            .await;
        admin
            .post(&format!("/pages/{id}/labels"), &[("labels", "decisions")])
            .await;
    }
    let report = admin
        .create_page(
            "DEC",
            "Decision log",
            "<ac:structured-macro ac:name=\"detailssummary\"><ac:parameter ac:name=\"cql\">label = \"decisions\" and space = currentSpace()</ac:parameter><ac:parameter ac:name=\"firstcolumn\">Decision</ac:parameter><ac:parameter ac:name=\"sortBy\">title</ac:parameter></ac:structured-macro>",
            None,
        )
        .await;
    let zoo = admin
        .create_page("ZOO", "Feeding times", "<p>noon</p>", None)
        .await;

    let d = Driver::start().await;
    let base = node.base.clone();
    d.login(&base, "bob").await;

    // A personal space, made from the profile.
    d.goto(&format!("{base}/users/bob")).await;
    d.click("#create-personal-space").await;
    d.wait_for(
        "the personal space",
        "return location.pathname.startsWith('/spaces/~bob') || location.pathname.includes('/spaces/~bob/')",
    )
    .await;
    d.goto(&format!("{base}/spaces")).await;
    d.wait_for(
        "the directory",
        "return !!document.querySelector('#personal-spaces a[href=\"/spaces/~bob\"]')",
    )
    .await;

    // The report: three rows by title; a heading sorts by its column, then
    // reverses.
    d.goto(&format!("{base}/pages/viewpage.action?pageId={report}"))
        .await;
    let first_column = "return [...document.querySelectorAll('table.details-summary tbody tr')].map(r => r.cells[0].textContent.trim()).join('|')";
    d.wait_for(
        "the report",
        "return document.querySelectorAll('table.details-summary tbody tr').length === 3",
    )
    .await;
    assert_eq!(
        d.js(first_column).await,
        json!("Adopt Rust|Drop IE11|Use Postgres")
    );
    // Owner is the third column.
    d.js("document.querySelectorAll('table.details-summary thead th button')[2].click()")
        .await;
    assert_eq!(
        d.js(first_column).await,
        json!("Drop IE11|Adopt Rust|Use Postgres"),
        "by owner: Ann, Bob, Carol"
    );
    d.js("document.querySelectorAll('table.details-summary thead th button')[2].click()")
        .await;
    assert_eq!(
        d.js(first_column).await,
        json!("Use Postgres|Adopt Rust|Drop IE11"),
        "reversed"
    );

    // Save the report for later, and make Zoo a favourite space.
    d.click("#save-for-later").await;
    d.wait_for(
        "the saved state",
        "return document.querySelector('#save-for-later')?.getAttribute('aria-pressed') === 'true'",
    )
    .await;
    d.goto(&format!("{base}/pages/viewpage.action?pageId={zoo}"))
        .await;
    // (In the "More actions" menu.)
    d.click("main details.menu > summary[aria-label='More actions']")
        .await;
    d.click("#favourite-space").await;
    d.wait_for(
        "the favourite space",
        "return document.querySelector('#favourite-space')?.textContent.includes('Remove')",
    )
    .await;

    // The dashboard shows both: the saved page, and Zoo first among the
    // spaces, starred.
    d.goto(&format!("{base}/")).await;
    d.wait_for(
        "the dashboard",
        "return !!document.querySelector('#saved-for-later')",
    )
    .await;
    assert_eq!(
        d.js("return [...document.querySelectorAll('#saved-for-later a')].map(a => a.textContent.trim())")
            .await,
        json!(["Decision log"])
    );
    assert_eq!(
        d.js("const li = document.querySelector('ul.spaces li'); return [li.className, li.querySelector('a').textContent]")
            .await,
        json!(["favourite", "Zoo"])
    );
    // Recently viewed (loaded by the dashboard's script) names the pages
    // just seen.
    d.wait_for(
        "recently viewed",
        "return [...document.querySelectorAll('#recently-viewed a')].some(a => a.textContent.includes('Feeding times'))",
    )
    .await;
    let violations = d.axe_violations().await;
    assert!(violations.is_empty(), "{violations:#?}");
}
