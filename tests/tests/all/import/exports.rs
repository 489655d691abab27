//! Real Confluence exports (read from `../shared/fixtures/confluence-export/`
//! and zipped here as Confluence zips them): Confluence 5.9 to 8.5 and Cloud.

use super::*;

#[tokio::test]
async fn confluence_5_9_site_backup_imports_its_space_attachments_and_crowd_users() {
    let Some(zip) = fixture("xwiki-5.9-site-backup").await else {
        return;
    };
    let node = TestNode::start().await;
    let r = import(&node, &zip, None).await.expect("import");
    assert_eq!(r.export_type, "all");
    assert_eq!(r.created_by_build, "6442");
    assert_eq!(r.spaces.len(), 1);
    assert_eq!(r.spaces[0].key, "ds");
    assert_eq!(r.pages, 11, "11 pages");
    assert_eq!(r.attachments, 27, "27 Attachment rows");
    assert_eq!(r.trashed, 5, "5 of them deleted");
    assert_eq!(r.attachment_files, 25, "25 files in the zip");
    assert_eq!(r.missing_files.len(), 2);
    assert!(
        r.users_created.contains(&"sysadmin".to_string()),
        "{:?}",
        r.users_created
    );
    assert!(
        r.users_matched.iter().any(|m| m.starts_with("admin")),
        "admin matched by username"
    );
    assert_eq!(r.skipped.get("Label (applied to nothing)"), Some(&1));
    assert!(r.space_permissions > 0);
    let space = r.spaces[0].id;
    assert_eq!(
        count(
            &node,
            &format!(
                "SELECT count(*) FROM content WHERE space_id = {space} AND content_type = 'page'"
            )
        )
        .await,
        11
    );
    assert_eq!(
        count(
            &node,
            "SELECT count(*) FROM import_extras WHERE kind = 'legacy-draft'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &node,
            "SELECT count(*) FROM users WHERE username = 'sysadmin' AND NOT active"
        )
        .await,
        1
    );
    // Explicit sibling positions (0–9 in this export) order the tree.
    assert!(
        count(
            &node,
            &format!(
                "SELECT count(*) FROM content WHERE space_id = {space} AND parent_id IS NOT NULL"
            )
        )
        .await
            > 0
    );
    tree_is_consistent(&node, space).await;
    // Attachment bytes are in the store and verify.
    let sha: String = node
        .sql()
        .await
        .query_one(
            "SELECT file_sha256 FROM content_versions WHERE file_sha256 IS NOT NULL LIMIT 1",
            &[],
        )
        .await
        .expect("a stored file")
        .get(0);
    node.state
        .files
        .read_verified(&sha)
        .await
        .expect("the file verifies");
    let home_old: i64 = count(&node, "SELECT m.old_id FROM import_ids m JOIN spaces s ON s.homepage_id = m.content_id WHERE m.version IS NULL").await;
    redirects_old_page_id(&node, home_old).await;
    assert!(
        searchable(&node, "Demonstration").await,
        "the search index sees imported pages"
    );
}

#[tokio::test]
async fn cloud_2017_space_imports_its_tree_attachments_categories_and_watches() {
    let Some(zip) = fixture("arc42-cloud-2017-space").await else {
        return;
    };
    let node = TestNode::start().await;
    let r = import(&node, &zip, None).await.expect("import");
    assert_eq!(r.spaces[0].key, "HAFWUEARC42");
    assert_eq!(r.pages, 31);
    assert_eq!(r.attachments, 2);
    assert_eq!(r.attachment_files, 2);
    assert!(r.missing_files.is_empty());
    assert_eq!(
        r.space_labels, 4,
        "4 labels (team/my) on the space description"
    );
    assert_eq!(r.watches, 32);
    let space = r.spaces[0].id;
    let depth = count(&node, &format!("SELECT max(cardinality(ancestors))::bigint FROM content WHERE space_id = {space} AND content_type = 'page'")).await;
    assert_eq!(depth, 2, "a 3-level tree");
    tree_is_consistent(&node, space).await;
    // Times are read in the export's zone (Europe/Berlin).
    assert!(
        count(
            &node,
            "SELECT count(*) FROM import_runs WHERE status = 'done'"
        )
        .await
            == 1
    );
}

