//! What an index indexes: the database's identity and the journal stamp
//! recorded in every commit payload, and the judgement whether an index
//! or snapshot still belongs to this database's history.
//!
//! Invariant: an index is trusted only when its identity equals the
//! database's, the journal reaches its position and the entry there has
//! the stamp it recorded; anything else is untrusted, never guessed.

use crate::error::Result;
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// How often the tailer checks that its index still belongs to the
/// database's history (a few cheap lookups by primary key).
pub(in crate::search) const IDENTITY_CHECK: Duration = Duration::from_secs(5);

/// A journal entry's stamp: its creation time (µs) and content id. Two
/// histories that reuse a number practically never agree on both.
pub(in crate::search) const STAMP_SQL: &str =
    "((extract(epoch FROM created_at) * 1000000)::bigint::text || ':' || content_id::text)";

/// What a database is, as far as an index is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Identity {
    /// `cluster_info.cluster_id` (empty for a database no cluster joined).
    pub cluster: String,
    /// PostgreSQL's system identifier (`pg_control_system()`), or
    /// `unavailable` when the role may not read it.
    pub system: String,
    /// `index_history.epoch`.
    pub epoch: String,
}

impl Identity {
    pub(crate) async fn load(db: &impl GenericClient) -> Result<Identity> {
        let r = crate::db::query_one(
            db,
            "SELECT coalesce((SELECT cluster_id FROM cluster_info), ''),
                    coalesce((SELECT epoch FROM index_history), '')",
            &[],
        )
        .await?;
        let system = match db
            .query_one(
                "SELECT system_identifier::text FROM pg_control_system()",
                &[],
            )
            .await
        {
            Ok(r) => r.get(0),
            Err(e) => {
                tracing::debug!(error = %e, "pg_control_system() not readable; the system identifier is not part of the index identity");
                "unavailable".to_owned()
            }
        };
        Ok(Identity {
            cluster: r.get(0),
            system,
            epoch: r.get(1),
        })
    }
}

/// A journal position with the stamp of the entry there ("" for none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(in crate::search) struct Mark {
    pub seq: i64,
    pub stamp: String,
}

/// An index commit's payload. Older releases wrote the bare position.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub seq: i64,
    #[serde(default)]
    pub stamp: String,
    #[serde(default)]
    pub identity: Option<Identity>,
}

impl Payload {
    pub(in crate::search) fn new(mark: &Mark, identity: Option<Identity>) -> Payload {
        Payload {
            seq: mark.seq,
            stamp: mark.stamp.clone(),
            identity,
        }
    }

    pub fn parse(text: Option<&str>) -> Payload {
        let Some(text) = text else {
            return Payload::default();
        };
        if let Ok(p) = serde_json::from_str::<Payload>(text) {
            return p;
        }
        Payload {
            seq: text.trim().parse().unwrap_or(0),
            ..Payload::default()
        }
    }

    pub(in crate::search) fn mark(&self) -> Mark {
        Mark {
            seq: self.seq,
            stamp: self.stamp.clone(),
        }
    }

    /// The payload of the index (or snapshot) in `dir`, from its `meta.json`.
    pub(crate) fn of_dir(dir: &Path) -> Payload {
        let meta: serde_json::Value = std::fs::read_to_string(dir.join("meta.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null);
        Payload::parse(meta["payload"].as_str())
    }
}

impl std::fmt::Display for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| std::fmt::Error)?)
    }
}

/// Where a rebuild from an untrusted index starts replaying the journal:
/// 1000 entries behind the head the repeatable-read snapshot `tx` sees,
/// since entries of transactions still open were numbered earlier but are
/// not visible yet (re-applying an entry is harmless).
pub(in crate::search) async fn replay_start(tx: &impl GenericClient) -> Result<Mark> {
    let row = crate::db::query_opt(
        tx,
        &format!(
            "SELECT seq, {STAMP_SQL} FROM index_journal ORDER BY seq DESC OFFSET 1000 LIMIT 1"
        ),
        &[],
    )
    .await?;
    Ok(row.map_or_else(Mark::default, |r| Mark {
        seq: r.get(0),
        stamp: r.get(1),
    }))
}

