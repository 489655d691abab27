//! Changing an installed plugin: enable, disable, configuration, limits,
//! removal, and the audit trail of every registry change.
//!
//! Invariant: every change is an administrator's, made with the plugin's
//! row locked, and recorded in `plugin_history` with a `plugin_generation`
//! bump in the same transaction, so every node reloads.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use super::{manifest, PluginRow, Plugins};
use crate::error::{Error, Result};
use crate::perms::Viewer;

/// Who changes the registry.
pub(super) fn actor_id(viewer: &Viewer) -> Option<i64> {
    viewer.user_id()
}

pub(super) fn require_admin(viewer: &Viewer) -> Result<()> {
    if viewer.is_admin {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "Only administrators may manage plugins".into(),
        ))
    }
}

impl Plugins {
    /// An administrator's change to plugin `id`, in one transaction:
    /// `update` runs with the row locked and returns the history entry's
    /// detail; the change is recorded with the generation bump
    /// (`record_change`), and this node reloads. Gives `update`'s answer.
    pub(super) async fn change<T>(
        &self,
        viewer: &Viewer,
        id: &str,
        action: &str,
        update: impl AsyncFnOnce(&deadpool_postgres::Transaction<'_>, &PluginRow) -> Result<(String, T)>,
    ) -> Result<(PluginRow, T)> {
        require_admin(viewer)?;
        let mut db = self.inner.pool.get().await?;
        let tx = db.transaction().await?;
        let row = lock_row(&tx, id).await?;
        let (detail, answer) = update(&tx, &row).await?;
        record_change(
            &tx,
            id,
            action,
            &row.version,
            &row.hash,
            &detail,
            actor_id(viewer),
        )
        .await?;
        tx.commit().await?;
        drop(db);
        self.reload(false).await?;
        Ok((row, answer))
    }

    /// The registry row of plugin `id`, if it is installed.
    pub(super) async fn installed(&self, id: &str) -> Result<Option<PluginRow>> {
        let db = self.inner.pool.get().await?;
        crate::db::query_opt(&db, "SELECT * FROM plugins WHERE id = $1", &[&id])
            .await?
            .map(|r| PluginRow::from_row(&r))
            .transpose()
    }

    pub async fn set_enabled(&self, viewer: &Viewer, id: &str, enabled: bool) -> Result<()> {
        let action = if enabled { "enabled" } else { "disabled" };
        let actor = actor_id(viewer);
        self.change(viewer, id, action, async |tx, row| {
            if enabled && !row.enabled {
                // Re-enabling must not clash with macros another plugin took meanwhile.
                let reg = self.registry();
                for m in &row.manifest.macros {
                    if let Some(other) = reg.provider(&m.name) {
                        if other.row.id != row.id {
                            return Err(Error::Conflict(format!(
                                "Macro {:?} is now provided by plugin {} ({})",
                                m.name, other.row.name, other.row.id
                            )));
                        }
                    }
                }
            }
            crate::db::execute(
                tx,
                "UPDATE plugins SET enabled = $2, updated_at = now(), updated_by = $3 WHERE id = $1",
                &[&id, &enabled, &actor],
            )
            .await?;
            Ok((String::new(), ()))
        })
        .await
        .map(|_| ())
    }

    /// Removes a plugin with its data (kv, event position). The component
    /// file stays in the shared home while any row refers to its hash.
    pub async fn remove(&self, viewer: &Viewer, id: &str) -> Result<()> {
        let (row, still_used) = self
            .change(viewer, id, "removed", async |tx, row| {
                crate::db::execute(tx, "DELETE FROM plugins WHERE id = $1", &[&id]).await?;
                let still_used = crate::db::query_opt(
                    tx,
                    "SELECT 1 FROM plugins WHERE component_hash = $1",
                    &[&row.hash],
                )
                .await?
                .is_some();
                Ok((String::new(), still_used))
            })
            .await?;
        if !still_used {
            let _ = std::fs::remove_file(self.component_path(&row.hash));
        }
        Ok(())
    }

    /// Replaces the plugin's configuration (capability `config`).
    pub(crate) async fn set_config(
        &self,
        viewer: &Viewer,
        id: &str,
        config: BTreeMap<String, String>,
    ) -> Result<()> {
        require_admin(viewer)?;
        for (k, v) in &config {
            if k.is_empty() || k.len() > 100 || v.len() > 10_000 {
                return Err(Error::BadRequest(
                    "Configuration keys are 1 to 100 characters, values up to 10,000".into(),
                ));
            }
        }
        let json = serde_json::to_value(&config).map_err(Error::internal)?;
        let actor = actor_id(viewer);
        self.change(viewer, id, "configured", async |tx, _| {
            crate::db::execute(
                tx,
                "UPDATE plugins SET config = $2, updated_at = now(), updated_by = $3 WHERE id = $1",
                &[&id, &json, &actor],
            )
            .await?;
            Ok((String::new(), ()))
        })
        .await
        .map(|_| ())
    }

    /// Sets (or with `None` clears) the admin's limit overrides.
    pub(crate) async fn set_limits(
        &self,
        viewer: &Viewer,
        id: &str,
        timeout_ms: Option<u32>,
        memory_mib: Option<u32>,
    ) -> Result<()> {
        require_admin(viewer)?;
        if timeout_ms.is_some_and(|t| t == 0 || t > manifest::MAX_TIMEOUT_MS) {
            return Err(Error::BadRequest(format!(
                "The time limit must be 1 to {} ms",
                manifest::MAX_TIMEOUT_MS
            )));
        }
        if memory_mib.is_some_and(|m| m == 0 || m > manifest::MAX_MEMORY_MIB) {
            return Err(Error::BadRequest(format!(
                "The memory limit must be 1 to {} MiB",
                manifest::MAX_MEMORY_MIB
            )));
        }
        let t = timeout_ms.map(|v| v as i32);
        let m = memory_mib.map(|v| v as i32);
        let actor = actor_id(viewer);
        self.change(viewer, id, "limits", async |tx, _| {
            crate::db::execute(
                tx,
                "UPDATE plugins SET timeout_ms = $2, memory_mib = $3, updated_at = now(), updated_by = $4
                 WHERE id = $1",
                &[&id, &t, &m, &actor],
            )
            .await?;
            Ok((format!("timeout {t:?} ms, memory {m:?} MiB"), ()))
        })
        .await
        .map(|_| ())
    }

    /// The registry's change history, newest first.
    pub async fn history(&self, id: Option<&str>, limit: i64) -> Result<Vec<HistoryEntry>> {
        let db = self.inner.pool.get().await?;
        let rows = crate::db::query(
            &db,
            "SELECT h.plugin_id, h.action, h.version, h.detail, coalesce(u.username, 'system'), h.at
             FROM plugin_history h LEFT JOIN users u ON u.id = h.actor_id
             WHERE $1::text IS NULL OR h.plugin_id = $1 ORDER BY h.id DESC LIMIT $2",
            &[&id, &limit],
        )
        .await?;
        Ok(rows
            .iter()
            .map(|r| HistoryEntry {
                plugin_id: r.get(0),
                action: r.get(1),
                version: r.get(2),
                detail: r.get(3),
                actor: r.get(4),
                at: r.get(5),
            })
            .collect())
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoryEntry {
    pub plugin_id: String,
    pub action: String,
    pub version: String,
    pub detail: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

pub(super) async fn lock_row(db: &impl GenericClient, id: &str) -> Result<PluginRow> {
    let r = crate::db::query_opt(db, "SELECT * FROM plugins WHERE id = $1 FOR UPDATE", &[&id])
        .await?
        .ok_or_else(|| Error::NotFound(format!("No plugin with id {id}")))?;
    PluginRow::from_row(&r)
}

/// Every registry change: its audit-trail entry and the generation bump
/// that makes every node reload (in the change's transaction).
pub(super) async fn record_change(
    db: &impl GenericClient,
    id: &str,
    action: &str,
    version: &str,
    hash: &str,
    detail: &str,
    actor: Option<i64>,
) -> Result<()> {
    crate::db::execute(
        db,
        "INSERT INTO plugin_history (plugin_id, action, version, component_hash, detail, actor_id)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[&id, &action, &version, &hash, &detail, &actor],
    )
    .await?;
    crate::db::execute(
        db,
        "UPDATE plugin_generation SET generation = generation + 1",
        &[],
    )
    .await?;
    Ok(())
}
