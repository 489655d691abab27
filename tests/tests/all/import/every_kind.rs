//! Our own export imports with every object kind intact, and importing it
//! again changes nothing.

use super::*;

#[tokio::test]
async fn own_export_with_every_object_kind_round_trips_into_cairn() {
    let node = TestNode::start().await;
    node.user("caroline", false).await; // e-mail caroline@example.com
    node.sql()
        .await
        .execute(
            "UPDATE users SET email = 'carol@example.com' WHERE username = 'caroline'",
            &[],
        )
        .await
        .expect("email");
    let own = own_export("ENG", true);
    let r = import(&node, &own.zip, None).await.expect("import");
    assert_eq!(
        r.spaces.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(),
        ["ENG", "SECOND"]
    );
    let sql = node.sql().await;
    let one = |q: &'static str| {
        let sql = &sql;
        async move { sql.query_one(q, &[]).await.expect(q) }
    };
    // The deep chain: Level 7 has Home and Levels 0–6 above it.
    let row = one("SELECT cardinality(ancestors) FROM content WHERE title = 'Level 7'").await;
    assert_eq!(row.get::<_, i32>(0), 8);
    // Siblings follow their positions, not their titles.
    let rows = sql
        .query(
            "SELECT title FROM content WHERE title IN ('Zulu','Alpha','Mike') ORDER BY position",
            &[],
        )
        .await
        .expect("siblings");
    let order: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(order, ["Zulu", "Alpha", "Mike"]);
    // 60 versions with their comments, authors and bodies.
    let row = one("SELECT id, version, body FROM content WHERE title = 'Many Versions' AND content_type = 'page'").await;
    let page: i64 = row.get(0);
    assert_eq!(row.get::<_, i32>(1), HISTORY);
    assert_eq!(row.get::<_, String>(2), "<p>version 60</p>");
    let versions = sql
        .query("SELECT v.version, v.body, v.message, u.username FROM content_versions v JOIN users u ON u.id = v.author_id WHERE content_id = $1 ORDER BY version", &[&page])
        .await
        .expect("versions");
    assert_eq!(versions.len(), HISTORY as usize);
    assert_eq!(versions[0].get::<_, String>(1), "<p>version 1</p>");
    assert_eq!(versions[0].get::<_, String>(2), "edit 1");
    assert_eq!(versions[0].get::<_, String>(3), "bob");
    assert_eq!(versions[59].get::<_, String>(2), "the last edit");
    assert_eq!(r.drafts_skipped, 1);
    // Bodies byte for byte (the quirk undone); Unicode titles kept.
    let row = one("SELECT title, body FROM content WHERE id = (SELECT content_id FROM import_ids WHERE old_id = 600)").await;
    assert_eq!(row.get::<_, String>(0), UNICODE);
    assert_eq!(row.get::<_, String>(1), TRAP_STORED);
    // Wiki markup converted; what is unknown kept and reported.
    let row = one("SELECT body FROM content WHERE title = 'Old Wiki Page'").await;
    let body: String = row.get(0);
    assert!(
        body.starts_with("<h1>Wiki</h1><ul><li>one</li><li>two</li></ul>"),
        "{body}"
    );
    assert!(
        body.contains("unmigrated-wiki-markup") && body.contains("{jira:ABC-1}"),
        "{body}"
    );
    assert_eq!(r.wiki_unconverted.get("inline macro {jira}"), Some(&1));
    // Trash, restrictions, blog post, comments and their thread.
    assert_eq!(
        one("SELECT status FROM content WHERE title = 'Gone'")
            .await
            .get::<_, String>(0),
        "trashed"
    );
    assert_eq!(r.restrictions, 2);
    assert_eq!(r.groups_created, ["eng-team"]);
    let row = one("SELECT posting_day::text FROM content WHERE content_type = 'blogpost'").await;
    assert_eq!(row.get::<_, String>(0), "2021-06-15");
    let row = one("SELECT count(*) FROM content r JOIN content c ON c.id = r.parent_id WHERE r.content_type = 'comment' AND c.content_type = 'comment'").await;
    assert_eq!(
        row.get::<_, i64>(0),
        1,
        "the reply names the comment it answers"
    );
    let labels: Vec<String> = sql
        .query(
            "SELECT prefix || ':' || name FROM labels WHERE content_id = $1 ORDER BY 1",
            &[&page],
        )
        .await
        .expect("labels")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(labels, ["global:alpha", "my:fav"]);
    assert_eq!(r.likes, 1);
    assert_eq!(r.watches, 1);
    // The page template is the space's template.
    assert_eq!(r.templates, 1);
    assert_eq!(
        one("SELECT count(*) FROM templates t JOIN spaces s ON s.id = t.space_id WHERE t.name = 'Meeting notes' AND t.body = '<p>Agenda</p>'")
            .await
            .get::<_, i64>(0),
        1
    );
    // Users: created deactivated, matched by name and by e-mail.
    assert_eq!(r.users_created, ["alice", "bob"]);
    assert!(
        r.users_matched.contains(&"carol.c → caroline".to_string()),
        "{:?}",
        r.users_matched
    );
    assert!(r.users_matched.contains(&"admin → admin".to_string()));
    assert_eq!(
        one("SELECT count(*) FROM users WHERE username IN ('alice','bob') AND NOT active")
            .await
            .get::<_, i64>(0),
        2
    );
    // Space permissions: default group → cairn-users, a user, anonymous.
    assert_eq!(
        one("SELECT count(*) FROM space_permissions p JOIN spaces s ON s.id = p.space_id JOIN groups g ON g.id = p.group_id WHERE s.space_key = 'ENG' AND g.name = 'cairn-users' AND p.permission = 'view'").await.get::<_, i64>(0),
        1
    );
    assert_eq!(one("SELECT count(*) FROM space_permissions p JOIN spaces s ON s.id = p.space_id WHERE s.space_key = 'ENG' AND user_id IS NULL AND group_id IS NULL").await.get::<_, i64>(0), 1);
    assert_eq!(
        one("SELECT description FROM spaces WHERE space_key = 'ENG'")
            .await
            .get::<_, String>(0),
        "<p>The engineering space.</p>"
    );
    // The attachment's two versions, their bytes and media type.
    let files = sql
        .query("SELECT v.file_sha256, v.media_type FROM content_versions v JOIN content c ON c.id = v.content_id WHERE c.title = 'report.pdf' ORDER BY v.version", &[])
        .await
        .expect("files");
    assert_eq!(files.len(), 2);
    assert_eq!(files[1].get::<_, String>(1), "application/pdf");
    let f1 = node
        .state
        .files
        .read_verified(&files[0].get::<_, String>(0))
        .await
        .expect("v1");
    let f2 = node
        .state
        .files
        .read_verified(&files[1].get::<_, String>(0))
        .await
        .expect("v2");
    assert_eq!(&f1[..], &own.file_v1[..]);
    assert_eq!(&f2[..], &own.file_v2[..]);
    // Old ids and tiny links lead to the pages; the search index sees them.
    redirects_old_page_id(&node, 500).await;
    let admin = node.login("admin").await;
    let r2 = admin.get("/x/9AE").await; // 500 = f4 01 → base64 "9AE"
    assert_eq!(r2.status(), 303);
    assert!(cairn_tests::Client::location(&r2).contains(&format!("/pages/{page}")));
    let r3 = admin.get("/display/ENG/Many+Versions").await;
    assert_eq!(
        r3.status(),
        303,
        "/display/KEY/Title finds the imported page"
    );
    assert!(cairn_tests::Client::location(&r3).contains(&format!("/pages/{page}")));
    assert!(searchable(&node, "zebrafinch").await);
    tree_is_consistent(&node, r.spaces[0].id).await;
}

