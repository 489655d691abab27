//! Every main screen at a desktop's and a phone's size: nothing wider than
//! the screen, search and the user menu in reach, no serious accessibility
//! violation, a screenshot of each; and the phone's drawer.

use super::*;

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
        ("diff", format!("/pages/{child}/diff?from=1&to=1&mode=side")),
        ("admin-users", "/admin/users".to_owned()),
        ("spaces", "/spaces".to_owned()),
        ("error", "/spaces/PH/pages/999999".to_owned()),
        ("attachments", format!("/pages/{child}/attachments")),
        ("restrictions", format!("/pages/{child}/restrictions")),
        ("move", format!("/pages/{child}/move")),
        ("space-settings", "/spaces/PH/settings".to_owned()),
        ("trash", "/spaces/PH/trash".to_owned()),
        ("blog", "/spaces/PH/blog".to_owned()),
        ("create", "/spaces/PH/create".to_owned()),
        ("notifications", "/notifications".to_owned()),
        (
            "notification-settings",
            "/notifications/settings".to_owned(),
        ),
        ("tokens", "/profile/tokens".to_owned()),
        ("profile", "/users/admin".to_owned()),
        ("admin-groups", "/admin/groups".to_owned()),
        ("admin-user-edit", "/admin/users/1/edit".to_owned()),
        ("admin-permissions", "/admin/permissions".to_owned()),
        ("admin-plugins", "/admin/plugins".to_owned()),
        ("admin-plugin", "/admin/plugins/cairn.code".to_owned()),
        ("admin-search", "/admin/search".to_owned()),
        ("admin-cluster", "/admin/cluster".to_owned()),
        ("admin-settings", "/admin/settings".to_owned()),
        ("admin-mail", "/admin/mail".to_owned()),
        ("admin-import", "/admin/import".to_owned()),
        ("create-start", "/spaces/PH/new".to_owned()),
        (
            "create-blueprint",
            "/spaces/PH/new/blueprint/meeting-notes".to_owned(),
        ),
        ("space-templates", "/spaces/PH/templates".to_owned()),
        ("template-new", "/spaces/PH/templates/new".to_owned()),
        ("admin-templates", "/admin/templates".to_owned()),
        ("share", format!("/pages/{child}/share")),
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
            let bad = d.axe_violations().await;
            assert!(
                bad.is_empty(),
                "{size}: {path}: accessibility:\n{}",
                bad.join("\n")
            );
        }
        // The login page, as an anonymous visitor sees it.
        let anon = Driver::start_sized(width, height).await;
        anon.goto(&format!("{base}/login")).await;
        anon.wait_for(
            "the login form",
            "return !!document.querySelector('#password')",
        )
        .await;
        anon.screenshot(&format!("{size}-login")).await;
        let bad = anon.axe_violations().await;
        assert!(
            bad.is_empty(),
            "{size}: /login: accessibility:\n{}",
            bad.join("\n")
        );
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
