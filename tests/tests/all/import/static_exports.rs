//! HTML and PDF exports of a space and a page tree: static pages with their
//! attachments and relative links, rendered as the viewer.

use std::io::Read;

use super::*;

const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0xDA, 0x63, 0x64, 0xF8, 0xCF, 0x50,
    0x0F, 0x00, 0x03, 0x86, 0x01, 0x80, 0x5A, 0x34, 0x7D, 0x6B, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

fn entries(zip: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    let mut out = std::collections::BTreeMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        out.insert(f.name().to_owned(), b);
    }
    out
}

#[tokio::test]
async fn a_space_exports_to_static_html_with_its_files_and_relative_links_as_the_viewer_sees_it() {
    let node = TestNode::start().await;
    node.state
        .plugins
        .install_builtin(&cairn_tests::builtin_plugins())
        .await
        .unwrap();
    node.user("bob", false).await;
    let admin = node.login("admin").await;
    admin.create_space("DOC", "Docs & more").await;
    let guide = admin
        .create_page(
            "DOC",
            "Guide",
            "<p>Read <ac:link><ri:page ri:content-title=\"Install\" /></ac:link> first <ac:emoticon ac:name=\"smile\" />.</p>\
             <ac:image><ri:attachment ri:filename=\"shot 1.png\" /></ac:image>\
             <ac:structured-macro ac:name=\"info\"><ac:rich-text-body><p>Boxed</p></ac:rich-text-body></ac:structured-macro>",
            None,
        )
        .await;
    let install = admin
        .create_page("DOC", "Install", "<p>apt-get install</p>", Some(guide))
        .await;
    let secret = admin
        .create_page("DOC", "Secret plans", "<p>hidden</p>", Some(guide))
        .await;
    admin.restrict(secret, "read", "user", "admin").await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", admin.csrf.clone())
        .text("comment", "")
        .part(
            "file",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("shot 1.png"),
        );
    let r = admin
        .http
        .post(admin.url(&format!("/pages/{guide}/attachments")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection());

    let bob = node.login("bob").await;
    let r = bob.get("/spaces/DOC/export/html").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("DOC-html.zip"));
    let files = entries(&r.bytes().await.unwrap());
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    let guide_html = format!("{guide}.html");
    let install_html = format!("{install}.html");
    for want in [
        "index.html",
        "style.css",
        guide_html.as_str(),
        install_html.as_str(),
        "emoticons/smile.svg",
    ] {
        assert!(names.contains(&want), "{want} missing: {names:?}");
    }
    assert_eq!(files[&format!("attachments/{guide}/shot 1.png")], PNG);
    // Bob may not see the secret page: not exported, not named.
    assert!(
        !names.contains(&format!("{secret}.html").as_str()),
        "{names:?}"
    );
    let all: String = files
        .iter()
        .filter(|(n, _)| n.ends_with(".html"))
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(!all.contains("Secret plans"), "{all}");
    // Relative links: the page, the image, the emoticon; the index tree.
    let page = String::from_utf8_lossy(&files[&guide_html]).into_owned();
    assert!(page.contains(&format!("href=\"{install}.html\"")), "{page}");
    assert!(
        page.contains(&format!("src=\"attachments/{guide}/shot%201.png\"")),
        "{page}"
    );
    assert!(page.contains("src=\"emoticons/smile.svg\""), "{page}");
    assert!(
        page.contains("Boxed"),
        "the plugin's macro rendered: {page}"
    );
    assert!(
        page.contains("href=\"index.html\">Docs &amp; more</a>"),
        "{page}"
    );
    assert!(
        !page.contains("href=\"/") && !page.contains("src=\"/"),
        "no path outside the zip: {page}"
    );
    let index = String::from_utf8_lossy(&files["index.html"]).into_owned();
    let g = index.find(&format!("href=\"{guide}.html\"")).expect(&index);
    let i = index
        .find(&format!("href=\"{install}.html\""))
        .expect(&index);
    assert!(
        g < i && index[g..i].contains("<ul>"),
        "Install nested under Guide: {index}"
    );

    // A page tree from Install down: only Install.
    let r = bob.get(&format!("/pages/{install}/export/html")).await;
    assert_eq!(r.status(), 200);
    let files = entries(&r.bytes().await.unwrap());
    let htmls: Vec<&String> = files.keys().filter(|n| n.ends_with(".html")).collect();
    assert_eq!(htmls, [&install_html, &"index.html".to_owned()]);
    // The secret tree is a 404 for bob.
    assert_eq!(
        bob.get(&format!("/pages/{secret}/export/html"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_page_tree_prints_to_pdf_through_headless_chromium() {
    if !std::path::Path::new("/usr/bin/chromium").exists() {
        panic!("chromium is not installed: tests/run.sh installs it");
    }
    let node = TestNode::start().await;
    let admin = node.login("admin").await;
    admin.create_space("PDF", "Printed").await;
    let top = admin
        .create_page(
            "PDF",
            "Handbook",
            "<h2>Welcome</h2><p>First page.</p>",
            None,
        )
        .await;
    admin
        .create_page("PDF", "Chapter two", "<p>Second page.</p>", Some(top))
        .await;
    for path in [
        format!("/pages/{top}/export/pdf"),
        format!("/pages/{top}/export/pdf?tree=1"),
    ] {
        let r = admin.get(&path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let pdf = r.bytes().await.unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{path}");
        assert!(pdf.len() > 1000, "{path}: {} bytes", pdf.len());
    }
    // The tree has more pages than the page alone.
    let one = admin
        .get(&format!("/pages/{top}/export/pdf"))
        .await
        .bytes()
        .await
        .unwrap();
    let tree = admin
        .get(&format!("/pages/{top}/export/pdf?tree=1"))
        .await
        .bytes()
        .await
        .unwrap();
    let pages = |b: &[u8]| {
        String::from_utf8_lossy(b).matches("/Type /Page\n").count()
            + String::from_utf8_lossy(b).matches("/Type/Page/").count()
            + String::from_utf8_lossy(b).matches("/Type /Page/").count()
            + String::from_utf8_lossy(b).matches("/Type/Page\n").count()
    };
    assert!(
        pages(&tree) > pages(&one) || tree.len() > one.len(),
        "{} vs {}",
        tree.len(),
        one.len()
    );
}

#[tokio::test]
async fn cairn_export_writes_html_and_pdf_from_the_command_line_as_the_named_user() {
    let node = TestNode::start().await;
    node.state
        .plugins
        .install_builtin(&cairn_tests::builtin_plugins())
        .await
        .unwrap();
    node.user("bob", false).await;
    let admin = node.login("admin").await;
    admin.create_space("CLI", "Command line").await;
    let top = admin
        .create_page(
            "CLI",
            "Top",
            "<p>See <ac:link><ri:page ri:content-title=\"Child\" /></ac:link>.</p>\
             <ac:structured-macro ac:name=\"info\"><ac:rich-text-body><p>Boxed</p></ac:rich-text-body></ac:structured-macro>",
            None,
        )
        .await;
    admin
        .create_page("CLI", "Child", "<p>below</p>", Some(top))
        .await;
    let secret = admin
        .create_page("CLI", "Only admin", "<p>hidden</p>", Some(top))
        .await;
    admin.restrict(secret, "read", "user", "admin").await;
    let dir = tmp("cli-export");
    std::fs::create_dir_all(&dir).unwrap();
    let cairn = |args: &[&str]| {
        let out = std::process::Command::new(cairn_tests::cluster::cairn_binary())
            .arg("export")
            .args(args)
            .env("CAIRN_DATABASE_URL", &node.db.url)
            .env("CAIRN_SHARED_HOME", &node.shared_home)
            .env("CAIRN_LOCAL_HOME", dir.join("local"))
            .env("CAIRN_LOG", "warn")
            .output()
            .expect("cairn export");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    // A space as static HTML, as bob sees it: the restricted page is left out.
    let html = dir.join("space.zip");
    let (ok, out) = cairn(&[
        "CLI",
        html.to_str().unwrap(),
        "--format",
        "html",
        "--user",
        "bob",
    ]);
    assert!(ok, "{out}");
    // The space's home page, Top and Child.
    assert!(out.contains("3 pages as static HTML"), "{out}");
    let files = entries(&std::fs::read(&html).unwrap());
    let top_html = String::from_utf8(files[&format!("{top}.html")].clone()).unwrap();
    assert!(
        top_html.contains("Boxed"),
        "the info macro rendered through its plugin: {top_html}"
    );
    assert!(!files.contains_key(&format!("{secret}.html")));
    // As admin, it is there.
    let (ok, out) = cairn(&["CLI", html.to_str().unwrap(), "--format", "html"]);
    assert!(ok && out.contains("4 pages"), "{out}");
    // A page tree as PDF.
    let pdf = dir.join("tree.pdf");
    let (ok, out) = cairn(&[
        pdf.to_str().unwrap(),
        "--page",
        &top.to_string(),
        "--tree",
        "--format",
        "pdf",
    ]);
    assert!(ok, "{out}");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-") && bytes.len() > 1000);
    // Bad input: clear messages, nothing written.
    let (ok, out) = cairn(&[
        "NOPE",
        dir.join("x.zip").to_str().unwrap(),
        "--format",
        "html",
    ]);
    assert!(!ok && out.contains("export failed"), "{out}");
    let (ok, out) = cairn(&[
        "CLI",
        dir.join("y.pdf").to_str().unwrap(),
        "--format",
        "pdf",
    ]);
    assert!(!ok && out.contains("a PDF export is of a page"), "{out}");
    let (ok, out) = cairn(&[
        "CLI",
        dir.join("z.zip").to_str().unwrap(),
        "--format",
        "html",
        "--user",
        "nobody",
    ]);
    assert!(!ok && out.contains("no user named \"nobody\""), "{out}");
    assert!(!dir.join("y.pdf").exists() && !dir.join("z.zip").exists());
}
