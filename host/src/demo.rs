//! Demo content for `cairn demo`: a space with realistic pages (macros,
//! layouts, tasks, links, attachments), labels, comments and a blog post.
//! Idempotent: does nothing when the DEMO space exists.

use crate::attach::{self, NewFile};
use crate::content::{self, ContentType, NewContent};
use crate::error::Result;
use crate::perms::Viewer;
use crate::{users, AppState};

const HOME: &str = r#"<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">Welcome to Cairn</ac:parameter><ac:rich-text-body><p>This space shows what pages look like: macros, layouts, task lists, links and attachments. Everything here is Confluence storage format, stored exactly as written.</p></ac:rich-text-body></ac:structured-macro>
<ac:structured-macro ac:name="toc"><ac:parameter ac:name="maxLevel">2</ac:parameter></ac:structured-macro>
<h2>What is in this space</h2>
<ac:structured-macro ac:name="children"><ac:parameter ac:name="all">true</ac:parameter></ac:structured-macro>
<ac:layout><ac:layout-section ac:type="two_equal"><ac:layout-cell><h2>Recently updated</h2><ac:structured-macro ac:name="recently-updated"><ac:parameter ac:name="max">5</ac:parameter><ac:parameter ac:name="hideHeading">true</ac:parameter></ac:structured-macro></ac:layout-cell><ac:layout-cell><h2>Runbooks</h2><ac:structured-macro ac:name="contentbylabel"><ac:parameter ac:name="labels">runbook</ac:parameter></ac:structured-macro></ac:layout-cell></ac:layout-section></ac:layout>"#;

const HANDBOOK: &str = r#"<p>The handbook collects how the platform team works. Start with <ac:link><ri:page ri:content-title="Coding Standards"/><ac:plain-text-link-body><![CDATA[our coding standards]]></ac:plain-text-link-body></ac:link>, then read the <ac:link><ri:page ri:content-title="On-call Runbook"/></ac:link>.</p>
<ac:structured-macro ac:name="children"/>
<ac:structured-macro ac:name="excerpt"><ac:rich-text-body><p>Everything a new engineer needs in the first week.</p></ac:rich-text-body></ac:structured-macro>"#;

const STANDARDS: &str = r#"<h1>Coding Standards</h1>
<p>Status: <ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Green</ac:parameter><ac:parameter ac:name="title">Adopted</ac:parameter></ac:structured-macro> &mdash; last reviewed in Q3.</p>
<h2>Rust</h2>
<ul><li>Run <code>cargo fmt</code> and <code>cargo clippy -- -D warnings</code> before every push.</li><li>No <code>unwrap()</code> on anything input, the network or the disk can break.</li></ul>
<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">rust</ac:parameter><ac:parameter ac:name="title">Errors at module boundaries</ac:parameter><ac:plain-text-body><![CDATA[#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("page {0} not found")]
    NotFound(i64),
}

fn load(id: i64) -> Result<Page, Error> {
    pages.get(&id).cloned().ok_or(Error::NotFound(id))
}]]></ac:plain-text-body></ac:structured-macro>
<h2>Python</h2>
<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">python</ac:parameter><ac:plain-text-body><![CDATA[def publish(client, space, title, body):
    page = client.get_page_by_title(space, title)
    if page and page["body"]["storage"]["value"] == body:
        return page  # nothing changed: no new version
    return client.update_or_create(None, title, body)]]></ac:plain-text-body></ac:structured-macro>
<h2>Review checklist</h2>
<table><thead><tr><th>Check</th><th>Owner</th><th>Required</th></tr></thead><tbody>
<tr><td>Tests cover the change</td><td>Author</td><td><ac:emoticon ac:name="tick"/></td></tr>
<tr><td>Docs updated (ARCHITECTURE.md)</td><td>Author</td><td><ac:emoticon ac:name="tick"/></td></tr>
<tr><td>Benchmarks for speed claims</td><td>Reviewer</td><td><ac:emoticon ac:name="warning"/> when relevant</td></tr>
</tbody></table>
<ac:structured-macro ac:name="note"><ac:parameter ac:name="title">Exceptions</ac:parameter><ac:rich-text-body><p>Ask in <strong>#platform</strong> before deviating.</p></ac:rich-text-body></ac:structured-macro>"#;

