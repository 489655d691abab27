//! The wasmtime side of plugins: one engine per process, components compiled
//! once (and cached on disk), each call in a fresh store with a deadline, a
//! memory limit and a bound on host calls, and the host capabilities a plugin
//! was granted — nothing else is linked.

use crate::sync::Recover;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Instance, InstancePre, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::manifest::{Capability, MAX_MEMORY_MIB};
use crate::perms::Viewer;

pub mod bindings {
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
pub const WIT_PACKAGE: &str = "cairn:plugin";
pub const WIT_VERSION: (u64, u64, u64) = (0, 1, 0);

/// Defaults for one call.
pub const DEFAULT_TIMEOUT_MS: u32 = 100;
pub const DEFAULT_MEMORY_MIB: u32 = 32;
static DEFAULT_LIMITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(
    ((DEFAULT_TIMEOUT_MS as u64) << 32) | DEFAULT_MEMORY_MIB as u64,
);

/// The limits of a plugin that sets none (live settings
/// `plugin_time_limit_ms` and `plugin_memory_limit_mb`).
pub fn set_default_limits(timeout_ms: u32, memory_mib: u32) {
    DEFAULT_LIMITS.store(
        (u64::from(timeout_ms) << 32) | u64::from(memory_mib),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// See [`set_default_limits`]: (time limit in ms, memory limit in MiB).
pub fn default_limits() -> (u32, u32) {
    let v = DEFAULT_LIMITS.load(std::sync::atomic::Ordering::Relaxed);
    ((v >> 32) as u32, v as u32)
}

/// Largest HTML a macro may return.
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;
/// Longest failure message shown or kept (a guest's own error text is cut
/// here, before it is escaped).
pub const MAX_MESSAGE_BYTES: usize = 2000;
/// Bytes (keys plus values) one plugin may keep in its key-value store.
pub const KV_QUOTA_BYTES: i64 = 32 * 1024 * 1024;
/// Top-level calls that may wait for an instance slot, per slot; beyond that
/// a call fails at once as busy rather than queueing without bound.
const QUEUE_PER_SLOT: u32 = 8;
/// Longest a call waits for an instance slot before failing as busy.
pub const MAX_QUEUE_WAIT: Duration = Duration::from_secs(5);
/// Host calls (capability functions) one plugin call may make.
pub const MAX_HOST_CALLS: u32 = 1000;
/// Log bytes one call may write.
const MAX_LOG_BYTES: usize = 64 * 1024;
/// Concurrent plugin instances per node (more callers wait).
pub const DEFAULT_MAX_INSTANCES: u32 = 16;
/// Memory reset by zeroing rather than by returning it to the kernel: a
/// fresh instance then reuses warm pages without page faults or TLB flushes.
const KEEP_RESIDENT: usize = 2 << 20;
/// Plugin calls one top-level call may nest (include macros render pages).
pub const MAX_NESTING: u32 = 4;

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

/// Cuts a message to [`MAX_MESSAGE_BYTES`] (at a character boundary) with a
/// note saying how much was left out.
pub fn bounded_message(m: &str) -> String {
    if m.len() <= MAX_MESSAGE_BYTES {
        return m.to_string();
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !m.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… (message cut: {} more bytes)", &m[..end], m.len() - end)
}

/// A log message on one line: line breaks and other control characters are
/// written as escapes, so a plugin cannot forge log lines.
pub fn escape_log(m: &str) -> String {
    let mut out = String::with_capacity(m.len());
    for c in m.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

struct DepthGuard;
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

/// Epoch tick: the deadline's resolution.
const TICK: Duration = Duration::from_millis(1);

/// Why a call failed, for the error box and the admin page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Timeout(u32),
    Memory(u32),
    StackOverflow,
    HostCalls,
    OutputTooLarge(usize),
    /// The guest trapped (panic, unreachable, bad memory access …).
    Trap(String),
    /// The guest returned an error of its own.
    Guest(String),
    /// The host could not serve a capability (e.g. the database is down).
    Host(String),
    /// Every instance slot is taken and the queue is full (or the wait was
    /// too long): the node is busy with other plugin calls.
    Busy,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Timeout(ms) => write!(f, "took longer than its time limit of {ms} ms"),
            Failure::Memory(mib) => write!(f, "used more than its memory limit of {mib} MiB"),
            Failure::StackOverflow => write!(f, "overflowed its stack (too deep a recursion)"),
            Failure::HostCalls => {
                write!(f, "made more than {MAX_HOST_CALLS} host calls in one call")
            }
            Failure::OutputTooLarge(n) => write!(
                f,
                "returned {n} bytes of output, more than the limit of {MAX_OUTPUT_BYTES}"
            ),
            Failure::Trap(m) => write!(f, "crashed: {m}"),
            Failure::Guest(m) => write!(f, "{m}"),
            Failure::Host(m) => write!(f, "host error: {m}"),
            Failure::Busy => write!(
                f,
                "not rendered: the server is busy with other plugin calls; reload the page in a moment"
            ),
        }
    }
}

/// Counting semaphore for instance slots with a bounded queue: callers
/// beyond the bound wait, but only so many and only so long.
struct Slots {
    state: Mutex<SlotState>,
    cv: Condvar,
    max_waiting: u32,
}

struct SlotState {
    free: u32,
    waiting: u32,
}

struct SlotGuard<'a>(&'a Slots);

impl Slots {
    /// A slot, waiting at most `wait` and only if fewer than `max_waiting`
    /// wait already; `None`: wait as long as it takes, however many wait.
    fn acquire(&self, wait: Option<Duration>) -> Result<SlotGuard<'_>, Failure> {
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

/// Compiled components kept in memory; beyond this the cache starts afresh.
const MAX_COMPILED_IN_MEMORY: usize = 64;

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

static GLOBAL: OnceLock<Arc<Runtime>> = OnceLock::new();

impl Runtime {
    /// The process-wide runtime (one engine per process), created on first use
    /// with `max_instances` concurrent instances (later values are ignored).
    pub fn global(max_instances: u32) -> anyhow::Result<Arc<Runtime>> {
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
            slots: Slots {
                state: Mutex::new(SlotState {
                    free: n,
                    waiting: 0,
                }),
                cv: Condvar::new(),
                max_waiting: n * QUEUE_PER_SLOT,
            },
            max_instances: n,
            stop,
            compat,
            compiled: Mutex::default(),
        })
    }

