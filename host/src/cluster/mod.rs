//! Clustering through etcd: membership bound to a lease, database-enforced
//! fencing, leader election for cluster-wide jobs, live settings and
//! draining. Without `CAIRN_ETCD_ENDPOINTS` the node is standalone: always
//! its own leader, never fenced, settings in PostgreSQL.
//!
//! etcd layout under `/cairn/<cluster>/`:
//! - `cluster-id`: the id also stored in PostgreSQL (`cluster_info`);
//! - `nodes/<id>`: each live node's [`MemberInfo`], bound to its lease;
//! - `leader`: the leader's node id, bound to its lease;
//! - `config/<key>`: live settings (see [`settings`]);
//! - `drain/<id>`: a request (from `cairn node drain`) that a node leave.
//!
//! Fencing: after every successful keep-alive the node moves its
//! `cluster_fence.lease_until` forward to end `FENCE_MARGIN` before its etcd
//! lease could expire, and its local write deadline with it. Every write
//! transaction on its connections is checked against that row at commit
//! (migration V6), so a node that was paused or cut off cannot commit once
//! its lease may have lapsed — whatever its own code believes.

pub mod jobs;
pub mod settings;
pub(crate) mod store;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use etcd_client::Client;
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};

pub use settings::{Defaults, Settings};
pub use store::Store;

mod drain;
mod etcd;
mod fencing;
mod join;
mod leader;
mod live_settings;
mod membership;
use crate::cluster::etcd::ETCD_CALL;
pub(crate) use crate::db::incarnation;

pub use drain::InflightGuard;
pub use etcd::build_id;
pub use fencing::FENCE_MARGIN;
pub use join::connect;
pub use join::prefix_of;
pub use membership::plugin_divergence;
pub use membership::Figures;
pub use membership::FiguresFn;
pub use membership::MemberInfo;

/// A node's membership state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum NodeState {
    /// A member (or standalone) that may write.
    Active,
    /// Its lease could not be kept alive: reads only until it rejoins.
    Fenced,
    /// Leaving on request: load balancers are told to stop sending work.
    Draining,
    /// Gone from the cluster; the process is shutting down.
    Left,
}

struct Inner {
    node_id: String,
    name: String,
    prefix: String,
    /// Where this node itself listens (not the balancer's public URL).
    address: String,
    started: DateTime<Utc>,
    ttl: Duration,
    etcd: Option<Client>,
    pool: deadpool_postgres::Pool,
    cluster_id: String,
    state: watch::Sender<NodeState>,
    /// The node's readiness (shared with `/status`).
    ready: crate::status::Readiness,
    leader: RwLock<Option<String>>,
    settings: watch::Sender<Arc<Settings>>,
    defaults: Defaults,
    store: Store,
    live: Live,
}

/// What moves while the node runs; every node starts with it empty.
#[derive(Default)]
struct Live {
    lease: AtomicI64,
    /// Writes are allowed until then (cluster mode).
    deadline: Mutex<Option<Instant>>,
    renewed_at: Mutex<Option<Instant>>,
    mirror: Mutex<BTreeMap<String, Vec<u8>>>,
    members: RwLock<BTreeMap<String, MemberInfo>>,
    requests: AtomicU64,
    inflight: AtomicI64,
    figures: Mutex<Option<FiguresFn>>,
    changed: Notify,
    /// Wakes the publisher (a stored permit, so no change is missed).
    publish: Notify,
    drain_started: AtomicBool,
    left: Notify,
}

/// The node's view of its cluster. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node_id", &self.inner.node_id)
            .field("clustered", &self.is_clustered())
            .finish()
    }
}

impl Cluster {
    pub(crate) fn node_id(&self) -> &str {
        &self.inner.node_id
    }
    pub(crate) fn name(&self) -> &str {
        &self.inner.name
    }
    pub(crate) fn cluster_id(&self) -> &str {
        &self.inner.cluster_id
    }
    pub(crate) fn is_clustered(&self) -> bool {
        self.inner.etcd.is_some()
    }
    pub(crate) fn ttl(&self) -> Duration {
        self.inner.ttl
    }
    pub(crate) fn state(&self) -> NodeState {
        *self.inner.state.borrow()
    }
    /// Set when the node serves (its /status says RUNNING).
    pub(crate) fn set_ready(&self) {
        self.inner.ready.set_ready();
        self.changed();
    }

    /// etcd's own health, for the admin page.
    pub(crate) async fn etcd_health(&self) -> Option<std::result::Result<String, String>> {
        let mut client = self.inner.etcd.clone()?;
        Some(
            match tokio::time::timeout(ETCD_CALL, client.status()).await {
                Ok(Ok(s)) => Ok(format!(
                    "etcd {}, database {} KiB, raft term {}, leader member {:x}",
                    s.version(),
                    s.db_size() / 1024,
                    s.raft_term(),
                    s.leader()
                )),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("no answer within 2 s".into()),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, plugins: &[(&str, &str)]) -> MemberInfo {
        MemberInfo {
            id: id.into(),
            address: format!("http://{id}"),
            version: "1".into(),
            build: "b".into(),
            started: String::new(),
            state: "ACTIVE".into(),
            updated: String::new(),
            lease_id: 1,
            figures: Figures {
                plugins: plugins
                    .iter()
                    .map(|(p, h)| ((*p).to_owned(), (*h).to_owned()))
                    .collect(),
                ..Figures::default()
            },
        }
    }

    #[test]
    fn plugin_divergence_names_each_node_and_what_it_runs() {
        let same = [
            member("a", &[("hello", "aaaa1111bbbb2222cccc")]),
            member("b", &[("hello", "aaaa1111bbbb2222cccc")]),
        ];
        assert!(plugin_divergence(&same).is_empty());
        let members = [
            member("a", &[("hello", "aaaa1111bbbb2222cccc"), ("chart", "1111")]),
            member("b", &[("hello", "ffff9999eeee8888dddd")]),
            member("c", &[("hello", "aaaa1111bbbb2222cccc"), ("chart", "1111")]),
        ];
        let d = plugin_divergence(&members);
        assert_eq!(
            d.get("hello").map(String::as_str),
            Some("a=aaaa1111bbbb, b=ffff9999eeee, c=aaaa1111bbbb")
        );
        assert_eq!(
            d.get("chart").map(String::as_str),
            Some("a=1111, b=(not loaded), c=1111")
        );
        assert_eq!(d.len(), 2);
    }
}
