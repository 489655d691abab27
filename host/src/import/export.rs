//! Space export in Confluence's XML format (`cairn export KEY FILE.zip`):
//! `entities.xml` in the classic exporter's layout, `exportDescriptor.properties`
//! and `attachments/<page>/<attachment>/<version>`, re-importable by
//! `import` with nothing of the content model lost.
//!
//! Invariants: read-only on the database; memory bounded by one batch of
//! versions (rows are read in id order, 500 at a time, and streamed to a
//! writer thread through a bounded channel); every id written is unique
//! across classes (content keeps its id, other objects count up from
//! above the largest content id), as Hibernate's generator guarantees.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use super::ImportError;

const PAGES: &str = "com.atlassian.confluence.pages";
const SPACES: &str = "com.atlassian.confluence.spaces";
const USER: &str = "com.atlassian.confluence.user";
const SEC: &str = "com.atlassian.confluence.security";
const LABELS: &str = "com.atlassian.confluence.labels";

/// What an export wrote.
#[derive(Debug, Default, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportReport {
    pub space_key: String,
    pub contents: u64,
    pub versions: u64,
    pub files: u64,
    pub labels: u64,
    pub permissions: u64,
    pub restrictions: u64,
    pub categories: u64,
    pub watches: u64,
    pub content_properties: u64,
    pub templates: u64,
    /// Confluence's own properties that came with an import, written back.
    pub extras: u64,
}

enum Out {
    Xml(String),
    File { name: String, path: PathBuf },
}

fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

