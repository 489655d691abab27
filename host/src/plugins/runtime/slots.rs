//! Instance slots: at most `max_instances` plugin calls run at once on a
//! node, and callers beyond them wait in a bounded queue.
//!
//! Invariant: a request-path caller waits only if fewer than
//! `QUEUE_PER_SLOT` per slot wait already, and at most `MAX_QUEUE_WAIT`;
//! otherwise it fails at once as busy. A slot is returned when its guard
//! drops, whatever the call did.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::Failure;
use crate::sync::Recover;

/// Top-level calls that may wait for an instance slot, per slot; beyond that
/// a call fails at once as busy rather than queueing without bound.
pub(super) const QUEUE_PER_SLOT: u32 = 8;

/// Longest a call waits for an instance slot before failing as busy.
pub const MAX_QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Counting semaphore for instance slots with a bounded queue: callers
/// beyond the bound wait, but only so many and only so long.
pub(super) struct Slots {
    pub(super) state: Mutex<SlotState>,
    pub(super) cv: Condvar,
    pub(super) max_waiting: u32,
}

pub(super) struct SlotState {
    pub(super) free: u32,
    pub(super) waiting: u32,
}

pub(super) struct SlotGuard<'a>(&'a Slots);

impl Slots {
    /// `free` slots, with room for `QUEUE_PER_SLOT` waiting callers each.
    pub(super) fn new(free: u32) -> Slots {
        Slots::with_queue(free, free * QUEUE_PER_SLOT)
    }

    fn with_queue(free: u32, max_waiting: u32) -> Slots {
        Slots {
            state: Mutex::new(SlotState { free, waiting: 0 }),
            cv: Condvar::new(),
            max_waiting,
        }
    }

    /// A slot, waiting at most `wait` and only if fewer than `max_waiting`
    /// wait already; `None`: wait as long as it takes, however many wait.
    pub(super) fn acquire(&self, wait: Option<Duration>) -> Result<SlotGuard<'_>, Failure> {
        let mut st = self.state.lock().recover();
        if st.free > 0 {
            st.free -= 1;
            return Ok(SlotGuard(self));
        }
        if wait.is_some() && st.waiting >= self.max_waiting {
            return Err(Failure::Busy);
        }
        st.waiting += 1;
        // An hour stands for "as long as it takes" (and keeps the Instant
        // arithmetic finite).
        let until = Instant::now() + wait.unwrap_or(Duration::from_secs(3600));
        while st.free == 0 {
            let now = Instant::now();
            if now >= until {
                st.waiting -= 1;
                return Err(Failure::Busy);
            }
            st = self.cv.wait_timeout(st, until - now).recover().0;
        }
        st.waiting -= 1;
        st.free -= 1;
        Ok(SlotGuard(self))
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let mut st = self.0.state.lock().recover();
        st.free += 1;
        self.0.cv.notify_one();
    }
}

#[cfg(test)]
mod slot_tests {
    use super::*;
    use std::sync::Arc;

    fn slots(free: u32, max_waiting: u32) -> Slots {
        Slots::with_queue(free, max_waiting)
    }

    #[test]
    fn a_full_queue_fails_as_busy_at_once() {
        let s = slots(1, 0);
        let held = s.acquire(Some(Duration::from_secs(60))).ok();
        assert!(held.is_some());
        let started = Instant::now();
        assert_eq!(
            s.acquire(Some(Duration::from_secs(60))).err(),
            Some(Failure::Busy)
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn waiters_give_up_after_the_wait_and_get_a_freed_slot_before() {
        let s = Arc::new(slots(1, 4));
        let held = s.acquire(Some(Duration::ZERO)).ok();
        assert!(held.is_some());
        assert_eq!(
            s.acquire(Some(Duration::from_millis(20))).err(),
            Some(Failure::Busy)
        );
        // Unbounded waits ignore the queue limit.
        let none_free = slots(0, 0);
        assert_eq!(
            none_free.acquire(Some(Duration::ZERO)).err(),
            Some(Failure::Busy)
        );
        let waiter = {
            let s = s.clone();
            std::thread::spawn(move || s.acquire(None).is_ok())
        };
        std::thread::sleep(Duration::from_millis(20));
        drop(held);
        assert!(waiter.join().unwrap());
        assert_eq!(s.state.lock().recover().waiting, 0);
    }
}
