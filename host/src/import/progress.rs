//! An import's progress: phase and counters the importer bumps as it goes,
//! written to `import_runs` about twice a second so every node's admin page
//! and the REST status show it.
//!
//! Invariant: the counters are only ever read to be shown; nothing decides
//! on them, so a lost or late tick costs a stale bar, never a wrong import.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::db::Pool;
use crate::sync::Recover;

/// Phase and counters, written to `import_runs` about twice a second.
#[derive(Default)]
pub(crate) struct Progress {
    pub phase: Mutex<String>,
    pub done: AtomicU64,
    pub total: AtomicU64,
}

impl Progress {
    pub(crate) fn phase(&self, p: &str, total: u64) {
        *self.phase.lock().recover() = p.to_owned();
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        tracing::info!(phase = p, total, "import phase");
    }
}

pub(super) async fn tick(
    pool: Pool,
    run_id: i64,
    progress: Arc<Progress>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut stop => return,
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        let phase = progress.phase.lock().recover().clone();
        let done = progress.done.load(Ordering::Relaxed) as i64;
        let total = progress.total.load(Ordering::Relaxed) as i64;
        if let Ok(db) = pool.get().await {
            let _ = db
                .execute(
                    "UPDATE import_runs SET phase = $2, done = $3, total = $4, updated_at = now() WHERE id = $1 AND status = 'running'",
                    &[&run_id, &phase, &done, &total],
                )
                .await;
        }
    }
}
