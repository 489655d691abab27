//! The resumable part of an import: the second pass over `entities.xml`
//! stages every body in `import_stage_<run>` (an unlogged table of the run's
//! own) in committed chunks, each chunk committing with a checkpoint on the
//! run's row: how many BodyContent objects have been read, which counters
//! they added. A node that takes over a run whose node died reads the zip
//! again from the start but skips the objects already staged (they are
//! parsed, not converted or written), so no body is written twice.
//!
//! Invariants: a chunk and its checkpoint commit together and only while
//! the run's attempt is the writer's (a node thought dead cannot write
//! after another took over); the staged rows are invisible (not content)
//! until the final transaction copies them into `content_versions` and
//! drops the table; a checkpoint that does not match the table (PostgreSQL
//! restarted and emptied the unlogged table) starts the staging over.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_util::pin_mut;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::archive::Archive;
use super::plan::Plan;
use super::progress::Progress;
use super::xml::{repair_cdata, ObjectReader};
use super::{wiki, ImportError, RunRef};
use crate::db::Pool;

/// Rows or bytes per committed chunk.
const CHUNK_ROWS: usize = 2_000;
const CHUNK_BYTES: usize = 16 << 20;
/// Warnings about bodies kept per run (the count is always exact).
const MAX_BAD: usize = 50;

/// What the second pass counted, checkpointed with each chunk.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Pass2 {
    /// Version rows staged (the checkpoint's check against the table).
    pub rows: u64,
    /// BodyContent objects in entities.xml (known when the pass ends).
    pub bodies: u64,
    pub wiki: u64,
    pub notes: BTreeMap<String, u64>,
    pub bad: Vec<String>,
    pub bad_total: u64,
    pub repairs: u64,
    pub warnings: Vec<String>,
    /// The whole export was read and staged.
    pub complete: bool,
    /// Objects skipped on this attempt because an earlier one staged them.
    #[serde(skip)]
    pub resumed_from: u64,
}

/// The staging table's name for a run (its id is a number: safe in SQL).
pub(crate) fn table(run_id: i64) -> String {
    format!("import_stage_{run_id}")
}

/// Counters of the objects read since the last message (bodies of drafts
/// and other content not imported count too, as they always did).
#[derive(Default)]
struct Delta {
    wiki: u64,
    repairs: u64,
    notes: Vec<String>,
}

impl Delta {
    fn add_to(self, stats: &mut Pass2) {
        stats.wiki += self.wiki;
        stats.repairs += self.repairs;
        for n in self.notes {
            *stats.notes.entry(n).or_default() += 1;
        }
    }
}

enum Msg {
    Body {
        seq: u64,
        row: u32,
        owner: i64,
        body: String,
        delta: Delta,
        bad: Option<String>,
    },
    Description {
        seq: u64,
        owner: i64,
        body: String,
        delta: Delta,
    },
}

