//! One import from start to end: open, first pass, plan, refuse conflicts
//! (or answer "already imported", or take over the same import left by a
//! process that died), then the three phases — attachment files, bodies
//! staged, the final transaction — with progress on the `import_runs` row.
//!
//! Resuming: a run whose heartbeat (the progress tick) stopped is taken
//! over, by the cluster leader (`resume`, every node can be it) or by the
//! same `cairn import` run again. The taker bumps the run's `attempt`;
//! every checkpoint and the final commit check it, so the old owner, if it
//! was only slow, stops instead of writing twice. Files and bodies resume
//! from their checkpoints; the first pass is read again (it is what the
//! plan is built from, and holds no writes); the final transaction is all
//! or nothing.
//!
//! Invariants: the run row is committed first and always ends `done` (in
//! the import's own final transaction), `failed` (with the error, its
//! staging dropped), or stays `running` under an attempt that is alive or
//! will be taken over; nothing of an unfinished run is visible as content;
//! a re-import of the same export into the same keys changes nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::archive::Archive;
use super::model::Model;
use super::progress::Progress;
use super::xml::ObjectReader;
use super::{files, plan, stage, write, ImportError, Options, Report, RunRef, SpaceReport};
use crate::attach::Stored;
use crate::db::Pool;

/// A run whose heartbeat is older than this many seconds is taken to be
/// dead: 20, or `CAIRN_IMPORT_STALE_SECS` (the heartbeat beats twice a
/// second; the tests use less to wait less).
pub(crate) fn stale_secs() -> f64 {
    std::env::var("CAIRN_IMPORT_STALE_SECS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| *v >= 2.0)
        .unwrap_or(20.0)
}

fn blocking_err(e: tokio::task::JoinError) -> ImportError {
    ImportError::Io(format!("the import thread failed: {e}"))
}

/// The export opened and read once (everything but bodies), and planned.
struct Prepared {
    archive: Arc<Archive>,
    model: Model,
    plan: plan::Plan,
    report: Report,
}

async fn prepare(path: &Path, as_key: Option<&str>) -> Result<Prepared, ImportError> {
    let p = path.to_owned();
    let archive = tokio::task::spawn_blocking(move || Archive::open(&p))
        .await
        .map_err(blocking_err)??;
    let mut report = Report {
        export_type: archive
            .descriptor
            .get("exportType")
            .cloned()
            .unwrap_or_default(),
        created_by_build: archive
            .descriptor
            .get("createdByBuildNumber")
            .or(archive.descriptor.get("buildNumber"))
            .cloned()
            .unwrap_or_default(),
        attempt: 1,
        ..Report::default()
    };
    if archive.descriptor.is_empty() {
        report.warn("the zip has no exportDescriptor.properties: Confluence version unknown, times taken as UTC".into());
    }

    // First pass: everything but bodies.
    let archive = Arc::new(archive);
    let a = archive.clone();
    let model = tokio::task::spawn_blocking(move || {
        let mut m = Model::default();
        a.with_entities(|r| {
            let mut reader = ObjectReader::new(r, &["body"]);
            while let Some(o) = reader.next_object()? {
                m.add(o)?;
            }
            Ok(())
        })?;
        m.finish();
        Ok::<_, ImportError>(m)
    })
    .await
    .map_err(blocking_err)??;
    report.objects = model.objects;
    report.skipped = model.skipped.clone();
    report.unknown_classes = model.unknown.clone();
    for (class, n) in &model.unknown {
        report.warn(format!(
            "{n} object(s) of unknown class {class} were not imported"
        ));
    }
    let plan = plan::plan(&model, as_key, &mut report)?;
    Ok(Prepared {
        archive,
        model,
        plan,
        report,
    })
}

/// Imports the export at `path`; see the module's invariants. An owned
/// upload is deleted when the run ends here (not when another node took
/// it over).
pub(crate) async fn run(
    pool: &Pool,
    store: &crate::attach::Store,
    path: &Path,
    opts: &Options,
) -> Result<Report, ImportError> {
    let r = start(pool, store, path, opts).await;
    if opts.upload_owned && !matches!(r, Err(ImportError::Superseded(_))) {
        let _ = tokio::fs::remove_file(path).await;
    }
    r
}

async fn start(
    pool: &Pool,
    store: &crate::attach::Store,
    path: &Path,
    opts: &Options,
) -> Result<Report, ImportError> {
    let started = Instant::now();
    let prep = prepare(path, opts.as_key.as_deref()).await?;
    let archive = &prep.archive;

    // Conflicts, or the same import again.
    let keys: Vec<String> = prep.plan.spaces.iter().map(|s| s.key.clone()).collect();
    for k in &keys {
        if !k.starts_with('~') {
            crate::content::validate_space_key(k)
                .map_err(|e| ImportError::Invalid(e.public_message()))?;
        }
    }
    let db = pool.get().await?;
    let prev = db
        .query_opt(
            "SELECT r.id, r.report FROM import_runs r WHERE r.fingerprint = $1 AND r.status = 'done'
             AND r.space_keys = $2
             AND (SELECT count(*) FROM spaces s WHERE upper(s.space_key) = ANY(SELECT upper(k) FROM unnest($2::text[]) k)) = cardinality($2)
             ORDER BY r.id DESC LIMIT 1",
            &[&archive.fingerprint, &keys],
        )
        .await?;
    if let Some(row) = prev {
        let mut r: Report = row
            .get::<_, Option<serde_json::Value>>(1)
            .and_then(|v| serde_json::from_value::<ReportIn>(v).ok())
            .map(|ri| Report {
                spaces: ri.spaces,
                ..Report::default()
            })
            .unwrap_or_default();
        r.import_id = row.get(0);
        r.already_imported = true;
        r.seconds = started.elapsed().as_secs_f64();
        return Ok(r);
    }
    // Runs into the same keys that have not ended: the same export left by
    // a dead process is taken over; anything else is refused.
    let running = db
        .query(
            "SELECT id, fingerprint, space_keys, attempt, node_id, updated_at < now() - $2 * interval '1 second', upload, upload_owned
             FROM import_runs WHERE status = 'running'
               AND EXISTS (SELECT 1 FROM unnest(space_keys) k WHERE upper(k) = ANY(SELECT upper(x) FROM unnest($1::text[]) x))
             ORDER BY id",
            &[&keys, &stale_secs()],
        )
        .await?;
    let mut taken_over = None;
    for row in &running {
        let (id, fingerprint, their_keys): (i64, String, Vec<String>) =
            (row.get(0), row.get(1), row.get(2));
        let (attempt, node, stale): (i32, String, bool) = (row.get(3), row.get(4), row.get(5));
        if !stale {
            return Err(ImportError::Conflict(format!(
                "import {id} into {} is running on node {node}: follow it with `cairn imports {id} --follow` or on /admin/import",
                their_keys.join(", ")
            )));
        }
        if fingerprint != archive.fingerprint || their_keys != keys || taken_over.is_some() {
            return Err(ImportError::Conflict(format!(
                "import {id} into {} stopped when node {node} died; the cluster's leader resumes it within a minute: wait for it (/admin/import)",
                their_keys.join(", ")
            )));
        }
        let claimed = db
            .query_opt(
                "UPDATE import_runs SET attempt = attempt + 1, node_id = $3, upload = $4, upload_owned = $5,
                     updated_at = now(), phase_started_at = NULL
                 WHERE id = $1 AND attempt = $2 AND status = 'running' RETURNING attempt",
                &[&id, &attempt, &opts.node_id, &path.to_string_lossy().into_owned(), &opts.upload_owned],
            )
            .await?;
        let Some(c) = claimed else {
            return Err(ImportError::Conflict(format!(
                "import {id} into {} was just taken over by another node: wait for it (/admin/import)",
                their_keys.join(", ")
            )));
        };
        let old_upload: Option<String> = row.get(6);
        if row.get::<_, bool>(7) {
            if let Some(old) = old_upload.filter(|o| Path::new(o) != path) {
                let _ = tokio::fs::remove_file(old).await;
            }
        }
        tracing::info!(import = id, from_node = %node, "taking over an interrupted import of the same export");
        taken_over = Some(RunRef {
            id,
            attempt: c.get(0),
        });
    }
    let run = match taken_over {
        Some(run) => run,
        None => {
            let taken: Vec<String> = db
                .query(
                    "SELECT space_key FROM spaces WHERE upper(space_key) = ANY(SELECT upper(k) FROM unnest($1::text[]) k)",
                    &[&keys],
                )
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            if !taken.is_empty() {
                return Err(ImportError::Conflict(format!(
                    "a space with key {} exists already: import it under another key (cairn import FILE --as KEY2)",
                    taken.join(", ")
                )));
            }
            let file_name = opts.file_name.clone().unwrap_or_else(|| {
                path.file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
            let id: i64 = db
                .query_one(
                    "INSERT INTO import_runs (fingerprint, file_name, space_keys, node_id, upload, upload_owned, as_key)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    &[
                        &archive.fingerprint,
                        &file_name,
                        &keys,
                        &opts.node_id,
                        &path.to_string_lossy().into_owned(),
                        &opts.upload_owned,
                        &opts.as_key,
                    ],
                )
                .await?
                .get(0);
            RunRef { id, attempt: 1 }
        }
    };
    drop(db);
    if let Some(tell) = &opts.on_start {
        let _ = tell.send(run.id);
    }
    execute(pool, store, prep, run, started).await
}

/// Takes over the run `id` whose heartbeat stopped, if it is still
/// unclaimed: the leader's `import-resume` job. `None` when another node
/// was quicker or the run ended meanwhile.
pub(crate) async fn take_over_stale(
    pool: &Pool,
    node_id: &str,
) -> Result<Option<RunRef>, ImportError> {
    let db = pool.get().await?;
    let row = db
        .query_opt(
            "UPDATE import_runs SET attempt = attempt + 1, node_id = $2, updated_at = now(), phase_started_at = NULL
             WHERE id = (SELECT id FROM import_runs
                         WHERE status = 'running' AND upload IS NOT NULL
                           AND updated_at < now() - $1 * interval '1 second'
                         ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING id, attempt",
            &[&stale_secs(), &node_id],
        )
        .await?;
    Ok(row.map(|r| RunRef {
        id: r.get(0),
        attempt: r.get(1),
    }))
}

/// Runs a claimed run to its end from its checkpoints.
pub(crate) async fn resume(
    pool: &Pool,
    store: &crate::attach::Store,
    run: RunRef,
) -> Result<Report, ImportError> {
    let started = Instant::now();
    let row = pool
        .get()
        .await?
        .query_one(
            "SELECT upload, upload_owned, as_key, fingerprint, space_keys FROM import_runs WHERE id = $1",
            &[&run.id],
        )
        .await?;
    let (upload, owned, as_key): (Option<String>, bool, Option<String>) =
        (row.get(0), row.get(1), row.get(2));
    let (fingerprint, keys): (String, Vec<String>) = (row.get(3), row.get(4));
    let r = async {
        let run = run.clone();
        let path = upload
            .as_deref()
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .ok_or_else(|| {
                ImportError::Io(format!(
                    "the export file {} cannot be read from this node: start the import again",
                    upload.as_deref().unwrap_or("(none recorded)")
                ))
            })?;
        let prep = prepare(&path, as_key.as_deref()).await?;
        if prep.archive.fingerprint != fingerprint {
            return Err(ImportError::Invalid(format!(
                "the export file {} changed since the import began: start the import again",
                path.display()
            )));
        }
        let planned: Vec<String> = prep.plan.spaces.iter().map(|s| s.key.clone()).collect();
        if planned != keys {
            return Err(ImportError::Invalid(format!(
                "the export now plans spaces {} instead of {}: start the import again",
                planned.join(", "),
                keys.join(", ")
            )));
        }
        tracing::info!(
            import = run.id,
            attempt = run.attempt,
            "resuming an interrupted import"
        );
        execute(pool, store, prep, run, started).await
    }
    .await;
    if let Err(e) = &r {
        if !matches!(e, ImportError::Superseded(_)) {
            // Failures before `execute` (which marks its own).
            mark_failed(pool, &run, e).await;
        }
    }
    if owned && !matches!(r, Err(ImportError::Superseded(_))) {
        if let Some(u) = &upload {
            let _ = tokio::fs::remove_file(u).await;
        }
    }
    r
}

async fn mark_failed(pool: &Pool, run: &RunRef, e: &ImportError) {
    tracing::warn!(import = run.id, error = %e, "import failed");
    if let Ok(db) = pool.get().await {
        let n = db
            .execute(
                "UPDATE import_runs SET status = 'failed', error = $3, finished_at = now(), updated_at = now()
                 WHERE id = $1 AND attempt = $2 AND status = 'running'",
                &[&run.id, &run.attempt, &e.to_string()],
            )
            .await
            .unwrap_or(0);
        if n > 0 {
            let _ = stage::discard(&db, run.id).await;
        }
    }
}

async fn execute(
    pool: &Pool,
    store: &crate::attach::Store,
    prep: Prepared,
    run: RunRef,
    started: Instant,
) -> Result<Report, ImportError> {
    let progress = Arc::new(Progress::default());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let ticker = tokio::spawn(super::progress::tick(
        pool.clone(),
        run.clone(),
        progress.clone(),
        stop_rx,
    ));
    let result = body(pool, store, prep, &run, &progress, started).await;
    let _ = stop_tx.send(());
    let _ = ticker.await;
    match result {
        Ok(r) => Ok(r),
        Err(e @ ImportError::Superseded(_)) => {
            tracing::warn!(import = run.id, attempt = run.attempt, "{e}");
            Err(e)
        }
        Err(e) => {
            mark_failed(pool, &run, &e).await;
            Err(e)
        }
    }
}

#[derive(serde::Deserialize)]
struct ReportIn {
    #[serde(default)]
    spaces: Vec<SpaceReport>,
}

/// Records copied files as the run's checkpoint, if the run is still ours.
async fn record_files(
    pool: &Pool,
    run: &RunRef,
    batch: &[(i64, Stored)],
) -> Result<(), ImportError> {
    let mut db = pool.get().await?;
    let tx = db.transaction().await?;
    let n = tx
        .execute(
            "UPDATE import_runs SET updated_at = now() WHERE id = $1 AND attempt = $2 AND status = 'running'",
            &[&run.id, &run.attempt],
        )
        .await?;
    if n == 0 {
        return Err(run.superseded());
    }
    let ids: Vec<i64> = batch.iter().map(|(i, _)| *i).collect();
    let shas: Vec<&str> = batch.iter().map(|(_, s)| s.sha256.as_str()).collect();
    let sizes: Vec<i64> = batch.iter().map(|(_, s)| s.size as i64).collect();
    tx.execute(
        "INSERT INTO import_files (import_id, old_id, sha256, size)
         SELECT $1, i, s, z FROM unnest($2::bigint[], $3::text[], $4::bigint[]) AS f(i, s, z)
         ON CONFLICT DO NOTHING",
        &[&run.id, &ids, &shas, &sizes],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn body(
    pool: &Pool,
    store: &crate::attach::Store,
    prep: Prepared,
    run: &RunRef,
    progress: &Arc<Progress>,
    started: Instant,
) -> Result<Report, ImportError> {
    let Prepared {
        archive,
        model,
        plan,
        mut report,
    } = prep;
    report.import_id = run.id;
    report.attempt = run.attempt;
    let plan = Arc::new(plan);

    // Files first, outside the final transaction (content-addressed: a
    // failed import leaves only unreferenced files), each checkpointed.
    let done: HashMap<i64, Stored> = pool
        .get()
        .await?
        .query(
            "SELECT old_id, sha256, size FROM import_files WHERE import_id = $1",
            &[&run.id],
        )
        .await?
        .iter()
        .map(|r| {
            (
                r.get::<_, i64>(0),
                Stored {
                    sha256: r.get(1),
                    size: r.get::<_, i64>(2) as u64,
                },
            )
        })
        .collect();
    let files_before = done.len();
    progress.phase("files", plan.files.len() as u64);
    let (a, pl, st, pr, po, rn) = (
        archive.clone(),
        plan.clone(),
        store.clone(),
        progress.clone(),
        pool.clone(),
        run.clone(),
    );
    let handle = tokio::runtime::Handle::current();
    let (stored, r) = tokio::task::spawn_blocking(move || {
        let mut report = report;
        let stored = files::copy_all(
            &a,
            &pl,
            &st,
            &mut report,
            &done,
            &|n| {
                pr.done.store(n, Ordering::Relaxed);
                !pr.lost.load(Ordering::Relaxed)
            },
            &|batch| handle.block_on(record_files(&po, &rn, batch)),
        )?;
        Ok::<_, ImportError>((stored, report))
    })
    .await
    .map_err(blocking_err)??;
    report = r;

    // Bodies, staged in committed chunks.
    let (stats, written) = stage::stage_bodies(pool, &archive, &plan, run, progress).await?;
    if run.attempt > 1 {
        report.resumed = Some(format!(
            "attempt {}: {files_before} of {} attachment files and {} of {} BodyContent objects were done by an earlier attempt",
            run.attempt,
            plan.files.len(),
            stats.resumed_from,
            stats.bodies,
        ));
    }

    // The final transaction: everything visible at once, or nothing.
    progress.phase("writing", plan.rows.len() as u64);
    let mut db = pool.get().await?;
    let tx = db.transaction().await?;
    // A node that dies mid-statement must not leave its backend working
    // (and holding locks) until the statement ends.
    tx.batch_execute("SET LOCAL client_connection_check_interval = '2s'")
        .await?;
    let mut w = write::Writer::new(&tx, &model, &plan, &archive, run.id);
    w.prepare(&mut report).await?;
    w.contents(&mut report, &stored, &stats, &written).await?;
    progress
        .done
        .store(plan.rows.len() as u64, Ordering::Relaxed);
    progress.phase("relations", 0);
    w.relations(&mut report).await?;
    crate::content::task_index::backfill_in(&tx).await?;
    stage::discard(&tx, run.id).await?;
    report.seconds = started.elapsed().as_secs_f64();
    let json = serde_json::to_value(&report).unwrap_or_default();
    let n = tx
        .execute(
            "UPDATE import_runs SET status = 'done', phase = 'done', finished_at = now(), updated_at = now(),
                 report = $3, done = $4, total = $4, staged = '{}'
             WHERE id = $1 AND attempt = $2 AND status = 'running'",
            &[&run.id, &run.attempt, &json, &(report.versions as i64)],
        )
        .await?;
    if n == 0 {
        return Err(run.superseded());
    }
    tx.commit().await?;
    Ok(report)
}
