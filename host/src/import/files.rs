//! Attachment files: copied from the zip into the shared home's
//! content-addressed store, on a blocking thread, before the import's
//! transaction begins.
//!
//! Invariants: a version whose file is missing from the zip is imported
//! without a file and named in the report (`missing_files`), never
//! silently; a file that cannot be read (damaged zip entry) fails the
//! import naming the attachment; every file copied is checkpointed (in
//! `import_files`, by `record`) so a run resumed on another node copies
//! only what was not copied yet.

use std::collections::HashMap;

use super::archive::Archive;
use super::plan::Plan;
use super::{ImportError, Report};
use crate::attach::{Store, Stored};

/// Files are checkpointed in batches of this many.
const BATCH: usize = 32;

/// Checkpoints a batch of copied files: (Confluence id of the version, file).
pub(crate) type Record<'a> = dyn Fn(&[(i64, Stored)]) -> Result<(), ImportError> + 'a;

/// Copies every attachment version's file not in `done` (Confluence id of
/// the version → file, from an earlier attempt): version row → stored file.
/// `record` checkpoints the newly copied ones, a batch at a time.
pub(crate) fn copy_all(
    archive: &Archive,
    plan: &Plan,
    store: &Store,
    report: &mut Report,
    done: &HashMap<i64, Stored>,
    progress: &dyn Fn(u64) -> bool,
    record: &Record<'_>,
) -> Result<HashMap<u32, Stored>, ImportError> {
    let mut out: HashMap<u32, Stored> = HashMap::new();
    let mut files = archive.files()?;
    let backed_up = archive
        .descriptor
        .get("backupAttachments")
        .map(|v| v != "false")
        .unwrap_or(true);
    let mut missing = 0u64;
    let mut rows: Vec<u32> = plan.files.keys().copied().collect();
    rows.sort_unstable();
    let mut batch: Vec<(i64, Stored)> = Vec::with_capacity(BATCH);
    for (i, r) in rows.into_iter().enumerate() {
        let meta = &plan.files[&r];
        let row = &plan.rows[r as usize];
        let (container, att) = (meta.container, meta.attachment);
        if let Some(stored) = done.get(&row.old_id) {
            report.attachment_files += 1;
            report.bytes_copied += stored.size;
            out.insert(r, stored.clone());
            continue;
        }
        match files.open(container, att, row.version) {
            Some(mut f) => {
                let stored = store.put_blocking(&mut f).map_err(|e| {
                    ImportError::Invalid(format!(
                        "attachment {} version {} (file attachments/{container}/{att}/{}): {}",
                        att,
                        row.version,
                        row.version,
                        e.public_message()
                    ))
                })?;
                report.attachment_files += 1;
                report.bytes_copied += stored.size;
                batch.push((row.old_id, stored.clone()));
                out.insert(r, stored);
                if batch.len() >= BATCH {
                    record(&batch)?;
                    batch.clear();
                }
            }
            None => {
                missing += 1;
                if report.missing_files.len() < 200 {
                    report.missing_files.push(format!(
                        "Attachment {att} version {} {:?} (attachments/{container}/{att}/{})",
                        row.version, plan.heads[row.head as usize].title, row.version
                    ));
                }
            }
        }
        if i % 16 == 0 && !progress(i as u64) {
            return Err(ImportError::Superseded(
                "the import was taken over by another node".into(),
            ));
        }
    }
    if !batch.is_empty() {
        record(&batch)?;
    }
    if missing > 0 {
        report.warn(format!(
            "{missing} attachment file(s) are missing from the zip{}: imported without their bytes (see missingFiles)",
            if backed_up { "" } else { " (the export was made without attachments)" }
        ));
    }
    Ok(out)
}
