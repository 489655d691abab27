//! Live settings in etcd: every node watches `config/<key>` and publishes
//! the merged settings to its subscribers.
//!
//! Invariant: a setting is validated before it is stored, and a node
//! applies settings only as a whole, so no node runs half a change.

use super::{etcd::etcd, settings, Cluster, Settings};
use crate::error::Result;
use etcd_client::{Client, Compare, CompareOp, Txn, TxnOp};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::watch;

impl Cluster {
    pub fn settings(&self) -> Arc<Settings> {
        self.inner.settings.borrow().clone()
    }

    /// Settings as the store holds them right now (the node's own copy may
    /// be a watch event behind): for pages and APIs that show what was set.
    pub(crate) async fn stored_settings(&self) -> Result<Arc<Settings>> {
        let stored = self.inner.store.load().await?;
        Ok(Arc::new(Settings::resolve(&self.inner.defaults, stored)))
    }

    pub(crate) fn subscribe_settings(&self) -> watch::Receiver<Arc<Settings>> {
        self.inner.settings.subscribe()
    }

    /// Changes a live setting (`None` resets it to its default), audited.
    pub async fn set_setting(
        &self,
        key: &str,
        value: Option<&str>,
        by: &str,
    ) -> Result<(Option<String>, Option<String>)> {
        let r = self
            .inner
            .store
            .set(&self.inner.pool, key, value, by, &self.inner.node_id)
            .await?;
        if !self.is_clustered() {
            // Standalone: apply now (the poller would within a second).
            if let Ok(stored) = self.inner.store.load().await {
                self.publish_settings(stored);
            }
        }
        Ok(r)
    }

    pub(super) fn publish_settings(&self, stored: BTreeMap<String, String>) {
        let current = self.settings();
        if current.stored == stored {
            return;
        }
        let s = Settings::resolve(&self.inner.defaults, stored);
        tracing::info!(
            settings = ?s.stored,
            "live settings applied"
        );
        self.inner.settings.send_replace(Arc::new(s));
    }
}

/// When a database forms a cluster, the settings it had as a standalone
/// node (PostgreSQL's `settings` table) become the cluster's live settings,
/// so an admin who turns a single node into a cluster keeps the site title,
/// banner, limits and the rest. A key already set in etcd (by
/// `cairn config set` before the first node started) wins; a stored value
/// that no longer validates is skipped with a warning. Each copied value is
/// audited as changed by "standalone settings".
pub(super) async fn seed_settings(
    client: &mut Client,
    pool: &deadpool_postgres::Pool,
    prefix: &str,
    node: &str,
) -> anyhow::Result<()> {
    let db = pool.get().await?;
    let rows = crate::db::query(&db, "SELECT key, value FROM settings ORDER BY key", &[]).await?;
    for r in rows {
        let (key, value): (String, String) = (r.get(0), r.get(1));
        let value = match settings::validate(&key, &value) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(key, error = %e.public_message(), "standalone setting not carried into the cluster");
                continue;
            }
        };
        let k = format!("{prefix}config/{key}");
        let txn = Txn::new()
            .when([Compare::create_revision(k.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(k, value.clone(), None)]);
        let resp = etcd(client.txn(txn))
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
        if resp.succeeded() {
            settings::audit(&db, &key, None, Some(&value), "standalone settings", node).await?;
            tracing::info!(
                key,
                value,
                "standalone setting carried into the new cluster"
            );
        }
    }
    Ok(())
}
