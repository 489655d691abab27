//! An import's progress: phase and counters the importer bumps as it goes,
//! written to `import_runs` about twice a second so every node's admin page,
//! the CLI and REST show it (with the phase's start, for rate and time left).
//! The same write is the run's heartbeat: a run whose heartbeat stops is
//! taken over by the leader (`resume`).
//!
//! Invariants: the counters are only ever read to be shown; nothing decides
//! on them, so a lost or late tick costs a stale bar, never a wrong import.
//! A tick that finds the run owned by a later attempt sets `lost`, and the
//! importer stops at its next checkpoint.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::RunRef;
use crate::db::Pool;
use crate::sync::Recover;

/// Phase and counters, written to `import_runs` about twice a second.
#[derive(Default)]
pub(crate) struct Progress {
    pub phase: Mutex<String>,
    /// Bumped when the phase changes, so the tick resets its start.
    pub phase_no: AtomicU64,
    pub done: AtomicU64,
    pub total: AtomicU64,
    /// Another attempt owns the run now: stop.
    pub lost: AtomicBool,
}

impl Progress {
    pub(crate) fn phase(&self, p: &str, total: u64) {
        *self.phase.lock().recover() = p.to_owned();
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.phase_no.fetch_add(1, Ordering::Relaxed);
        tracing::info!(phase = p, total, "import phase");
    }
}

pub(super) async fn tick(
    pool: Pool,
    run: RunRef,
    progress: Arc<Progress>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let mut seen_phase = u64::MAX;
    loop {
        tokio::select! {
            _ = &mut stop => return,
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        let phase = progress.phase.lock().recover().clone();
        let phase_no = progress.phase_no.load(Ordering::Relaxed);
        let new_phase = phase_no != seen_phase;
        let done = progress.done.load(Ordering::Relaxed) as i64;
        let total = progress.total.load(Ordering::Relaxed) as i64;
        if let Ok(db) = pool.get().await {
            let r = db
                .execute(
                    "UPDATE import_runs SET phase = $3, done = $4, total = $5, updated_at = now(),
                         phase_started_at = CASE WHEN $6 OR phase_started_at IS NULL THEN now() ELSE phase_started_at END
                     WHERE id = $1 AND attempt = $2 AND status = 'running'",
                    &[&run.id, &run.attempt, &phase, &done, &total, &new_phase],
                )
                .await;
            match r {
                Ok(0) => {
                    tracing::warn!(
                        import = run.id,
                        attempt = run.attempt,
                        "the import run is no longer this attempt's: stopping"
                    );
                    progress.lost.store(true, Ordering::Relaxed);
                    return;
                }
                Ok(_) => seen_phase = phase_no,
                Err(e) => tracing::debug!(import = run.id, error = %e, "progress not written"),
            }
        }
    }
}
