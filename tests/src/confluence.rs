//! Confluence XML exports for tests and the import benchmark: a writer of
//! `entities.xml` objects in the classic exporter's layout (CDATA on every
//! text value, `<id name="key">` for users), zips of whole exports, and
//! zips of the real fixture folders laid out as Confluence zips them.

use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;

/// One property of an object.
pub enum P<'a> {
    /// A text value (CDATA, split at `]]>` the standard way).
    Text(&'a str, &'a str),
    /// Written exactly as given (for Confluence's own quirks).
    Raw(&'a str, &'a str),
    Null(&'a str),
    /// A reference by numeric id: name, class, package, id.
    Ref(&'a str, &'a str, &'a str, i64),
    /// A reference to a user by key.
    User(&'a str, &'a str),
    /// A collection of references: name, element class, package, ids.
    Coll(&'a str, &'a str, &'a str, Vec<i64>),
}

pub const PAGES: &str = "com.atlassian.confluence.pages";
pub const SPACES: &str = "com.atlassian.confluence.spaces";
pub const CORE: &str = "com.atlassian.confluence.core";
pub const USER: &str = "com.atlassian.confluence.user";

pub fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

/// Writes `<object>`s to any writer (a zip entry, a file, a Vec).
pub struct Entities<W: Write> {
    pub w: W,
}

impl<W: Write> Entities<W> {
    pub fn begin(mut w: W) -> std::io::Result<Self> {
        w.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hibernate-generic datetime=\"2024-01-02 03:04:05\">")?;
        Ok(Entities { w })
    }

    pub fn object(
        &mut self,
        class: &str,
        package: &str,
        id: &str,
        props: &[P<'_>],
    ) -> std::io::Result<()> {
        let id_name = if class == "ConfluenceUserImpl" {
            "key"
        } else {
            "id"
        };
        write!(
            self.w,
            "<object class=\"{class}\" package=\"{package}\">\n<id name=\"{id_name}\">{}</id>\n",
            cdata(id)
        )?;
        for p in props {
            match p {
                P::Text(n, v) => writeln!(self.w, "<property name=\"{n}\">{}</property>", cdata(v))?,
                P::Raw(n, v) => writeln!(self.w, "<property name=\"{n}\">{v}</property>")?,
                P::Null(n) => write!(self.w, "<property name=\"{n}\"/>")?,
                P::Ref(n, c, pk, i) => write!(
                    self.w,
                    "<property name=\"{n}\" class=\"{c}\" package=\"{pk}\"><id name=\"id\">{i}</id>\n</property>\n"
                )?,
                P::User(n, k) => write!(
                    self.w,
                    "<property name=\"{n}\" class=\"ConfluenceUserImpl\" package=\"{USER}\"><id name=\"key\">{}</id>\n</property>\n",
                    cdata(k)
                )?,
                P::Coll(n, c, pk, ids) => {
                    write!(self.w, "<collection name=\"{n}\" class=\"java.util.Collection\">")?;
                    for i in ids {
                        write!(self.w, "<element class=\"{c}\" package=\"{pk}\"><id name=\"id\">{i}</id>\n</element>\n")?;
                    }
                    writeln!(self.w, "</collection>")?;
                }
            }
        }
        self.w.write_all(b"</object>\n")
    }

    pub fn end(mut self) -> std::io::Result<W> {
        self.w.write_all(b"</hibernate-generic>\n")?;
        Ok(self.w)
    }
}

/// A zip being written: entities.xml first (streamed), then the rest.
pub struct ExportZip<W: Write + Seek> {
    pub zip: zip::ZipWriter<W>,
}

pub fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)
}

pub fn stored() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true)
}

impl<W: Write + Seek> ExportZip<W> {
    pub fn new(w: W) -> Self {
        ExportZip {
            zip: zip::ZipWriter::new(w),
        }
    }
    pub fn file(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.zip
            .start_file(name, deflated())
            .map_err(std::io::Error::other)?;
        self.zip.write_all(bytes)
    }
    pub fn descriptor(
        &mut self,
        export_type: &str,
        space_key: Option<&str>,
    ) -> std::io::Result<()> {
        let mut d = format!(
            "#Tue Jan 02 03:04:05 UTC 2024\nexportType={export_type}\nbuildNumber=6169\ncreatedByBuildNumber=8703\nbackupAttachments=true\ndefaultUsersGroup=confluence-users\ntimezoneId=UTC\n"
        );
        if let Some(k) = space_key {
            d.push_str(&format!("spaceKey={k}\n"));
        }
        self.file("exportDescriptor.properties", d.as_bytes())
    }
    pub fn finish(self) -> std::io::Result<W> {
        self.zip.finish().map_err(std::io::Error::other)
    }
}