/// What the database says about a position.
pub(in crate::search) struct Facts {
    pub(in crate::search) identity: Identity,
    pub(in crate::search) head: i64,
    pub(in crate::search) oldest: Option<i64>,
    /// The stamp of the entry at the position asked about.
    pub(in crate::search) stamp: Option<String>,
    pub(in crate::search) has_content: bool,
}

impl Facts {
    pub(in crate::search) async fn load(db: &impl GenericClient, seq: i64) -> Result<Facts> {
        let identity = Identity::load(db).await?;
        let r = crate::db::query_one(
            db,
            &format!(
                "SELECT coalesce((SELECT max(seq) FROM index_journal), 0),
                        (SELECT min(seq) FROM index_journal),
                        (SELECT {STAMP_SQL} FROM index_journal WHERE seq = $1),
                        EXISTS (SELECT 1 FROM content)"
            ),
            &[&seq],
        )
        .await?;
        Ok(Facts {
            identity,
            head: r.get(0),
            oldest: r.get(1),
            stamp: r.get(2),
            has_content: r.get(3),
        })
    }
}

/// Why an index (or snapshot) cannot be trusted.
#[derive(Debug, Clone)]
pub struct Untrusted {
    pub reason: String,
    /// This database's own history went back (a restore): the epoch must
    /// change so that other nodes and older snapshots notice too.
    pub regression: bool,
}

pub(in crate::search) fn untrusted(
    reason: String,
    regression: bool,
) -> std::result::Result<(), Untrusted> {
    Err(Untrusted { reason, regression })
}

/// Whether an index with payload `p` indexes exactly this database's
/// history up to its position.
pub(in crate::search) fn judge(p: &Payload, f: &Facts) -> std::result::Result<(), Untrusted> {
    if let Some(id) = &p.identity {
        if id.cluster != f.identity.cluster {
            return untrusted(
                format!(
                    "it was built for cluster {:?}, but this database belongs to {:?}",
                    id.cluster, f.identity.cluster
                ),
                false,
            );
        }
        if id.system != f.identity.system {
            return untrusted(
                format!(
                    "it was built from another PostgreSQL database (system identifier {}, this one is {})",
                    id.system, f.identity.system
                ),
                false,
            );
        }
        if id.epoch != f.identity.epoch {
            return untrusted(
                format!(
                    "it was built from another history of this database (epoch {}, now {}: a restore was detected)",
                    id.epoch, f.identity.epoch
                ),
                false,
            );
        }
    }
    if p.seq == 0 {
        // Nothing applied yet: an index made by a rebuild of this database
        // is fine; an empty new one must replay a journal that starts at
        // the beginning.
        return match (&p.identity, f.oldest) {
            (Some(_), _) | (None, Some(1)) => Ok(()),
            (None, None) if !f.has_content => Ok(()),
            (None, _) => untrusted(
                "it is empty and the journal no longer holds every change from the start".into(),
                false,
            ),
        };
    }
    if p.identity.is_none() {
        return untrusted(
            "it carries no identity of the database it indexes (made by an older release)".into(),
            false,
        );
    }
    if f.head < p.seq {
        return untrusted(
            format!(
                "the journal ends at entry {}, before the index's position {}: the database went back in time (restored from a backup?)",
                f.head, p.seq
            ),
            true,
        );
    }
    match &f.stamp {
        None if f.oldest.is_some_and(|o| o > p.seq) => untrusted(
            format!(
                "the journal was trimmed past the index's position {} (oldest entry {})",
                p.seq,
                f.oldest.unwrap_or(0)
            ),
            false,
        ),
        None => untrusted(
            format!(
                "journal entry {}, the last one the index applied, is missing from the journal",
                p.seq
            ),
            false,
        ),
        Some(s) if *s != p.stamp => untrusted(
            format!(
                "journal entry {} is not the one the index applied (it was {}, it is {s}): the database's history was replaced (restored from a backup?)",
                p.seq, p.stamp
            ),
            true,
        ),
        Some(_) => Ok(()),
    }
}
