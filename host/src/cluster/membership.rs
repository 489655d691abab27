//! Membership: each node publishes what it is and runs under
//! `nodes/<id>`, bound to its lease, and mirrors everyone else's.
//!
//! Invariant: the member list is rebuilt from the mirror of etcd's keys
//! after every watch event, so a node that lost its lease disappears from
//! every node's list when etcd drops its key.

use super::{
    build_id,
    etcd::{etcd, now_text, ETCD_CALL},
    Cluster, NodeState,
};
use crate::error::{Error, Result};
use crate::sync::Recover;
use etcd_client::{Compare, CompareOp, GetOptions, PutOptions, Txn, TxnOp, WatchOptions};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What each node publishes about itself under `nodes/<id>`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MemberInfo {
    pub id: String,
    pub address: String,
    pub version: String,
    pub build: String,
    pub started: String,
    /// STARTING, ACTIVE, FENCED, DRAINING (the zdu states, plus FENCED).
    pub state: String,
    pub updated: String,
    #[serde(default)]
    pub lease_id: i64,
    #[serde(default)]
    pub figures: Figures,
}

/// A node's live figures, refreshed every couple of seconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Figures {
    pub memory_rss_bytes: u64,
    pub cpu_seconds: f64,
    pub load_average: f64,
    pub requests_total: u64,
    pub request_rate: f64,
    pub db_pool_size: usize,
    pub db_pool_available: usize,
    pub db_pool_max: usize,
    pub index_docs: u64,
    pub index_position: i64,
    pub index_lag: i64,
    /// Empty when search is right; else why it is degraded (rebuilding).
    pub index_degraded: String,
    /// The last drift check, in words.
    pub index_drift: String,
    /// Plugin id → component SHA-256 of what this node runs.
    pub plugins: BTreeMap<String, String>,
    /// Milliseconds since the last successful keep-alive.
    pub lease_age_ms: u64,
}

/// Gathers figures that live outside this module (index, plugins).
pub type FiguresFn = Arc<dyn Fn() -> Figures + Send + Sync>;

/// `http://<listen address>`, with the host name when listening on all
/// interfaces.
pub(super) fn node_address(config: &crate::config::Config) -> String {
    let l = config.listen;
    if l.ip().is_unspecified() {
        format!(
            "http://{}:{}",
            gethostname::gethostname().to_string_lossy(),
            l.port()
        )
    } else {
        format!("http://{l}")
    }
}

impl Cluster {
    /// Live members as last seen (cluster mode; standalone: this node).
    pub(crate) fn members(&self) -> Vec<MemberInfo> {
        if !self.is_clustered() {
            return vec![self.own_info()];
        }
        self.inner
            .live
            .members
            .read()
            .recover()
            .values()
            .cloned()
            .collect()
    }

    pub(crate) fn set_figures(&self, f: FiguresFn) {
        *self.inner.live.figures.lock().recover() = Some(f);
    }

    pub(super) fn own_info(&self) -> MemberInfo {
        let state = if !self.inner.ready.is_ready() {
            "STARTING"
        } else {
            match self.state() {
                NodeState::Active => "ACTIVE",
                NodeState::Fenced => "FENCED",
                NodeState::Draining => "DRAINING",
                NodeState::Left => "TERMINATING",
            }
        };
        let mut figures = self
            .inner
            .live
            .figures
            .lock()
            .recover()
            .clone()
            .map(|f| f())
            .unwrap_or_default();
        figures.requests_total = self.requests_total();
        figures.lease_age_ms = self.lease_age().map_or(0, |d| d.as_millis() as u64);
        MemberInfo {
            id: self.inner.node_id.clone(),
            address: self.inner.address.clone(),
            version: env!("CARGO_PKG_VERSION").into(),
            build: build_id(),
            started: self
                .inner
                .started
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            state: state.into(),
            updated: now_text(),
            lease_id: self.inner.live.lease.load(Ordering::Relaxed),
            figures,
        }
    }

