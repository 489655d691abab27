//! WebAssembly plugins: the registry every node loads from PostgreSQL and the
//! shared home, install/upgrade/enable/disable/remove, macro dispatch during
//! rendering, admin extensions and content events.
//!
//! Invariants: a plugin's component is stored by content hash and never
//! changed in place; every registry change bumps `plugin_generation` in the
//! same transaction, and each node reloads when the number moves (polled
//! every second), so changes take effect everywhere without a restart. A
//! plugin is only ever linked with the capabilities an admin granted.

pub mod manifest;
pub mod runtime;

use crate::sync::Recover;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use sha2::{Digest, Sha256};
use wasmtime::component::InstancePre;

pub use manifest::{Capability, Manifest, World};
use runtime::{wit, wit_admin, wit_events, wit_macros, CallEnv, HostState};
pub use runtime::{wit::OutputTarget, CallLimits, Failure, Runtime};

use crate::error::{Error, Result};
use crate::perms::Viewer;

/// Recent log lines of one plugin on this node, for its admin page.
#[derive(Default)]
pub struct PluginLog {
    lines: Mutex<VecDeque<LogLine>>,
}

#[derive(Debug, Clone)]
pub struct LogLine {
    pub at: DateTime<Utc>,
    pub level: &'static str,
    pub message: String,
}

impl PluginLog {
    pub fn push(&self, level: &'static str, message: String) {
        let mut l = self.lines.lock().recover();
        if l.len() >= 100 {
            l.pop_front();
        }
        l.push_back(LogLine {
            at: Utc::now(),
            level,
            message,
        });
    }
    pub fn lines(&self) -> Vec<LogLine> {
        let l = self.lines.lock().recover();
        l.iter().rev().cloned().collect()
    }
}

/// Per-plugin call figures on this node.
#[derive(Default)]
pub struct Metrics {
    pub calls: AtomicU64,
    pub failures: AtomicU64,
    pub cache_hits: AtomicU64,
    pub nanos: AtomicU64,
    last_failure: Mutex<Option<(DateTime<Utc>, String)>>,
}

impl Metrics {
    pub fn last_failure(&self) -> Option<(DateTime<Utc>, String)> {
        self.last_failure.lock().recover().clone()
    }
    fn record(&self, started: Instant, failure: Option<&str>) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        if let Some(f) = failure {
            self.failures.fetch_add(1, Ordering::Relaxed);
            *self.last_failure.lock().recover() = Some((Utc::now(), f.to_string()));
        }
    }
}

