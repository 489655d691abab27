//! Keeping the index honest: what it indexes (its identity), whether that
//! is still this database's history, and whether its documents still equal
//! PostgreSQL's.
//!
//! Invariants:
//! - every commit's payload carries the journal position, the journal
//!   entry found there (its time and content id: the *stamp*), and the
//!   database's identity (cluster id, PostgreSQL system identifier, history
//!   epoch); snapshots carry the same payload in their `meta.json`;
//! - an index or snapshot is kept or restored only when its identity equals
//!   the database's, the journal reaches its position, and the entry there
//!   has the stamp it recorded. Anything else (a restored backup, another
//!   cluster's or database's files, a missing entry) means a rebuild from
//!   PostgreSQL — never a skip, never a guess;
//! - a detected regression of this database's history (identity equal,
//!   journal behind or different) draws a new history epoch, so every other
//!   node's index and every older snapshot stop matching too;
//! - while a rebuild replaces an untrusted index, searches answer from an
//!   empty stand-in (incomplete, never wrong) and the node reports search
//!   as degraded (`/status`, `/metrics`, the admin pages);
//! - the drift check compares with PostgreSQL while holding the apply lock,
//!   and counts as drift only documents without a pending journal entry.

use crate::sync::Recover;

use sha2::{Digest as _, Sha256};

use super::documents::IndexDoc;
use super::SearchIndex;

mod drift;
mod identity;
mod settle;
mod verify;
pub use drift::DriftReport;
pub use drift::Health;
pub use drift::DRIFT_SAMPLE;
pub use identity::Identity;
pub use identity::Payload;
pub use identity::Untrusted;
pub(super) use identity::{replay_start, Mark, IDENTITY_CHECK, STAMP_SQL};
pub use settle::snapshots;
pub use settle::Settled;
pub use verify::verify_dir;
pub use verify::VerifyReport;

/// A stable digest of everything indexed for a document.
pub(super) fn digest(d: &IndexDoc) -> u64 {
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update(s.as_bytes());
        h.update([0x1f]);
    };
    put(&d.id.to_string());
    put(&d.version.to_string());
    put(&d.kind);
    put(&d.space_id.to_string());
    put(&d.space_key);
    put(&d.title);
    put(&d.body);
    put(&d.labels.join("\u{1e}"));
    put(&d.creator);
    let mut contributors = d.contributors.clone();
    contributors.sort();
    put(&contributors.join("\u{1e}"));
    put(&d.created.timestamp_micros().to_string());
    put(&d.modified.timestamp_micros().to_string());
    put(&format!(
        "{:?}/{:?}/{:?}",
        d.ancestors, d.parent, d.container
    ));
    let mut rset = d.rset.clone();
    rset.sort_unstable();
    put(&format!("{rset:?}"));
    let mut mentions = d.mentions.clone();
    mentions.sort();
    put(&mentions.join("\u{1e}"));
    let out = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&out[..8]);
    u64::from_le_bytes(b)
}

impl SearchIndex {
    pub(super) fn identity(&self) -> Option<Identity> {
        self.identity.read().recover().clone()
    }

    pub(super) fn set_identity(&self, id: Identity) {
        {
            let mut i = self.identity.write().recover();
            *i = Some(id);
        }
    }

    /// The live index's payload (position, stamp, identity).
    pub fn payload(&self) -> Payload {
        self.live().payload()
    }

    pub fn health(&self) -> Health {
        self.health.lock().recover().clone()
    }

    /// Why search is degraded on this node, if it is.
    pub fn degraded(&self) -> Option<String> {
        self.health.lock().recover().degraded.clone()
    }

    fn set_degraded(&self, reason: Option<String>) {
        {
            let mut h = self.health.lock().recover();
            if let Some(r) = &reason {
                h.last_distrust = Some((chrono::Utc::now(), r.clone()));
            }
            h.degraded = reason;
        }
    }

    pub(super) fn is_placeholder(&self) -> bool {
        self.placeholder.load(std::sync::atomic::Ordering::Acquire)
    }
}