    /// Grants a lease, claims `nodes/<id>` with it and opens the fence.
    pub(super) async fn register(&self) -> Result<()> {
        let mut client = self.client();
        let ttl_secs = self.inner.ttl.as_secs().max(2) as i64;
        let sent = Instant::now();
        let lease = etcd(client.lease_grant(ttl_secs, None)).await?.id();
        self.inner.live.lease.store(lease, Ordering::Relaxed);
        let key = format!("{}nodes/{}", self.inner.prefix, self.inner.node_id);
        let info = serde_json::to_vec(&self.own_info()).map_err(Error::internal)?;
        let txn = Txn::new()
            .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(
                key.clone(),
                info,
                Some(PutOptions::new().with_lease(lease)),
            )])
            .or_else([TxnOp::get(key.clone(), None)]);
        let resp = etcd(client.txn(txn)).await?;
        if !resp.succeeded() {
            let _ = etcd(client.lease_revoke(lease)).await;
            let other = super::etcd::txn_got(&resp)
                .and_then(|v| serde_json::from_slice::<MemberInfo>(&v).ok())
                .map(|m| format!(" (registered from {}, started {})", m.address, m.started))
                .unwrap_or_default();
            return Err(Error::Conflict(format!(
                "node id {:?} is already live in cluster {:?}{other}; give this node another CAIRN_NODE_ID or stop the other node",
                self.inner.node_id, self.inner.name
            )));
        }
        if let Err(e) = self.renewed(sent, ttl_secs, lease).await {
            // Give the id back (the lease takes the member key with it), so
            // a retry, or the other holder, is not blocked by this attempt.
            let _ = etcd(client.lease_revoke(lease)).await;
            return Err(e);
        }
        tracing::info!(node = %self.inner.node_id, cluster = %self.inner.name, lease, "joined the cluster");
        Ok(())
    }

    /// Something about this node or the cluster changed: wake the
    /// campaign and publish this node's record now.
    pub(super) fn changed(&self) {
        self.inner.live.changed.notify_waiters();
        self.inner.live.publish.notify_one();
    }

    pub(super) async fn watch_loop(self) {
        loop {
            if self.leaving() {
                return;
            }
            if let Err(e) = self.watch_once().await {
                tracing::debug!(error = %e, "etcd watch ended; restarting");
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    pub(super) async fn watch_once(&self) -> std::result::Result<(), etcd_client::Error> {
        let mut client = self.client();
        let prefix = self.inner.prefix.clone();
        let resp = match tokio::time::timeout(
            ETCD_CALL,
            client.get(prefix.clone(), Some(GetOptions::new().with_prefix())),
        )
        .await
        {
            Ok(r) => r?,
            Err(_) => return Err(etcd_client::Error::WatchError("get timed out".into())),
        };
        let rev = resp.header().map_or(0, |h| h.revision());
        {
            let mut m = self.inner.live.mirror.lock().recover();
            m.clear();
            for kv in resp.kvs() {
                m.insert(
                    String::from_utf8_lossy(kv.key()).into_owned(),
                    kv.value().to_vec(),
                );
            }
        }
        self.refresh();
        let mut stream = client
            .watch(
                prefix,
                Some(
                    WatchOptions::new()
                        .with_prefix()
                        .with_start_revision(rev + 1),
                ),
            )
            .await?;
        while let Some(msg) = stream.message().await? {
            if msg.canceled() {
                return Err(etcd_client::Error::WatchError(format!(
                    "watch canceled: {}",
                    msg.cancel_reason()
                )));
            }
            {
                let mut m = self.inner.live.mirror.lock().recover();
                for ev in msg.events() {
                    let Some(kv) = ev.kv() else { continue };
                    let key = String::from_utf8_lossy(kv.key()).into_owned();
                    match ev.event_type() {
                        etcd_client::EventType::Put => {
                            m.insert(key, kv.value().to_vec());
                        }
                        etcd_client::EventType::Delete => {
                            m.remove(&key);
                        }
                    }
                }
            }
            self.refresh();
            if self.leaving() {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Derives members, leader, settings and drain requests from the mirror.
    pub(super) fn refresh(&self) {
        let p = &self.inner.prefix;
        let (members, leader, config, drain) = {
            let m = self.inner.live.mirror.lock().recover();
            let mut members = BTreeMap::new();
            let mut config = BTreeMap::new();
            let mut drain = false;
            let mut leader = None;
            for (k, v) in m.iter() {
                let Some(rest) = k.strip_prefix(p.as_str()) else {
                    continue;
                };
                if let Some(id) = rest.strip_prefix("nodes/") {
                    if let Ok(info) = serde_json::from_slice::<MemberInfo>(v) {
                        members.insert(id.to_owned(), info);
                    }
                } else if let Some(key) = rest.strip_prefix("config/") {
                    config.insert(key.to_owned(), String::from_utf8_lossy(v).into_owned());
                } else if rest == "leader" {
                    leader = Some(String::from_utf8_lossy(v).into_owned());
                } else if rest.strip_prefix("drain/") == Some(self.node_id()) {
                    drain = true;
                }
            }
            (members, leader, config, drain)
        };
        *self.inner.live.members.write().recover() = members;
        let before = self.leader_id();
        if before != leader {
            tracing::info!(leader = ?leader, "cluster leader changed");
        }
        *self.inner.leader.write().recover() = leader;
        self.publish_settings(config);
        if drain && !self.inner.live.drain_started.swap(true, Ordering::SeqCst) {
            let me = self.clone();
            tokio::spawn(async move { me.drain().await });
        }
        self.changed();
    }

    pub(super) async fn publish_loop(self) {
        let mut last_requests = self.requests_total();
        let mut last_at = Instant::now();
        loop {
            let _ =
                tokio::time::timeout(Duration::from_secs(2), self.inner.live.changed.notified())
                    .await;
            if self.leaving() {
                return;
            }
            if self.state() == NodeState::Fenced {
                continue;
            }
            let mut info = self.own_info();
            let total = self.requests_total();
            let secs = last_at.elapsed().as_secs_f64().max(0.001);
            info.figures.request_rate =
                ((total - last_requests) as f64 / secs * 10.0).round() / 10.0;
            (last_requests, last_at) = (total, Instant::now());
            let key = format!("{}nodes/{}", self.inner.prefix, self.inner.node_id);
            let lease = self.inner.live.lease.load(Ordering::Relaxed);
            let Ok(value) = serde_json::to_vec(&info) else {
                continue;
            };
            // Only while the key is still ours (bound to our lease).
            let txn = Txn::new()
                .when([Compare::lease(key.clone(), CompareOp::Equal, lease)])
                .and_then([TxnOp::put(
                    key,
                    value,
                    Some(PutOptions::new().with_lease(lease)),
                )]);
            let mut client = self.client();
            let _ = tokio::time::timeout(ETCD_CALL, client.txn(txn)).await;
            // Figures change continuously; publish at most every 2 s.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// Plugins whose component differs between members: id → "node=hash, …".
pub fn plugin_divergence(members: &[MemberInfo]) -> BTreeMap<String, String> {
    let mut by_plugin: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    for m in members {
        for (id, hash) in &m.figures.plugins {
            by_plugin.entry(id).or_default().insert(&m.id, hash);
        }
    }
    let live: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    by_plugin
        .into_iter()
        .filter(|(_, nodes)| {
            let hashes: std::collections::BTreeSet<&&str> = nodes.values().collect();
            hashes.len() > 1 || nodes.len() < live.len()
        })
        .map(|(id, nodes)| {
            let text = live
                .iter()
                .map(|n| {
                    format!(
                        "{n}={}",
                        nodes
                            .get(n)
                            .map_or("(not loaded)", |h| &h[..h.len().min(12)])
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            (id.to_owned(), text)
        })
        .collect()
}
