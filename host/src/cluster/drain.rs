//! Draining: a node asked to leave stops taking new work, lets in-flight
//! requests finish, and gives up its lease.
//!
//! Invariant: the node's key is deleted only after its in-flight requests
//! ended or the drain deadline passed, so a load balancer that follows
//! `/status` never sends work to a node that is gone.

use super::{etcd::ETCD_CALL, incarnation, Cluster, Inner, NodeState};
use crate::sync::Recover;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Cluster {
    pub(crate) fn request_started(&self) -> InflightGuard {
        self.inner.live.requests.fetch_add(1, Ordering::Relaxed);
        self.inner.live.inflight.fetch_add(1, Ordering::AcqRel);
        InflightGuard(self.inner.clone())
    }

    pub(crate) fn requests_total(&self) -> u64 {
        self.inner.live.requests.load(Ordering::Relaxed)
    }

    /// Resolves once the node has left the cluster (drained).
    pub(crate) async fn left(&self) {
        if self.state() == NodeState::Left {
            return;
        }
        self.inner.live.left.notified().await;
    }

    pub(super) fn leaving(&self) -> bool {
        self.state() == NodeState::Left
    }

    /// Leaves the cluster cleanly: `/status` says MAINTENANCE so load
    /// balancers stop sending work, running requests finish, leadership is
    /// handed over, the lease is revoked, then the process may exit.
    pub(crate) async fn drain(&self) {
        self.inner.live.drain_started.store(true, Ordering::SeqCst);
        if !self.is_clustered() {
            self.inner.state.send_replace(NodeState::Left);
            self.inner.live.left.notify_waiters();
            return;
        }
        tracing::info!("draining: telling load balancers to stop sending work");
        self.inner.state.send_replace(NodeState::Draining);
        self.changed();
        // Give health checks a moment to see MAINTENANCE, then let running
        // requests finish (at most 30 s).
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let until = Instant::now() + Duration::from_secs(30);
        while self.inner.live.inflight.load(Ordering::Acquire) > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut client = self.client();
        let lease = self.inner.live.lease.load(Ordering::Relaxed);
        let drain_key = format!("{}drain/{}", self.inner.prefix, self.inner.node_id);
        let _ = tokio::time::timeout(ETCD_CALL, client.delete(drain_key, None)).await;
        // No more writes from here on, then the lease (and with it the
        // member and leader keys) goes.
        *self.inner.live.deadline.lock().recover() = None;
        if let Ok(db) = self.inner.pool.get().await {
            let _ = crate::db::execute(
                &db,
                "UPDATE cluster_fence SET lease_until = clock_timestamp(), updated_at = now()
                 WHERE node_id = $1 AND incarnation = $2",
                &[&self.inner.node_id, &incarnation()],
            )
            .await;
        }
        let _ = tokio::time::timeout(ETCD_CALL, client.lease_revoke(lease)).await;
        tracing::info!("left the cluster");
        self.inner.state.send_replace(NodeState::Left);
        self.inner.live.left.notify_waiters();
    }
}

/// Counts a request as running until dropped (drain waits for them).
pub struct InflightGuard(Arc<Inner>);

impl Drop for InflightGuard {
    fn drop(&mut self) {
        self.0.live.inflight.fetch_sub(1, Ordering::AcqRel);
    }
}
