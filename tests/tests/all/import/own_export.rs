//! Our own export, written from the format facts: every object kind and the
//! format's traps (CDATA ends, unicode, long histories).

use super::*;

pub(super) const HISTORY: i32 = 60;

pub(super) const TRAP_BODY: &str = "<p>before</p><ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[if (a[0] > b) {}]] ></ac:plain-text-body></ac:structured-macro>";

pub(super) const TRAP_STORED: &str = "<p>before</p><ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[if (a[0] > b) {}]]></ac:plain-text-body></ac:structured-macro>";

pub(super) const UNICODE: &str = "Ünïcødé 页面 🚀 ]]> end";

pub(super) struct Own {
    pub(super) zip: PathBuf,
    pub(super) file_v1: Vec<u8>,
    pub(super) file_v2: Vec<u8>,
}

pub(super) fn page<'a>(
    id: i64,
    title: &'a str,
    version: i32,
    extra: Vec<P<'a>>,
) -> (i64, Vec<P<'a>>) {
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
pub(super) fn own_export(space_key: &str, with_files: bool) -> Own {
    own_export_named(space_key, "Engineering ✓", with_files)
}

pub(super) fn own_export_named(space_key: &str, space_name: &str, with_files: bool) -> Own {
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
