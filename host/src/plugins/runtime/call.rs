//! One call into a component: a fresh store with its limits, a slot (for a
//! top-level call), a deadline, and nesting for calls made while another
//! runs on the same thread (includes).
//!
//! Invariants: every call runs in a fresh store with a memory limiter and an
//! epoch deadline; a nested call takes no slot (its caller holds one) and
//! never outlives its caller's deadline; calls nest at most `MAX_NESTING`
//! deep.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{Instance, InstancePre, ResourceTable};
use wasmtime::Store;
use wasmtime_wasi::WasiCtx;

use super::clocks::{FrozenMonotonicClock, FrozenWallClock};
use super::limits::classify;
use super::{
    CallEnv, CallLimits, Failure, HostState, Limiter, Runtime, MAX_NESTING, MAX_QUEUE_WAIT, TICK,
};

thread_local! {
    /// Plugin calls running on this thread (nested calls take no new slot:
    /// their caller already holds one, and waiting would deadlock).
    static DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// The deadline of the call running on this thread: a nested call
    /// (a page an include renders) never outlives its caller.
    static DEADLINE: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// Time left before the deadline of the plugin call running on this thread.
pub fn time_left() -> Option<Duration> {
    DEADLINE
        .with(|d| d.get())
        .map(|d| d.saturating_duration_since(Instant::now()))
}

/// Plugin calls running on this thread (0: none, so a new call is top-level).
pub fn depth() -> u32 {
    DEPTH.with(|c| c.get())
}

pub(super) struct DepthGuard;

impl DepthGuard {
    fn enter() -> (DepthGuard, u32) {
        let d = DEPTH.with(|c| {
            let d = c.get();
            c.set(d + 1);
            d
        });
        (DepthGuard, d)
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DEPTH.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

impl Runtime {
    /// Runs `f` on a fresh instance of `pre` with the given limits, after
    /// taking an instance slot (a top-level call). On the request path
    /// (`bounded`) the wait for a slot is bounded by the queue limit and
    /// [`MAX_QUEUE_WAIT`], beyond which the call fails as [`Failure::Busy`];
    /// otherwise it waits as long as it takes (loading, admin pages and
    /// events: work that must not be dropped because pages are busy).
    pub(crate) fn call<R>(
        &self,
        pre: &InstancePre<HostState>,
        limits: CallLimits,
        env: Arc<CallEnv>,
        bounded: bool,
        f: impl FnOnce(&mut Store<HostState>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<R, Failure> {
        let wait = bounded.then_some(MAX_QUEUE_WAIT);
        let (_depth, depth) = DepthGuard::enter();
        if depth >= MAX_NESTING {
            return Err(Failure::Host(format!(
                "plugin calls nest more than {MAX_NESTING} deep"
            )));
        }
        let _slot = match depth {
            0 => Some(self.slots.acquire(wait)?),
            _ => None,
        };
        // A nested call ends by its caller's deadline at the latest.
        let now = Instant::now();
        let mut deadline = now + Duration::from_millis(u64::from(limits.timeout_ms));
        let outer = DEADLINE.with(|d| d.get());
        if let Some(o) = outer.filter(|_| depth > 0) {
            deadline = deadline.min(o);
        }
        let _deadline = DeadlineGuard::set(deadline, outer);
        let mut wasi = WasiCtx::builder();
        wasi.wall_clock(FrozenWallClock)
            .monotonic_clock(FrozenMonotonicClock);
        let state = HostState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: Limiter {
                memory_bytes: (limits.memory_mib as usize) << 20,
                denied: false,
            },
            env,
            host_calls: 0,
            log_bytes: 0,
            host_error: None,
            deadline,
            timeout_ms: limits.timeout_ms,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        let left = deadline.saturating_duration_since(now);
        let ticks = (left.as_micros() as u64 / TICK.as_micros() as u64).max(1) + 1;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        let result = pre
            .instantiate(&mut store)
            .and_then(|instance| f(&mut store, &instance));
        let state = store.data();
        match result {
            Ok(r) => Ok(r),
            Err(e) => Err(classify(e, state, limits)),
        }
    }
}

pub(super) struct DeadlineGuard(Option<Instant>);

impl DeadlineGuard {
    fn set(deadline: Instant, outer: Option<Instant>) -> DeadlineGuard {
        DEADLINE.with(|d| d.set(Some(deadline)));
        DeadlineGuard(outer)
    }
}

impl Drop for DeadlineGuard {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.0));
    }
}
