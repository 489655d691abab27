//! WebAssembly plugins: the registry every node loads from PostgreSQL and the
//! shared home, install/upgrade/enable/disable/remove, macro dispatch during
//! rendering, admin extensions and content events. This module is the
//! `Plugins` handle and its one way into a plugin (`call_with`); each
//! responsibility is a module of its own: `registry.rs` and `load.rs` (what
//! this node loaded, and loading it), `install.rs` and `embedded.rs`
//! (changing the registry, first-party plugins), `macro_call.rs` and
//! `page_scope.rs` (macros during a page render), `admin.rs` (admin pages
//! and events), `observe.rs` (logs and figures), `render_host.rs` (what a
//! call may ask of the renderer), `manifest.rs`, and `runtime.rs` (wasmtime).
//!
//! Invariants: a plugin's component is stored by content hash and never
//! changed in place; every registry change bumps `plugin_generation` in the
//! same transaction, and each node reloads when the number moves (polled
//! every second), so changes take effect everywhere without a restart. A
//! plugin is only ever linked with the capabilities an admin granted.

pub(crate) mod admin;
pub mod embedded;
mod install;
mod load;
mod macro_call;
mod manage;
pub mod manifest;
mod observe;
mod page_scope;
mod registry;
mod render_host;
pub mod runtime;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, RwLock};

pub use install::*;
use macro_call::CachedOutput;
pub use macro_call::{error_box, notice_box, PageContext, MAX_OUTPUT_DEPTH};
pub use manage::HistoryEntry;
pub use manifest::{Capability, Manifest, World};
pub use observe::{LogLine, Metrics, PluginLog};
pub use page_scope::{PageGuard, DEFAULT_PAGE_BUDGET_MS};
pub use registry::{Loaded, PluginRow, Registry};
pub use render_host::RenderHost;
pub use runtime::{wit::OutputTarget, CallLimits, Failure, Runtime};
use runtime::{CallEnv, HostState};

use crate::perms::Viewer;
use crate::sync::Recover;

/// The node's plugin system. Cheap to clone.
#[derive(Clone)]
pub struct Plugins {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Arc<Runtime>,
    pool: deadpool_postgres::Pool,
    shared_home: PathBuf,
    cache_dir: RwLock<Option<PathBuf>>,
    registry: RwLock<Arc<Registry>>,
    metrics: Mutex<HashMap<String, Arc<Metrics>>>,
    logs: Mutex<HashMap<String, Arc<PluginLog>>>,
    outputs: quick_cache::sync::Cache<u64, Arc<CachedOutput>>,
    reload: tokio::sync::Mutex<()>,
    base_url: RwLock<String>,
    /// Plugin time one page render may spend (live setting
    /// `plugin_page_budget_ms`).
    page_budget_ms: AtomicU32,
}

impl Plugins {
    /// # Errors
    /// When the WebAssembly engine cannot be created (it reserves its
    /// instance pool's address space up front; a tight `ulimit -v` refuses).
    pub fn new(pool: deadpool_postgres::Pool, shared_home: &Path) -> anyhow::Result<Plugins> {
        let runtime = Runtime::global(runtime::DEFAULT_MAX_INSTANCES)
            .map_err(|e| anyhow::anyhow!("cannot create the plugin engine: {e:#}"))?;
        Ok(Plugins {
            inner: Arc::new(Inner {
                runtime,
                pool,
                shared_home: shared_home.to_path_buf(),
                cache_dir: RwLock::new(None),
                registry: RwLock::new(Arc::new(Registry::default())),
                metrics: Mutex::new(HashMap::new()),
                logs: Mutex::new(HashMap::new()),
                outputs: quick_cache::sync::Cache::new(20_000),
                reload: tokio::sync::Mutex::new(()),
                base_url: RwLock::new(String::new()),
                page_budget_ms: AtomicU32::new(DEFAULT_PAGE_BUDGET_MS),
            }),
        })
    }

    pub(crate) fn pool(&self) -> &deadpool_postgres::Pool {
        &self.inner.pool
    }

    /// Compiled components are cached under `local_home/plugin-cache`.
    pub fn set_local_home(&self, local_home: &Path) {
        *self.inner.cache_dir.write().recover() = Some(local_home.join("plugin-cache"));
    }

    pub(crate) fn set_base_url(&self, url: &str) {
        *self.inner.base_url.write().recover() = url.trim_end_matches('/').to_string();
    }

    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    pub fn registry(&self) -> Arc<Registry> {
        self.inner.registry.read().recover().clone()
    }

    /// One call into a loaded plugin, counted in its metrics.
    fn call<R>(
        &self,
        l: &Loaded,
        viewer: Viewer,
        f: impl FnOnce(
            &mut wasmtime::Store<HostState>,
            &wasmtime::component::Instance,
        ) -> wasmtime::Result<R>,
    ) -> std::result::Result<R, Failure> {
        self.call_with(l, viewer, None, l.row.limits(), false, f).0
    }

    /// [`Plugins::call`] with explicit limits, on the request path (`bounded`:
    /// a bounded wait for an instance slot) or not; also gives the call's
    /// environment (what it read).
    fn call_with<R>(
        &self,
        l: &Loaded,
        viewer: Viewer,
        render_host: Option<Arc<dyn RenderHost>>,
        limits: CallLimits,
        bounded: bool,
        f: impl FnOnce(
            &mut wasmtime::Store<HostState>,
            &wasmtime::component::Instance,
        ) -> wasmtime::Result<R>,
    ) -> (std::result::Result<R, Failure>, Arc<CallEnv>) {
        let env = Arc::new(CallEnv::new(
            l.row.id.clone(),
            viewer,
            Some(self.inner.pool.clone()),
            l.config.clone(),
            self.log(&l.row.id),
            render_host,
        ));
        let r = self
            .inner
            .runtime
            .call(&l.pre, limits, env.clone(), bounded, f);
        (r, env)
    }
}
