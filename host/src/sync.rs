//! Locks that outlive a panic.
//!
//! Invariant: a poisoned lock is recovered, never propagated. Every value
//! the host keeps behind a `std::sync` lock is valid after any single
//! assignment (a cache, a pointer, a counter), so a panic in another thread
//! while it held the lock leaves nothing half-written that a reader could
//! trip on; taking the guard keeps the node serving instead of turning one
//! panic into a panic on every later request.

use std::sync::{LockResult, PoisonError};

/// `lock()`, `read()` and `write()` results, taken whether or not the lock
/// was poisoned.
pub(crate) trait Recover<G> {
    fn recover(self) -> G;
}

impl<G> Recover<G> for LockResult<G> {
    fn recover(self) -> G {
        self.unwrap_or_else(PoisonError::into_inner)
    }
}