/// A registry row.
#[derive(Debug, Clone)]
pub struct PluginRow {
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub author: String,
    pub manifest: Manifest,
    pub hash: String,
    pub size: i64,
    pub capabilities: Vec<Capability>,
    pub enabled: bool,
    pub builtin: bool,
    pub config: BTreeMap<String, String>,
    pub timeout_ms: Option<i32>,
    pub memory_mib: Option<i32>,
    pub installed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PluginRow {
    pub fn limits(&self) -> CallLimits {
        CallLimits {
            timeout_ms: self
                .timeout_ms
                .map(|v| v as u32)
                .or(self.manifest.limits.timeout_ms)
                .unwrap_or_else(|| runtime::default_limits().0),
            memory_mib: self
                .memory_mib
                .map(|v| v as u32)
                .or(self.manifest.limits.memory_mib)
                .unwrap_or_else(|| runtime::default_limits().1),
        }
    }

    fn from_row(r: &tokio_postgres::Row) -> Result<PluginRow> {
        let manifest: serde_json::Value = r.get("manifest");
        let manifest: Manifest = serde_json::from_value(manifest)
            .map_err(|e| Error::Internal(format!("stored manifest: {e}")))?;
        let caps: Vec<String> = r.get("capabilities");
        let config: serde_json::Value = r.get("config");
        let config = config
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(PluginRow {
            id: r.get("id"),
            name: r.get("name"),
            version: r.get("version"),
            description: r.get("description"),
            author: r.get("author"),
            manifest,
            hash: r.get("component_hash"),
            size: r.get("component_size"),
            capabilities: caps.iter().filter_map(|c| Capability::parse(c)).collect(),
            enabled: r.get("enabled"),
            builtin: r.get("builtin"),
            config,
            timeout_ms: r.get("timeout_ms"),
            memory_mib: r.get("memory_mib"),
            installed_at: r.get("installed_at"),
            updated_at: r.get("updated_at"),
        })
    }
}

/// A plugin loaded on this node: compiled, linked, described.
pub struct Loaded {
    pub row: PluginRow,
    pre: InstancePre<HostState>,
    macros: Option<wit_macros::GuestIndices>,
    admin: Option<wit_admin::GuestIndices>,
    events: Option<wit_events::GuestIndices>,
    pub specs: Vec<wit::MacroSpec>,
    pub admin_pages: Vec<(String, String)>,
    config: Arc<BTreeMap<String, String>>,
}

impl Loaded {
    pub fn spec(&self, name: &str) -> Option<&wit::MacroSpec> {
        self.specs
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }
    pub fn has_events(&self) -> bool {
        self.events.is_some()
    }
    pub fn has_admin(&self) -> bool {
        self.admin.is_some()
    }
}

/// What this node has loaded, as of one registry generation.
#[derive(Default)]
pub struct Registry {
    pub generation: i64,
    /// Every installed plugin, enabled or not.
    pub rows: Vec<PluginRow>,
    /// Enabled plugins that loaded.
    pub loaded: BTreeMap<String, Arc<Loaded>>,
    /// Enabled plugins that failed to load on this node, with the reason.
    pub failed: BTreeMap<String, String>,
    /// Lower-case macro name → plugin id.
    macros: HashMap<String, String>,
}

impl Registry {
    /// The loaded plugin providing macro `name`.
    pub fn provider(&self, name: &str) -> Option<&Arc<Loaded>> {
        self.macros
            .get(&name.to_ascii_lowercase())
            .and_then(|id| self.loaded.get(id))
    }
    pub fn provides(&self, name: &str) -> bool {
        self.macros.contains_key(&name.to_ascii_lowercase())
    }
    /// One registry with every plugin of `parts` (benchmarks and tools).
    pub fn merged(parts: &[&Registry]) -> Registry {
        let mut reg = Registry::default();
        for p in parts {
            for (id, l) in &p.loaded {
                reg.loaded.insert(id.clone(), l.clone());
                reg.rows.push(l.row.clone());
                for s in &l.specs {
                    reg.macros.insert(s.name.to_ascii_lowercase(), id.clone());
                }
            }
        }
        reg
    }

    /// Every macro offered to the editor: (spec, plugin name).
    pub fn macro_specs(&self) -> Vec<(wit::MacroSpec, String)> {
        let mut v: Vec<_> = self
            .loaded
            .values()
            .flat_map(|l| l.specs.iter().map(|s| (s.clone(), l.row.name.clone())))
            .collect();
        v.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        v
    }
}

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
    outputs: quick_cache::sync::Cache<u64, Arc<String>>,
    reload: tokio::sync::Mutex<()>,
    base_url: RwLock<String>,
    /// The node's renderer (without this handle, so no cycle) for
    /// capabilities that render pages.
    presenter: std::sync::OnceLock<crate::present::Presenter>,
    /// Plugin time one page render may spend (live setting
    /// `plugin_page_budget_ms`).
    page_budget_ms: AtomicU32,
}

/// Default of the live setting `plugin_page_budget_ms`.
pub const DEFAULT_PAGE_BUDGET_MS: u32 = 3000;
/// Deepest element nesting a macro's output may have (storage format allows
/// 400 for a whole body).
pub const MAX_OUTPUT_DEPTH: usize = 200;

