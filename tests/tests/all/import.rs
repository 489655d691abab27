//! Confluence XML import: the four real exports Confluence wrote (read from
//! `../shared/fixtures/confluence-export/`, zipped here as Confluence zips
//! them), a realistic export of our own covering every object kind and the
//! format's traps, and bad input. A benchmark (ignored) generates a large
//! export and imports it with the `cairn` binary.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cairn::import::{import_zip, ImportError, Options, Report};
use cairn_tests::confluence::{
    cdata, fixtures_dir, zip_fixture, Entities, ExportZip, CORE, P, PAGES, SPACES, USER,
};
use cairn_tests::{password_of, wait_until, TestNode};

static N: AtomicU32 = AtomicU32::new(0);

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "cairn-import-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d.join(name)
}

async fn import(node: &TestNode, zip: &Path, as_key: Option<&str>) -> Result<Report, ImportError> {
    import_zip(
        &node.pool,
        &node.state.files,
        zip,
        &Options {
            as_key: as_key.map(str::to_owned),
            node_id: "test-node".into(),
            file_name: None,
            on_start: None,
        },
    )
    .await
}

async fn count(node: &TestNode, sql: &str) -> i64 {
    node.sql()
        .await
        .query_one(sql, &[])
        .await
        .expect(sql)
        .get(0)
}

async fn fixture(name: &str) -> Option<PathBuf> {
    let dir = fixtures_dir()?.join(name);
    let out = tmp(&format!("{name}.zip"));
    zip_fixture(&dir, &out).expect("zip the fixture");
    Some(out)
}

/// Every page's ancestors end with its parent; the space's home page is set.
async fn tree_is_consistent(node: &TestNode, space_id: i64) {
    let bad = count(
        node,
        &format!(
            "SELECT count(*) FROM content c LEFT JOIN content p ON p.id = c.parent_id
             WHERE c.space_id = {space_id} AND c.content_type = 'page'
             AND ((c.parent_id IS NULL) <> (cardinality(c.ancestors) = 0)
                 OR (c.parent_id IS NOT NULL AND c.ancestors[cardinality(c.ancestors)] <> c.parent_id)
                 OR (c.parent_id IS NOT NULL AND (p.ancestors || p.id) <> c.ancestors))"
        ),
    )
    .await;
    assert_eq!(bad, 0, "pages whose ancestors disagree with their parents");
    // Every head has the version row of its current version.
    let missing = count(
        node,
        &format!(
            "SELECT count(*) FROM content c WHERE c.space_id = {space_id} AND NOT EXISTS
             (SELECT 1 FROM content_versions v WHERE v.content_id = c.id AND v.version = c.version)"
        ),
    )
    .await;
    assert_eq!(missing, 0, "content without its current version row");
}

async fn redirects_old_page_id(node: &TestNode, old_id: i64) {
    let admin = node.login("admin").await;
    let r = admin
        .get(&format!("/pages/viewpage.action?pageId={old_id}"))
        .await;
    assert_eq!(r.status(), 303, "old page id {old_id} redirects");
    let to = cairn_tests::Client::location(&r);
    let new_id: i64 = count(
        node,
        &format!("SELECT content_id FROM import_ids WHERE old_id = {old_id}"),
    )
    .await;
    assert!(
        to.contains(&format!("/pages/{new_id}")),
        "{to} names page {new_id}"
    );
}

async fn searchable(node: &TestNode, word: &str) -> bool {
    let http = reqwest::Client::new();
    let url = format!(
        "{}/rest/api/content/search?cql=text~%22{word}%22&limit=5",
        node.base
    );
    wait_until(Duration::from_secs(20), || async {
        let r = http
            .get(&url)
            .basic_auth("admin", Some(password_of("admin")))
            .send()
            .await;
        match r {
            Ok(r) => r
                .json::<serde_json::Value>()
                .await
                .map(|j| j["size"].as_i64().unwrap_or(0) > 0)
                .unwrap_or(false),
            Err(_) => false,
        }
    })
    .await
}

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

// ---------------------------------------------------------------------------
// Our own export: every object kind and the format's traps.

const HISTORY: i32 = 60;
const TRAP_BODY: &str = "<p>before</p><ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[if (a[0] > b) {}]] ></ac:plain-text-body></ac:structured-macro>";
const TRAP_STORED: &str = "<p>before</p><ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[if (a[0] > b) {}]]></ac:plain-text-body></ac:structured-macro>";
const UNICODE: &str = "Ünïcødé 页面 🚀 ]]> end";

