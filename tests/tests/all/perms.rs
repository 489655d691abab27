//! A restricted page must not leak — not its body, not its title — through
//! any path: view, legacy URLs, history, versions, diffs, attachments,
//! downloads, the page tree, children lists and macros, links, includes,
//! breadcrumbs, recently-updated lists, previews.

use cairn_tests::{Client, TestNode};

const SECRET: &str = "Zebra Protocol";
const SECRET_CHILD: &str = "Quokka Annex";
const SECRET_BODY: &str = "launch codes 8841";

struct World {
    node: TestNode,
    admin: Client,
    public: i64,
    secret: i64,
    child: i64,
}

async fn world() -> World {
    let node = TestNode::start().await;
    node.user("eve", false).await;
    node.user("ivan", false).await;
    let admin = node.login("admin").await;
    admin.create_space("SEC", "Security").await;
    let public = admin
        .create_page("SEC", "Public Page", "<p>hello</p>", None)
        .await;
    let secret = admin
        .create_page(
            "SEC",
            SECRET,
            &format!("<p>{SECRET_BODY}</p>"),
            Some(public),
        )
        .await;
    let child = admin
        .create_page(
            "SEC",
            SECRET_CHILD,
            &format!("<p>{SECRET_BODY} child</p>"),
            Some(secret),
        )
        .await;
    // Restrict viewing to admin and the insiders group (ivan).
    let r = admin
        .submit(
            "/admin/groups",
            &[
                ("action", "create"),
                ("name", "insiders"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    admin
        .submit(
            "/admin/groups",
            &[
                ("action", "add"),
                ("group", "insiders"),
                ("username", "ivan"),
            ],
        )
        .await;
    let r = admin.restrict(secret, "read", "group", "insiders").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Restrictions saved"), "{html}");
    // An attachment and a comment on the secret page.
    upload(&admin, secret, "plan-b.txt", b"secret attachment bytes").await;
    admin
        .post(
            &format!("/pages/{secret}/comments"),
            &[("body", "comment about launch codes")],
        )
        .await;
    // The public page points at the secret one in every way a body can.
    let body = format!(
        "<p><ac:link><ri:content-entity ri:content-id=\"{secret}\"/></ac:link></p>\
         <ac:structured-macro ac:name=\"children\"><ac:parameter ac:name=\"all\">true</ac:parameter></ac:structured-macro>\
         <ac:structured-macro ac:name=\"include\"><ac:parameter ac:name=\"\"><ac:link><ri:page ri:content-title=\"{SECRET}\"/></ac:link></ac:parameter></ac:structured-macro>\
         <ac:structured-macro ac:name=\"attachments\"><ac:parameter ac:name=\"page\"><ac:link><ri:page ri:content-title=\"{SECRET}\"/></ac:link></ac:parameter></ac:structured-macro>\
         <ac:structured-macro ac:name=\"recently-updated\"/>\
         <ac:structured-macro ac:name=\"contentbylabel\"><ac:parameter ac:name=\"labels\">classified</ac:parameter></ac:structured-macro>\
         <p><ac:image><ri:attachment ri:filename=\"plan-b.txt\"><ri:page ri:content-title=\"{SECRET}\"/></ri:attachment></ac:image></p>"
    );
    let r = admin
        .post(
            &format!("/pages/{public}/edit"),
            &[
                ("title", "Public Page"),
                ("body", &body),
                ("format", "storage"),
                ("base_version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    admin
        .post(
            &format!("/pages/{secret}/labels"),
            &[("labels", "classified")],
        )
        .await;
    World {
        node,
        admin,
        public,
        secret,
        child,
    }
}

pub async fn upload(c: &Client, page: i64, name: &str, bytes: &[u8]) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("_csrf", c.csrf.clone())
        .text("comment", "")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()),
        );
    c.http
        .post(c.url(&format!("/pages/{page}/attachments")))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn assert_clean(what: &str, body: &str) {
    for needle in [
        SECRET,
        SECRET_CHILD,
        SECRET_BODY,
        "plan-b.txt",
        "secret attachment bytes",
        "launch codes",
    ] {
        assert!(!body.contains(needle), "{what} leaks {needle:?}:\n{body}");
    }
}

#[tokio::test]
async fn restricted_pages_leak_through_no_path() {
    let w = world().await;
    let eve = w.node.login("eve").await;
    let (s, id, cid) = (w.secret, w.secret, w.child);
    for path in [
        format!("/spaces/SEC/pages/{s}"),
        format!("/spaces/SEC/pages/{cid}"),
        format!("/pages/viewpage.action?pageId={id}"),
        format!("/pages/viewpage.action?pageId={cid}"),
        format!("/display/SEC/{}", SECRET.replace(' ', "+")),
        format!("/pages/{id}/history"),
        format!("/pages/{id}/version/1"),
        format!("/pages/{id}/diff?from=1&to=1"),
        format!("/pages/{id}/attachments"),
        format!("/pages/{id}/edit"),
        format!("/pages/{id}/restrictions"),
        format!("/pages/{id}/move"),
        "/download/attachments/{id}/plan-b.txt".replace("{id}", &id.to_string()),
        format!("/ui/tree?space=SEC&parent={id}"),
    ] {
        let (status, body) = eve.get_text(&path).await;
        assert!(
            status == 404 || (path.starts_with("/ui/tree") && status == 200),
            "{path}: {status}"
        );
        assert_clean(&path, &body);
    }
    for path in [
        "/",
        "/spaces",
        "/ui/tree?space=SEC",
        &format!("/ui/tree?space=SEC&parent={}", w.public),
        "/users/admin",
    ] {
        let (status, body) = eve.get_text(path).await;
        assert_eq!(status, 200, "{path}");
        assert_clean(path, &body);
    }
    // The public page: links, children, include, attachments, recently
    // updated, content-by-label, images — none shows the secret.
    let (status, _, body) = eve
        .follow(&format!("/pages/viewpage.action?pageId={}", w.public))
        .await;
    assert_eq!(status, 200);
    // The image names the file the author wrote; it must not resolve.
    let body = body.replace("plan-b.txt</span>", "</span>");
    // The include and attachments macros (plugins) name the page the author
    // wrote, answering exactly as for a page that does not exist.
    let mut body = body;
    for written in [
        format!("the page \"{SECRET}\" does not exist or you may not view it"),
        format!("there is no page \"{SECRET}\" in space SEC, or you may not view it"),
    ] {
        assert!(body.contains(&written), "{written}: {body}");
        body = body.replace(&written, "");
    }
    assert_clean("public page", &body);
    assert!(!body.contains(&format!("/download/attachments/{id}/")));
    // Writes on it are refused without revealing it.
    for (path, fields) in [
        (
            format!("/pages/{id}/edit"),
            vec![
                ("title", "x"),
                ("body", ""),
                ("format", "storage"),
                ("base_version", "1"),
            ],
        ),
        (format!("/pages/{id}/comments"), vec![("body", "hi")]),
        (format!("/pages/{id}/labels"), vec![("labels", "x")]),
        (format!("/pages/{id}/delete"), vec![]),
        (format!("/pages/{id}/copy"), vec![]),
    ] {
        let r = eve.post(&path, &fields).await;
        assert_eq!(r.status(), 404, "{path}");
        assert_clean(&path, &r.text().await.unwrap());
    }
    // The editor preview resolves as the viewer too.
    let r = eve
        .post(
            "/ui/preview",
            &[
                ("space", "SEC"),
                ("format", "storage"),
                ("body", &format!("<ac:structured-macro ac:name=\"include\"><ac:parameter ac:name=\"\">{SECRET}</ac:parameter></ac:structured-macro><p><ac:link><ri:content-entity ri:content-id=\"{id}\"/></ac:link></p>")),
            ],
        )
        .await;
    let preview = r.text().await.unwrap();
    let written = format!("the page \"{SECRET}\" does not exist or you may not view it");
    assert!(preview.contains(&written), "{preview}");
    assert_clean("preview", &preview.replace(&written, ""));
}

#[tokio::test]
async fn group_members_see_restricted_pages_and_anonymous_sees_nothing() {
    let w = world().await;
    let ivan = w.node.login("ivan").await;
    let (status, _, body) = ivan
        .follow(&format!("/pages/viewpage.action?pageId={}", w.child))
        .await;
    assert_eq!(status, 200);
    assert!(
        body.contains(SECRET_CHILD) && body.contains(SECRET),
        "breadcrumbs and title for an insider"
    );
    let (_, _, public) = ivan
        .follow(&format!("/pages/viewpage.action?pageId={}", w.public))
        .await;
    assert!(
        public.contains(SECRET_BODY),
        "the include shows the page to an insider"
    );
    let r = ivan
        .get(&format!("/download/attachments/{}/plan-b.txt", w.secret))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        b"secret attachment bytes"
    );
    // Anonymous visitors are sent to the login page from every path.
    let anon = w.node.anon();
    for path in [
        "/".to_owned(),
        format!("/pages/viewpage.action?pageId={}", w.public),
        format!("/pages/viewpage.action?pageId={}", w.secret),
        format!("/download/attachments/{}/plan-b.txt", w.secret),
        "/spaces/SEC".to_owned(),
    ] {
        let r = anon.get(&path).await;
        assert_eq!(r.status(), 303, "{path}");
        assert!(Client::location(&r).starts_with("/login"), "{path}");
    }
    let (s, tree) = anon.get_text("/ui/tree?space=SEC").await;
    assert_eq!(s, 404);
    assert_clean("anonymous tree", &tree);
}

#[tokio::test]
async fn edit_restrictions_and_space_permissions() {
    let w = world().await;
    let eve = w.node.login("eve").await;
    let locked = w
        .admin
        .create_page("SEC", "Locked", "<p>read only</p>", None)
        .await;
    let r = w.admin.restrict(locked, "update", "user", "admin").await;
    assert_eq!(r.status(), 200);
    let (s, _, _) = eve
        .follow(&format!("/pages/viewpage.action?pageId={locked}"))
        .await;
    assert_eq!(s, 200, "edit restrictions do not hide");
    let r = eve
        .post(
            &format!("/pages/{locked}/edit"),
            &[
                ("title", "Locked"),
                ("body", "<p>vandal</p>"),
                ("format", "storage"),
                ("base_version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    // A private space: eve doesn't see it at all.
    w.admin.create_space("HR", "Human Resources").await;
    let r = w
        .admin
        .submit(
            "/spaces/HR/permissions",
            &[
                ("kind", "group"),
                ("name", "cairn-users"),
                ("permission", "view"),
                ("grant", "0"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let hr = w
        .admin
        .create_page("HR", "Salaries", "<p>numbers</p>", None)
        .await;
    let (_, dir) = eve.get_text("/spaces").await;
    assert!(!dir.contains("Human Resources"));
    assert_eq!(
        eve.get(&format!("/pages/viewpage.action?pageId={hr}"))
            .await
            .status(),
        404
    );
    assert_eq!(eve.get("/spaces/HR/settings").await.status(), 404);
    let (_, dash) = eve.get_text("/").await;
    assert!(!dash.contains("Salaries"));
    // Eve may not administer SEC.
    let r = eve
        .submit(
            "/spaces/SEC/permissions",
            &[
                ("kind", "user"),
                ("name", "eve"),
                ("permission", "admin"),
                ("grant", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    // Nor the site.
    assert_eq!(eve.get("/admin/users").await.status(), 403);
    let r = eve
        .post(
            "/admin/users",
            &[("username", "mallory"), ("password", "mallory-password")],
        )
        .await;
    assert_eq!(r.status(), 403);
}

/// The space sidebar offers only links the viewer may follow: every link it
/// shows answers 200, every one it leaves out would have refused them.
#[tokio::test]
async fn the_sidebar_offers_only_what_the_viewer_may_do() {
    let w = world().await;
    let eve = w.node.login("eve").await;
    let links = ["new", "trash", "settings"];
    let mut shown_to = Vec::new();
    for (who, c) in [("admin", &w.admin), ("eve", &eve)] {
        let (s, _, html) = c
            .follow(&format!("/pages/viewpage.action?pageId={}", w.public))
            .await;
        assert_eq!(s, 200);
        let sidebar = &html[html.find("class=\"sidebar\"").expect("a sidebar")..];
        let sidebar = &sidebar[..sidebar.find("</nav>").unwrap()];
        let mut shown = Vec::new();
        for l in links {
            let path = format!("/spaces/SEC/{l}");
            let status = c.get(&path).await.status().as_u16();
            if sidebar.contains(&format!("href=\"{path}\"")) {
                assert_eq!(status, 200, "{who} is offered {path}");
                shown.push(l);
            } else {
                assert!(
                    matches!(status, 403 | 404),
                    "{who} is not offered {path}, which answers {status}"
                );
            }
        }
        shown_to.push(shown);
    }
    assert_eq!(shown_to[0], links, "an administrator is offered every link");
    assert!(
        !shown_to[1].contains(&"settings"),
        "eve does not administer SEC"
    );
}
