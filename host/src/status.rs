//! Readiness: whether this node finished its start-up work.
//!
//! Invariant: set once, never unset; `/status` (`http/status.rs`) answers
//! STARTING until it is set.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Set once start-up work (migrations, caches) has finished.
#[derive(Debug, Default, Clone)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }
    pub(crate) fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}
