//! The wasmtime side of plugins: one engine per process, components compiled
//! once (and cached on disk), each call in a fresh store with a deadline, a
//! memory limit and a bound on host calls, and the host capabilities a plugin
//! was granted — nothing else is linked. This module is the engine itself;
//! `compile.rs` (checking, compiling, inspecting, linking), `call.rs` (one
//! call), `slots.rs` (how many at once), `limits.rs` (limits and failures),
//! `clocks.rs` (time for guests), `host.rs` (a call's host side and the
//! `log`/`config` capabilities), `content_cap.rs`, `kv_cap.rs`, `queries.rs`
//! and `reads.rs` (the data capabilities and their replayable reads).
//!
//! Invariant: one `Engine` per process, with an epoch ticker every `TICK`;
//! its pooling allocator holds `max_instances` chains of `MAX_NESTING`
//! component instances, so a running call never waits for memory.

mod call;
mod clocks;
mod compile;
mod content_cap;
mod host;
mod kv_cap;
mod limits;
mod people_cap;
mod queries;
pub(crate) mod reads;
mod slots;
mod tasks_cap;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

pub use call::{depth, time_left};
pub use compile::Inspection;
pub use host::{CallEnv, HostState};
pub use limits::{
    bounded_message, default_limits, escape_log, set_default_limits, CallLimits, Failure, Limiter,
    DEFAULT_MEMORY_MIB, DEFAULT_TIMEOUT_MS, KV_QUOTA_BYTES, MAX_HOST_CALLS, MAX_MESSAGE_BYTES,
    MAX_OUTPUT_BYTES,
};
use slots::Slots;
pub use slots::MAX_QUEUE_WAIT;

use super::manifest::MAX_MEMORY_MIB;

pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "cairn:plugin/full-plugin",
        imports: { default: trappable },
    });
}

pub use bindings::cairn::plugin::types as wit;
pub use bindings::exports::cairn::plugin::admin as wit_admin;
pub use bindings::exports::cairn::plugin::events as wit_events;
pub use bindings::exports::cairn::plugin::macros as wit_macros;

/// The WIT package version this host implements. Plugins built against any
/// `0.1.x` load (see PLUGINS.md, "Versioning").
pub(crate) const WIT_VERSION: (u64, u64, u64) = (0, 1, 0);

/// Concurrent plugin instances per node (more callers wait).
pub(crate) const DEFAULT_MAX_INSTANCES: u32 = 16;
/// Memory reset by zeroing rather than by returning it to the kernel: a
/// fresh instance then reuses warm pages without page faults or TLB flushes.
const KEEP_RESIDENT: usize = 2 << 20;
/// Plugin calls one top-level call may nest (include macros render pages).
pub(crate) const MAX_NESTING: u32 = 4;

/// Epoch tick: the deadline's resolution.
const TICK: Duration = Duration::from_millis(1);

/// The process's plugin engine.
pub struct Runtime {
    engine: Engine,
    slots: Slots,
    max_instances: u32,
    stop: Arc<AtomicBool>,
    compat: String,
    /// Components compiled by this process, by content hash: a test process
    /// (many nodes, each with an empty local home) or a node that validates
    /// then loads a component compiles it once.
    compiled: Mutex<std::collections::HashMap<String, Component>>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

static GLOBAL: OnceLock<Arc<Runtime>> = OnceLock::new();

impl Runtime {
    /// The process-wide runtime (one engine per process), created on first use
    /// with `max_instances` concurrent instances (later values are ignored).
    pub(crate) fn global(max_instances: u32) -> anyhow::Result<Arc<Runtime>> {
        if let Some(r) = GLOBAL.get() {
            return Ok(r.clone());
        }
        let r = Arc::new(Runtime::new(max_instances)?);
        Ok(GLOBAL.get_or_init(|| r).clone())
    }

    fn new(max_instances: u32) -> anyhow::Result<Runtime> {
        let n = max_instances.max(1);
        let mut pool = PoolingAllocationConfig::default();
        // One component instance per call; a Rust component has a handful of
        // core instances, an interpreter-based one (Python, JS) more.
        // Includes nest plugin calls (a call renders another page whose
        // macros are calls): each slot may hold a chain of MAX_NESTING.
        let total = n * MAX_NESTING;
        pool.total_component_instances(total)
            .total_core_instances(total * 32)
            .max_core_instances_per_component(32)
            .total_memories(total * 4)
            .max_memories_per_component(4)
            .total_tables(total * 16)
            .max_tables_per_component(16)
            .max_memory_size((MAX_MEMORY_MIB as usize) << 20)
            .max_unused_warm_slots(n)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(64 * 1024);
        let mut cfg = Config::new();
        cfg.wasm_component_model(true)
            .epoch_interruption(true)
            .max_wasm_stack(512 * 1024)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&cfg).map_err(|e| anyhow::anyhow!("plugin engine: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("cairn-plugin-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        engine.increment_epoch();
                    }
                })?;
        }
        let compat = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut h);
            env!("CARGO_PKG_VERSION").hash(&mut h);
            format!("{:016x}", h.finish())
        };
        Ok(Runtime {
            engine,
            slots: Slots::new(n),
            max_instances: n,
            stop,
            compat,
            compiled: Mutex::default(),
        })
    }

    pub fn max_instances(&self) -> u32 {
        self.max_instances
    }
}