/// Where the real exports are (`../shared/fixtures/confluence-export/`
/// beside the project), or `None` with a note when they are absent.
pub fn fixtures_dir() -> Option<PathBuf> {
    let d = std::env::var_os("CAIRN_CONFLUENCE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/confluence-export")
        });
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!(
            "skipped: the real Confluence exports are not at {}",
            d.display()
        );
        None
    }
}

/// Zips a fixture folder as Confluence does: entities.xml,
/// exportDescriptor.properties and attachments/ at the root (the
/// fixtures' SOURCE.txt, licences and the original 5.9.zip are left out).
pub fn zip_fixture(folder: &Path, out: &Path) -> std::io::Result<()> {
    let mut z = ExportZip::new(std::fs::File::create(out)?);
    for name in ["entities.xml", "exportDescriptor.properties"] {
        let p = folder.join(name);
        if p.exists() {
            z.file(name, &std::fs::read(&p)?)?;
        }
    }
    let att = folder.join("attachments");
    if att.is_dir() {
        let mut stack = vec![att.clone()];
        let mut files = Vec::new();
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d)? {
                let p = e?.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.push(p);
                }
            }
        }
        files.sort();
        for f in files {
            let rel = f.strip_prefix(folder).map_err(std::io::Error::other)?;
            z.file(&rel.to_string_lossy(), &std::fs::read(&f)?)?;
        }
    }
    z.finish()?;
    Ok(())
}

/// The shape of a generated large export (the import benchmark).
pub struct Shape {
    pub pages: u64,
    /// Versions per page (the head included).
    pub versions: u64,
    /// Bytes of storage format per body.
    pub body_bytes: usize,
    /// One attachment every this many pages (0: none).
    pub attachment_every: u64,
    pub attachment_bytes: usize,
}