/// The page render running on this thread: its plugin time budget, the
/// request's cancellation flag, and whether any plugin call read data.
struct PageScope {
    budget: Duration,
    spent: Duration,
    cancelled: Option<Arc<AtomicBool>>,
    read_data: bool,
    incomplete: bool,
}

thread_local! {
    static PAGE: std::cell::RefCell<Option<PageScope>> = const { std::cell::RefCell::new(None) };
}

/// Marks a page render on this thread (see [`Plugins::enter_page`]). Pages
/// rendered inside it (includes) share the outermost page's scope.
pub struct PageGuard {
    owner: bool,
}

impl PageGuard {
    /// Whether a plugin call of this page read content or its key-value
    /// store: the output then depends on more than the stored page, and must
    /// not be cached for other viewers.
    pub fn read_data(&self) -> bool {
        PAGE.with(|p| p.borrow().as_ref().is_some_and(|s| s.read_data))
    }

    /// Whether a macro of this page failed or was not rendered (budget
    /// spent, busy, cancelled): the page must not be cached at all, or the
    /// failure would outlive its cause.
    pub fn incomplete(&self) -> bool {
        PAGE.with(|p| p.borrow().as_ref().is_some_and(|s| s.incomplete))
    }
}

impl Drop for PageGuard {
    fn drop(&mut self) {
        if self.owner {
            PAGE.with(|p| p.borrow_mut().take());
        }
    }
}

/// Why a macro of the page is not rendered at all.
fn page_refusal() -> Option<&'static str> {
    PAGE.with(|p| {
        let p = p.borrow();
        let s = p.as_ref()?;
        if s.cancelled
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Some("not rendered: the request was cancelled");
        }
        (s.spent >= s.budget).then_some("not rendered: page budget spent")
    })
}

/// Plugin time left in the page's budget.
fn page_left() -> Option<Duration> {
    PAGE.with(|p| {
        p.borrow()
            .as_ref()
            .map(|s| s.budget.saturating_sub(s.spent))
    })
}

fn page_account(spent: Duration, read_data: bool, failed: bool) {
    PAGE.with(|p| {
        if let Some(s) = p.borrow_mut().as_mut() {
            s.spent += spent;
            s.read_data |= read_data;
            s.incomplete |= failed;
        }
    })
}

/// Where a macro is rendered, as the host knows it.
#[derive(Clone)]
pub struct PageContext {
    pub page_id: Option<i64>,
    pub title: String,
    pub page_type: String,
    pub space_key: String,
    pub version: i32,
    pub target: wit::OutputTarget,
}