fn date(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// One `<object>` in the classic layout.
struct Obj(String);

impl Obj {
    fn new(class: &str, package: &str, id: i64) -> Obj {
        Obj(format!(
            "<object class=\"{class}\" package=\"{package}\">\n<id name=\"id\">{id}</id>\n"
        ))
    }
    fn user(key: &str) -> Obj {
        Obj(format!(
            "<object class=\"ConfluenceUserImpl\" package=\"{USER}\">\n<id name=\"key\">{}</id>\n",
            cdata(key)
        ))
    }
    fn text(mut self, name: &str, v: &str) -> Obj {
        self.0.push_str(&format!(
            "<property name=\"{name}\">{}</property>\n",
            cdata(v)
        ));
        self
    }
    fn raw(mut self, name: &str, v: impl std::fmt::Display) -> Obj {
        self.0
            .push_str(&format!("<property name=\"{name}\">{v}</property>\n"));
        self
    }
    fn reference(mut self, name: &str, class: &str, package: &str, id: Option<i64>) -> Obj {
        if let Some(id) = id {
            self.0.push_str(&format!(
                "<property name=\"{name}\" class=\"{class}\" package=\"{package}\"><id name=\"id\">{id}</id>\n</property>\n"
            ));
        }
        self
    }
    fn user_ref(mut self, name: &str, key: Option<&str>) -> Obj {
        if let Some(k) = key.filter(|k| !k.is_empty()) {
            self.0.push_str(&format!(
                "<property name=\"{name}\" class=\"ConfluenceUserImpl\" package=\"{USER}\"><id name=\"key\">{}</id>\n</property>\n",
                cdata(k)
            ));
        }
        self
    }
    fn end(mut self) -> String {
        self.0.push_str("</object>\n");
        self.0
    }
}

/// Exports space `key` to `out` (a zip).
///
/// # Errors
/// A missing space, a database error, or a file that cannot be written.
pub async fn export_space(
    pool: &crate::db::Pool,
    store: &crate::attach::Store,
    key: &str,
    out: &Path,
) -> Result<ExportReport, ImportError> {
    let (send, mut recv) = tokio::sync::mpsc::channel::<Out>(16);
    let out_path = out.to_owned();
    let descriptor = format!(
        "#{}\nexportType=space\nspaceKey={key}\nbuildNumber=6169\ncreatedByBuildNumber=8703\nbackupAttachments=true\ndefaultUsersGroup=confluence-users\ntimezoneId=UTC\nsource=cairn\n",
        Utc::now().format("%a %b %d %H:%M:%S UTC %Y")
    );
    let writer = tokio::task::spawn_blocking(move || -> Result<(), ImportError> {
        let io = |e: std::io::Error| {
            ImportError::Io(format!("cannot write {}: {e}", out_path.display()))
        };
        let zerr = |e: zip::result::ZipError| ImportError::Io(format!("cannot write the zip: {e}"));
        let f = std::fs::File::create(&out_path).map_err(io)?;
        let mut z = zip::ZipWriter::new(std::io::BufWriter::new(f));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        z.start_file("entities.xml", opts).map_err(zerr)?;
        let mut files = Vec::new();
        while let Some(o) = recv.blocking_recv() {
            match o {
                Out::Xml(s) => z.write_all(s.as_bytes()).map_err(io)?,
                Out::File { name, path } => files.push((name, path)),
            }
        }
        z.start_file("exportDescriptor.properties", opts)
            .map_err(zerr)?;
        z.write_all(descriptor.as_bytes()).map_err(io)?;
        for (name, path) in files {
            z.start_file(name, opts).map_err(zerr)?;
            let mut f = std::fs::File::open(&path).map_err(io)?;
            std::io::copy(&mut f, &mut z).map_err(io)?;
        }
        z.finish().map_err(zerr)?.flush().map_err(io)?;
        Ok(())
    });
    let r = write_entities(pool, store, key, &send).await;
    drop(send);
    let w = writer
        .await
        .map_err(|e| ImportError::Io(format!("the writer thread failed: {e}")))?;
    let r = r?;
    w?;
    Ok(r)
}

async fn emit(send: &tokio::sync::mpsc::Sender<Out>, s: String) -> Result<(), ImportError> {
    send.send(Out::Xml(s))
        .await
        .map_err(|_| ImportError::Io("the zip writer stopped".into()))
}

async fn write_entities(
    pool: &crate::db::Pool,
    store: &crate::attach::Store,
    key: &str,
    send: &tokio::sync::mpsc::Sender<Out>,
) -> Result<ExportReport, ImportError> {
    let db = pool.get().await?;
    let sp = db
        .query_opt(
            "SELECT s.id, s.space_key, s.name, s.description, s.homepage_id, s.space_type, s.created_at, u.user_key
             FROM spaces s LEFT JOIN users u ON u.id = s.creator_id WHERE upper(s.space_key) = upper($1)",
            &[&key],
        )
        .await?
        .ok_or_else(|| ImportError::Invalid(format!("no space with key {key}")))?;
    let space_id: i64 = sp.get(0);
    let mut r = ExportReport {
        space_key: sp.get(1),
        ..ExportReport::default()
    };
    let max: i64 = db
        .query_one("SELECT coalesce(max(id), 0) FROM content", &[])
        .await?
        .get(0);
    let mut next = (max / 1_000_000 + 1) * 1_000_000;
    let mut id = || {
        next += 1;
        next
    };
    emit(
        send,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hibernate-generic datetime=\"{}\">\n",
            Utc::now().format("%Y-%m-%d %H:%M:%S")
        ),
    )
    .await?;
    // Users who appear in the space.
    for u in db
        .query(
            "SELECT DISTINCT u.user_key, u.username, u.email FROM users u WHERE u.id IN (
                 SELECT creator_id FROM content WHERE space_id = $1 UNION SELECT modifier_id FROM content WHERE space_id = $1
                 UNION SELECT v.author_id FROM content_versions v JOIN content c ON c.id = v.content_id WHERE c.space_id = $1
                 UNION SELECT user_id FROM space_permissions WHERE space_id = $1
                 UNION SELECT r.user_id FROM content_restrictions r JOIN content c ON c.id = r.content_id WHERE c.space_id = $1
                 UNION SELECT l.user_id FROM likes l JOIN content c ON c.id = l.content_id WHERE c.space_id = $1
                 UNION SELECT w.user_id FROM watches w LEFT JOIN content c ON c.id = w.content_id
                       WHERE w.space_id = $1 OR c.space_id = $1
                 UNION SELECT creator_id FROM spaces WHERE id = $1)",
            &[&space_id],
        )
        .await?
    {
        let (k, n, e): (String, String, String) = (u.get(0), u.get(1), u.get(2));
        let mut o = Obj::user(&k).text("name", &n).text("lowerName", &n.to_lowercase());
        if !e.is_empty() {
            o = o.text("email", &e);
        }
        emit(send, o.end()).await?;
    }
    let desc_id = id();
    let space_name: String = sp.get(2);
    let description: String = sp.get(3);
    let created: DateTime<Utc> = sp.get(6);
    let creator: Option<String> = sp.get(7);
    emit(
        send,
        Obj::new("Space", SPACES, space_id)
            .text("name", &space_name)
            .text("key", &r.space_key)
            .text("lowerKey", &r.space_key.to_lowercase())
            .reference("description", "SpaceDescription", SPACES, Some(desc_id))
            .reference("homePage", "Page", PAGES, sp.get(4))
            .text("spaceType", sp.get::<_, &str>(5))
            .raw("spaceStatus\" enum-class=\"SpaceStatus\" package=\"com.atlassian.confluence.spaces", "CURRENT")
            .user_ref("creator", creator.as_deref())
            .text("creationDate", &date(&created))
            .end(),
    )
    .await?;
    emit(
        send,
        Obj::new("SpaceDescription", SPACES, desc_id)
            .text("title", "")
            .raw("version", 1)
            .text("contentStatus", "current")
            .reference("space", "Space", SPACES, Some(space_id))
            .end(),
    )
    .await?;
    emit(
        send,
        Obj::new("BodyContent", "com.atlassian.confluence.core", id())
            .text("body", &description)
            .reference("content", "SpaceDescription", SPACES, Some(desc_id))
            .raw("bodyType", 2)
            .end(),
    )
    .await?;

    // Content, then its versions in batches (bodies never all in memory).
    let mut after = 0i64;
    loop {
        let rows = db
            .query(
                "SELECT c.id, c.content_type, c.parent_id, c.container_id, c.position, c.status, c.title, c.version,
                        cu.user_key, c.created_at, mu.user_key, c.modified_at
                 FROM content c LEFT JOIN users cu ON cu.id = c.creator_id LEFT JOIN users mu ON mu.id = c.modifier_id
                 WHERE c.space_id = $1 AND c.id > $2 ORDER BY c.id LIMIT 200",
                &[&space_id, &after],
            )
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.get(0);
        for c in &rows {
            write_content(&db, store, send, c, space_id, &mut id, &mut r).await?;
        }
    }

    // Labels.
    let mut label_ids = std::collections::HashMap::new();
    for l in db
        .query(
            "SELECT l.content_id, l.prefix, l.name, c.content_type FROM labels l JOIN content c ON c.id = l.content_id
             WHERE c.space_id = $1 ORDER BY 1, 2, 3",
            &[&space_id],
        )
        .await?
    {
        let (cid, prefix, name, ctype): (i64, String, String, String) = (l.get(0), l.get(1), l.get(2), l.get(3));
        let lid = match label_ids.get(&(prefix.clone(), name.clone())) {
            Some(i) => *i,
            None => {
                let i = id();
                label_ids.insert((prefix.clone(), name.clone()), i);
                emit(send, Obj::new("Label", LABELS, i).text("name", &name).text("namespace", &prefix).end()).await?;
                i
            }
        };
        emit(
            send,
            Obj::new("Labelling", LABELS, id())
                .reference("label", "Label", LABELS, Some(lid))
                .reference("content", class_of(&ctype), PAGES, Some(cid))
                .raw("labelableId", cid)
                .text("labelableType", "CONTENT")
                .end(),
        )
        .await?;
        r.labels += 1;
    }
    // Space permissions.
    for p in db
        .query(
            "SELECT p.permission, u.user_key, g.name FROM space_permissions p LEFT JOIN users u ON u.id = p.user_id
             LEFT JOIN groups g ON g.id = p.group_id WHERE p.space_id = $1 ORDER BY p.id",
            &[&space_id],
        )
        .await?
    {
        let perm: String = p.get(0);
        let types: &[&str] = match perm.as_str() {
            "view" => &["VIEWSPACE"],
            "edit" => &["EDITSPACE", "EDITBLOG"],
            "comment" => &["COMMENT"],
            "attach" => &["CREATEATTACHMENT"],
            "delete" => &["REMOVEPAGE", "REMOVEBLOG", "REMOVECOMMENT", "REMOVEATTACHMENT"],
            "restrict" => &["SETPAGEPERMISSIONS"],
            _ => &["SETSPACEPERMISSIONS"],
        };
        let user: Option<String> = p.get(1);
        let group: Option<String> = p.get::<_, Option<String>>(2).map(|g| match g.as_str() {
            "cairn-users" => "confluence-users".to_owned(),
            "cairn-administrators" => "confluence-administrators".to_owned(),
            _ => g,
        });
        for t in types {
            let mut o = Obj::new("SpacePermission", SEC, id()).text("type", t);
            o = match &group {
                Some(g) => o.text("group", g),
                None => o.raw("group\"/><property name=\"allUsersSubject", ""),
            };
            emit(send, o.user_ref("userSubject", user.as_deref()).reference("space", "Space", SPACES, Some(space_id)).end()).await?;
            r.permissions += 1;
        }
    }
    // Restrictions: one set per (page, operation).
    let mut sets = std::collections::HashMap::new();
    for x in db
        .query(
            "SELECT x.content_id, x.operation, u.user_key, g.name, c.content_type FROM content_restrictions x
             JOIN content c ON c.id = x.content_id LEFT JOIN users u ON u.id = x.user_id
             LEFT JOIN groups g ON g.id = x.group_id WHERE c.space_id = $1 ORDER BY x.id",
            &[&space_id],
        )
        .await?
    {
        let (cid, op, ctype): (i64, String, String) = (x.get(0), x.get(1), x.get(4));
        let kind = if op == "read" { "View" } else { "Edit" };
        let set = match sets.get(&(cid, kind)) {
            Some(s) => *s,
            None => {
                let s = id();
                sets.insert((cid, kind), s);
                emit(send, Obj::new("ContentPermissionSet", SEC, s).text("type", kind).reference("owningContent", class_of(&ctype), PAGES, Some(cid)).end()).await?;
                s
            }
        };
        let user: Option<String> = x.get(2);
        let mut o = Obj::new("ContentPermission", SEC, id()).text("type", kind);
        if let Some(g) = x.get::<_, Option<String>>(3) {
            o = o.text("groupName", &g);
        }
        emit(send, o.user_ref("userSubject", user.as_deref()).reference("owningSet", "ContentPermissionSet", SEC, Some(set)).end()).await?;
        r.restrictions += 1;
    }
    // Likes.
    for l in db
        .query(
            "SELECT l.content_id, u.user_key, l.created_at, c.content_type FROM likes l JOIN content c ON c.id = l.content_id
             JOIN users u ON u.id = l.user_id WHERE c.space_id = $1",
            &[&space_id],
        )
        .await?
    {
        let at: DateTime<Utc> = l.get(2);
        let ctype: String = l.get(3);
        emit(
            send,
            Obj::new("LikeEntity", "com.atlassian.confluence.like", id())
                .reference("content", class_of(&ctype), PAGES, Some(l.get(0)))
                .user_ref("user", Some(l.get::<_, &str>(1)))
                .text("creationDate", &date(&at))
                .end(),
        )
        .await?;
    }
    // Space categories: `team` labels of the space's description.
    for c in db
        .query(
            "SELECT name FROM space_categories WHERE space_id = $1 ORDER BY name",
            &[&space_id],
        )
        .await?
    {
        let lid = id();
        let name: String = c.get(0);
        emit(
            send,
            Obj::new("Label", LABELS, lid)
                .text("name", &name)
                .text("namespace", "team")
                .end(),
        )
        .await?;
        emit(
            send,
            Obj::new("Labelling", LABELS, id())
                .reference("label", "Label", LABELS, Some(lid))
                .reference("content", "SpaceDescription", SPACES, Some(desc_id))
                .text("labelableType", "CONTENT")
                .end(),
        )
        .await?;
        r.categories += 1;
    }
    // Watches of the space, its blog, and its content.
    for w in db
        .query(
            "SELECT w.content_id, c.content_type, w.space_id, w.blog_only, u.user_key, w.created_at
             FROM watches w JOIN users u ON u.id = w.user_id LEFT JOIN content c ON c.id = w.content_id
             WHERE w.space_id = $1 OR c.space_id = $1 ORDER BY w.id",
            &[&space_id],
        )
        .await?
    {
        let at: DateTime<Utc> = w.get(5);
        let mut o = Obj::new("Notification", "com.atlassian.confluence.mail.notification", id());
        o = match w.get::<_, Option<i64>>(0) {
            Some(cid) => o.reference("content", class_of(w.get::<_, Option<&str>>(1).unwrap_or("page")), PAGES, Some(cid)),
            None => o.reference("space", "Space", SPACES, Some(space_id)),
        };
        if w.get::<_, bool>(3) {
            o = o.raw("type\" enum-class=\"ContentTypeEnum\" package=\"com.atlassian.confluence.search.service", "BLOG");
        }
        emit(
            send,
            o.user_ref("receiver", Some(w.get::<_, &str>(4)))
                .raw("digest", false)
                .raw("network", false)
                .text("creationDate", &date(&at))
                .end(),
        )
        .await?;
        r.watches += 1;
    }
    // JSON content properties (REST's), as Confluence stores them: custom
    // content of the content-property module, the JSON as its body.
    for p in db
        .query(
            "SELECT p.content_id, c.content_type, p.key, p.value::text, p.version, p.modified_at
             FROM content_properties p JOIN content c ON c.id = p.content_id WHERE c.space_id = $1 ORDER BY p.id",
            &[&space_id],
        )
        .await?
    {
        let pid = id();
        let at: DateTime<Utc> = p.get(5);
        let key: String = p.get(2);
        emit(
            send,
            Obj::new("CustomContentEntityObject", "com.atlassian.confluence.content", pid)
                .text("title", &key)
                .text("lowerTitle", &key.to_lowercase())
                .raw("version", p.get::<_, i32>(4))
                .text("contentStatus", "current")
                .text("pluginModuleKey", super::model::CONTENT_PROPERTY_MODULE)
                .reference("containerContent", class_of(p.get::<_, &str>(1)), PAGES, Some(p.get(0)))
                .text("creationDate", &date(&at))
                .text("lastModificationDate", &date(&at))
                .end(),
        )
        .await?;
        emit(
            send,
            Obj::new("BodyContent", "com.atlassian.confluence.core", id())
                .text("body", p.get::<_, &str>(3))
                .reference("content", "CustomContentEntityObject", "com.atlassian.confluence.content", Some(pid))
                .raw("bodyType", 1)
                .end(),
        )
        .await?;
        r.content_properties += 1;
    }
    // The space's page templates.
    for t in db
        .query(
            "SELECT name, description, body, version, created_at, modified_at FROM templates WHERE space_id = $1 ORDER BY id",
            &[&space_id],
        )
        .await?
    {
        let (created, modified): (DateTime<Utc>, DateTime<Utc>) = (t.get(4), t.get(5));
        emit(
            send,
            Obj::new("PageTemplate", "com.atlassian.confluence.pages.templates", id())
                .text("name", t.get::<_, &str>(0))
                .text("description", t.get::<_, &str>(1))
                .text("content", t.get::<_, &str>(2))
                .raw("version", t.get::<_, i32>(3))
                .reference("space", "Space", SPACES, Some(space_id))
                .text("creationDate", &date(&created))
                .text("lastModificationDate", &date(&modified))
                .end(),
        )
        .await?;
        r.templates += 1;
    }
    // Confluence's own content properties that came with an import.
    for x in db
        .query(
            "SELECT x.content_id, c.content_type, x.data FROM import_extras x JOIN content c ON c.id = x.content_id
             WHERE x.kind = 'content-properties' AND c.space_id = $1 ORDER BY x.id",
            &[&space_id],
        )
        .await?
    {
        let data: serde_json::Value = x.get(2);
        let Some(map) = data.as_object() else { continue };
        for (name, value) in map {
            let v = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
            emit(
                send,
                Obj::new("ContentProperty", "com.atlassian.confluence.content", id())
                    .text("name", name)
                    .text("stringValue", &v)
                    .reference("content", class_of(x.get::<_, &str>(1)), PAGES, Some(x.get(0)))
                    .end(),
            )
            .await?;
            r.extras += 1;
        }
    }
    emit(send, "</hibernate-generic>\n".into()).await?;
    Ok(r)
}