struct Own {
    zip: PathBuf,
    file_v1: Vec<u8>,
    file_v2: Vec<u8>,
}

fn page<'a>(id: i64, title: &'a str, version: i32, extra: Vec<P<'a>>) -> (i64, Vec<P<'a>>) {
    let mut v = vec![
        P::Text("title", title),
        P::Raw("version", Box::leak(version.to_string().into_boxed_str())),
        P::User("creator", "k-alice"),
        P::Text("creationDate", "2020-01-01 10:00:00.000"),
        P::User("lastModifier", "k-bob"),
        P::Text("lastModificationDate", "2020-02-01 10:00:00.000"),
        P::Text("contentStatus", "current"),
        P::Ref("space", "Space", SPACES, 10),
    ];
    v.extend(extra);
    (id, v)
}

/// A site backup with two spaces written from the format facts.
fn own_export(space_key: &str, with_files: bool) -> Own {
    own_export_named(space_key, "Engineering ✓", with_files)
}

fn own_export_named(space_key: &str, space_name: &str, with_files: bool) -> Own {
    let path = tmp("own.zip");
    let mut z = ExportZip::new(std::fs::File::create(&path).expect("zip"));
    z.zip
        .start_file("entities.xml", cairn_tests::confluence::deflated())
        .expect("entry");
    let mut e = Entities::begin(&mut z.zip).expect("begin");
    let mut o = |class: &str, pkg: &str, id: i64, props: &[P<'_>]| {
        e.object(class, pkg, &id.to_string(), props)
            .expect("object")
    };
    o(
        "Space",
        SPACES,
        10,
        &[
            P::Text("key", space_key),
            P::Text("name", space_name),
            P::Ref("homePage", "Page", PAGES, 100),
            P::Ref("description", "SpaceDescription", SPACES, 11),
            P::Text("spaceType", "global"),
            P::User("creator", "k-alice"),
            P::Text("creationDate", "2019-12-31 23:00:00.000"),
        ],
    );
    o(
        "SpaceDescription",
        SPACES,
        11,
        &[P::Text("title", ""), P::Ref("space", "Space", SPACES, 10)],
    );
    o(
        "BodyContent",
        CORE,
        12,
        &[
            P::Text("body", "<p>The engineering space.</p>"),
            P::Ref("content", "SpaceDescription", SPACES, 11),
            P::Raw("bodyType", "2"),
        ],
    );
    o(
        "Space",
        SPACES,
        20,
        &[
            P::Text("key", "SECOND"),
            P::Text("name", "Second"),
            P::Ref("homePage", "Page", PAGES, 200),
        ],
    );
    // The home page; a deep chain under it; siblings ordered by position.
    let (id, p) = page(100, "Home", 1, vec![]);
    o("Page", PAGES, id, &p);
    o(
        "BodyContent",
        CORE,
        1100,
        &[
            P::Text("body", "<p>Welcome home, zebrafinch.</p>"),
            P::Ref("content", "Page", PAGES, 100),
            P::Raw("bodyType", "2"),
        ],
    );
    let mut parent = 100;
    for d in 0..8i64 {
        let id = 300 + d;
        let title = Box::leak(format!("Level {d}").into_boxed_str());
        let (id, p) = page(
            id,
            title,
            1,
            vec![
                P::Ref("parent", "Page", PAGES, parent),
                P::Raw("position", "0"),
            ],
        );
        o("Page", PAGES, id, &p);
        parent = id;
    }
    for (i, (title, pos)) in [("Zulu", 0), ("Alpha", 1), ("Mike", 2)]
        .into_iter()
        .enumerate()
    {
        let (id, p) = page(
            400 + i as i64,
            title,
            1,
            vec![
                P::Ref("parent", "Page", PAGES, 100),
                P::Raw("position", Box::leak(pos.to_string().into_boxed_str())),
            ],
        );
        o("Page", PAGES, id, &p);
    }
    // 60 versions of one page: 59 historical rows, then the head (written last, as exporters may).
    for v in 1..HISTORY {
        let id = 1000 + v as i64;
        let (id, mut p) = page(
            id,
            "Many Versions",
            v,
            vec![P::Ref("originalVersion", "Page", PAGES, 500)],
        );
        p.push(P::Text(
            "versionComment",
            Box::leak(format!("edit {v}").into_boxed_str()),
        ));
        o("Page", PAGES, id, &p);
        o(
            "BodyContent",
            CORE,
            5000 + v as i64,
            &[
                P::Text(
                    "body",
                    Box::leak(format!("<p>version {v}</p>").into_boxed_str()),
                ),
                P::Ref("content", "Page", PAGES, id),
                P::Raw("bodyType", "2"),
            ],
        );
    }
    let (id, mut p) = page(
        500,
        "Many Versions",
        HISTORY,
        vec![
            P::Ref("parent", "Page", PAGES, 100),
            P::Coll("historicalVersions", "Page", PAGES, (1001..1060).collect()),
        ],
    );
    p.push(P::Text("versionComment", "the last edit"));
    o("Page", PAGES, id, &p);
    o(
        "BodyContent",
        CORE,
        5500,
        &[
            P::Text("body", "<p>version 60</p>"),
            P::Ref("content", "Page", PAGES, 500),
            P::Raw("bodyType", "2"),
        ],
    );
    // A draft of it (not a version).
    let (id, mut p) = page(
        1500,
        "Many Versions",
        HISTORY,
        vec![P::Ref("originalVersion", "Page", PAGES, 500)],
    );
    p[6] = P::Text("contentStatus", "draft");
    o("Page", PAGES, id, &p);
    // Traps: Confluence's CDATA quirk in a code body; a Unicode title holding `]]>`; wiki markup.
    let (id, p) = page(600, UNICODE, 1, vec![P::Ref("parent", "Page", PAGES, 100)]);
    o("Page", PAGES, id, &p);
    o(
        "BodyContent",
        CORE,
        6000,
        &[
            P::Raw("body", &format!("<![CDATA[{TRAP_BODY}]]>")),
            P::Ref("content", "Page", PAGES, 600),
            P::Raw("bodyType", "2"),
        ],
    );
    let (id, p) = page(
        610,
        "Old Wiki Page",
        1,
        vec![P::Ref("parent", "Page", PAGES, 100)],
    );
    o("Page", PAGES, id, &p);
    o(
        "BodyContent",
        CORE,
        6100,
        &[
            P::Text("body", "h1. Wiki\n* one\n* two\n{jira:ABC-1}"),
            P::Ref("content", "Page", PAGES, 610),
            P::Raw("bodyType", "0"),
        ],
    );
    // A trashed page and a restricted one.
    let (id, mut p) = page(620, "Gone", 1, vec![]);
    p[6] = P::Text("contentStatus", "deleted");
    o("Page", PAGES, id, &p);
    let (id, p) = page(630, "Secret", 1, vec![P::Ref("parent", "Page", PAGES, 100)]);
    o("Page", PAGES, id, &p);
    o(
        "ContentPermissionSet",
        "com.atlassian.confluence.security",
        700,
        &[
            P::Text("type", "View"),
            P::Ref("owningContent", "Page", PAGES, 630),
        ],
    );
    o(
        "ContentPermission",
        "com.atlassian.confluence.security",
        701,
        &[
            P::Text("type", "View"),
            P::User("userSubject", "k-bob"),
            P::Ref(
                "owningSet",
                "ContentPermissionSet",
                "com.atlassian.confluence.security",
                700,
            ),
        ],
    );
    o(
        "ContentPermission",
        "com.atlassian.confluence.security",
        702,
        &[
            P::Text("type", "View"),
            P::Text("groupName", "eng-team"),
            P::Ref(
                "owningSet",
                "ContentPermissionSet",
                "com.atlassian.confluence.security",
                700,
            ),
        ],
    );
    // A blog post, comments with a reply, labels, a like, a watch.
    o(
        "BlogPost",
        PAGES,
        800,
        &[
            P::Text("title", "Launch day"),
            P::Raw("version", "1"),
            P::User("creator", "k-carol"),
            P::Text("creationDate", "2021-06-15 09:30:00.000"),
            P::Text("contentStatus", "current"),
            P::Ref("space", "Space", SPACES, 10),
        ],
    );
    o(
        "BodyContent",
        CORE,
        8000,
        &[
            P::Text("body", "<p>We launched.</p>"),
            P::Ref("content", "BlogPost", PAGES, 800),
            P::Raw("bodyType", "2"),
        ],
    );
    o(
        "Comment",
        PAGES,
        810,
        &[
            P::Raw("version", "1"),
            P::User("creator", "k-bob"),
            P::Text("creationDate", "2021-06-15 10:00:00.000"),
            P::Text("contentStatus", "current"),
            P::Ref("containerContent", "Page", PAGES, 500),
        ],
    );
    o(
        "BodyContent",
        CORE,
        8100,
        &[
            P::Text("body", "<p>First!</p>"),
            P::Ref("content", "Comment", PAGES, 810),
            P::Raw("bodyType", "2"),
        ],
    );
    o(
        "Comment",
        PAGES,
        811,
        &[
            P::Raw("version", "1"),
            P::User("creator", "k-alice"),
            P::Text("creationDate", "2021-06-15 11:00:00.000"),
            P::Text("contentStatus", "current"),
            P::Ref("containerContent", "Page", PAGES, 500),
            P::Ref("parent", "Comment", PAGES, 810),
        ],
    );
    o(
        "BodyContent",
        CORE,
        8110,
        &[
            P::Text("body", "<p>A reply.</p>"),
            P::Ref("content", "Comment", PAGES, 811),
            P::Raw("bodyType", "2"),
        ],
    );
    o(
        "Label",
        "com.atlassian.confluence.labels",
        900,
        &[P::Text("name", "alpha"), P::Text("namespace", "global")],
    );
    o(
        "Label",
        "com.atlassian.confluence.labels",
        901,
        &[P::Text("name", "fav"), P::Text("namespace", "my")],
    );
    o(
        "Labelling",
        "com.atlassian.confluence.labels",
        910,
        &[
            P::Ref("label", "Label", "com.atlassian.confluence.labels", 900),
            P::Ref("content", "Page", PAGES, 500),
        ],
    );
    o(
        "Labelling",
        "com.atlassian.confluence.labels",
        911,
        &[
            P::Ref("label", "Label", "com.atlassian.confluence.labels", 901),
            P::Ref("content", "Page", PAGES, 500),
            P::User("owningUser", "k-alice"),
        ],
    );
    o(
        "LikeEntity",
        "com.atlassian.confluence.like",
        920,
        &[
            P::Ref("content", "Page", PAGES, 500),
            P::User("user", "k-bob"),
            P::Text("creationDate", "2021-01-01 00:00:00.000"),
        ],
    );
    o(
        "Notification",
        "com.atlassian.confluence.mail.notification",
        930,
        &[
            P::User("receiver", "k-alice"),
            P::Ref("content", "Page", PAGES, 500),
        ],
    );
    o(
        "PageTemplate",
        "com.atlassian.confluence.pages.templates",
        940,
        &[
            P::Text("name", "Meeting notes"),
            P::Text("content", "<p>Agenda</p>"),
            P::Ref("space", "Space", SPACES, 10),
        ],
    );
    // An attachment with two versions; the old one's file sits under the current id.
    o(
        "Attachment",
        PAGES,
        950,
        &[
            P::Text("title", "report.pdf"),
            P::Raw("version", "2"),
            P::User("creator", "k-alice"),
            P::Text("contentStatus", "current"),
            P::Ref("containerContent", "Page", PAGES, 500),
            P::Ref("space", "Space", SPACES, 10),
            P::Coll(
                "contentProperties",
                "ContentProperty",
                "com.atlassian.confluence.content",
                vec![952],
            ),
        ],
    );
    o(
        "Attachment",
        PAGES,
        951,
        &[
            P::Text("title", "report.pdf"),
            P::Raw("version", "1"),
            P::User("creator", "k-alice"),
            P::Text("contentStatus", "current"),
            P::Null("containerContent"),
            P::Raw("originalVersionId", "950"),
        ],
    );
    o(
        "ContentProperty",
        "com.atlassian.confluence.content",
        952,
        &[
            P::Text("name", "MEDIA_TYPE"),
            P::Text("stringValue", "application/pdf"),
        ],
    );
    // Space permissions: the default group, a user, anonymous.
    let sec = "com.atlassian.confluence.security";
    o(
        "SpacePermission",
        sec,
        960,
        &[
            P::Text("type", "VIEWSPACE"),
            P::Text("group", "confluence-users"),
            P::Ref("space", "Space", SPACES, 10),
        ],
    );
    o(
        "SpacePermission",
        sec,
        961,
        &[
            P::Text("type", "SETSPACEPERMISSIONS"),
            P::User("userSubject", "k-alice"),
            P::Ref("space", "Space", SPACES, 10),
        ],
    );
    o(
        "SpacePermission",
        sec,
        962,
        &[
            P::Text("type", "VIEWSPACE"),
            P::Null("group"),
            P::Null("allUsersSubject"),
            P::Ref("space", "Space", SPACES, 10),
        ],
    );
    // The second space: a page with the same title as one in the first.
    o(
        "Page",
        PAGES,
        200,
        &[
            P::Text("title", "Home"),
            P::Raw("version", "1"),
            P::Text("contentStatus", "current"),
            P::Ref("space", "Space", SPACES, 20),
        ],
    );
    // Users: alice and bob new, carol matched by e-mail, admin by name.
    for (k, n, m) in [
        ("k-alice", "alice", "alice@example.org"),
        ("k-bob", "bob", ""),
        ("k-carol", "carol.c", "Carol@Example.com"),
        ("k-admin", "admin", ""),
    ] {
        e.object(
            "ConfluenceUserImpl",
            USER,
            k,
            &[P::Text("name", n), P::Text("email", m)],
        )
        .expect("user");
    }
    e.end().expect("end");
    z.descriptor("all", None).expect("descriptor");
    let file_v1 = b"%PDF-1.4 first version".to_vec();
    let file_v2: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    if with_files {
        z.file("attachments/500/950/1", &file_v1).expect("file");
        z.file("attachments/500/950/2", &file_v2).expect("file");
    }
    z.finish().expect("finish");
    Own {
        zip: path,
        file_v1,
        file_v2,
    }
}

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
    assert_eq!(
        one("SELECT count(*) FROM import_extras WHERE kind = 'page-template'")
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

// ---------------------------------------------------------------------------
// Bad input: a clear error naming what is wrong, and nothing left behind.

fn zip_with(entities: &[u8]) -> PathBuf {
    let p = tmp("bad.zip");
    let mut z = ExportZip::new(std::fs::File::create(&p).expect("zip"));
    z.file("entities.xml", entities).expect("entities");
    z.finish().expect("finish");
    p
}

async fn nothing_left(node: &TestNode) {
    assert_eq!(
        count(node, "SELECT count(*) FROM spaces").await,
        0,
        "no space left behind"
    );
    assert_eq!(count(node, "SELECT count(*) FROM content").await, 0);
    assert_eq!(
        count(node, "SELECT count(*) FROM users WHERE NOT active").await,
        0
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_report_and_leaves_nothing() {
    let node = TestNode::start().await;
    let not_zip = tmp("x.zip");
    std::fs::write(&not_zip, b"this is not a zip").expect("write");
    let e = import(&node, &not_zip, None).await.expect_err("not a zip");
    assert!(
        matches!(e, ImportError::NotZip(_)) && e.to_string().contains("not a readable zip"),
        "{e}"
    );

    let own = own_export("ENG", true);
    let bytes = std::fs::read(&own.zip).expect("read");
    let truncated = tmp("t.zip");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    let e = import(&node, &truncated, None)
        .await
        .expect_err("truncated");
    assert!(matches!(e, ImportError::NotZip(_)), "{e}");

    let e = import(&node, &zip_with(b"<html><body>hello</body></html>"), None)
        .await
        .expect_err("html");
    assert!(
        matches!(e, ImportError::NotConfluence(_)) && e.to_string().contains("<html>"),
        "{e}"
    );

    let no_entities = tmp("n.zip");
    let mut z = ExportZip::new(std::fs::File::create(&no_entities).expect("zip"));
    z.file("readme.txt", b"hi").expect("file");
    z.finish().expect("finish");
    let e = import(&node, &no_entities, None)
        .await
        .expect_err("no entities.xml");
    assert!(e.to_string().contains("no entities.xml"), "{e}");

    let unknown = format!(
        "<hibernate-generic datetime=\"x\"><object class=\"Space\" package=\"{SPACES}\"><id name=\"id\">1</id><property name=\"key\">K</property></object>\
         <object class=\"Whiteboard\" package=\"{PAGES}\"><id name=\"id\">77</id><property name=\"title\">{}</property></object></hibernate-generic>",
        cdata("w")
    );
    let e = import(&node, &zip_with(unknown.as_bytes()), None)
        .await
        .expect_err("unknown class");
    assert!(
        matches!(e, ImportError::Invalid(_)) && e.to_string().contains("Whiteboard 77"),
        "{e}"
    );

    let broken = format!(
        "<hibernate-generic datetime=\"x\"><object class=\"Space\" package=\"{SPACES}\"><id name=\"id\">1</id><property name=\"key\">K</property></object>\
         <object class=\"Page\" package=\"{PAGES}\"><id name=\"id\">5</id><property name=\"title\">T</propertyy></object></hibernate-generic>"
    );
    let e = import(&node, &zip_with(broken.as_bytes()), None)
        .await
        .expect_err("not well-formed");
    assert!(
        matches!(e, ImportError::Xml(_)) && e.to_string().contains("Page 5"),
        "{e}"
    );

    let csv = tmp("csv.zip");
    let mut z = ExportZip::new(std::fs::File::create(&csv).expect("zip"));
    z.file(
        "exportDescriptor.properties",
        b"exportFormat=csv\nsource=server\n",
    )
    .expect("file");
    z.file("spaces.csv", b"id\n").expect("file");
    z.finish().expect("finish");
    let e = import(&node, &csv, None).await.expect_err("csv export");
    assert!(e.to_string().contains("csv"), "{e}");
    nothing_left(&node).await;
}

#[tokio::test]
async fn a_failure_after_writing_began_rolls_the_whole_import_back() {
    let node = TestNode::start().await;
    // The first pass skips bodies; the second finds one that cannot be read
    // (a character reference XML forbids), after users, spaces and rows
    // were written in the transaction.
    let xml = format!(
        "<hibernate-generic datetime=\"x\">\
         <object class=\"Space\" package=\"{SPACES}\"><id name=\"id\">1</id><property name=\"key\">K</property><property name=\"homePage\" class=\"Page\" package=\"{PAGES}\"><id name=\"id\">5</id></property></object>\
         <object class=\"ConfluenceUserImpl\" package=\"{USER}\"><id name=\"key\">k1</id><property name=\"name\">zed</property></object>\
         <object class=\"Page\" package=\"{PAGES}\"><id name=\"id\">5</id><property name=\"title\">T</property><property name=\"version\">1</property><property name=\"creator\" class=\"ConfluenceUserImpl\" package=\"{USER}\"><id name=\"key\">k1</id></property><property name=\"space\" class=\"Space\" package=\"{SPACES}\"><id name=\"id\">1</id></property></object>\
         <object class=\"BodyContent\" package=\"{CORE}\"><id name=\"id\">6</id><property name=\"body\">&lt;p&gt;bad &amp;nosuchentity; here&lt;/p&gt; &#0;</property><property name=\"content\" class=\"Page\" package=\"{PAGES}\"><id name=\"id\">5</id></property><property name=\"bodyType\">2</property></object>\
         </hibernate-generic>"
    );
    let e = import(&node, &zip_with(xml.as_bytes()), None)
        .await
        .expect_err("a bad body");
    assert!(
        e.to_string().contains("BodyContent 6")
            || e.to_string().contains("0x00")
            || e.to_string().contains("byte"),
        "{e}"
    );
    nothing_left(&node).await;
    let row = node
        .sql()
        .await
        .query_one("SELECT status, error FROM import_runs", &[])
        .await
        .expect("the run row");
    assert_eq!(row.get::<_, String>(0), "failed");
    assert!(row.get::<_, Option<String>>(1).is_some());
}

#[tokio::test]
async fn missing_files_and_ill_formed_bodies_are_named_in_the_report() {
    let node = TestNode::start().await;
    let own = own_export("ENG", false);
    let r = import(&node, &own.zip, None)
        .await
        .expect("import without files");
    assert_eq!(r.missing_files.len(), 2);
    assert!(
        r.missing_files[0].contains("Attachment 950") && r.missing_files[0].contains("report.pdf"),
        "{:?}",
        r.missing_files
    );
    let xml = format!(
        "<hibernate-generic datetime=\"x\">\
         <object class=\"Space\" package=\"{SPACES}\"><id name=\"id\">1</id><property name=\"key\">ILL</property></object>\
         <object class=\"Page\" package=\"{PAGES}\"><id name=\"id\">5</id><property name=\"title\">T</property><property name=\"space\" class=\"Space\" package=\"{SPACES}\"><id name=\"id\">1</id></property></object>\
         <object class=\"BodyContent\" package=\"{CORE}\"><id name=\"id\">6</id><property name=\"body\">{}</property><property name=\"content\" class=\"Page\" package=\"{PAGES}\"><id name=\"id\">5</id></property><property name=\"bodyType\">2</property></object>\
         </hibernate-generic>",
        cdata("<p>unclosed")
    );
    let r = import(&node, &zip_with(xml.as_bytes()), None)
        .await
        .expect("import");
    assert_eq!(r.bodies_not_well_formed, 1);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("the body of 5 (BodyContent 6)")),
        "{:?}",
        r.warnings
    );
    assert_eq!(
        count(
            &node,
            "SELECT count(*) FROM content WHERE body = '<p>unclosed'"
        )
        .await,
        1,
        "stored as exported"
    );
}

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

// ---------------------------------------------------------------------------
// Benchmark (not a timed test): `cargo build -p cairn --bin cairn`, then
//   tests/run.sh … -- import::import_benchmark --ignored --nocapture
// CAIRN_IMPORT_BENCH_PAGES (100000), _VERSIONS (5), _BODY (2000 bytes),
// CAIRN_BIN (target/debug/cairn). Prints pages/s, versions/s, peak RSS.

fn env_u64(k: &str, d: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

/// Runs `cmd` and returns (wall seconds, peak RSS in MiB) via wait4.
fn run_measured(cmd: &mut std::process::Command) -> (f64, f64, bool) {
    let start = std::time::Instant::now();
    // wait4 reaps the child (and gives its peak RSS, which wait() does not).
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("spawn cairn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child; status and usage are valid out-pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (
        start.elapsed().as_secs_f64(),
        usage.ru_maxrss as f64 / 1024.0,
        ok,
    )
}

#[tokio::test]
#[ignore = "a benchmark: run on demand with --ignored --nocapture"]
async fn import_benchmark() {
    let shape = cairn_tests::confluence::Shape {
        pages: env_u64("CAIRN_IMPORT_BENCH_PAGES", 100_000),
        versions: env_u64("CAIRN_IMPORT_BENCH_VERSIONS", 5),
        body_bytes: env_u64("CAIRN_IMPORT_BENCH_BODY", 2000) as usize,
        attachment_every: env_u64("CAIRN_IMPORT_BENCH_ATTACH_EVERY", 100),
        attachment_bytes: env_u64("CAIRN_IMPORT_BENCH_ATTACH_BYTES", 256 * 1024) as usize,
    };
    let zip = tmp("bench.zip");
    let t = std::time::Instant::now();
    let (pages, versions, attachments) =
        cairn_tests::confluence::generate(&zip, "BENCH", &shape).expect("generate");
    let zip_mb = std::fs::metadata(&zip).expect("zip").len() as f64 / 1e6;
    println!(
        "generated {pages} pages, {versions} versions, {attachments} attachments: {zip_mb:.0} MB zip in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let db = cairn_tests::TestDb::new().await;
    let bin = std::env::var("CAIRN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| cairn_tests::repo_root().join("target/debug/cairn"));
    let shared = tmp("shared");
    let (secs, rss, ok) = run_measured(
        std::process::Command::new(&bin)
            .arg("import")
            .arg(&zip)
            .env("CAIRN_DATABASE_URL", &db.url)
            .env("CAIRN_SHARED_HOME", &shared)
            .env("CAIRN_LOCAL_HOME", tmp("local"))
            .env(
                "CAIRN_LOG",
                std::env::var("CAIRN_IMPORT_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(std::process::Stdio::inherit())
            .stderr(if std::env::var_os("CAIRN_IMPORT_BENCH_LOG").is_some() {
                std::process::Stdio::inherit()
            } else {
                std::process::Stdio::null()
            }),
    );
    assert!(ok, "the import failed");
    println!(
        "import: {secs:.1}s, {:.0} pages/s, {:.0} versions/s, {:.1} MB/s of zip, peak RSS {rss:.0} MiB ({})",
        pages as f64 / secs,
        versions as f64 / secs,
        zip_mb / secs,
        bin.display()
    );
    if std::env::var_os("CAIRN_IMPORT_BENCH_KEEP").is_some() {
        println!("kept {}", zip.display());
    } else {
        let _ = std::fs::remove_file(&zip);
    }
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
async fn space_snapshot(node: &TestNode, key: &str) -> Vec<String> {
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
    let zip = tmp("exported.zip");
    let r = cairn::import::export_space(&a.pool, &a.state.files, "ENG", &zip)
        .await
        .expect("export");
    assert_eq!(r.files, 2);
    assert!(r.versions >= 80, "{r:?}");
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