    pub fn max_instances(&self) -> u32 {
        self.max_instances
    }

    /// Checks that `bytes` is a component at all, with a message a plugin
    /// author can act on.
    pub fn check_binary(bytes: &[u8]) -> Result<(), String> {
        if bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
            return Err("not a WebAssembly file (it does not start with the \\0asm header)".into());
        }
        let layer = u16::from_le_bytes([bytes[6], bytes[7]]);
        if layer == 0 {
            return Err(
                "this is a core WebAssembly module, not a component: build it for the \
                 wasm32-wasip2 target (or wrap it with `wasm-tools component new`)"
                    .into(),
            );
        }
        if layer != 1 {
            return Err(format!("unknown WebAssembly layer {layer}"));
        }
        Ok(())
    }

    /// Compiles a component, or takes it from this process's in-memory cache,
    /// or loads it from the compiled cache in `cache_dir` (each keyed by
    /// content hash; the file also by engine compatibility).
    pub fn compile(
        &self,
        bytes: &[u8],
        hash: &str,
        cache_dir: Option<&Path>,
    ) -> Result<Component, String> {
        Self::check_binary(bytes)?;
        if let Some(c) = self.compiled.lock().recover().get(hash) {
            return Ok(c.clone());
        }
        let component = self.compile_uncached(bytes, hash, cache_dir)?;
        let mut compiled = self.compiled.lock().recover();
        if compiled.len() >= MAX_COMPILED_IN_MEMORY {
            compiled.clear();
        }
        compiled.insert(hash.to_string(), component.clone());
        Ok(component)
    }

    fn compile_uncached(
        &self,
        bytes: &[u8],
        hash: &str,
        cache_dir: Option<&Path>,
    ) -> Result<Component, String> {
        let cached = cache_dir.map(|d| d.join(format!("{hash}-{}.cwasm", self.compat)));
        if let Some(path) = &cached {
            if path.exists() {
                // SAFETY: the file is one this process family wrote with
                // `Component::serialize` for an engine with the same
                // compatibility hash, in the node's private local home;
                // wasmtime still checks the header and engine settings.
                match unsafe { Component::deserialize_file(&self.engine, path) } {
                    Ok(c) => return Ok(c),
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "compiled plugin cache unusable; recompiling");
                        let _ = std::fs::remove_file(path);
                    }
                }
            }
        }
        let component = Component::new(&self.engine, bytes).map_err(|e| {
            let msg = format!("{e:#}");
            if msg.contains("end of file") || msg.contains("unexpected end") {
                format!("the component is truncated or corrupt ({msg})")
            } else {
                format!("the component does not compile: {msg}")
            }
        })?;
        if let Some(path) = cached {
            if let Ok(ser) = component.serialize() {
                let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                if let Some(d) = path.parent() {
                    let _ = std::fs::create_dir_all(d);
                }
                if std::fs::write(&tmp, ser).is_ok() {
                    let _ = std::fs::rename(&tmp, &path);
                } else {
                    let _ = std::fs::remove_file(&tmp);
                }
            }
        }
        Ok(component)
    }

    /// What a component imports from Cairn (capabilities) and which of
    /// Cairn's interfaces it exports; an error for any import Cairn does not
    /// provide or a version it does not support.
    pub fn inspect(&self, component: &Component) -> Result<Inspection, String> {
        let ty = component.component_type();
        let mut out = Inspection::default();
        for (name, _) in ty.imports(&self.engine) {
            if name.starts_with("wasi:") {
                if !WASI_ALLOWED.iter().any(|p| name.starts_with(p)) {
                    return Err(format!(
                        "the component imports {name}, which Cairn does not provide to plugins"
                    ));
                }
                continue;
            }
            let (iface, version) = split_cairn(name).ok_or_else(|| {
                format!("the component imports {name}, which Cairn does not provide to plugins")
            })?;
            check_version(name, version)?;
            if iface == "types" {
                continue;
            }
            let cap = Capability::parse(iface).ok_or_else(|| {
                format!("the component imports {name}, which this Cairn does not provide")
            })?;
            out.imports.push(cap);
        }
        for (name, _) in ty.exports(&self.engine) {
            if let Some((iface, version)) = split_cairn(name) {
                check_version(name, version)?;
                match iface {
                    "macros" => out.exports_macros = true,
                    "admin" => out.exports_admin = true,
                    "events" => out.exports_events = true,
                    _ => {}
                }
            }
        }
        out.imports.sort();
        out.imports.dedup();
        Ok(out)
    }

    /// Links `component` with WASI (empty context) and exactly the granted
    /// capabilities, and pre-instantiates it.
    pub fn link(
        &self,
        component: &Component,
        granted: &[Capability],
    ) -> Result<InstancePre<HostState>, String> {
        let mut linker: Linker<HostState> = Linker::new(&self.engine);
        let err = |e: wasmtime::Error| format!("linking: {e:#}");
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(err)?;
        no_sleeping(&mut linker).map_err(err)?;
        bindings::cairn::plugin::types::add_to_linker::<HostState, HasSelf<HostState>>(
            &mut linker,
            |s| s,
        )
        .map_err(err)?;
        for cap in granted {
            match cap {
                Capability::Log => bindings::cairn::plugin::log::add_to_linker::<
                    HostState,
                    HasSelf<HostState>,
                >(&mut linker, |s| s),
                Capability::Content => bindings::cairn::plugin::content::add_to_linker::<
                    HostState,
                    HasSelf<HostState>,
                >(&mut linker, |s| s),
                Capability::Kv => bindings::cairn::plugin::kv::add_to_linker::<
                    HostState,
                    HasSelf<HostState>,
                >(&mut linker, |s| s),
                Capability::Config => bindings::cairn::plugin::config::add_to_linker::<
                    HostState,
                    HasSelf<HostState>,
                >(&mut linker, |s| s),
            }
            .map_err(err)?;
        }
        linker.instantiate_pre(component).map_err(|e| {
            let msg = format!("{e:#}");
            if msg.contains("cairn:plugin/") {
                format!("the component needs a capability that was not granted: {msg}")
            } else {
                format!("the component cannot be linked: {msg}")
            }
        })
    }

    /// Runs `f` on a fresh instance of `pre` with the given limits. Waits for
    /// an instance slot first, as long as it takes (loading, admin pages and
    /// events: work that must not be dropped because pages are busy).
    pub fn call<R>(
        &self,
        pre: &InstancePre<HostState>,
        limits: CallLimits,
        env: Arc<CallEnv>,
        f: impl FnOnce(&mut Store<HostState>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<R, Failure> {
        self.call_queued(pre, limits, env, None, f)
    }

    /// [`Runtime::call`] for the request path: the wait for a slot is
    /// bounded by the queue limit and [`MAX_QUEUE_WAIT`]; beyond them the call
    /// fails as [`Failure::Busy`].
    pub fn call_bounded<R>(
        &self,
        pre: &InstancePre<HostState>,
        limits: CallLimits,
        env: Arc<CallEnv>,
        f: impl FnOnce(&mut Store<HostState>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<R, Failure> {
        self.call_queued(pre, limits, env, Some(MAX_QUEUE_WAIT), f)
    }

    fn call_queued<R>(
        &self,
        pre: &InstancePre<HostState>,
        limits: CallLimits,
        env: Arc<CallEnv>,
        wait: Option<Duration>,
        f: impl FnOnce(&mut Store<HostState>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<R, Failure> {
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

struct DeadlineGuard(Option<Instant>);
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

/// A pollable that is ready at once.
struct Ready;
impl wasmtime_wasi::p2::Pollable for Ready {
    fn ready<'a, 'b>(
        &'a mut self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(std::future::ready(()))
    }
}

/// Guests get no way to wait: time stands still for them (frozen clocks), so
/// every clock subscription (`sleep`, a poll with a timeout) is ready at
/// once. A blocking wait would run in the host, where the epoch deadline
/// cannot interrupt it.
fn no_sleeping(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    use wasmtime::component::Resource;
    use wasmtime_wasi::p2::DynPollable;
    fn ready(table: &mut ResourceTable) -> wasmtime::Result<Resource<DynPollable>> {
        let r = table.push(Ready)?;
        wasmtime_wasi::p2::subscribe(table, r)
    }
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap(
        "subscribe-duration",
        |mut store: wasmtime::StoreContextMut<'_, HostState>, (_,): (u64,)| {
            Ok((ready(&mut store.data_mut().table)?,))
        },
    )?;
    clock.func_wrap(
        "subscribe-instant",
        |mut store: wasmtime::StoreContextMut<'_, HostState>, (_,): (u64,)| {
            Ok((ready(&mut store.data_mut().table)?,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The name wasmtime-wasi defines the monotonic clock under (guests built
/// against any 0.2.x resolve to it).
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

fn classify(e: wasmtime::Error, state: &HostState, limits: CallLimits) -> Failure {
    if state.limiter.denied {
        return Failure::Memory(limits.memory_mib);
    }
    if let Some(h) = &state.host_error {
        return h.clone();
    }
    if let Some(t) = e.downcast_ref::<wasmtime::Trap>() {
        return match t {
            wasmtime::Trap::Interrupt => Failure::Timeout(limits.timeout_ms),
            wasmtime::Trap::StackOverflow => Failure::StackOverflow,
            other => Failure::Trap(other.to_string()),
        };
    }
    let msg = format!("{e:#}");
    if msg.contains("resource limit exceeded") || msg.contains("memory") && msg.contains("limit") {
        return Failure::Memory(limits.memory_mib);
    }
    Failure::Trap(msg.lines().next().unwrap_or("").to_string())
}

const WASI_ALLOWED: &[&str] = &[
    "wasi:io/",
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
    "wasi:sockets/",
];

fn split_cairn(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("cairn:plugin/")?;
    Some(rest.split_once('@').unwrap_or((rest, "")))
}

fn check_version(name: &str, v: &str) -> Result<(), String> {
    let Some((major, minor, _)) = super::manifest::parse_version(v) else {
        return Err(format!("{name}: unversioned Cairn interface"));
    };
    let (hm, hn, _) = WIT_VERSION;
    if major != hm || (major == 0 && minor != hn) || (major == 0 && minor > hn) {
        return Err(format!(
            "{name}: built against cairn:plugin@{v}, but this Cairn supports {hm}.{hn}.x"
        ));
    }
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct Inspection {
    pub imports: Vec<Capability>,
    pub exports_macros: bool,
    pub exports_admin: bool,
    pub exports_events: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    pub timeout_ms: u32,
    pub memory_mib: u32,
}

/// What host functions need to answer a call.
pub struct CallEnv {
    pub plugin_id: String,
    /// Whose permissions content reads use.
    pub viewer: Viewer,
    pub pool: Option<deadpool_postgres::Pool>,
    pub handle: Option<tokio::runtime::Handle>,
    pub config: Arc<BTreeMap<String, String>>,
    pub log: Arc<super::PluginLog>,
    /// For capabilities that render pages (includes).
    pub plugins: Option<super::Plugins>,
    /// Set when the call read content or its key-value store.
    pub touched_data: AtomicBool,
}

pub struct Limiter {
    memory_bytes: usize,
    denied: bool,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.denied = true;
            return Ok(false);
        }
        Ok(true)
    }
    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Plugins get no clock: time stands still at the epoch.
struct FrozenWallClock;
impl wasmtime_wasi::HostWallClock for FrozenWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}
struct FrozenMonotonicClock;
impl wasmtime_wasi::HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// A store's data.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: Limiter,
    env: Arc<CallEnv>,
    host_calls: u32,
    log_bytes: usize,
    host_error: Option<Failure>,
    /// When the call must end; host calls (database reads, included pages)
    /// are cut off here too.
    deadline: Instant,
    timeout_ms: u32,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl HostState {
    /// Counts a host call; past the bound the call traps.
    fn tick(&mut self) -> wasmtime::Result<()> {
        self.host_calls += 1;
        if self.host_calls > MAX_HOST_CALLS {
            self.host_error = Some(Failure::HostCalls);
            return Err(wasmtime::Error::msg("too many host calls"));
        }
        Ok(())
    }

    /// Runs a database future for a capability; failures trap the call with
    /// a host error.
    fn db<T>(
        &mut self,
        f: impl AsyncFnOnce(&deadpool_postgres::Object, &Viewer) -> crate::error::Result<T>,
    ) -> wasmtime::Result<T> {
        self.tick()?;
        let (Some(pool), Some(handle)) = (self.env.pool.clone(), self.env.handle.clone()) else {
            self.host_error = Some(Failure::Host("no database in this context".into()));
            return Err(wasmtime::Error::msg("no database"));
        };
        let env = self.env.clone();
        // Whatever the plugin read here depends on the data (and, for
        // content, on the viewer): its output must not be cached viewer-less.
        env.touched_data.store(true, Ordering::Relaxed);
        let left = self.deadline.saturating_duration_since(Instant::now());
        let r = handle.block_on(async move {
            tokio::time::timeout(left, async {
                let db = pool
                    .get()
                    .await
                    .map_err(|e| crate::error::Error::Unavailable(e.to_string()))?;
                f(&db, &env.viewer).await
            })
            .await
        });
        match r {
            Ok(Ok(v)) => Ok(v),
            Err(_) => {
                self.host_error = Some(Failure::Timeout(self.timeout_ms));
                Err(wasmtime::Error::msg("deadline passed in a host call"))
            }
            Ok(Err(e)) => {
                self.host_error = Some(Failure::Host(e.to_string()));
                Err(wasmtime::Error::msg(e.to_string()))
            }
        }
    }
}

impl bindings::cairn::plugin::types::Host for HostState {}

impl bindings::cairn::plugin::log::Host for HostState {
    fn log(
        &mut self,
        level: bindings::cairn::plugin::log::Level,
        message: String,
    ) -> wasmtime::Result<()> {
        use bindings::cairn::plugin::log::Level;
        self.tick()?;
        self.log_bytes += message.len();
        if self.log_bytes > MAX_LOG_BYTES {
            return Ok(());
        }
        let plugin = &self.env.plugin_id;
        let message = escape_log(&message.chars().take(2000).collect::<String>());
        match level {
            Level::Trace => tracing::trace!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
        }
        let name = match level {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        self.env.log.push(name, message);
        Ok(())
    }
}

impl bindings::cairn::plugin::config::Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        self.tick()?;
        Ok(self.env.config.get(&key).cloned())
    }
    fn all(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        self.tick()?;
        Ok(self
            .env
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

const MAX_KV_KEY: usize = 256;
const MAX_KV_VALUE: usize = 1024 * 1024;

impl bindings::cairn::plugin::kv::Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        let id = self.env.plugin_id.clone();
        self.db(async move |db, _| {
            let row = crate::db::query_opt(
                db,
                "SELECT value FROM plugin_kv WHERE plugin_id = $1 AND key = $2",
                &[&id, &key],
            )
            .await?;
            Ok(row.map(|r| r.get(0)))
        })
    }
    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), String>> {
        if key.is_empty() || key.len() > MAX_KV_KEY {
            self.tick()?;
            return Ok(Err(format!("keys are 1 to {MAX_KV_KEY} bytes")));
        }
        if value.len() > MAX_KV_VALUE {
            self.tick()?;
            return Ok(Err(format!("values are at most {MAX_KV_VALUE} bytes")));
        }
        let id = self.env.plugin_id.clone();
        self.db(async move |db, _| {
            // The quota counts keys and values; the check and the write are
            // one statement (two concurrent writes may overshoot it by one
            // value at most).
            let n = crate::db::execute(
                db,
                "INSERT INTO plugin_kv (plugin_id, key, value)
                 SELECT $1::text, $2::text, $3::bytea
                 WHERE (SELECT coalesce(sum(octet_length(key) + octet_length(value)), 0)
                        FROM plugin_kv WHERE plugin_id = $1::text AND key <> $2::text)
                       + octet_length($2::text) + octet_length($3::bytea) <= $4::bigint
                 ON CONFLICT (plugin_id, key) DO UPDATE SET value = EXCLUDED.value",
                &[&id, &key, &value, &KV_QUOTA_BYTES],
            )
            .await?;
            if n == 0 {
                return Ok(Err(format!(
                    "the key-value store is full: a plugin may keep {KV_QUOTA_BYTES} bytes of keys and values"
                )));
            }
            Ok(Ok(()))
        })
    }
    fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        let id = self.env.plugin_id.clone();
        self.db(async move |db, _| {
            crate::db::execute(
                db,
                "DELETE FROM plugin_kv WHERE plugin_id = $1 AND key = $2",
                &[&id, &key],
            )
            .await?;
            Ok(())
        })
    }
    fn keys(&mut self, prefix: String, limit: u32) -> wasmtime::Result<Vec<String>> {
        let id = self.env.plugin_id.clone();
        let limit = i64::from(limit.min(10_000));
        self.db(async move |db, _| {
            let rows = crate::db::query(
                db,
                "SELECT key FROM plugin_kv WHERE plugin_id = $1 AND starts_with(key, $2)
                 ORDER BY key LIMIT $3",
                &[&id, &prefix, &limit],
            )
            .await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }
}

mod content_cap;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_cut_at_a_character_boundary_with_a_note() {
        assert_eq!(bounded_message("short"), "short");
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        let cut = bounded_message(&long);
        assert!(cut.len() < MAX_MESSAGE_BYTES + 100, "{}", cut.len());
        assert!(cut.ends_with(&format!("(message cut: {} more bytes)", MAX_MESSAGE_BYTES)));
    }

    #[test]
    fn log_messages_stay_on_one_line() {
        assert_eq!(
            escape_log("a\nb\r\tc\u{1b}[31m\u{2028}"),
            "a\\nb\\r\\tc\\u{1b}[31m\\u{2028}"
        );
        assert_eq!(escape_log("plain ünïcode"), "plain ünïcode");
    }
}

#[cfg(test)]
mod slot_tests {
    use super::*;

    fn slots(free: u32, max_waiting: u32) -> Slots {
        Slots {
            state: Mutex::new(SlotState { free, waiting: 0 }),
            cv: Condvar::new(),
            max_waiting,
        }
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
