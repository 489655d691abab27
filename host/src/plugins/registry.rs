//! The registry as this node loaded it: every installed plugin's row, the
//! enabled plugins compiled and linked, and which plugin provides which
//! macro.
//!
//! Invariant: a `Registry` is an immutable snapshot of one
//! `plugin_generation`; each lower-case macro name maps to exactly one
//! loaded plugin.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use wasmtime::component::InstancePre;

use super::runtime::{self, wit, wit_admin, wit_events, wit_macros, HostState};
use super::{CallLimits, Capability, Manifest};
use crate::error::{Error, Result};

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
    pub(crate) fn limits(&self) -> CallLimits {
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

    /// The row of `manifest` (whose component has `hash` and `size`) as it
    /// is first installed: enabled, granted what it requests, with no
    /// configuration or limit overrides.
    pub(super) fn fresh(manifest: Manifest, hash: String, size: usize) -> PluginRow {
        let now = Utc::now();
        PluginRow {
            id: manifest.id.clone(),
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            description: manifest.description.clone(),
            author: manifest.author.clone(),
            capabilities: manifest.capabilities.clone(),
            manifest,
            hash,
            size: size as i64,
            enabled: true,
            builtin: false,
            config: BTreeMap::new(),
            timeout_ms: None,
            memory_mib: None,
            installed_at: now,
            updated_at: now,
        }
    }

    pub(super) fn from_row(r: &tokio_postgres::Row) -> Result<PluginRow> {
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
    pub(super) pre: InstancePre<HostState>,
    pub(super) macros: Option<wit_macros::GuestIndices>,
    pub(super) admin: Option<wit_admin::GuestIndices>,
    pub(super) events: Option<wit_events::GuestIndices>,
    pub specs: Vec<wit::MacroSpec>,
    pub admin_pages: Vec<(String, String)>,
    pub(super) config: Arc<BTreeMap<String, String>>,
}

impl Loaded {
    pub(crate) fn spec(&self, name: &str) -> Option<&wit::MacroSpec> {
        self.specs
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }
    pub(crate) fn has_events(&self) -> bool {
        self.events.is_some()
    }
    pub(crate) fn has_admin(&self) -> bool {
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
    pub(super) macros: HashMap<String, String>,
}

impl Registry {
    /// The loaded plugin providing macro `name`.
    pub(crate) fn provider(&self, name: &str) -> Option<&Arc<Loaded>> {
        self.macros
            .get(&name.to_ascii_lowercase())
            .and_then(|id| self.loaded.get(id))
    }
    pub fn provides(&self, name: &str) -> bool {
        self.macros.contains_key(&name.to_ascii_lowercase())
    }
    /// One registry with every plugin of `parts` (benchmarks and tools).
    pub(crate) fn merged(parts: &[&Registry]) -> Registry {
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
    pub(crate) fn macro_specs(&self) -> Vec<(wit::MacroSpec, String)> {
        let mut v: Vec<_> = self
            .loaded
            .values()
            .flat_map(|l| l.specs.iter().map(|s| (s.clone(), l.row.name.clone())))
            .collect();
        v.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        v
    }
}