impl Plugins {
    pub fn new(pool: deadpool_postgres::Pool, shared_home: &Path) -> Plugins {
        let runtime =
            Runtime::global(runtime::DEFAULT_MAX_INSTANCES).expect("creating the plugin engine");
        Plugins {
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
                presenter: std::sync::OnceLock::new(),
                page_budget_ms: AtomicU32::new(DEFAULT_PAGE_BUDGET_MS),
            }),
        }
    }

    /// Plugin time one page render may spend, in ms (live setting
    /// `plugin_page_budget_ms`); macros after that show a box instead.
    pub fn set_page_budget_ms(&self, ms: u32) {
        self.inner
            .page_budget_ms
            .store(ms.max(1), Ordering::Relaxed);
    }

    pub fn page_budget_ms(&self) -> u32 {
        self.inner.page_budget_ms.load(Ordering::Relaxed)
    }

    /// Starts a page render on this thread: plugin calls made until the
    /// guard drops share the page's time budget, and stop when `cancelled`
    /// is set (the client has gone). Nested renders (includes) join the
    /// outermost page.
    pub fn enter_page(&self, cancelled: Option<Arc<AtomicBool>>) -> PageGuard {
        let owner = PAGE.with(|p| {
            let mut p = p.borrow_mut();
            if p.is_some() {
                return false;
            }
            *p = Some(PageScope {
                budget: Duration::from_millis(u64::from(self.page_budget_ms())),
                spent: Duration::ZERO,
                cancelled,
                read_data: false,
                incomplete: false,
            });
            true
        });
        PageGuard { owner }
    }

    /// The renderer capabilities use to render included pages.
    pub fn set_presenter(&self, presenter: crate::present::Presenter) {
        let _ = self.inner.presenter.set(presenter);
    }

    pub fn presenter(&self) -> Option<&crate::present::Presenter> {
        self.inner.presenter.get()
    }

    pub fn pool(&self) -> &deadpool_postgres::Pool {
        &self.inner.pool
    }

    /// Compiled components are cached under `local_home/plugin-cache`.
    pub fn set_local_home(&self, local_home: &Path) {
        *self.inner.cache_dir.write().recover() = Some(local_home.join("plugin-cache"));
    }

    pub fn set_base_url(&self, url: &str) {
        *self.inner.base_url.write().recover() = url.trim_end_matches('/').to_string();
    }

    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    pub fn registry(&self) -> Arc<Registry> {
        self.inner.registry.read().recover().clone()
    }

    pub fn metrics(&self, id: &str) -> Arc<Metrics> {
        self.inner
            .metrics
            .lock()
            .recover()
            .entry(id.to_string())
            .or_default()
            .clone()
    }

    pub fn log(&self, id: &str) -> Arc<PluginLog> {
        self.inner
            .logs
            .lock()
            .recover()
            .entry(id.to_string())
            .or_default()
            .clone()
    }

    fn component_path(&self, hash: &str) -> PathBuf {
        self.inner
            .shared_home
            .join("plugins")
            .join(format!("{hash}.wasm"))
    }

    fn cache_dir(&self) -> Option<PathBuf> {
        self.inner.cache_dir.read().recover().clone()
    }

    /// Reloads the registry if its generation moved (or `force`).
    pub async fn reload(&self, force: bool) -> Result<()> {
        let _guard = self.inner.reload.lock().await;
        let db = self.inner.pool.get().await?;
        let generation: i64 =
            crate::db::query_one(&db, "SELECT generation FROM plugin_generation", &[])
                .await?
                .get(0);
        let current = self.registry();
        if !force && current.generation == generation {
            return Ok(());
        }
        let rows = crate::db::query(&db, "SELECT * FROM plugins ORDER BY id", &[]).await?;
        drop(db);
        let rows: Vec<PluginRow> = rows
            .iter()
            .map(PluginRow::from_row)
            .collect::<Result<_>>()?;
        let this = self.clone();
        let reg =
            tokio::task::spawn_blocking(move || this.build_registry(generation, rows, &current))
                .await
                .map_err(Error::internal)?;
        tracing::info!(
            generation,
            loaded = reg.loaded.len(),
            failed = reg.failed.len(),
            "plugin registry loaded"
        );
        for (id, why) in &reg.failed {
            tracing::error!(plugin = %id, "plugin failed to load: {why}");
        }
        *self.inner.registry.write().recover() = Arc::new(reg);
        Ok(())
    }

    fn build_registry(
        &self,
        generation: i64,
        rows: Vec<PluginRow>,
        current: &Registry,
    ) -> Registry {
        let mut reg = Registry {
            generation,
            ..Registry::default()
        };
        for row in &rows {
            if !row.enabled {
                continue;
            }
            // Unchanged plugins keep their compiled, linked instance.
            if let Some(l) = current.loaded.get(&row.id) {
                if l.row.hash == row.hash
                    && l.row.capabilities == row.capabilities
                    && l.row.config == row.config
                    && l.row.limits().timeout_ms == row.limits().timeout_ms
                    && l.row.limits().memory_mib == row.limits().memory_mib
                {
                    let mut l2 = Loaded {
                        row: row.clone(),
                        pre: l.pre.clone(),
                        macros: l.macros.clone(),
                        admin: l.admin.clone(),
                        events: l.events.clone(),
                        specs: l.specs.clone(),
                        admin_pages: l.admin_pages.clone(),
                        config: l.config.clone(),
                    };
                    l2.row = row.clone();
                    reg.loaded.insert(row.id.clone(), Arc::new(l2));
                    continue;
                }
            }
            let loaded = std::fs::read(self.component_path(&row.hash))
                .map_err(|e| format!("reading the component from the shared home: {e}"))
                .and_then(|bytes| {
                    let got = hex::encode(Sha256::digest(&bytes));
                    if got != row.hash {
                        return Err(format!(
                            "the stored component is damaged (hash {got}, expected {})",
                            row.hash
                        ));
                    }
                    self.load(row.clone(), &bytes).map(|(l, _)| l)
                });
            match loaded {
                Ok(l) => {
                    reg.loaded.insert(row.id.clone(), Arc::new(l));
                }
                Err(e) => {
                    reg.failed.insert(row.id.clone(), e);
                }
            }
        }
        for (id, l) in &reg.loaded {
            for s in &l.specs {
                reg.macros
                    .entry(s.name.to_ascii_lowercase())
                    .or_insert_with(|| id.clone());
            }
        }
        reg.rows = rows;
        reg
    }

    /// Compiles, checks and links a component for `row`; returns it with its
    /// inspection. Every error is one a plugin author or admin can act on.
    fn load(&self, row: PluginRow, bytes: &[u8]) -> Result<(Loaded, runtime::Inspection), String> {
        let rt = &self.inner.runtime;
        let component = rt.compile(bytes, &row.hash, self.cache_dir().as_deref())?;
        let insp = rt.inspect(&component)?;
        let m = &row.manifest;
        for cap in &insp.imports {
            if !m.capabilities.contains(cap) {
                return Err(format!(
                    "the component uses capability `{}` but the manifest does not request it",
                    cap.name()
                ));
            }
            if !row.capabilities.contains(cap) {
                return Err(format!(
                    "the component uses capability `{}`, which was not granted",
                    cap.name()
                ));
            }
        }
        if m.has_macros() && !insp.exports_macros {
            return Err(
                "the manifest says macro-plugin but the component does not export cairn:plugin/macros (wrong world?)"
                    .into(),
            );
        }
        if m.has_admin() && !(insp.exports_admin && insp.exports_events) {
            return Err("the manifest says admin-extension but the component does not export cairn:plugin/admin and cairn:plugin/events (wrong world?)".into());
        }
        if !m.has_macros() && !m.has_admin() {
            return Err("the manifest names no world this Cairn supports".into());
        }
        let pre = rt.link(&component, &row.capabilities)?;
        let macros = if m.has_macros() {
            Some(wit_macros::GuestIndices::new(&pre).map_err(|e| {
                format!("the component's macros export does not match cairn:plugin/macros: {e:#}")
            })?)
        } else {
            None
        };
        let (admin, events) = if m.has_admin() {
            (
                Some(wit_admin::GuestIndices::new(&pre).map_err(|e| {
                    format!("the component's admin export does not match cairn:plugin/admin: {e:#}")
                })?),
                Some(wit_events::GuestIndices::new(&pre).map_err(|e| {
                    format!(
                        "the component's events export does not match cairn:plugin/events: {e:#}"
                    )
                })?),
            )
        } else {
            (None, None)
        };
        let mut loaded = Loaded {
            config: Arc::new(row.config.clone()),
            row,
            pre,
            macros,
            admin,
            events,
            specs: Vec::new(),
            admin_pages: Vec::new(),
        };
        let system = Viewer::anonymous();
        if let Some(idx) = loaded.macros.clone() {
            let specs = self
                .call(&loaded, system.clone(), |store, inst| {
                    idx.load(&mut *store, inst)?.call_describe(&mut *store)
                })
                .map_err(|f| format!("describe() failed: {f}"))?;
            check_specs(&loaded.row.manifest, &specs)?;
            loaded.specs = specs;
        }
        if let Some(idx) = loaded.admin.clone() {
            let pages = self
                .call(&loaded, system, |store, inst| {
                    idx.load(&mut *store, inst)?.call_pages(&mut *store)
                })
                .map_err(|f| format!("pages() failed: {f}"))?;
            loaded.admin_pages = pages
                .into_iter()
                .filter(|p| p.path.starts_with('/'))
                .map(|p| (p.path, p.title))
                .collect();
        }
        Ok((loaded, insp))
    }

    /// A registry holding just this plugin, loaded without the database
    /// (benchmarks and tools). The plugin must need no capabilities that
    /// reach the database to render.
    pub fn standalone_registry(
        &self,
        manifest: Manifest,
        bytes: &[u8],
    ) -> std::result::Result<Arc<Registry>, String> {
        let now = Utc::now();
        let row = PluginRow {
            id: manifest.id.clone(),
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            description: manifest.description.clone(),
            author: manifest.author.clone(),
            capabilities: manifest.capabilities.clone(),
            manifest,
            hash: hex::encode(Sha256::digest(bytes)),
            size: bytes.len() as i64,
            enabled: true,
            builtin: false,
            config: BTreeMap::new(),
            timeout_ms: None,
            memory_mib: None,
            installed_at: now,
            updated_at: now,
        };
        let (loaded, _) = self.load(row, bytes)?;
        let mut reg = Registry::default();
        for s in &loaded.specs {
            reg.macros
                .insert(s.name.to_ascii_lowercase(), loaded.row.id.clone());
        }
        reg.rows.push(loaded.row.clone());
        reg.loaded.insert(loaded.row.id.clone(), Arc::new(loaded));
        Ok(Arc::new(reg))
    }

    /// Forgets every cached macro output (benchmarks measure the uncached path).
    pub fn clear_output_cache(&self) {
        self.inner.outputs.clear();
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
        self.call_with(l, viewer, l.row.limits(), false, f).0
    }

    /// [`Plugins::call`] with explicit limits, on the request path (`bounded`:
    /// a bounded wait for an instance slot) or not; also says whether the
    /// call read content or its key-value store.
    fn call_with<R>(
        &self,
        l: &Loaded,
        viewer: Viewer,
        limits: CallLimits,
        bounded: bool,
        f: impl FnOnce(
            &mut wasmtime::Store<HostState>,
            &wasmtime::component::Instance,
        ) -> wasmtime::Result<R>,
    ) -> (std::result::Result<R, Failure>, bool) {
        let env = Arc::new(CallEnv {
            plugin_id: l.row.id.clone(),
            viewer,
            pool: Some(self.inner.pool.clone()),
            handle: tokio::runtime::Handle::try_current().ok(),
            config: l.config.clone(),
            log: self.log(&l.row.id),
            plugins: Some(self.clone()),
            touched_data: AtomicBool::new(false),
        });
        let rt = &self.inner.runtime;
        let r = if bounded {
            rt.call_bounded(&l.pre, limits, env.clone(), f)
        } else {
            rt.call(&l.pre, limits, env.clone(), f)
        };
        (r, env.touched_data.load(Ordering::Relaxed))
    }

    /// Renders one macro call with the plugin that provides it. `None` when
    /// no enabled plugin provides the macro. Must run on a blocking thread
    /// (capabilities wait for the database).
    pub fn render_macro(
        &self,
        registry: &Registry,
        viewer: &Viewer,
        page: &PageContext,
        headings: &[cairn_render::Heading],
        call: &cairn_render::MacroCall,
    ) -> Option<String> {
        self.render_macro_with(registry, viewer, page, headings, call, true)
    }

    /// [`Plugins::render_macro`], optionally bypassing the output cache
    /// (benchmarks measure the call itself).
    pub fn render_macro_with(
        &self,
        registry: &Registry,
        viewer: &Viewer,
        page: &PageContext,
        headings: &[cairn_render::Heading],
        call: &cairn_render::MacroCall,
        use_cache: bool,
    ) -> Option<String> {
        let l = registry.provider(&call.name)?;
        let idx = l.macros.clone()?;
        let spec = l.spec(&call.name);
        // A macro that declares itself cacheable is cached without the
        // viewer, so it is not told who the viewer is: its claim then holds
        // for its context (reads are checked below).
        let cacheable = spec.is_some_and(|s| s.cacheable);
        let (body_kind, body) = match &call.body {
            cairn_render::MacroBody::None => (wit::BodyKind::None, String::new()),
            cairn_render::MacroBody::Plain(t) => (wit::BodyKind::PlainText, t.clone()),
            cairn_render::MacroBody::Rich(h) => (wit::BodyKind::RichText, h.clone()),
        };
        let wcall = wit::MacroCall {
            name: call.name.clone(),
            params: call
                .params
                .iter()
                // A page link is given as "SPACE:Title", always qualified
                // (except Confluence's "@self", "@parent", "@home" …).
                .map(|(k, v)| match call.param_pages.get(k) {
                    Some(r) if !r.title.starts_with('@') => (
                        k.clone(),
                        format!(
                            "{}:{}",
                            r.space_key.as_deref().unwrap_or(&page.space_key),
                            r.title
                        ),
                    ),
                    _ => (k.clone(), v.clone()),
                })
                .collect(),
            body_kind,
            body,
            output: if call.inline {
                wit::OutputKind::Inline
            } else {
                wit::OutputKind::Block
            },
        };
        let ctx = wit::RenderContext {
            page_id: page.page_id,
            page_title: page.title.clone(),
            page_type: page.page_type.clone(),
            space_key: page.space_key.clone(),
            page_version: page.version,
            viewer: viewer
                .user
                .as_ref()
                .filter(|_| !cacheable)
                .map(|u| wit::User {
                    key: u.user_key.clone(),
                    username: u.username.clone(),
                    display_name: u.display_name.clone(),
                }),
            target: page.target,
            headings: headings
                .iter()
                .map(|h| wit::Heading {
                    level: h.level,
                    text: h.text.clone(),
                    anchor: h.anchor.clone(),
                })
                .collect(),
            base_url: self.inner.base_url.read().recover().clone(),
        };
        let metrics = self.metrics(&l.row.id);
        let cache_key = (use_cache && cacheable).then(|| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            l.row.hash.hash(&mut h);
            l.row.config.hash(&mut h);
            format!("{wcall:?}").hash(&mut h);
            format!("{ctx:?}").hash(&mut h);
            h.finish()
        });
        if let Some(k) = cache_key {
            if let Some(html) = self.inner.outputs.get(&k) {
                metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
                return Some((*html).clone());
            }
        }
        // Cached output costs nothing; a call needs budget and a client.
        if let Some(why) = page_refusal() {
            page_account(Duration::ZERO, false, true);
            return Some(notice_box(&call.name, &l.row, why, call.inline));
        }
        // A top-level call gets what is left of the page's budget at most.
        let top = runtime::depth() == 0;
        let mut limits = l.row.limits();
        if let Some(left) = page_left().filter(|_| top) {
            limits.timeout_ms = limits
                .timeout_ms
                .min(u32::try_from(left.as_millis()).unwrap_or(u32::MAX).max(1));
        }
        let started = Instant::now();
        let (result, read_data) = self.call_with(l, viewer.clone(), limits, true, |store, inst| {
            idx.load(&mut *store, inst)?
                .call_render(&mut *store, &wcall, &ctx)
        });
        page_account(
            if top {
                started.elapsed()
            } else {
                Duration::ZERO
            },
            read_data,
            false,
        );
        let result = result
            .and_then(|r| {
                r.map_err(|e| {
                    Failure::Guest(runtime::bounded_message(&match e {
                        wit::RenderError::InvalidParameter((p, why)) => {
                            format!("parameter {p:?}: {why}")
                        }
                        wit::RenderError::NotFound(m) => m,
                        wit::RenderError::Failed(m) => m,
                    }))
                })
            })
            .and_then(|html| {
                if html.len() > runtime::MAX_OUTPUT_BYTES {
                    Err(Failure::OutputTooLarge(html.len()))
                } else if cairn_render::nests_deeper_than(&html, MAX_OUTPUT_DEPTH) {
                    Err(Failure::Guest(format!(
                        "returned elements nested deeper than {MAX_OUTPUT_DEPTH} levels"
                    )))
                } else {
                    Ok(html)
                }
            });
        match result {
            Ok(html) => {
                metrics.record(started, None);
                // Output that read data (content as this viewer, or the
                // key-value store) is never cached: the plugin's claim
                // cannot hold for it.
                if let Some(k) = cache_key.filter(|_| !read_data) {
                    self.inner.outputs.insert(k, Arc::new(html.clone()));
                }
                Some(html)
            }
            Err(f) => {
                page_account(Duration::ZERO, false, true);
                let msg = runtime::bounded_message(&f.to_string());
                metrics.record(started, Some(&msg));
                if matches!(f, Failure::Busy) {
                    return Some(notice_box(&call.name, &l.row, &msg, call.inline));
                }
                if !matches!(f, Failure::Guest(_)) {
                    tracing::warn!(plugin = %l.row.id, r#macro = %call.name, "plugin call failed: {msg}");
                }
                Some(error_box(&call.name, &l.row, &msg, call.inline))
            }
        }
    }
}

