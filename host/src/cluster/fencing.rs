//! Fencing: a node writes only while its lease is surely alive.
//!
//! Invariant: after each keep-alive the node moves its
//! `cluster_fence.lease_until` (checked by the database at every commit)
//! and its local deadline to end `FENCE_MARGIN` before the lease could
//! expire; a node that cannot renew stops writing before another node could
//! take over its work.

use super::{etcd::ETCD_CALL, incarnation, Cluster, NodeState};
use crate::error::{Error, Result};
use crate::sync::Recover;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How long before its etcd lease could expire a node stops writing.
pub const FENCE_MARGIN: Duration = Duration::from_millis(1000);

impl Cluster {
    /// True while this node may write: standalone, or a member whose fence
    /// deadline has not passed.
    pub(crate) fn may_write(&self) -> bool {
        if !self.is_clustered() {
            return true;
        }
        matches!(self.state(), NodeState::Active | NodeState::Draining)
            && self
                .inner
                .live
                .deadline
                .lock()
                .recover()
                .is_some_and(|d| Instant::now() < d)
    }

    pub(crate) fn lease_age(&self) -> Option<Duration> {
        self.inner
            .live
            .renewed_at
            .lock()
            .recover()
            .map(|t| t.elapsed())
    }

    /// After a keep-alive sent at `sent` answered with `ttl_secs`: move the
    /// database fence, then the local deadline, forward.
    pub(super) async fn renewed(&self, sent: Instant, ttl_secs: i64, lease: i64) -> Result<()> {
        let valid = Duration::from_secs(ttl_secs.max(0) as u64).saturating_sub(FENCE_MARGIN);
        let db = tokio::time::timeout(ETCD_CALL, self.inner.pool.get())
            .await
            .map_err(|_| Error::Unavailable("database pool busy".into()))??;
        // Measured once the connection is in hand, so waiting for the pool
        // cannot carry the fence past the lease; what is left is the
        // statement's trip to the server (the margin covers it).
        let remaining_ms = valid.saturating_sub(sent.elapsed()).as_millis() as f64;
        if remaining_ms <= 0.0 {
            return Err(Error::Unavailable(
                "the keep-alive answered too late to extend the write fence".into(),
            ));
        }
        // The row is this process's (same incarnation), or free to take
        // over once the previous holder's fence has lapsed; never another
        // live process's with the same node id.
        let n = tokio::time::timeout(
            ETCD_CALL,
            crate::db::execute(
                &db,
                "INSERT INTO cluster_fence (node_id, lease_id, lease_until, updated_at, incarnation)
                 VALUES ($1, $2, statement_timestamp() + $3 * interval '1 millisecond', now(), $4)
                 ON CONFLICT (node_id) DO UPDATE SET lease_id = $2,
                     lease_until = statement_timestamp() + $3 * interval '1 millisecond', updated_at = now(),
                     incarnation = $4
                 WHERE cluster_fence.incarnation = $4 OR cluster_fence.lease_until <= clock_timestamp()",
                &[&self.inner.node_id, &lease, &remaining_ms, &incarnation()],
            ),
        )
        .await
        .map_err(|_| Error::Unavailable("database did not answer".into()))??;
        if n == 0 {
            return Err(Error::Conflict(format!(
                "node id {:?} holds a live write fence in another process",
                self.inner.node_id
            )));
        }
        *self.inner.live.deadline.lock().recover() = Some(sent + valid);
        *self.inner.live.renewed_at.lock().recover() = Some(sent);
        if self.state() == NodeState::Fenced {
            tracing::warn!("membership renewed: this node accepts writes again");
            self.inner.state.send_replace(NodeState::Active);
            self.changed();
        }
        Ok(())
    }

    pub(super) async fn keepalive_loop(self) {
        let every = self.inner.ttl / 3;
        loop {
            tokio::time::sleep(every).await;
            if self.leaving() {
                return;
            }
            let lease = self.inner.live.lease.load(Ordering::Relaxed);
            let sent = Instant::now();
            let mut client = self.client();
            let r = tokio::time::timeout(every.min(ETCD_CALL), async {
                let (mut keeper, mut stream) = client.lease_keep_alive(lease).await?;
                keeper.keep_alive().await?;
                stream.message().await
            })
            .await;
            match r {
                Ok(Ok(Some(resp))) if resp.ttl() > 0 => {
                    if let Err(e) = self.renewed(sent, resp.ttl(), lease).await {
                        tracing::warn!(error = %e.public_message(), "cannot move the write fence forward");
                    }
                }
                Ok(Err(e)) if e.to_string().contains("lease not found") => {
                    self.lease_lost(lease).await;
                }
                Ok(Ok(_)) => {
                    self.lease_lost(lease).await;
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "lease keep-alive failed");
                }
                Err(_) => {
                    tracing::warn!("lease keep-alive got no answer");
                }
            }
        }
    }

    /// The lease expired while we were cut off: register again (the
    /// member key went with it, so the id is free unless another node took
    /// it meanwhile).
    pub(super) async fn lease_lost(&self, lease: i64) {
        if matches!(self.state(), NodeState::Draining | NodeState::Left) {
            return;
        }
        tracing::warn!(lease, "this node's lease expired; registering again");
        if let Err(e) = self.register().await {
            tracing::error!(error = %e.public_message(), "cannot rejoin the cluster; staying fenced");
        }
    }

    pub(super) async fn watchdog_loop(self) {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if self.leaving() {
                return;
            }
            let passed = self
                .inner
                .live
                .deadline
                .lock()
                .recover()
                .is_none_or(|d| Instant::now() >= d);
            if passed && self.state() == NodeState::Active {
                tracing::error!(
                    "lost cluster membership (etcd unreachable for too long): writes stop until it is renewed"
                );
                self.inner.state.send_replace(NodeState::Fenced);
                self.changed();
            }
        }
    }
}
