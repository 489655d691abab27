//! Joining: connecting to etcd, claiming the cluster id that binds etcd
//! to this database, and starting the node's loops.
//!
//! Invariant: a node joins only a cluster whose id matches the one stored
//! in PostgreSQL, so two clusters never share a database or an etcd
//! prefix by mistake.

use super::{
    etcd::{etcd, ETCD_CALL},
    live_settings::seed_settings,
    membership::node_address,
    Cluster, Defaults, Inner, Live, NodeState, Settings, Store,
};
use crate::error::Error;
use chrono::Utc;
use etcd_client::{Client, Compare, CompareOp, Txn, TxnOp};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub fn prefix_of(cluster: &str) -> String {
    format!("/cairn/{cluster}/")
}

/// Connects to etcd (HTTP/2 keep-alive so a dead connection is noticed).
///
/// # Errors
/// When no endpoint answers within `wait`.
pub async fn connect(endpoints: &[String], wait: Duration) -> anyhow::Result<Client> {
    let opts = etcd_client::ConnectOptions::new()
        .with_connect_timeout(Duration::from_secs(2))
        .with_keep_alive(Duration::from_secs(1), Duration::from_secs(2))
        .with_keep_alive_while_idle(true);
    let until = Instant::now() + wait;
    loop {
        let last = match tokio::time::timeout(
            ETCD_CALL * 2,
            Client::connect(endpoints, Some(opts.clone())),
        )
        .await
        {
            Ok(Ok(mut c)) => match tokio::time::timeout(ETCD_CALL, c.status()).await {
                Ok(Ok(_)) => return Ok(c),
                Ok(Err(e)) => e.to_string(),
                Err(_) => "no answer within 2 s".to_owned(),
            },
            Ok(Err(e)) => e.to_string(),
            Err(_) => "no answer within 4 s".to_owned(),
        };
        if Instant::now() >= until {
            anyhow::bail!(
                "cannot reach etcd at {} ({last}); check CAIRN_ETCD_ENDPOINTS",
                endpoints.join(",")
            );
        }
        tracing::warn!(endpoints = %endpoints.join(","), error = %last, "etcd not reachable yet; retrying");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

impl Cluster {
    /// A standalone node: its own leader, settings in PostgreSQL.
    pub(crate) fn standalone(
        node_id: &str,
        base_url: &str,
        pool: deadpool_postgres::Pool,
        defaults: Defaults,
        readiness: crate::status::Readiness,
    ) -> Cluster {
        let settings = Settings::resolve(&defaults, BTreeMap::new());
        let (state, _) = watch::channel(NodeState::Active);
        let (settings, _) = watch::channel(Arc::new(settings));
        Cluster {
            inner: Arc::new(Inner {
                node_id: node_id.to_owned(),
                name: String::new(),
                prefix: String::new(),
                address: base_url.to_owned(),
                started: Utc::now(),
                ttl: Duration::from_secs(5),
                etcd: None,
                store: Store::Pg(pool.clone()),
                pool,
                cluster_id: String::new(),
                state,
                ready: readiness.clone(),
                leader: RwLock::new(Some(node_id.to_owned())),
                settings,
                defaults,
                live: Live::default(),
            }),
        }
    }

    /// Joins the cluster named by the configuration: checks the cluster id
    /// against the database, registers this node under a lease (refusing a
    /// node id that is already live), and opens its write fence.
    ///
    /// # Errors
    /// With a message for the operator when etcd cannot be reached, another
    /// cluster owns the database, or the node id is taken.
    pub(crate) async fn join(
        config: &crate::config::Config,
        pool: deadpool_postgres::Pool,
        defaults: Defaults,
        ttl: Duration,
        readiness: crate::status::Readiness,
    ) -> anyhow::Result<Cluster> {
        let mut client = connect(&config.etcd_endpoints, Duration::from_secs(30)).await?;
        let prefix = prefix_of(&config.cluster);
        let (cluster_id, claimed) =
            claim_cluster_id(&mut client, &pool, &config.cluster, &prefix).await?;
        if claimed {
            seed_settings(&mut client, &pool, &prefix, &config.node_id).await?;
        }
        let settings = Settings::resolve(&defaults, BTreeMap::new());
        let (state, _) = watch::channel(NodeState::Active);
        let (settings, _) = watch::channel(Arc::new(settings));
        let c = Cluster {
            inner: Arc::new(Inner {
                node_id: config.node_id.clone(),
                name: config.cluster.clone(),
                prefix: prefix.clone(),
                address: node_address(config),
                started: Utc::now(),
                ttl,
                etcd: Some(client.clone()),
                store: Store::Etcd {
                    client: Box::new(client.clone()),
                    prefix: prefix.clone(),
                },
                pool,
                cluster_id,
                state,
                ready: readiness.clone(),
                leader: RwLock::new(None),
                settings,
                defaults,
                live: Live::default(),
            }),
        };
        // The id may still be held by this node's previous process (killed
        // without leaving): its lease runs out within the TTL, so wait that
        // long before refusing.
        let until = Instant::now() + ttl + Duration::from_secs(1);
        loop {
            match c.register().await {
                Ok(()) => break,
                Err(Error::Conflict(m)) if Instant::now() < until => {
                    tracing::warn!("{m}; waiting up to the lease TTL in case it is this node's previous process");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => anyhow::bail!("{}", e.public_message()),
            }
        }
        // Settings before serving, so the first page has the right title.
        if let Ok(stored) = c.inner.store.load().await {
            c.publish_settings(stored);
        }
        Ok(c)
    }

    pub(super) fn client(&self) -> Client {
        self.inner.etcd.clone().expect("cluster mode")
    }

    /// Starts the node's cluster loops: keep-alive, watch, publishing its
    /// figures, leader election, the fence watchdog — or, standalone, the
    /// settings poller.
    pub(crate) fn start(&self) {
        if !self.is_clustered() {
            let me = self.clone();
            tokio::spawn(async move {
                loop {
                    if let Ok(stored) = me.inner.store.load().await {
                        me.publish_settings(stored);
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            });
            return;
        }
        tokio::spawn(self.clone().keepalive_loop());
        tokio::spawn(self.clone().watch_loop());
        tokio::spawn(self.clone().publish_loop());
        tokio::spawn(self.clone().campaign_loop());
        tokio::spawn(self.clone().watchdog_loop());
    }
}

/// The cluster id in PostgreSQL (created on first use) must match the one
/// in etcd (claimed on first use). Returns the id, and whether this call
/// claimed the etcd prefix for it (the first node of a new cluster).
pub(super) async fn claim_cluster_id(
    client: &mut Client,
    pool: &deadpool_postgres::Pool,
    name: &str,
    prefix: &str,
) -> anyhow::Result<(String, bool)> {
    let db = pool.get().await?;
    let candidate = crate::auth::random_token(16);
    crate::db::execute(
        &db,
        "INSERT INTO cluster_info (cluster_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&candidate, &name],
    )
    .await?;
    let row = crate::db::query_one(&db, "SELECT cluster_id, name FROM cluster_info", &[]).await?;
    let (pg_id, pg_name): (String, String) = (row.get(0), row.get(1));
    if pg_name != name {
        anyhow::bail!(
            "this database belongs to cluster {pg_name:?} (id {pg_id}), not {name:?}: another cluster owns it. \
             Check CAIRN_DATABASE_URL and CAIRN_CLUSTER; refusing to start rather than mix two clusters' data"
        );
    }
    let key = format!("{prefix}cluster-id");
    let txn = Txn::new()
        .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
        .and_then([TxnOp::put(key.clone(), pg_id.clone(), None)])
        .or_else([TxnOp::get(key.clone(), None)]);
    let resp = etcd(client.txn(txn))
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
    if resp.succeeded() {
        return Ok((pg_id, true));
    }
    let etcd_id = super::etcd::txn_got(&resp)
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default();
    if etcd_id != pg_id {
        anyhow::bail!(
            "this database belongs to cluster {pg_name:?} (id {pg_id}) but etcd's {prefix} belongs to cluster id {etcd_id}: \
             another cluster owns this database or this etcd prefix. Check CAIRN_DATABASE_URL and CAIRN_CLUSTER; \
             refusing to start rather than mix two clusters' data"
        );
    }
    Ok((pg_id, false))
}
