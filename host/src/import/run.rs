//! One import from start to end: open, first pass, plan, refuse conflicts
//! (or answer "already imported"), copy files, then the one transaction
//! (`write`) fed by the second pass; progress on the `import_runs` row.
//!
//! Invariant: the run row is committed first and always ends `done` (in
//! the import's own transaction) or `failed` (with the error), so every
//! node and every client can tell what happened; a re-import of the same
//! export into the same keys changes nothing.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::archive::Archive;
use super::model::Model;
use super::progress::Progress;
use super::xml::ObjectReader;
use super::{files, plan, write, ImportError, Options, Report, SpaceReport};
use crate::db::Pool;

fn blocking_err(e: tokio::task::JoinError) -> ImportError {
    ImportError::Io(format!("the import thread failed: {e}"))
}

pub(crate) async fn run(
    pool: &Pool,
    store: &crate::attach::Store,
    path: &Path,
    opts: &Options,
) -> Result<Report, ImportError> {
    let started = Instant::now();
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
    let plan = plan::plan(&model, opts.as_key.as_deref(), &mut report)?;

    // Conflicts, or the same import again.
    let keys: Vec<String> = plan.spaces.iter().map(|s| s.key.clone()).collect();
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
    let run_id: i64 = db
        .query_one(
            "INSERT INTO import_runs (fingerprint, file_name, space_keys, node_id) VALUES ($1, $2, $3, $4) RETURNING id",
            &[&archive.fingerprint, &file_name, &keys, &opts.node_id],
        )
        .await?
        .get(0);
    drop(db);
    report.import_id = run_id;
    if let Some(tell) = &opts.on_start {
        let _ = tell.send(run_id);
    }

    let progress = Arc::new(Progress::default());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let ticker = tokio::spawn(super::progress::tick(
        pool.clone(),
        run_id,
        progress.clone(),
        stop_rx,
    ));
    let result = body(
        pool, store, archive, model, plan, report, run_id, &progress, started,
    )
    .await;
    let _ = stop_tx.send(());
    let _ = ticker.await;
    match result {
        Ok(r) => Ok(r),
        Err(e) => {
            tracing::warn!(import = run_id, error = %e, "import failed");
            if let Ok(db) = pool.get().await {
                let _ = db
                    .execute(
                        "UPDATE import_runs SET status = 'failed', error = $2, finished_at = now(), updated_at = now() WHERE id = $1",
                        &[&run_id, &e.to_string()],
                    )
                    .await;
            }
            Err(e)
        }
    }
}

#[derive(serde::Deserialize)]
struct ReportIn {
    #[serde(default)]
    spaces: Vec<SpaceReport>,
}

#[allow(clippy::too_many_arguments)]
async fn body(
    pool: &Pool,
    store: &crate::attach::Store,
    archive: Arc<Archive>,
    model: Model,
    plan: plan::Plan,
    mut report: Report,
    run_id: i64,
    progress: &Arc<Progress>,
    started: Instant,
) -> Result<Report, ImportError> {
    let plan = Arc::new(plan);
    // Files first, outside the transaction (content-addressed: a failed
    // import leaves only unreferenced files).
    let n_files = plan.files.len() as u64;
    progress.phase("files", n_files);
    let (a, pl, st, pr) = (
        archive.clone(),
        plan.clone(),
        store.clone(),
        progress.clone(),
    );
    let (stored, r) = tokio::task::spawn_blocking(move || {
        let mut report = report;
        let stored = files::copy_all(&a, &pl, &st, &mut report, &|n| {
            pr.done.store(n, Ordering::Relaxed)
        })?;
        Ok::<_, ImportError>((stored, report))
    })
    .await
    .map_err(blocking_err)??;
    report = r;

    let mut db = pool.get().await?;
    let tx = db.transaction().await?;
    let mut w = write::Writer::new(&tx, &model, &plan, &archive, run_id);
    w.prepare(&mut report).await?;
    progress.phase("versions", plan.rows.len() as u64);
    w.contents(&mut report, stored, progress).await?;
    progress.phase("relations", 0);
    w.relations(&mut report).await?;
    crate::content::task_index::backfill_in(&tx).await?;
    report.seconds = started.elapsed().as_secs_f64();
    let json = serde_json::to_value(&report).unwrap_or_default();
    tx.execute(
        "UPDATE import_runs SET status = 'done', phase = 'done', finished_at = now(), updated_at = now(),
             report = $2, done = $3, total = $3 WHERE id = $1",
        &[&run_id, &json, &(report.versions as i64)],
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}
