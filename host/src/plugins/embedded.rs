//! The first-party plugins shipped inside the `cairn` binary (built from
//! `plugins/` by `host/build.rs`), and installing them at start.
//!
//! Invariants: every node installs or upgrades each embedded plugin when it
//! starts; an administrator's choices win over the binary's: a disabled
//! first-party plugin stays disabled, and a copy an administrator installed
//! with the same or a newer version is kept. A first-party plugin is never
//! downgraded (a node of an older release joining the cluster leaves a newer
//! copy alone).

use std::cmp::Ordering;

use super::*;
use crate::error::Result;

/// One first-party plugin: its manifest and its component.
pub struct EmbeddedPlugin {
    /// Its directory under `plugins/`.
    pub dir: &'static str,
    /// `cairn-plugin.toml`.
    pub manifest: &'static str,
    /// The `wasm32-wasip2` component.
    pub component: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/embedded_plugins.rs"));

/// The first-party plugins this binary carries.
pub fn embedded() -> &'static [EmbeddedPlugin] {
    EMBEDDED
}

/// Orders plugin versions as semantic versions (`1.10.0` > `1.9.2`, a
/// pre-release before its release); what does not parse compares as text.
pub(crate) fn compare_versions(a: &str, b: &str) -> Ordering {
    fn split(v: &str) -> (Option<Vec<u64>>, Option<&str>) {
        let v = v.trim().split('+').next().unwrap_or_default();
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (v, None),
        };
        let nums = core
            .split('.')
            .map(|n| n.parse::<u64>().ok())
            .collect::<Option<Vec<u64>>>();
        (nums, pre)
    }
    match (split(a), split(b)) {
        ((Some(mut x), xp), (Some(mut y), yp)) => {
            let n = x.len().max(y.len());
            x.resize(n, 0);
            y.resize(n, 0);
            x.cmp(&y).then_with(|| match (xp, yp) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(p), Some(q)) => p.cmp(q),
            })
        }
        _ => a.cmp(b),
    }
}

impl Plugins {
    /// Every embedded plugin loaded into one registry outside the database
    /// (benchmarks, tests, tools). Plugins that read content need a node.
    pub fn embedded_registry(&self) -> std::result::Result<Registry, String> {
        let mut parts = Vec::new();
        for p in embedded() {
            let m = Manifest::parse(p.manifest).map_err(|e| format!("{}: {e}", p.dir))?;
            parts.push(
                self.standalone_registry(m, p.component)
                    .map_err(|e| format!("{}: {e}", p.dir))?,
            );
        }
        let parts: Vec<&Registry> = parts.iter().map(|r| r.as_ref()).collect();
        Ok(Registry::merged(&parts))
    }

    /// Installs or upgrades every plugin embedded in this binary (see the
    /// module's invariants). A plugin that cannot be installed is logged and
    /// skipped; the others still install.
    pub async fn install_embedded(&self) -> Vec<InstallOutcome> {
        let mut out = Vec::new();
        for p in embedded() {
            let manifest = match Manifest::parse(p.manifest) {
                Ok(m) => m,
                Err(e) => {
                    tracing::error!(plugin = p.dir, "embedded first-party manifest: {e}");
                    continue;
                }
            };
            match self
                .install_first_party(manifest, p.component.to_vec())
                .await
            {
                Ok(o) => out.push(o),
                Err(e) => {
                    tracing::error!(plugin = p.dir, "first-party plugin not installed: {e}")
                }
            }
        }
        out
    }

    /// Installs a first-party plugin as the system, granting what it
    /// requests, unless an administrator's copy of the same or a newer
    /// version is installed, or any copy of a newer version (action "kept").
    pub(super) async fn install_first_party(
        &self,
        manifest: Manifest,
        bytes: Vec<u8>,
    ) -> Result<InstallOutcome> {
        if let Some(e) = self.installed(&manifest.id).await? {
            let order = compare_versions(&e.version, &manifest.version);
            if order == Ordering::Greater || (order == Ordering::Equal && !e.builtin) {
                return Ok(InstallOutcome::left(&e, "kept"));
            }
        }
        let grant = manifest.capabilities.clone();
        let o = self
            .install_granting(&system_viewer(), manifest, bytes, &grant, false, true)
            .await?;
        if o.action != "unchanged" {
            tracing::info!(plugin = %o.id, version = %o.version, action = o.action, "first-party plugin");
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_as_semantic_versions() {
        assert_eq!(compare_versions("1.10.0", "1.9.2"), Ordering::Greater);
        assert_eq!(compare_versions("1.0", "1.0.0"), Ordering::Equal);
        assert_eq!(compare_versions("1.0.0-beta", "1.0.0"), Ordering::Less);
        assert_eq!(compare_versions("2.0.0", "10.0.0"), Ordering::Less);
        assert_eq!(compare_versions("1.0.0+build5", "1.0.0"), Ordering::Equal);
    }

    #[test]
    fn every_first_party_plugin_is_embedded_with_a_valid_manifest() {
        let ids: Vec<String> = embedded()
            .iter()
            .map(|p| {
                let m = Manifest::parse(p.manifest).expect("manifest parses");
                m.validate().expect("manifest is valid");
                assert!(
                    p.component.starts_with(b"\0asm"),
                    "{} is a component",
                    p.dir
                );
                m.id
            })
            .collect();
        for id in [
            "cairn.code",
            "cairn.panels",
            "cairn.toc",
            "cairn.content-macros",
            "cairn.include",
            "cairn.content-report",
            "cairn.page-macros",
            "cairn.page-properties",
            "cairn.tasks-report",
            "cairn.people",
        ] {
            assert!(ids.iter().any(|i| i == id), "{id} is embedded: {ids:?}");
        }
    }
}
