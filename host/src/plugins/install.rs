//! Installing (and upgrading) plugins: from an upload, a manifest file or a
//! developer's directory of first-party plugins. Changes to an installed
//! plugin are `manage.rs`'s.
//!
//! Invariant: an install is validated — by loading the component exactly as
//! a node will — before anything changes; the component is stored
//! content-addressed (atomic write) before the row that names it commits,
//! with a generation bump; the calling node reloads at once, the others
//! within a second.

use std::path::Path;

use deadpool_postgres::GenericClient;
use sha2::{Digest, Sha256};

use super::manage::{actor_id, record_change, require_admin};
use super::*;
use crate::error::{Error, Result};

/// Largest component accepted.
pub(crate) const MAX_COMPONENT_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, serde::Serialize)]
pub struct InstallOutcome {
    pub id: String,
    pub version: String,
    /// "installed", "upgraded" or "unchanged".
    pub action: &'static str,
    pub previous_version: Option<String>,
    pub hash: String,
    pub macros: Vec<String>,
}

impl InstallOutcome {
    /// Nothing was installed: the installed plugin `row` stays as it is.
    pub(super) fn left(row: &PluginRow, action: &'static str) -> InstallOutcome {
        InstallOutcome {
            id: row.id.clone(),
            version: row.version.clone(),
            action,
            previous_version: Some(row.version.clone()),
            hash: row.hash.clone(),
            macros: row.manifest.macros.iter().map(|m| m.name.clone()).collect(),
        }
    }
}

/// The manifest's limits that exceed the site defaults, described.
pub(crate) fn limits_above_defaults(m: &Manifest) -> Vec<String> {
    let (timeout, memory) = runtime::default_limits();
    let mut out = Vec::new();
    if let Some(t) = m.limits.timeout_ms.filter(|t| *t > timeout) {
        out.push(format!(
            "a time limit of {t} ms (the site default is {timeout} ms)"
        ));
    }
    if let Some(mem) = m.limits.memory_mib.filter(|v| *v > memory) {
        out.push(format!(
            "a memory limit of {mem} MiB (the site default is {memory} MiB)"
        ));
    }
    out
}

impl Plugins {
    /// Installs or upgrades (same id) a plugin. `grant` is the set of
    /// capabilities the admin grants; every capability the manifest requests
    /// must be granted. Nothing changes unless every check passes.
    pub async fn install(
        &self,
        viewer: &Viewer,
        manifest: Manifest,
        bytes: Vec<u8>,
        grant: &[Capability],
        builtin: bool,
    ) -> Result<InstallOutcome> {
        self.install_granting(viewer, manifest, bytes, grant, false, builtin)
            .await
    }

    /// [`Plugins::install`]; `grant_limits` is the admin's explicit consent
    /// to manifest limits (`timeout-ms`, `memory-mib`) above the site
    /// defaults, without which such a plugin is refused (first-party
    /// plugins are trusted).
    pub async fn install_granting(
        &self,
        viewer: &Viewer,
        manifest: Manifest,
        bytes: Vec<u8>,
        grant: &[Capability],
        grant_limits: bool,
        builtin: bool,
    ) -> Result<InstallOutcome> {
        if !builtin {
            require_admin(viewer)?;
        }
        manifest.validate().map_err(Error::BadRequest)?;
        if bytes.len() > MAX_COMPONENT_BYTES {
            return Err(Error::TooLarge(format!(
                "The component is {} bytes; the limit is {MAX_COMPONENT_BYTES}",
                bytes.len()
            )));
        }
        let missing: Vec<&str> = manifest
            .capabilities
            .iter()
            .filter(|c| !grant.contains(c))
            .map(|c| c.name())
            .collect();
        if !missing.is_empty() {
            return Err(Error::BadRequest(format!(
                "The plugin requests capabilities that were not granted: {}. Grant them to install it.",
                missing.join(", ")
            )));
        }
        let mut granted: Vec<Capability> = manifest.capabilities.clone();
        granted.sort();
        granted.dedup();
        let hash = hex::encode(Sha256::digest(&bytes));
        let existing = self.installed(&manifest.id).await?;
        if let Some(e) = &existing {
            if e.hash == hash && e.manifest == manifest && e.capabilities == granted {
                return Ok(InstallOutcome::left(e, "unchanged"));
            }
        }
        // An upgrade keeps what administrators chose.
        let row = PluginRow {
            capabilities: granted.clone(),
            enabled: existing.as_ref().is_none_or(|e| e.enabled),
            builtin,
            config: existing
                .as_ref()
                .map(|e| e.config.clone())
                .unwrap_or_default(),
            timeout_ms: existing.as_ref().and_then(|e| e.timeout_ms),
            memory_mib: existing.as_ref().and_then(|e| e.memory_mib),
            ..PluginRow::fresh(manifest.clone(), hash.clone(), bytes.len())
        };
        // Validate by loading it exactly as a node will.
        let this = self.clone();
        let check_row = row.clone();
        let check_bytes = bytes.clone();
        tokio::task::spawn_blocking(move || this.load(check_row, &check_bytes).map(|_| ()))
            .await
            .map_err(Error::internal)?
            .map_err(|e| Error::BadRequest(format!("The plugin cannot be installed: {e}")))?;
        // Macro names must not clash with another plugin's.
        let reg = self.registry();
        for m in &manifest.macros {
            if let Some(other) = reg.provider(&m.name) {
                if other.row.id != manifest.id {
                    return Err(Error::Conflict(format!(
                        "Macro {:?} is already provided by plugin {} ({}); disable or remove it first",
                        m.name, other.row.name, other.row.id
                    )));
                }
            }
        }
        // Checked last, so an admin fixes everything else first.
        if !builtin && !grant_limits {
            let above = limits_above_defaults(&manifest);
            if !above.is_empty() {
                return Err(Error::BadRequest(format!(
                    "The plugin asks for {}. Limits above the site defaults must be granted \
                     explicitly (CLI: --grant-limits; REST: part grant-limits=true; \
                     admin UI: the \"grant its limits\" checkbox).",
                    above.join(" and ")
                )));
            }
        }
        // Store the component (content-addressed, atomic), then register.
        let path = self.component_path(&hash);
        let shared = path.clone();
        tokio::task::spawn_blocking(move || write_atomic(&shared, &bytes))
            .await
            .map_err(Error::internal)?
            .map_err(|e| Error::Internal(format!("storing the component: {e}")))?;
        let manifest_json = serde_json::to_value(&manifest).map_err(Error::internal)?;
        let caps: Vec<String> = granted.iter().map(|c| c.name().to_string()).collect();
        let mut db = self.inner.pool.get().await?;
        let tx = db.transaction().await?;
        crate::db::execute(
            &tx,
            "INSERT INTO plugins (id, name, version, description, author, manifest, component_hash,
                                  component_size, capabilities, enabled, builtin, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, version = EXCLUDED.version,
                 description = EXCLUDED.description, author = EXCLUDED.author,
                 manifest = EXCLUDED.manifest, component_hash = EXCLUDED.component_hash,
                 component_size = EXCLUDED.component_size, capabilities = EXCLUDED.capabilities,
                 builtin = EXCLUDED.builtin, updated_at = now(), updated_by = EXCLUDED.updated_by",
            &[
                &row.id,
                &row.name,
                &row.version,
                &row.description,
                &row.author,
                &manifest_json,
                &hash,
                &row.size,
                &caps,
                &row.enabled,
                &builtin,
                &actor_id(viewer),
            ],
        )
        .await?;
        let action = if existing.is_some() {
            "upgraded"
        } else {
            "installed"
        };
        record_change(
            &tx,
            &row.id,
            action,
            &row.version,
            &hash,
            "",
            actor_id(viewer),
        )
        .await?;
        tx.commit().await?;
        drop(db);
        self.reload(false).await?;
        tracing::info!(plugin = %row.id, version = %row.version, action, "plugin registry changed");
        Ok(InstallOutcome {
            id: row.id,
            version: row.version,
            action,
            previous_version: existing.map(|e| e.version),
            hash,
            macros: manifest.macros.iter().map(|m| m.name.clone()).collect(),
        })
    }

