//! The import as users start it (REST, the admin page), large attachments,
//! and export back: a space exported and imported elsewhere loses nothing.

use super::*;

#[tokio::test]
async fn rest_import_runs_in_the_background_and_reports_progress_and_conflicts() {
    let node = TestNode::start().await;
    let own = own_export("ENG", true);
    let http = reqwest::Client::new();
    let post = |body: Vec<u8>, q: &str| {
        http.post(format!("{}/rest/cairn/1.0/import{q}", node.base))
            .basic_auth("admin", Some(password_of("admin")))
            .header("content-type", "application/zip")
            .body(body)
            .send()
    };
    let bytes = std::fs::read(&own.zip).expect("zip");
    let r = post(bytes.clone(), "").await.expect("POST");
    assert_eq!(r.status(), 202);
    let j: serde_json::Value = r.json().await.expect("json");
    let link = j["_links"]["status"]
        .as_str()
        .expect("status link")
        .to_owned();
    let done = wait_until(Duration::from_secs(30), || async {
        let s: serde_json::Value = http
            .get(format!("{}{link}", node.base))
            .basic_auth("admin", Some(password_of("admin")))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("json");
        s["status"] == "done" && s["report"]["pages"].as_i64() == Some(18)
    })
    .await;
    assert!(done, "the run finishes with its report");
    // The same zip again: 200, already imported.
    let r = post(bytes, "").await.expect("POST");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["alreadyImported"],
        true
    );
    // Bad input and conflicts: the Confluence error envelope.
    let r = post(b"not a zip".to_vec(), "").await.expect("POST");
    assert_eq!(r.status(), 400);
    let j: serde_json::Value = r.json().await.expect("json");
    assert!(
        j["message"]
            .as_str()
            .unwrap_or("")
            .contains("not a readable zip"),
        "{j}"
    );
    let other = std::fs::read(own_export_named("ENG", "Another export", false).zip).expect("zip");
    let r = post(other, "").await.expect("POST");
    assert_eq!(r.status(), 409);
    // Only administrators.
    node.user("joe", false).await;
    let r = http
        .post(format!("{}/rest/cairn/1.0/import", node.base))
        .basic_auth("joe", Some(password_of("joe")))
        .body(b"x".to_vec())
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn admin_page_uploads_an_export_and_shows_its_run() {
    let node = TestNode::start().await;
    let admin = node.login("admin").await;
    let (status, page) = admin.get_text("/admin/import").await;
    assert_eq!(status, 200);
    let csrf = cairn_tests::input_value(&page, "_csrf").expect("csrf");
    let own = own_export("ENG", true);
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf.clone())
        .text("as", "")
        .part(
            "file",
            reqwest::multipart::Part::bytes(std::fs::read(&own.zip).expect("zip"))
                .file_name("eng.zip"),
        );
    let r = admin
        .http
        .post(admin.url("/admin/import"))
        .multipart(form)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 303);
    let shown = wait_until(Duration::from_secs(30), || async {
        let (_, page) = admin.get_text("/admin/import").await;
        page.contains("eng.zip") && page.contains("state-done") && page.contains("18 pages")
    })
    .await;
    assert!(shown, "the run appears with its outcome");
    // A refused upload says why, on the page.
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("as", "")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"not a zip".to_vec()).file_name("x.zip"),
        );
    let r = admin
        .http
        .post(admin.url("/admin/import"))
        .multipart(form)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 400);
    assert!(r.text().await.expect("page").contains("not a readable zip"));
    // Without the form's token nothing is stored.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"PK".to_vec()).file_name("x.zip"),
    );
    let r = admin
        .http
        .post(admin.url("/admin/import"))
        .multipart(form)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn a_100_mb_attachment_streams_into_the_store() {
    let zip = tmp("big.zip");
    let shape = cairn_tests::confluence::Shape {
        pages: 1,
        versions: 1,
        body_bytes: 100,
        attachment_every: 1,
        attachment_bytes: 100 * 1024 * 1024,
    };
    cairn_tests::confluence::generate(&zip, "BIG", &shape).expect("generate");
    let node = TestNode::start().await;
    let r = import(&node, &zip, None).await.expect("import");
    assert_eq!(r.attachment_files, 1);
    assert_eq!(r.bytes_copied, 100 * 1024 * 1024);
    let row = node
        .sql()
        .await
        .query_one(
            "SELECT file_sha256, file_size FROM content_versions WHERE file_sha256 IS NOT NULL",
            &[],
        )
        .await
        .expect("the file's version");
    assert_eq!(row.get::<_, i64>(1), 100 * 1024 * 1024);
    let stored = node
        .state
        .files
        .read_verified(&row.get::<_, String>(0))
        .await
        .expect("verifies");
    assert_eq!(stored.len(), 100 * 1024 * 1024);
    let _ = std::fs::remove_file(&zip);
}

