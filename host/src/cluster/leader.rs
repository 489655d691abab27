//! Leader election for cluster-wide jobs: the `leader` key bound to the
//! leader's lease.
//!
//! Invariant: at most one node believes it leads while its lease lives;
//! a fenced node gives up leading before it could be replaced.

use super::{etcd::ETCD_CALL, Cluster, NodeState};
use crate::sync::Recover;
use etcd_client::{Compare, CompareOp, PutOptions, Txn, TxnOp};
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Cluster {
    pub(crate) fn is_leader(&self) -> bool {
        if !self.is_clustered() {
            return true;
        }
        self.may_write()
            && self.inner.ready.is_ready()
            && self.inner.leader.read().recover().as_deref() == Some(self.node_id())
    }

    pub(crate) fn leader_id(&self) -> Option<String> {
        self.inner.leader.read().recover().clone()
    }

    pub(super) async fn campaign_loop(self) {
        loop {
            let _ = tokio::time::timeout(
                Duration::from_millis(500),
                self.inner.live.changed.notified(),
            )
            .await;
            if self.leaving() {
                return;
            }
            if self.state() != NodeState::Active
                || !self.may_write()
                || !self.inner.ready.is_ready()
                || self.leader_id().is_some()
            {
                continue;
            }
            let key = format!("{}leader", self.inner.prefix);
            let lease = self.inner.live.lease.load(Ordering::Relaxed);
            let txn = Txn::new()
                .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
                .and_then([TxnOp::put(
                    key,
                    self.node_id(),
                    Some(PutOptions::new().with_lease(lease)),
                )]);
            let mut client = self.client();
            if let Ok(Ok(r)) = tokio::time::timeout(ETCD_CALL, client.txn(txn)).await {
                if r.succeeded() {
                    tracing::info!("this node is now the cluster leader");
                    *self.inner.leader.write().recover() = Some(self.node_id().to_owned());
                }
            }
        }
    }
}