const RUNBOOK: &str = r#"<ac:structured-macro ac:name="warning"><ac:parameter ac:name="title">Paging policy</ac:parameter><ac:rich-text-body><p>Acknowledge a page within <strong>5 minutes</strong>, day or night.</p></ac:rich-text-body></ac:structured-macro>
<h2>First five minutes</h2>
<ac:task-list>
<ac:task><ac:task-id>1</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>Acknowledge the alert</ac:task-body></ac:task>
<ac:task><ac:task-id>2</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>Check <code>/status</code> on every node</ac:task-body></ac:task>
<ac:task><ac:task-id>3</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>Post in the incident channel</ac:task-body></ac:task>
</ac:task-list>
<h2>Database failover</h2>
<ol><li>Confirm the primary is down: <code>pg_isready -h db1</code></li><li>Promote the replica.</li><li>Point <code>CAIRN_DATABASE_URL</code> at it and restart the nodes one by one.</li></ol>
<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">Show the commands</ac:parameter><ac:rich-text-body><ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash</ac:parameter><ac:plain-text-body><![CDATA[pg_ctl promote -D /var/lib/postgresql/15/main
systemctl restart cairn]]></ac:plain-text-body></ac:structured-macro></ac:rich-text-body></ac:structured-macro>
<p>See also the <ac:link ac:anchor="Database-failover"><ri:page ri:content-title="On-call Runbook"/><ac:plain-text-link-body><![CDATA[failover section]]></ac:plain-text-link-body></ac:link> and the <ac:link><ri:attachment ri:filename="escalation.txt"/><ac:plain-text-link-body><![CDATA[escalation contacts]]></ac:plain-text-link-body></ac:link>. A page that does not exist yet shows as a broken link: <ac:link><ri:page ri:content-title="Postmortem Template"/></ac:link>.</p>"#;

const ARCH: &str = r#"<ac:layout><ac:layout-section ac:type="two_right_sidebar"><ac:layout-cell>
<h2>Overview</h2>
<p>Every node serves the UI and the REST API; PostgreSQL is the one source of truth; nodes coordinate through etcd.</p>
<p><ac:image ac:width="480" ac:alt="Architecture diagram"><ri:attachment ri:filename="diagram.png"/></ac:image></p>
<ac:structured-macro ac:name="panel"><ac:parameter ac:name="title">Invariants</ac:parameter><ac:parameter ac:name="borderStyle">solid</ac:parameter><ac:parameter ac:name="bgColor">#f4f8ff</ac:parameter><ac:rich-text-body><ul><li>Bodies are stored byte for byte.</li><li>Every save is a new immutable version.</li></ul></ac:rich-text-body></ac:structured-macro>
</ac:layout-cell><ac:layout-cell>
<h3>Owners</h3><p><ac:emoticon ac:name="information"/> Platform team</p>
<ac:structured-macro ac:name="attachments"/>
</ac:layout-cell></ac:layout-section></ac:layout>
<ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">CAIRN-1</ac:parameter></ac:structured-macro>"#;

const RELEASE: &str = r#"<p>Releases go out every second Tuesday.</p>
<ac:structured-macro ac:name="include"><ac:parameter ac:name=""><ac:link><ri:page ri:content-title="Release Checklist"/></ac:link></ac:parameter></ac:structured-macro>
<ac:structured-macro ac:name="tip"><ac:rich-text-body><p>Tag with <code>git tag -s vX.Y.Z</code>.</p></ac:rich-text-body></ac:structured-macro>"#;

const CHECKLIST: &str = r#"<ol><li>All CI green on main</li><li>CHANGELOG updated</li><li>Upgrade notes reviewed by a second engineer</li></ol>"#;

const BLOG: &str = r#"<p>We are happy to announce the first demo of <strong>Cairn</strong>: a wiki with the page model teams know from Confluence, and macros that are sandboxed WebAssembly components.</p><ac:structured-macro ac:name="info"><ac:rich-text-body><p>Try editing a page: the preview renders as you type.</p></ac:rich-text-body></ac:structured-macro>"#;