/// Stages every body not staged yet; returns the counters and which version
/// rows have a body.
pub(crate) async fn stage_bodies(
    pool: &Pool,
    archive: &Arc<Archive>,
    plan: &Arc<Plan>,
    run: &RunRef,
    progress: &Arc<Progress>,
) -> Result<(Pass2, Vec<bool>), ImportError> {
    let t = table(run.id);
    let mut db = pool.get().await?;
    db.batch_execute(&format!(
        "CREATE UNLOGGED TABLE IF NOT EXISTS {t} (old_id BIGINT NOT NULL, description BOOLEAN NOT NULL, body TEXT NOT NULL)"
    ))
    .await?;
    let row = db
        .query_one(
            "SELECT staged_objects, staged FROM import_runs WHERE id = $1",
            &[&run.id],
        )
        .await?;
    let mut skip: i64 = row.get(0);
    let mut stats: Pass2 = serde_json::from_value(row.get(1)).unwrap_or_default();
    let in_table: i64 = db
        .query_one(
            &format!("SELECT count(*) FROM {t} WHERE NOT description"),
            &[],
        )
        .await?
        .get(0);
    if in_table as u64 != stats.rows {
        if skip > 0 {
            tracing::warn!(
                import = run.id,
                checkpoint = stats.rows,
                table = in_table,
                "staged bodies do not match the checkpoint (PostgreSQL restarted?): staging again"
            );
        }
        db.batch_execute(&format!("TRUNCATE {t}")).await?;
        skip = 0;
        stats = Pass2::default();
    }
    let mut written = vec![false; plan.rows.len()];
    if skip > 0 {
        let staged = db
            .query(
                &format!("SELECT old_id FROM {t} WHERE NOT description"),
                &[],
            )
            .await?;
        for r in staged {
            if let Some(&row) = plan.row_of_item.get(&r.get::<_, i64>(0)) {
                written[row as usize] = true;
            }
        }
        stats.resumed_from = skip as u64;
        tracing::info!(
            import = run.id,
            objects = skip,
            rows = stats.rows,
            "resuming the second pass after the staged bodies"
        );
    }
    progress.phase("bodies", plan.rows.len() as u64);
    progress.done.store(stats.rows, Ordering::Relaxed);

    if stats.complete {
        return Ok((stats, written));
    }

    let (send, mut recv) = tokio::sync::mpsc::channel::<Msg>(32);
    let (a, p) = (archive.clone(), plan.clone());
    let skip_u = skip as u64;
    let mut reader = tokio::task::spawn_blocking(move || second_pass(&a, &p, skip_u, send));
    let types = [Type::INT8, Type::BOOL, Type::TEXT];
    let mut checkpoint = skip_u;
    let mut failure: Option<ImportError> = None;
    loop {
        if progress.lost.load(Ordering::Relaxed) {
            failure = Some(run.superseded());
            break;
        }
        let tx = db.transaction().await?;
        let sink = tx.copy_in(&format!("COPY {t} FROM STDIN BINARY")).await?;
        let w = BinaryCopyInWriter::new(sink, &types);
        pin_mut!(w);
        let (mut rows, mut bytes, mut ended) = (0usize, 0usize, false);
        while rows < CHUNK_ROWS && bytes < CHUNK_BYTES {
            let Some(msg) = recv.recv().await else {
                ended = true;
                break;
            };
            let (owner, description, body) = match msg {
                Msg::Body {
                    seq,
                    row,
                    owner,
                    body,
                    delta,
                    bad,
                } => {
                    checkpoint = seq + 1;
                    delta.add_to(&mut stats);
                    if let Some(b) = bad {
                        stats.bad_total += 1;
                        if stats.bad.len() < MAX_BAD {
                            stats.bad.push(b);
                        }
                    }
                    if std::mem::replace(&mut written[row as usize], true) {
                        if stats.warnings.len() < MAX_BAD {
                            stats
                                .warnings
                                .push(format!("{owner} has more than one body: the first is kept"));
                        }
                        continue;
                    }
                    stats.rows += 1;
                    progress.done.store(stats.rows, Ordering::Relaxed);
                    (owner, false, body)
                }
                Msg::Description {
                    seq,
                    owner,
                    body,
                    delta,
                } => {
                    checkpoint = seq + 1;
                    delta.add_to(&mut stats);
                    (owner, true, body)
                }
            };
            let vals: [&(dyn ToSql + Sync); 3] = [&owner, &description, &body];
            if let Err(e) = w.as_mut().write(&vals).await {
                failure = Some(e.into());
                break;
            }
            rows += 1;
            bytes += body.len();
        }
        if failure.is_some() {
            break; // the chunk's transaction rolls back when dropped
        }
        w.finish().await?;
        if ended {
            // The reader is done: its count of BodyContent objects is final,
            // and the last chunk commits with the pass marked complete.
            let (total, rest) = (&mut reader)
                .await
                .map_err(|e| ImportError::Io(format!("the reading thread failed: {e}")))??;
            rest.add_to(&mut stats);
            stats.bodies = total;
            stats.complete = true;
            commit_chunk(tx, run, total, &stats).await?;
            return Ok((stats, written));
        }
        commit_chunk(tx, run, checkpoint, &stats).await?;
    }
    drop(recv);
    let read = reader
        .await
        .map_err(|e| ImportError::Io(format!("the reading thread failed: {e}")))?;
    Err(failure.unwrap_or_else(|| match read {
        Err(e) => e,
        Ok(_) => run.superseded(),
    }))
}