/// Everything of a space that the content model holds, as comparable text.
pub(super) async fn space_snapshot(node: &TestNode, key: &str) -> Vec<String> {
    let sql = node.sql().await;
    let queries = [
        "SELECT 'space', s.name, s.description, s.space_type, h.title FROM spaces s LEFT JOIN content h ON h.id = s.homepage_id WHERE s.space_key = $1",
        "SELECT 'content', c.content_type, c.title, c.status, c.version::text, coalesce(p.title, '') || '/' || coalesce(left(p.body, 40), ''),
                coalesce(k.title, ''), c.body, coalesce(cu.username, ''), to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'),
                coalesce(c.posting_day::text, ''), c.position::text
         FROM content c JOIN spaces s ON s.id = c.space_id LEFT JOIN content p ON p.id = c.parent_id
         LEFT JOIN content k ON k.id = c.container_id LEFT JOIN users cu ON cu.id = c.creator_id WHERE s.space_key = $1",
        "SELECT 'version', c.content_type, c.title, left(c.body, 30), v.version::text, v.title, v.body, coalesce(u.username, ''),
                to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), v.message, v.minor_edit::text,
                coalesce(v.file_sha256, ''), coalesce(v.file_size::text, ''), coalesce(v.media_type, '')
         FROM content_versions v JOIN content c ON c.id = v.content_id JOIN spaces s ON s.id = c.space_id
         LEFT JOIN users u ON u.id = v.author_id WHERE s.space_key = $1",
        "SELECT 'label', c.title, l.prefix, l.name, '' FROM labels l JOIN content c ON c.id = l.content_id JOIN spaces s ON s.id = c.space_id WHERE s.space_key = $1",
        "SELECT 'restriction', c.title, r.operation, coalesce(u.username, ''), coalesce(g.name, '') FROM content_restrictions r
         JOIN content c ON c.id = r.content_id JOIN spaces s ON s.id = c.space_id LEFT JOIN users u ON u.id = r.user_id
         LEFT JOIN groups g ON g.id = r.group_id WHERE s.space_key = $1",
        "SELECT 'like', c.title, u.username, '', '' FROM likes l JOIN content c ON c.id = l.content_id JOIN users u ON u.id = l.user_id
         JOIN spaces s ON s.id = c.space_id WHERE s.space_key = $1",
        "SELECT 'permission', p.permission, coalesce(u.username, ''), coalesce(g.name, ''), '' FROM space_permissions p
         JOIN spaces s ON s.id = p.space_id LEFT JOIN users u ON u.id = p.user_id LEFT JOIN groups g ON g.id = p.group_id WHERE s.space_key = $1",
        "SELECT 'watch', coalesce(c.title, '(the space)'), u.username, w.blog_only::text, '' FROM watches w JOIN users u ON u.id = w.user_id
         LEFT JOIN content c ON c.id = w.content_id LEFT JOIN spaces s1 ON s1.id = w.space_id LEFT JOIN spaces s2 ON s2.id = c.space_id
         WHERE coalesce(s1.space_key, s2.space_key) = $1",
        "SELECT 'category', sc.name, '', '', '' FROM space_categories sc JOIN spaces s ON s.id = sc.space_id WHERE s.space_key = $1",
        "SELECT 'property', c.title, p.key, p.value::text, p.version::text FROM content_properties p JOIN content c ON c.id = p.content_id
         JOIN spaces s ON s.id = c.space_id WHERE s.space_key = $1",
        "SELECT 'template', t.name, t.description, t.body, t.version::text FROM templates t JOIN spaces s ON s.id = t.space_id WHERE s.space_key = $1",
        "SELECT 'confluence-properties', c.title, x.data::text, '', '' FROM import_extras x JOIN content c ON c.id = x.content_id
         JOIN spaces s ON s.id = c.space_id WHERE x.kind = 'content-properties' AND s.space_key = $1",
    ];
    let mut out = Vec::new();
    for q in queries {
        for row in sql.query(q, &[&key]).await.expect(q) {
            let cols: Vec<String> = (0..row.len())
                .map(|i| row.get::<_, Option<String>>(i).unwrap_or_default())
                .collect();
            out.push(cols.join(" | "));
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn a_space_exported_and_imported_into_a_fresh_database_loses_nothing() {
    let a = TestNode::start().await;
    let own = own_export("ENG", true);
    import(&a, &own.zip, None).await.expect("import into A");
    // What Cairn adds after an import comes back too: a JSON content
    // property, a category, watches of the space and of its blog.
    a.sql()
        .await
        .batch_execute(
            "INSERT INTO content_properties (content_id, key, value, version)
               SELECT id, 'cairn.review', '{\"state\": \"approved\", \"by\": [\"ann\", \"bo\"]}', 3 FROM content
               WHERE space_id = (SELECT id FROM spaces WHERE space_key = 'ENG') AND content_type = 'page' ORDER BY id LIMIT 1;
             INSERT INTO space_categories (space_id, name) SELECT id, 'engineering' FROM spaces WHERE space_key = 'ENG';
             INSERT INTO watches (user_id, space_id, blog_only, token)
               SELECT u.id, s.id, b, md5(u.username || b::text) FROM users u, spaces s, (VALUES (true), (false)) v(b)
               WHERE u.username = 'admin' AND s.space_key = 'ENG';",
        )
        .await
        .expect("extras on A");
    let zip = tmp("exported.zip");
    let r = cairn::import::export_space(&a.pool, &a.state.files, "ENG", &zip)
        .await
        .expect("export");
    assert_eq!(r.files, 2);
    assert!(r.versions >= 80, "{r:?}");
    assert_eq!(
        (r.categories, r.content_properties, r.templates),
        (1, 1, 1),
        "{r:?}"
    );
    assert!(r.watches >= 3, "{r:?}");
    let b = TestNode::start().await;
    let report = import(&b, &zip, None).await.expect("import into B");
    assert!(
        report.warnings.iter().all(|w| !w.contains("not imported")),
        "{:?}",
        report.warnings
    );
    let (sa, sb) = (
        space_snapshot(&a, "ENG").await,
        space_snapshot(&b, "ENG").await,
    );
    assert!(
        sa.len() > 100,
        "the snapshot covers the space ({} lines)",
        sa.len()
    );
    for (x, y) in sa.iter().zip(sb.iter()) {
        assert_eq!(x, y);
    }
    assert_eq!(sa.len(), sb.len());
    // The exported zip is an ordinary Confluence export: descriptor and files in place.
    let mut z = zip::ZipArchive::new(std::fs::File::open(&zip).expect("zip")).expect("a zip");
    let mut d = String::new();
    std::io::Read::read_to_string(
        &mut z
            .by_name("exportDescriptor.properties")
            .expect("descriptor"),
        &mut d,
    )
    .expect("read");
    assert!(
        d.contains("exportType=space") && d.contains("spaceKey=ENG"),
        "{d}"
    );
}