#[tokio::test]
async fn server_2024_space_keeps_every_historical_version_and_converts_wiki_markup() {
    let Some(zip) = fixture("jeshuah71-server-2024-space").await else {
        return;
    };
    let node = TestNode::start().await;
    let r = import(&node, &zip, None).await.expect("import");
    assert_eq!(r.pages, 52, "52 page heads");
    assert_eq!(
        count(
            &node,
            "SELECT count(*) FROM content WHERE content_type = 'page' AND status = 'trashed'"
        )
        .await,
        49
    );
    assert_eq!(
        count(
            &node,
            "SELECT count(*) FROM content WHERE content_type = 'page' AND status = 'current'"
        )
        .await,
        3
    );
    // 286 current historical rows and 10 deleted ones are versions; 42 drafts are not.
    let page_history = count(
        &node,
        "SELECT count(*) FROM content_versions v JOIN content c ON c.id = v.content_id
         WHERE c.content_type = 'page' AND v.version <> c.version",
    )
    .await;
    assert_eq!(page_history, 296);
    assert_eq!(r.drafts_skipped, 42);
    assert_eq!(r.bodies, 393);
    assert_eq!(r.wiki_bodies, 188, "every wiki-markup body converted");
    assert_eq!(r.comments, 2);
    assert_eq!(
        count(
            &node,
            "SELECT count(*) FROM content WHERE content_type = 'comment' AND status = 'trashed'"
        )
        .await,
        2
    );
    assert_eq!(r.labels, 3, "4 labellings: 3 on pages, 1 space category");
    assert_eq!(r.watches, 21);
    assert_eq!(r.likes, 1);
    assert!(r.cdata_repairs > 0);
    // Confluence's `]] >` is undone where it ends a code body; none is left.
    let left = count(
        &node,
        "SELECT count(*) FROM content_versions WHERE body LIKE '%]] ></ac:plain-text-body>%'",
    )
    .await;
    assert_eq!(left, 0);
    assert_eq!(
        r.bodies_not_well_formed, 0,
        "every body, converted or not, is well-formed storage format"
    );
    // Versions keep their authors, dates and comments.
    let msgs = count(
        &node,
        "SELECT count(*) FROM content_versions WHERE message = 'Migrated to Confluence 4.0'",
    )
    .await;
    assert!(msgs > 0);
    let authored = count(
        &node,
        "SELECT count(*) FROM content_versions WHERE author_id IS NULL",
    )
    .await;
    assert_eq!(authored, 0, "every version has its author");
    assert!(
        count(
            &node,
            "SELECT count(*) FROM content_versions WHERE created_at < '2010-01-01'"
        )
        .await
            > 0,
        "2008 dates kept"
    );
    tree_is_consistent(&node, r.spaces[0].id).await;
}

#[tokio::test]
async fn dc_8_5_6_space_without_inverse_collections_keeps_comments_and_restrictions() {
    let Some(zip) = fixture("xwiki-8.5.6-space").await else {
        return;
    };
    let node = TestNode::start().await;
    let r = import(&node, &zip, None).await.expect("import");
    assert_eq!(r.spaces[0].key, "HT");
    assert_eq!(r.pages, 3);
    assert_eq!(r.drafts_skipped, 3);
    assert_eq!(r.comments, 2);
    assert_eq!(r.attachments, 11);
    assert_eq!(
        r.missing_files.len(),
        11,
        "this export carries no files: each is named"
    );
    assert_eq!(r.restrictions, 5, "2 sets with 5 ContentPermissions");
    assert_eq!(
        count(
            &node,
            "SELECT count(*) FROM content_restrictions WHERE operation = 'read'"
        )
        .await
            + count(
                &node,
                "SELECT count(*) FROM content_restrictions WHERE operation = 'update'"
            )
            .await,
        5
    );
    // One comment is on an attachment.
    assert_eq!(
        count(&node, "SELECT count(*) FROM content c JOIN content a ON a.id = c.container_id WHERE c.content_type = 'comment' AND a.content_type = 'attachment'").await,
        1
    );
    assert_eq!(r.labels + r.space_labels, 2);
    assert_eq!(r.users_created.len(), 3, "{:?}", r.users_created);
    tree_is_consistent(&node, r.spaces[0].id).await;
}
