//! The reads a plugin call makes through its capabilities (`content` and
//! `kv`), as values: made for the call, recorded with a digest of each
//! answer, and made again by the output cache before it reuses the call's
//! output (`plugins::render_macro`).
//!
//! Invariant: a read and its replay run the same function with the same
//! arguments as the same viewer ([`Read::answer`] is the only dispatch), so
//! equal digests mean the plugin would be given the same answers — the
//! cached output of a deterministic call is then the output it would
//! render now.

use std::hash::{Hash, Hasher};

use deadpool_postgres::Object;

use super::bindings::cairn::plugin::content::{Attachment, ContentSummary, Page};
use super::bindings::cairn::plugin::people::{Contributor, Profile};
use super::bindings::cairn::plugin::tasks::Task;
use super::queries;
use crate::content::contributors::ContributorQuery;
use crate::content::task_index::TaskQuery;
use crate::error::Result;
use crate::perms::Viewer;

/// One read, with its (normalised) arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Read {
    Get(i64),
    Find(String, String),
    Children(i64, u32),
    Attachments(i64),
    Labels(i64),
    WithLabels(Vec<String>, Vec<String>, u32),
    RecentlyUpdated(Vec<String>, Vec<String>, u32),
    Tasks(TaskQuery),
    Profile(String),
    Contributors(ContributorQuery),
    KvGet(String),
    KvKeys(String, u32),
}

/// What a read answered. Each lives for one host call (a page is moved to
/// the guest as it is), so its size does not matter.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Answer {
    Page(Option<Page>),
    Summaries(Vec<ContentSummary>),
    Attachments(Vec<Attachment>),
    Strings(Vec<String>),
    Bytes(Option<Vec<u8>>),
    Tasks(Vec<Task>),
    Profile(Option<Profile>),
    Contributors(Vec<Contributor>),
}

impl Answer {
    /// Equal answers have equal digests (their every field is hashed).
    pub(crate) fn digest(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        format!("{self:?}").hash(&mut h);
        h.finish()
    }
}

impl Read {
    /// Makes the read as `viewer` for plugin `plugin_id`.
    pub(crate) async fn answer(
        &self,
        db: &Object,
        viewer: &Viewer,
        plugin_id: &str,
    ) -> Result<Answer> {
        Ok(match self {
            Read::Get(id) => Answer::Page(queries::get(db, viewer, *id).await?),
            Read::Find(space, title) => {
                Answer::Page(queries::find(db, viewer, space, title).await?)
            }
            Read::Children(id, limit) => {
                Answer::Summaries(queries::children(db, viewer, *id, *limit).await?)
            }
            Read::Attachments(id) => {
                Answer::Attachments(queries::attachments(db, viewer, *id).await?)
            }
            Read::Labels(id) => Answer::Strings(queries::labels(db, viewer, *id).await?),
            Read::WithLabels(labels, spaces, limit) => {
                Answer::Summaries(queries::with_labels(db, viewer, labels, spaces, *limit).await?)
            }
            Read::RecentlyUpdated(spaces, types, limit) => Answer::Summaries(
                queries::recently_updated(db, viewer, spaces, types, *limit).await?,
            ),
            Read::Tasks(q) => Answer::Tasks(queries::tasks(db, viewer, q).await?),
            Read::Profile(who) => Answer::Profile(queries::profile(db, viewer, who).await?),
            Read::Contributors(q) => {
                Answer::Contributors(queries::contributors(db, viewer, q).await?)
            }
            Read::KvGet(key) => Answer::Bytes(queries::kv_get(db, plugin_id, key).await?),
            Read::KvKeys(prefix, limit) => {
                Answer::Strings(queries::kv_keys(db, plugin_id, prefix, *limit).await?)
            }
        })
    }

    /// Whether every read in `reads` still answers with the recorded digest,
    /// made as `viewer` on one connection within `limit`. Any failure (the
    /// database, the time) counts as "changed".
    pub(crate) fn all_unchanged(
        reads: &[(Read, u64)],
        pool: &deadpool_postgres::Pool,
        viewer: &Viewer,
        plugin_id: &str,
        limit: std::time::Duration,
    ) -> bool {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let check = async {
            let db = pool.get().await.ok()?;
            for (read, digest) in reads {
                if read.answer(&db, viewer, plugin_id).await.ok()?.digest() != *digest {
                    return Some(false);
                }
            }
            Some(true)
        };
        handle
            .block_on(tokio::time::timeout(limit, check))
            .ok()
            .flatten()
            .unwrap_or(false)
    }
}

/// The typed answer a capability function returns to the guest.
macro_rules! answer_into {
    ($($variant:ident => $ty:ty),* $(,)?) => {$(
        impl TryFrom<Answer> for $ty {
            type Error = wasmtime::Error;
            fn try_from(a: Answer) -> wasmtime::Result<$ty> {
                match a {
                    Answer::$variant(v) => Ok(v),
                    other => Err(wasmtime::Error::msg(format!(
                        "host: a read answered {other:?}, not {}",
                        stringify!($variant)
                    ))),
                }
            }
        }
    )*};
}

answer_into! {
    Page => Option<Page>,
    Summaries => Vec<ContentSummary>,
    Attachments => Vec<Attachment>,
    Strings => Vec<String>,
    Bytes => Option<Vec<u8>>,
    Tasks => Vec<Task>,
    Profile => Option<Profile>,
    Contributors => Vec<Contributor>,
}
