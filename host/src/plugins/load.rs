//! Loading plugins: reading the registry when `plugin_generation` moves,
//! compiling, checking and linking each enabled plugin's component, asking
//! it to describe its macros and admin pages.
//!
//! Invariant: a plugin is loaded only when its stored component has the
//! recorded hash, it imports only capabilities its manifest requests and an
//! administrator granted, exports the interfaces of its worlds, and its
//! `describe()` agrees with its manifest; an unchanged plugin keeps its
//! linked instance across reloads.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::runtime::{self, wit, wit_admin, wit_events, wit_macros};
use super::{Loaded, Manifest, PluginRow, Plugins, Registry};
use crate::error::{Error, Result};
use crate::perms::Viewer;
use crate::sync::Recover;

impl Plugins {
    pub(super) fn component_path(&self, hash: &str) -> PathBuf {
        self.inner
            .shared_home
            .join("plugins")
            .join(format!("{hash}.wasm"))
    }

    pub(super) fn cache_dir(&self) -> Option<PathBuf> {
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

    /// Reloads whenever the registry generation moves (checked every second).
    pub(crate) fn spawn_watcher(&self) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = this.reload(false).await {
                    tracing::warn!("plugin registry reload failed: {e}");
                }
            }
        })
    }

    pub(super) fn build_registry(
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
    pub(super) fn load(
        &self,
        row: PluginRow,
        bytes: &[u8],
    ) -> Result<(Loaded, runtime::Inspection), String> {
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
    pub(crate) fn standalone_registry(
        &self,
        manifest: Manifest,
        bytes: &[u8],
    ) -> std::result::Result<Arc<Registry>, String> {
        let row = PluginRow::fresh(manifest, hex::encode(Sha256::digest(bytes)), bytes.len());
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
}

/// The manifest's [[macros]] and the component's describe() must agree.
pub(super) fn check_specs(
    m: &Manifest,
    specs: &[wit::MacroSpec],
) -> std::result::Result<(), String> {
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
