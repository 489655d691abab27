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
                P::Text(n, v) => write!(self.w, "<property name=\"{n}\">{}</property>\n", cdata(v))?,
                P::Raw(n, v) => write!(self.w, "<property name=\"{n}\">{v}</property>\n")?,
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
                    write!(self.w, "</collection>\n")?;
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