#[tokio::test]
async fn reimporting_the_same_export_changes_nothing_and_an_existing_key_needs_as() {
    let node = TestNode::start().await;
    let own = own_export("ENG", true);
    let first = import(&node, &own.zip, None).await.expect("first import");
    let before = count(&node, "SELECT count(*) FROM content").await;
    let again = import(&node, &own.zip, None).await.expect("again");
    assert!(again.already_imported);
    assert_eq!(again.import_id, first.import_id);
    assert_eq!(count(&node, "SELECT count(*) FROM content").await, before);
    // Another export with the same keys is refused, naming them…
    let other = own_export_named("ENG", "Another export", false);
    match import(&node, &other.zip, None).await {
        Err(ImportError::Conflict(m)) => assert!(m.contains("ENG") && m.contains("--as"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // …and --as names one space only (this export has two).
    assert!(matches!(
        import(&node, &other.zip, Some("ENG2")).await,
        Err(ImportError::Invalid(_))
    ));
    let Some(zip) = fixture("xwiki-8.5.6-space").await else {
        return;
    };
    import(&node, &zip, None).await.expect("HT");
    assert!(matches!(
        import(&node, &zip, Some("HT")).await,
        Err(ImportError::Conflict(_))
            | Ok(Report {
                already_imported: true,
                ..
            })
    ));
    let r = import(&node, &zip, Some("HT2")).await.expect("as HT2");
    assert_eq!(r.spaces[0].key, "HT2");
    assert_eq!(r.spaces[0].source_key, "HT");
    // Users of the first import are matched, not created again.
    assert!(r.users_created.is_empty(), "{:?}", r.users_created);
}