/// Writes a one-space export of `shape` to `out` as a stream: memory stays
/// flat whatever the size. Pages form a tree of fan-out 10; each has its
/// historical versions (each with its own body), a label, and every tenth
/// a comment. Returns (pages, versions, attachments).
pub fn generate(out: &Path, key: &str, shape: &Shape) -> std::io::Result<(u64, u64, u64)> {
    let mut z = ExportZip::new(std::io::BufWriter::new(std::fs::File::create(out)?));
    let fast = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    z.zip
        .start_file("entities.xml", fast)
        .map_err(std::io::Error::other)?;
    let mut e = Entities::begin(&mut z.zip)?;
    let filler: String = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. "
        .repeat(shape.body_bytes / 56 + 1);
    let mut next = 10_000_000i64;
    let mut id = || {
        next += 1;
        next
    };
    let space = id();
    let page_id = |i: u64| 1_000_000_000 + i as i64;
    e.object(
        "Space",
        SPACES,
        &space.to_string(),
        &[
            P::Text("key", key),
            P::Text("name", "Generated"),
            P::Ref("homePage", "Page", PAGES, page_id(0)),
            P::Text("spaceType", "global"),
            P::Text("creationDate", "2015-01-01 00:00:00.000"),
        ],
    )?;
    for u in 0..20 {
        e.object(
            "ConfluenceUserImpl",
            USER,
            &format!("key{u:028}"),
            &[
                P::Text("name", &format!("gen{u}")),
                P::Text("email", &format!("gen{u}@example.com")),
            ],
        )?;
    }
    e.object(
        "SpacePermission",
        "com.atlassian.confluence.security",
        &id().to_string(),
        &[
            P::Text("type", "VIEWSPACE"),
            P::Text("group", "confluence-users"),
            P::Ref("space", "Space", SPACES, space),
        ],
    )?;
    let label = id();
    e.object(
        "Label",
        "com.atlassian.confluence.labels",
        &label.to_string(),
        &[P::Text("name", "generated"), P::Text("namespace", "global")],
    )?;
    let (mut versions, mut attachments) = (0u64, 0u64);
    let mut attachment_files = Vec::new();
    for i in 0..shape.pages {
        let head = page_id(i);
        let title = format!("Page {i} — généré");
        let user = |v: u64| format!("key{:028}", (i + v) % 20);
        for v in 1..=shape.versions {
            let row = if v == shape.versions { head } else { id() };
            let date = format!(
                "2016-{:02}-{:02} 10:{:02}:00.000",
                1 + (v % 12),
                1 + (i % 28),
                v % 60
            );
            let vs = v.to_string();
            let pos = (i % 10).to_string();
            let modifier = user(v);
            let mut props = vec![
                P::Text("title", &title),
                P::Raw("version", &vs),
                P::User("creator", "key0000000000000000000000000000"),
                P::Text("creationDate", "2015-06-01 09:00:00.000"),
                P::User("lastModifier", &modifier),
                P::Text("lastModificationDate", &date),
                P::Text("contentStatus", "current"),
                P::Ref("space", "Space", SPACES, space),
            ];
            let comment = format!("edit {v}");
            props.push(P::Text("versionComment", &comment));
            if row == head {
                if i > 0 {
                    props.push(P::Ref("parent", "Page", PAGES, page_id((i - 1) / 10)));
                    props.push(P::Raw("position", &pos));
                }
            } else {
                props.push(P::Ref("originalVersion", "Page", PAGES, head));
            }
            e.object("Page", PAGES, &row.to_string(), &props)?;
            let body = format!(
                "<h1>{}</h1><p>Version {v}. {}</p>",
                crate_escape(&title),
                &filler[..shape.body_bytes]
            );
            e.object(
                "BodyContent",
                CORE,
                &id().to_string(),
                &[
                    P::Text("body", &body),
                    P::Ref("content", "Page", PAGES, row),
                    P::Raw("bodyType", "2"),
                ],
            )?;
            versions += 1;
        }
        e.object(
            "Labelling",
            "com.atlassian.confluence.labels",
            &id().to_string(),
            &[
                P::Ref("label", "Label", "com.atlassian.confluence.labels", label),
                P::Ref("content", "Page", PAGES, head),
            ],
        )?;
        if i % 10 == 0 {
            let c = id();
            e.object(
                "Comment",
                PAGES,
                &c.to_string(),
                &[
                    P::Raw("version", "1"),
                    P::User("creator", "key0000000000000000000000000001"),
                    P::Text("contentStatus", "current"),
                    P::Ref("containerContent", "Page", PAGES, head),
                ],
            )?;
            e.object(
                "BodyContent",
                CORE,
                &id().to_string(),
                &[
                    P::Text("body", "<p>A comment.</p>"),
                    P::Ref("content", "Comment", PAGES, c),
                    P::Raw("bodyType", "2"),
                ],
            )?;
        }
        if shape.attachment_every > 0 && i % shape.attachment_every == 0 {
            let a = id();
            e.object(
                "Attachment",
                PAGES,
                &a.to_string(),
                &[
                    P::Text("title", &format!("file-{i}.bin")),
                    P::Raw("version", "1"),
                    P::Text("contentStatus", "current"),
                    P::Ref("containerContent", "Page", PAGES, head),
                    P::Ref("space", "Space", SPACES, space),
                ],
            )?;
            attachment_files.push((head, a, i));
            attachments += 1;
        }
    }
    e.end()?;
    z.descriptor("space", Some(key))?;
    for (head, a, i) in attachment_files {
        z.zip
            .start_file(format!("attachments/{head}/{a}/1"), stored())
            .map_err(std::io::Error::other)?;
        let chunk: Vec<u8> = (0..64 * 1024u32)
            .map(|b| ((b as u64 * 31 + i) % 256) as u8)
            .collect();
        let mut left = shape.attachment_bytes;
        while left > 0 {
            let n = left.min(chunk.len());
            z.zip.write_all(&chunk[..n])?;
            left -= n;
        }
    }
    z.finish()?.flush()?;
    Ok((shape.pages, versions, attachments))
}

fn crate_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