/// The box shown in place of a failed macro: names the macro, the plugin and
/// the reason. Everything in it is escaped.
pub fn error_box(name: &str, row: &PluginRow, reason: &str, inline: bool) -> String {
    let tag = if inline { "span" } else { "div" };
    format!(
        "<{tag} class=\"macro-error\">Macro &quot;{}&quot; (plugin {} {}) could not render: {}</{tag}>",
        crate::content::xml_escape(name),
        crate::content::xml_escape(&row.name),
        crate::content::xml_escape(&row.version),
        crate::content::xml_escape(&runtime::bounded_message(reason)),
    )
}

/// The box shown in place of a macro that was not called (page budget spent,
/// node busy, request cancelled). Everything in it is escaped.
pub fn notice_box(name: &str, row: &PluginRow, why: &str, inline: bool) -> String {
    let tag = if inline { "span" } else { "div" };
    format!(
        "<{tag} class=\"macro-error macro-not-rendered\">Macro &quot;{}&quot; (plugin {} {}) {}</{tag}>",
        crate::content::xml_escape(name),
        crate::content::xml_escape(&row.name),
        crate::content::xml_escape(&row.version),
        crate::content::xml_escape(why),
    )
}

/// The manifest's [[macros]] and the component's describe() must agree.
fn check_specs(m: &Manifest, specs: &[wit::MacroSpec]) -> std::result::Result<(), String> {
    for entry in &m.macros {
        let Some(s) = specs.iter().find(|s| s.name == entry.name) else {
            return Err(format!(
                "the manifest lists macro {:?} but the component does not describe it",
                entry.name
            ));
        };
        let mut want: Vec<&str> = entry.params.iter().map(String::as_str).collect();
        let mut got: Vec<&str> = s.params.iter().map(|p| p.name.as_str()).collect();
        want.sort_unstable();
        got.sort_unstable();
        if want != got {
            return Err(format!(
                "macro {:?}: the manifest lists parameters {:?} but the component describes {:?}",
                entry.name, want, got
            ));
        }
    }
    for s in specs {
        if !m.macros.iter().any(|e| e.name == s.name) {
            return Err(format!(
                "the component describes macro {:?}, which the manifest does not list",
                s.name
            ));
        }
    }
    Ok(())
}

pub mod admin;
pub mod embedded;
mod install;
pub use install::*;
