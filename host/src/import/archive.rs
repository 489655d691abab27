//! The export zip: checks that it is one, reads `exportDescriptor.properties`,
//! streams `entities.xml` and finds attachment files.
//!
//! Invariant: nothing is extracted to disk and nothing is read whole; every
//! refusal (not a zip, truncated, CSV-format export, no entities.xml) says
//! which and why, before any database work begins.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::ImportError;

pub(crate) struct Archive {
    path: PathBuf,
    pub descriptor: BTreeMap<String, String>,
    /// The name of `entities.xml` inside the zip.
    entities: String,
    /// Identifies the export: CRC and size of entities.xml and its descriptor.
    pub fingerprint: String,
}

fn open_zip(path: &Path) -> Result<zip::ZipArchive<File>, ImportError> {
    let f = File::open(path)
        .map_err(|e| ImportError::Io(format!("cannot open {}: {e}", path.display())))?;
    zip::ZipArchive::new(f).map_err(|e| {
        ImportError::NotZip(format!(
            "{} is not a readable zip archive (not a zip, or truncated: {e})",
            path.display()
        ))
    })
}

/// Parses a Java properties file (the subset Confluence writes).
pub fn parse_properties(text: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let l = line.trim_start();
        if l.is_empty() || l.starts_with('#') || l.starts_with('!') {
            continue;
        }
        let (k, v) = match l.find(['=', ':']) {
            Some(i) => (&l[..i], &l[i + 1..]),
            None => (l, ""),
        };
        m.insert(
            k.trim().replace("\\:", ":").replace("\\=", "="),
            v.trim().replace("\\:", ":").replace("\\=", "="),
        );
    }
    m
}

impl Archive {
    pub(crate) fn open(path: &Path) -> Result<Archive, ImportError> {
        let mut zip = open_zip(path)?;
        let names: Vec<String> = zip.file_names().map(str::to_owned).collect();
        // Some tools zip the export folder itself: accept one top folder.
        let entities = names
            .iter()
            .find(|n| {
                *n == "entities.xml"
                    || (n.ends_with("/entities.xml") && n.matches('/').count() == 1)
            })
            .cloned();
        let prefix = entities
            .as_deref()
            .map(|e| e.trim_end_matches("entities.xml").to_owned())
            .unwrap_or_default();
        let mut descriptor = BTreeMap::new();
        let mut descriptor_crc = 0u32;
        if let Ok(mut f) = zip.by_name(&format!("{prefix}exportDescriptor.properties")) {
            descriptor_crc = f.crc32();
            let mut raw = Vec::new();
            f.by_ref()
                .take(1024 * 1024)
                .read_to_end(&mut raw)
                .map_err(|e| {
                    ImportError::NotZip(format!("exportDescriptor.properties cannot be read: {e}"))
                })?;
            if raw.starts_with(&[0x1f, 0x8b]) {
                return Err(ImportError::NotConfluence(
                    "this is a CSV-format export (gzip-compressed descriptor, as the Cloud Migration Assistant writes): only XML exports can be imported".into(),
                ));
            }
            descriptor = parse_properties(&String::from_utf8_lossy(&raw));
        }
        if descriptor.get("exportFormat").is_some_and(|f| f != "xml") {
            return Err(ImportError::NotConfluence(format!(
                "this is a {}-format export: only XML exports (entities.xml) can be imported",
                descriptor["exportFormat"]
            )));
        }
        let Some(entities) = entities else {
            return Err(ImportError::NotConfluence(format!(
                "{} holds no entities.xml: it is not a Confluence XML space export or site backup",
                path.display()
            )));
        };
        let f = zip
            .by_name(&entities)
            .map_err(|e| ImportError::NotZip(format!("entities.xml cannot be read: {e}")))?;
        let fingerprint = format!("{:08x}-{}-{descriptor_crc:08x}", f.crc32(), f.size());
        drop(f);
        Ok(Archive {
            path: path.to_owned(),
            descriptor,
            entities,
            fingerprint,
        })
    }

    fn prefix(&self) -> &str {
        self.entities.trim_end_matches("entities.xml")
    }

    /// Runs `f` over a buffered stream of entities.xml. A damaged entry
    /// (CRC mismatch, truncation) surfaces as a read error inside `f`.
    pub(crate) fn with_entities<T>(
        &self,
        f: impl FnOnce(&mut dyn std::io::BufRead) -> Result<T, ImportError>,
    ) -> Result<T, ImportError> {
        let mut zip = open_zip(&self.path)?;
        let entry = zip
            .by_name(&self.entities)
            .map_err(|e| ImportError::NotZip(format!("entities.xml cannot be read: {e}")))?;
        let mut r = BufReader::with_capacity(256 * 1024, entry);
        f(&mut r)
    }

    /// An open zip for reading attachment files.
    pub(crate) fn files(&self) -> Result<Files, ImportError> {
        Ok(Files {
            zip: open_zip(&self.path)?,
            prefix: self.prefix().to_owned(),
        })
    }
}

pub(crate) struct Files {
    zip: zip::ZipArchive<File>,
    prefix: String,
}

impl Files {
    /// `attachments/<container>/<attachment>/<version>`, if present.
    pub(crate) fn open(
        &mut self,
        container: i64,
        attachment: i64,
        version: i32,
    ) -> Option<zip::read::ZipFile<'_, File>> {
        let name = format!(
            "{}attachments/{container}/{attachment}/{version}",
            self.prefix
        );
        self.zip.by_name(&name).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_java_properties() {
        let p =
            parse_properties("#Sun Jan 22\nexportType=space\nspaceKey = AB\nao.data.list=a, b\n");
        assert_eq!(p["exportType"], "space");
        assert_eq!(p["spaceKey"], "AB");
        assert_eq!(p["ao.data.list"], "a, b");
    }
}