fn class_of(content_type: &str) -> &'static str {
    match content_type {
        "blogpost" => "BlogPost",
        "comment" => "Comment",
        "attachment" => "Attachment",
        _ => "Page",
    }
}

async fn write_content(
    db: &impl GenericClient,
    store: &crate::attach::Store,
    send: &tokio::sync::mpsc::Sender<Out>,
    c: &tokio_postgres::Row,
    space_id: i64,
    id: &mut impl FnMut() -> i64,
    r: &mut ExportReport,
) -> Result<(), ImportError> {
    let cid: i64 = c.get(0);
    let ctype: String = c.get(1);
    let class = class_of(&ctype);
    let head_version: i32 = c.get(7);
    let status = if c.get::<_, &str>(5) == "trashed" {
        "deleted"
    } else {
        "current"
    };
    let container: Option<i64> = c.get(3);
    let created: DateTime<Utc> = c.get(9);
    let modified: DateTime<Utc> = c.get(11);
    let versions = db
        .query(
            "SELECT v.version, v.title, v.body, u.user_key, v.created_at, v.message, v.minor_edit, v.file_sha256, v.file_size, v.media_type
             FROM content_versions v LEFT JOIN users u ON u.id = v.author_id WHERE v.content_id = $1 ORDER BY v.version",
            &[&cid],
        )
        .await?;
    r.contents += 1;
    let container_class = match container {
        Some(k) => {
            let t: String = db
                .query_one("SELECT content_type FROM content WHERE id = $1", &[&k])
                .await?
                .get(0);
            class_of(&t)
        }
        None => "Page",
    };
    for v in &versions {
        let n: i32 = v.get(0);
        let is_head = n == head_version;
        let row_id = if is_head { cid } else { id() };
        let at: DateTime<Utc> = v.get(4);
        let author: Option<String> = v.get(3);
        let mut o = Obj::new(class, PAGES, row_id)
            .text(
                "title",
                if is_head {
                    c.get::<_, &str>(6)
                } else {
                    v.get::<_, &str>(1)
                },
            )
            .raw("version", n)
            .text("versionComment", v.get::<_, &str>(5))
            .text("contentStatus", if is_head { status } else { "current" });
        if is_head {
            let ck: Option<String> = c.get(8);
            let mk: Option<String> = c.get(10);
            o = o
                .user_ref("creator", ck.as_deref())
                .text("creationDate", &date(&created))
                .user_ref("lastModifier", mk.as_deref())
                .text("lastModificationDate", &date(&modified));
        } else {
            o = o
                .user_ref("creator", author.as_deref())
                .text("creationDate", &date(&at))
                .user_ref("lastModifier", author.as_deref())
                .text("lastModificationDate", &date(&at))
                .reference("originalVersion", class, PAGES, Some(cid));
        }
        if is_head {
            match ctype.as_str() {
                "page" => {
                    o = o
                        .reference("space", "Space", SPACES, Some(space_id))
                        .reference("parent", "Page", PAGES, c.get(2))
                        .raw("position", c.get::<_, i32>(4));
                }
                "blogpost" => o = o.reference("space", "Space", SPACES, Some(space_id)),
                "comment" => {
                    o = o
                        .reference("containerContent", container_class, PAGES, container)
                        .reference("parent", "Comment", PAGES, c.get(2))
                }
                _ => {
                    o = o
                        .reference("containerContent", container_class, PAGES, container)
                        .reference("space", "Space", SPACES, Some(space_id))
                }
            }
        }
        emit(send, o.end()).await?;
        r.versions += 1;
        if ctype == "attachment" {
            for (name, value) in [
                ("MEDIA_TYPE", v.get::<_, Option<String>>(9)),
                (
                    "FILESIZE",
                    v.get::<_, Option<i64>>(8).map(|s| s.to_string()),
                ),
                ("MINOR_EDIT", Some(v.get::<_, bool>(6).to_string())),
            ] {
                if let Some(value) = value {
                    emit(
                        send,
                        Obj::new("ContentProperty", "com.atlassian.confluence.content", id())
                            .text("name", name)
                            .text("stringValue", &value)
                            .reference("content", "Attachment", PAGES, Some(row_id))
                            .end(),
                    )
                    .await?;
                }
            }
            if let (Some(sha), Some(page)) = (v.get::<_, Option<String>>(7), container) {
                let path = store.path_of(&sha);
                if path.exists() {
                    send.send(Out::File {
                        name: format!("attachments/{page}/{cid}/{n}"),
                        path,
                    })
                    .await
                    .map_err(|_| ImportError::Io("the zip writer stopped".into()))?;
                    r.files += 1;
                }
            }
        } else {
            emit(
                send,
                Obj::new("BodyContent", "com.atlassian.confluence.core", id())
                    .text("body", v.get::<_, &str>(2))
                    .reference("content", class, PAGES, Some(row_id))
                    .raw("bodyType", 2)
                    .end(),
            )
            .await?;
        }
    }
    Ok(())
}