/// A small valid PNG (a two-colour diagram placeholder), built without an
/// image library: stored (uncompressed) deflate blocks.
pub(crate) fn demo_png() -> Vec<u8> {
    let (w, h) = (120u32, 60u32);
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0u8);
        for x in 0..w {
            let c: [u8; 3] = if (x / 20 + y / 20) % 2 == 0 {
                [0x07, 0x47, 0xa6]
            } else {
                [0xde, 0xeb, 0xff]
            };
            raw.extend_from_slice(&c);
        }
    }
    let mut z = vec![0x78, 0x01];
    for (i, chunk) in raw.chunks(65535).enumerate() {
        let last = (i + 1) * 65535 >= raw.len();
        z.push(u8::from(last));
        let len = chunk.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(chunk);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + byte as u32) % 65521;
        b = (b + a) % 65521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", z), (b"IEND", Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend_from_slice(&data);
        png.extend_from_slice(&c);
        png.extend_from_slice(&crc32(&c).to_be_bytes());
    }
    png
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Seeds the demo. Returns false when it was already there.
pub async fn seed(app: &AppState, admin_name: &str) -> Result<bool> {
    let mut db = app.pool.get().await?;
    let exists = crate::db::query_opt(
        &db,
        "SELECT 1 FROM spaces WHERE upper(space_key) = 'DEMO'",
        &[],
    )
    .await?
    .is_some();
    if exists {
        return Ok(false);
    }
    let admin = users::by_name(&db, admin_name)
        .await?
        .ok_or_else(|| crate::error::Error::NotFound(format!("no user named {admin_name:?}")))?;
    let v = Viewer::load(&db, Some(admin.clone())).await?;
    content::create_space(
        &mut db,
        &v,
        "DEMO",
        "Demo Space",
        "A tour of what Cairn pages can hold.",
    )
    .await?;
    // The new space's permissions are part of the viewer.
    let v = Viewer::load(&db, Some(admin)).await?;
    let home = content::space(&db, &v, "DEMO").await?.homepage_id;
    if let Some(h) = home {
        content::update(
            &mut db,
            &v,
            h,
            content::Update {
                title: Some("Demo Home"),
                body: Some(HOME),
                base_version: 1,
                message: "Demo content",
                minor_edit: false,
            },
        )
        .await?;
    }
    let page = |title: &'static str,
                body: &'static str,
                parent: Option<i64>,
                labels: &'static [&'static str]| {
        let labels: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
        (title, body, parent, labels)
    };
    let (t, b, p, l) = page("Engineering Handbook", HANDBOOK, home, &["handbook"]);
    let handbook = mk(&mut db, &v, t, b, p, &l, ContentType::Page).await?;
    let mut ids = Vec::new();
    for (t, b, l) in [
        ("Coding Standards", STANDARDS, &["handbook", "rust"][..]),
        ("On-call Runbook", RUNBOOK, &["runbook", "ops"][..]),
        ("Architecture Overview", ARCH, &["architecture"][..]),
        ("Release Process", RELEASE, &["runbook", "release"][..]),
    ] {
        let (t, b, p, l) = page(t, b, Some(handbook), l);
        ids.push(mk(&mut db, &v, t, b, p, &l, ContentType::Page).await?);
    }
    let (t, b, p, l) = page("Release Checklist", CHECKLIST, Some(ids[3]), &["release"]);
    mk(&mut db, &v, t, b, p, &l, ContentType::Page).await?;
    let (t, b, p, l) = page("Cairn demo is live", BLOG, None, &["announcement"]);
    mk(&mut db, &v, t, b, p, &l, ContentType::BlogPost).await?;
    // Attachments.
    for (page_id, name, bytes, mt) in [
        (ids[2], "diagram.png", demo_png(), "image/png"),
        (
            ids[1],
            "escalation.txt",
            b"Primary: platform on-call\nSecondary: engineering manager\n".to_vec(),
            "text/plain",
        ),
    ] {
        let stored = app
            .files
            .put(futures_util::stream::iter([Ok::<_, std::io::Error>(
                bytes::Bytes::from(bytes),
            )]))
            .await?;
        attach::record(
            &mut db,
            &v,
            page_id,
            NewFile {
                filename: name,
                media_type: Some(mt),
                comment: "demo",
                minor_edit: false,
                stored,
            },
            true,
        )
        .await?;
    }
    // A threaded discussion.
    let c1 = content::add_comment(
        &mut db,
        &v,
        ids[1],
        None,
        "<p>Should we add the DNS failover steps here too?</p>",
    )
    .await?;
    content::add_comment(
        &mut db,
        &v,
        ids[1],
        Some(c1.id),
        "<p>Yes &mdash; I will write them up this week.</p>",
    )
    .await?;
    content::add_comment(
        &mut db,
        &v,
        ids[0],
        None,
        "<p>Great checklist. <ac:emoticon ac:name=\"thumbs-up\"/></p>",
    )
    .await?;
    // A second version, so history and diffs have something to show.
    let std_page = content::get(&db, &v, ids[0]).await?;
    let revised = STANDARDS.replace("last reviewed in Q3", "last reviewed in Q4");
    content::update(
        &mut db,
        &v,
        ids[0],
        content::Update {
            title: None,
            body: Some(&revised),
            base_version: std_page.version,
            message: "Quarterly review",
            minor_edit: false,
        },
    )
    .await?;
    Ok(true)
}

async fn mk(
    db: &mut deadpool_postgres::Object,
    v: &Viewer,
    title: &str,
    body: &str,
    parent: Option<i64>,
    labels: &[String],
    ct: ContentType,
) -> Result<i64> {
    Ok(content::create(
        db,
        v,
        NewContent {
            content_type: ct,
            space_key: "DEMO",
            title,
            body,
            parent_id: parent,
            message: "Demo content",
            labels,
            posting_day: None,
        },
    )
    .await?
    .id)
}