async fn commit_chunk(
    tx: deadpool_postgres::Transaction<'_>,
    run: &RunRef,
    checkpoint: u64,
    stats: &Pass2,
) -> Result<(), ImportError> {
    let json = serde_json::to_value(stats).unwrap_or_default();
    let n = tx
        .execute(
            "UPDATE import_runs SET staged_objects = $3, staged = $4, updated_at = now()
             WHERE id = $1 AND attempt = $2 AND status = 'running'",
            &[&run.id, &run.attempt, &(checkpoint as i64), &json],
        )
        .await?;
    if n == 0 {
        return Err(run.superseded());
    }
    tx.commit().await?;
    Ok(())
}

/// Reads every BodyContent after the first `skip`, converts wiki markup,
/// undoes the CDATA quirk, checks well-formedness, and sends each body on.
/// Returns how many BodyContent objects the export has, and the counters
/// of those read after the last message.
fn second_pass(
    archive: &Archive,
    plan: &Plan,
    skip: u64,
    send: tokio::sync::mpsc::Sender<Msg>,
) -> Result<(u64, Delta), ImportError> {
    let mut seq = 0u64;
    let mut delta = Delta::default();
    archive.with_entities(|r| {
        let mut reader = ObjectReader::new(r, &[]);
        while let Some(o) = reader.next_object()? {
            if o.class != "BodyContent" {
                continue;
            }
            let this = seq;
            seq += 1;
            if this < skip {
                continue;
            }
            let Some(owner) = o.ref_id("content") else {
                continue;
            };
            let raw = o.text("body").unwrap_or("");
            let body = match o.long("bodyType") {
                Some(0) => {
                    delta.wiki += 1;
                    let c = wiki::convert(raw);
                    delta.notes.extend(c.notes);
                    c.body
                }
                _ => {
                    let fixed = repair_cdata(raw);
                    if let std::borrow::Cow::Owned(_) = fixed {
                        delta.repairs += 1;
                    }
                    fixed.into_owned()
                }
            };
            let msg = if let Some(&row) = plan.row_of_item.get(&owner) {
                let bad = cairn_render::check(&body).err().map(|e| {
                    format!(
                        "the body of {owner} (BodyContent {}) is not well-formed storage format ({e}): stored as exported",
                        o.id
                    )
                });
                Msg::Body {
                    seq: this,
                    row,
                    owner,
                    body,
                    delta: std::mem::take(&mut delta),
                    bad,
                }
            } else if plan.description_of.contains_key(&owner) || plan.property_bodies.contains(&owner) {
                Msg::Description {
                    seq: this,
                    owner,
                    body,
                    delta: std::mem::take(&mut delta),
                }
            } else {
                continue;
            };
            if send.blocking_send(msg).is_err() {
                // The writer stopped (its error is reported); stop reading.
                return Ok(());
            }
        }
        Ok(())
    })?;
    Ok((seq, delta))
}

/// Drops a run's staging table and file checkpoints (the run ended).
pub(crate) async fn discard(
    db: &impl deadpool_postgres::GenericClient,
    run_id: i64,
) -> Result<(), ImportError> {
    db.batch_execute(&format!(
        "DROP TABLE IF EXISTS {}; DELETE FROM import_files WHERE import_id = {run_id}",
        table(run_id)
    ))
    .await?;
    Ok(())
}