    async fn install_first_party_from(&self, manifest_path: &Path) -> Result<InstallOutcome> {
        let (manifest, bytes) = read_manifest_and_component(manifest_path)?;
        self.install_first_party(manifest, bytes).await
    }

    /// Installs from a manifest file whose `component` path is relative to it.
    pub async fn install_from_manifest(
        &self,
        viewer: &Viewer,
        manifest_path: &Path,
        grant: Option<&[Capability]>,
        grant_limits: bool,
        builtin: bool,
    ) -> Result<InstallOutcome> {
        let (manifest, bytes) = read_manifest_and_component(manifest_path)?;
        let grant = grant
            .map(<[Capability]>::to_vec)
            .unwrap_or_else(|| manifest.capabilities.clone());
        self.install_granting(viewer, manifest, bytes, &grant, grant_limits, builtin)
            .await
    }

    /// Installs every first-party plugin under `dir` (`*/cairn-plugin.toml`)
    /// that is missing or changed, granting what each requests, by the rules
    /// of the embedded ones (`embedded.rs`): a disabled first-party plugin
    /// stays disabled, an administrator's copy of the same or a newer
    /// version is kept. The developer's override of the embedded plugins
    /// (`CAIRN_BUILTIN_PLUGINS`).
    pub async fn install_builtin(&self, dir: &Path) -> Result<Vec<InstallOutcome>> {
        let mut manifests: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::Internal(format!("reading {}: {e}", dir.display())))?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("cairn-plugin.toml"))
            .filter(|p| p.exists())
            .collect();
        manifests.sort();
        let mut out = Vec::new();
        for m in manifests {
            match self.install_first_party_from(&m).await {
                Ok(o) => out.push(o),
                Err(e) => {
                    tracing::error!(manifest = %m.display(), "first-party plugin not installed: {e}")
                }
            }
        }
        Ok(out)
    }
}

/// A manifest file and the component its `component` path (relative to
/// the manifest) names.
fn read_manifest_and_component(manifest_path: &Path) -> Result<(Manifest, Vec<u8>)> {
    let text = std::fs::read_to_string(manifest_path)
        .map_err(|e| Error::BadRequest(format!("cannot read {}: {e}", manifest_path.display())))?;
    let manifest = Manifest::parse(&text)
        .map_err(|e| Error::BadRequest(format!("{}: {e}", manifest_path.display())))?;
    let rel = manifest.component.clone().ok_or_else(|| {
        Error::BadRequest(format!(
            "{}: the manifest has no `component` path",
            manifest_path.display()
        ))
    })?;
    let comp = manifest_path.parent().unwrap_or(Path::new(".")).join(rel);
    let bytes = std::fs::read(&comp).map_err(|e| {
        Error::BadRequest(format!(
            "cannot read the component {}: {e} (was it built?)",
            comp.display()
        ))
    })?;
    Ok((manifest, bytes))
}

/// The identity first-party installs and event hooks run as: sees what an
/// administrator sees.
pub fn system_viewer() -> Viewer {
    let mut v = Viewer::anonymous();
    v.is_admin = true;
    v.can_use = true;
    v
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if path.exists() {
        return Ok(());
    }
    let dir = path.parent().expect("component path has a directory");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}
