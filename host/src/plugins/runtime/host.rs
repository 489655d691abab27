//! The host side of a call: what host functions know (`CallEnv`: the
//! plugin, the viewer, the database, the renderer), a store's data
//! (`HostState`), and the capabilities `log` and `config`.
//!
//! Invariants: every host function counts against `MAX_HOST_CALLS`; a
//! database wait ends at the call's deadline; what a call read is recorded
//! (`reads.rs`), and anything it did that cannot be made again marks it
//! unreplayable.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::{bindings, escape_log, reads, Failure, Limiter, MAX_HOST_CALLS};
use crate::perms::Viewer;
use crate::sync::Recover;

/// Log bytes one call may write.
pub(super) const MAX_LOG_BYTES: usize = 64 * 1024;

/// What host functions need to answer a call.
pub struct CallEnv {
    pub plugin_id: String,
    /// Whose permissions content reads use.
    pub viewer: Viewer,
    pub pool: Option<deadpool_postgres::Pool>,
    pub handle: Option<tokio::runtime::Handle>,
    pub config: Arc<BTreeMap<String, String>>,
    pub log: Arc<crate::plugins::PluginLog>,
    /// The renderer that made this call, for capabilities that render
    /// pages (includes); `None` outside a page render.
    pub render_host: Option<Arc<dyn crate::plugins::RenderHost>>,
    /// Set when the call read content or its key-value store.
    pub touched_data: AtomicBool,
    /// The reads the call made, each with its answer's digest, in order.
    pub reads: Mutex<Vec<(reads::Read, u64)>>,
    /// Set when the call did something the output cache cannot make again
    /// (a write, an included page).
    pub unreplayable: AtomicBool,
}

impl CallEnv {
    /// What a call into plugin `plugin_id` starts from: nothing read yet.
    pub(crate) fn new(
        plugin_id: String,
        viewer: Viewer,
        pool: Option<deadpool_postgres::Pool>,
        config: Arc<BTreeMap<String, String>>,
        log: Arc<crate::plugins::PluginLog>,
        render_host: Option<Arc<dyn crate::plugins::RenderHost>>,
    ) -> CallEnv {
        CallEnv {
            plugin_id,
            viewer,
            pool,
            handle: tokio::runtime::Handle::try_current().ok(),
            config,
            log,
            render_host,
            touched_data: AtomicBool::new(false),
            reads: Mutex::default(),
            unreplayable: AtomicBool::new(false),
        }
    }

    pub(super) fn unreplayable(&self) {
        self.touched_data.store(true, Ordering::Relaxed);
        self.unreplayable.store(true, Ordering::Relaxed);
    }

    /// The call's reads, or `None` when it did something that cannot be
    /// made again.
    pub(crate) fn replayable_reads(&self) -> Option<Vec<(reads::Read, u64)>> {
        if self.unreplayable.load(Ordering::Relaxed) {
            return None;
        }
        Some(self.reads.lock().recover().clone())
    }
}

/// A store's data.
pub struct HostState {
    pub(super) wasi: WasiCtx,
    pub(super) table: ResourceTable,
    pub(super) limiter: Limiter,
    pub(super) env: Arc<CallEnv>,
    pub(super) host_calls: u32,
    pub(super) log_bytes: usize,
    pub(super) host_error: Option<Failure>,
    /// When the call must end; host calls (database reads, included pages)
    /// are cut off here too.
    pub(super) deadline: Instant,
    pub(super) timeout_ms: u32,
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
    pub(super) fn tick(&mut self) -> wasmtime::Result<()> {
        self.host_calls += 1;
        if self.host_calls > MAX_HOST_CALLS {
            self.host_error = Some(Failure::HostCalls);
            return Err(wasmtime::Error::msg("too many host calls"));
        }
        Ok(())
    }

    /// Makes a read for a capability and records it with its answer's
    /// digest (see `reads.rs`).
    pub(super) fn read<T: TryFrom<reads::Answer, Error = wasmtime::Error>>(
        &mut self,
        read: reads::Read,
    ) -> wasmtime::Result<T> {
        let plugin_id = self.env.plugin_id.clone();
        let r = read.clone();
        let answer = self.db(async move |db, viewer| r.answer(db, viewer, &plugin_id).await)?;
        self.env
            .reads
            .lock()
            .recover()
            .push((read, answer.digest()));
        T::try_from(answer)
    }

    /// Runs a database future for a capability; failures trap the call with
    /// a host error.
    pub(super) fn db<T>(
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
