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

pub mod gate;
pub mod jobs;
pub mod settings;
pub mod store;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use etcd_client::{Client, Compare, CompareOp, GetOptions, PutOptions, Txn, TxnOp, WatchOptions};
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};

use crate::error::{Error, Result};
pub use settings::{Defaults, Settings};
pub use store::Store;

/// How long before its etcd lease could expire a node stops writing.
pub const FENCE_MARGIN: Duration = Duration::from_millis(1000);
/// Time limit of one etcd request made by the node's loops.
const ETCD_CALL: Duration = Duration::from_secs(2);

/// A node's membership state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NodeState {
    /// A member (or standalone) that may write.
    Active,
    /// Its lease could not be kept alive: reads only until it rejoins.
    Fenced,
    /// Leaving on request: load balancers are told to stop sending work.
    Draining,
    /// Gone from the cluster; the process is shutting down.
    Left,
}

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
    lease: AtomicI64,
    /// Writes are allowed until then (cluster mode).
    deadline: Mutex<Option<Instant>>,
    renewed_at: Mutex<Option<Instant>>,
    etcd_ok: AtomicBool,
    mirror: Mutex<BTreeMap<String, Vec<u8>>>,
    members: RwLock<BTreeMap<String, MemberInfo>>,
    leader: RwLock<Option<String>>,
    settings: watch::Sender<Arc<Settings>>,
    defaults: Defaults,
    store: Store,
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

fn now_text() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `http://<listen address>`, with the host name when listening on all
/// interfaces.
fn node_address(config: &crate::config::Config) -> String {
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
    pub fn standalone(
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
                lease: AtomicI64::new(0),
                deadline: Mutex::new(None),
                renewed_at: Mutex::new(None),
                etcd_ok: AtomicBool::new(false),
                mirror: Mutex::new(BTreeMap::new()),
                members: RwLock::new(BTreeMap::new()),
                leader: RwLock::new(Some(node_id.to_owned())),
                settings,
                defaults,
                requests: AtomicU64::new(0),
                inflight: AtomicI64::new(0),
                figures: Mutex::new(None),
                changed: Notify::new(),
                publish: Notify::new(),
                drain_started: AtomicBool::new(false),
                left: Notify::new(),
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
    pub async fn join(
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
                lease: AtomicI64::new(0),
                deadline: Mutex::new(None),
                renewed_at: Mutex::new(None),
                etcd_ok: AtomicBool::new(true),
                mirror: Mutex::new(BTreeMap::new()),
                members: RwLock::new(BTreeMap::new()),
                leader: RwLock::new(None),
                settings,
                defaults,
                requests: AtomicU64::new(0),
                inflight: AtomicI64::new(0),
                figures: Mutex::new(None),
                changed: Notify::new(),
                publish: Notify::new(),
                drain_started: AtomicBool::new(false),
                left: Notify::new(),
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

    pub fn node_id(&self) -> &str {
        &self.inner.node_id
    }
    pub fn name(&self) -> &str {
        &self.inner.name
    }
    pub fn cluster_id(&self) -> &str {
        &self.inner.cluster_id
    }
    pub fn is_clustered(&self) -> bool {
        self.inner.etcd.is_some()
    }
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }
    pub fn store(&self) -> &Store {
        &self.inner.store
    }
    pub fn state(&self) -> NodeState {
        *self.inner.state.borrow()
    }
    pub fn subscribe_state(&self) -> watch::Receiver<NodeState> {
        self.inner.state.subscribe()
    }
    pub fn etcd_reachable(&self) -> bool {
        self.inner.etcd_ok.load(Ordering::Relaxed)
    }
    /// Set when the node serves (its /status says RUNNING).
    pub fn set_ready(&self) {
        self.inner.ready.set_ready();
        self.changed();
    }

    /// True while this node may write: standalone, or a member whose fence
    /// deadline has not passed.
    pub fn may_write(&self) -> bool {
        if !self.is_clustered() {
            return true;
        }
        matches!(self.state(), NodeState::Active | NodeState::Draining)
            && self
                .inner
                .deadline
                .lock()
                .unwrap()
                .is_some_and(|d| Instant::now() < d)
    }

    /// `Err(503)` when this node may not write right now.
    pub fn check_writable(&self) -> Result<()> {
        if self.may_write() {
            return Ok(());
        }
        Err(Error::Unavailable(FENCED_MESSAGE.into()))
    }

    pub fn is_leader(&self) -> bool {
        if !self.is_clustered() {
            return true;
        }
        self.may_write()
            && self.inner.ready.is_ready()
            && self.inner.leader.read().unwrap().as_deref() == Some(self.node_id())
    }
    pub fn leader_id(&self) -> Option<String> {
        self.inner.leader.read().unwrap().clone()
    }
    /// Live members as last seen (cluster mode; standalone: this node).
    pub fn members(&self) -> Vec<MemberInfo> {
        if !self.is_clustered() {
            return vec![self.own_info()];
        }
        self.inner
            .members
            .read()
            .unwrap()
            .values()
            .cloned()
            .collect()
    }
    pub fn settings(&self) -> Arc<Settings> {
        self.inner.settings.borrow().clone()
    }
    /// Settings as the store holds them right now (the node's own copy may
    /// be a watch event behind): for pages and APIs that show what was set.
    pub async fn stored_settings(&self) -> Result<Arc<Settings>> {
        let stored = self.inner.store.load().await?;
        Ok(Arc::new(Settings::resolve(&self.inner.defaults, stored)))
    }

    pub fn subscribe_settings(&self) -> watch::Receiver<Arc<Settings>> {
        self.inner.settings.subscribe()
    }
    pub fn lease_age(&self) -> Option<Duration> {
        self.inner.renewed_at.lock().unwrap().map(|t| t.elapsed())
    }
    pub fn set_figures(&self, f: FiguresFn) {
        *self.inner.figures.lock().unwrap() = Some(f);
    }
    pub fn request_started(&self) -> InflightGuard {
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        self.inner.inflight.fetch_add(1, Ordering::AcqRel);
        InflightGuard(self.inner.clone())
    }
    pub fn requests_total(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }
    /// Resolves once the node has left the cluster (drained).
    pub async fn left(&self) {
        if self.state() == NodeState::Left {
            return;
        }
        self.inner.left.notified().await;
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

    fn publish_settings(&self, stored: BTreeMap<String, String>) {
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

    fn own_info(&self) -> MemberInfo {
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
            .figures
            .lock()
            .unwrap()
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
            lease_id: self.inner.lease.load(Ordering::Relaxed),
            figures,
        }
    }

    fn client(&self) -> Client {
        self.inner.etcd.clone().expect("cluster mode")
    }

    /// Grants a lease, claims `nodes/<id>` with it and opens the fence.
    async fn register(&self) -> Result<()> {
        let mut client = self.client();
        let ttl_secs = self.inner.ttl.as_secs().max(2) as i64;
        let sent = Instant::now();
        let lease = etcd(client.lease_grant(ttl_secs, None)).await?.id();
        self.inner.lease.store(lease, Ordering::Relaxed);
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
            let other = resp
                .op_responses()
                .into_iter()
                .find_map(|r| match r {
                    etcd_client::TxnOpResponse::Get(g) => g
                        .kvs()
                        .first()
                        .and_then(|kv| serde_json::from_slice::<MemberInfo>(kv.value()).ok()),
                    _ => None,
                })
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

    /// After a keep-alive sent at `sent` answered with `ttl_secs`: move the
    /// database fence, then the local deadline, forward.
    async fn renewed(&self, sent: Instant, ttl_secs: i64, lease: i64) -> Result<()> {
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
        *self.inner.deadline.lock().unwrap() = Some(sent + valid);
        *self.inner.renewed_at.lock().unwrap() = Some(sent);
        self.inner.etcd_ok.store(true, Ordering::Relaxed);
        if self.state() == NodeState::Fenced {
            tracing::warn!("membership renewed: this node accepts writes again");
            self.inner.state.send_replace(NodeState::Active);
            self.changed();
        }
        Ok(())
    }

    /// Starts the node's cluster loops: keep-alive, watch, publishing its
    /// figures, leader election, the fence watchdog — or, standalone, the
    /// settings poller.
    pub fn start(&self) {
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

    /// Something about this node or the cluster changed: wake the
    /// campaign and publish this node's record now.
    fn changed(&self) {
        self.inner.changed.notify_waiters();
        self.inner.publish.notify_one();
    }

    fn leaving(&self) -> bool {
        self.state() == NodeState::Left
    }

    async fn keepalive_loop(self) {
        let every = self.inner.ttl / 3;
        loop {
            tokio::time::sleep(every).await;
            if self.leaving() {
                return;
            }
            let lease = self.inner.lease.load(Ordering::Relaxed);
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
                    self.inner.etcd_ok.store(false, Ordering::Relaxed);
                    tracing::warn!(error = %e, "lease keep-alive failed");
                }
                Err(_) => {
                    self.inner.etcd_ok.store(false, Ordering::Relaxed);
                    tracing::warn!("lease keep-alive got no answer");
                }
            }
        }
    }

    /// The lease expired while we were cut off: register again (the
    /// member key went with it, so the id is free unless another node took
    /// it meanwhile).
    async fn lease_lost(&self, lease: i64) {
        self.inner.etcd_ok.store(true, Ordering::Relaxed);
        if matches!(self.state(), NodeState::Draining | NodeState::Left) {
            return;
        }
        tracing::warn!(lease, "this node's lease expired; registering again");
        if let Err(e) = self.register().await {
            tracing::error!(error = %e.public_message(), "cannot rejoin the cluster; staying fenced");
        }
    }

    async fn watchdog_loop(self) {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if self.leaving() {
                return;
            }
            let passed = self
                .inner
                .deadline
                .lock()
                .unwrap()
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

    async fn watch_loop(self) {
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

    async fn watch_once(&self) -> std::result::Result<(), etcd_client::Error> {
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
            let mut m = self.inner.mirror.lock().unwrap();
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
                let mut m = self.inner.mirror.lock().unwrap();
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
    fn refresh(&self) {
        let p = &self.inner.prefix;
        let (members, leader, config, drain) = {
            let m = self.inner.mirror.lock().unwrap();
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
        *self.inner.members.write().unwrap() = members;
        let before = self.leader_id();
        if before != leader {
            tracing::info!(leader = ?leader, "cluster leader changed");
        }
        *self.inner.leader.write().unwrap() = leader;
        self.publish_settings(config);
        if drain && !self.inner.drain_started.swap(true, Ordering::SeqCst) {
            let me = self.clone();
            tokio::spawn(async move { me.drain().await });
        }
        self.changed();
    }

    async fn publish_loop(self) {
        let mut last_requests = self.requests_total();
        let mut last_at = Instant::now();
        loop {
            let _ =
                tokio::time::timeout(Duration::from_secs(2), self.inner.changed.notified()).await;
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
            let lease = self.inner.lease.load(Ordering::Relaxed);
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

    async fn campaign_loop(self) {
        loop {
            let _ = tokio::time::timeout(Duration::from_millis(500), self.inner.changed.notified())
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
            let lease = self.inner.lease.load(Ordering::Relaxed);
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
                    *self.inner.leader.write().unwrap() = Some(self.node_id().to_owned());
                }
            }
        }
    }

    /// Leaves the cluster cleanly: `/status` says MAINTENANCE so load
    /// balancers stop sending work, running requests finish, leadership is
    /// handed over, the lease is revoked, then the process may exit.
    pub async fn drain(&self) {
        self.inner.drain_started.store(true, Ordering::SeqCst);
        if !self.is_clustered() {
            self.inner.state.send_replace(NodeState::Left);
            self.inner.left.notify_waiters();
            return;
        }
        tracing::info!("draining: telling load balancers to stop sending work");
        self.inner.state.send_replace(NodeState::Draining);
        self.changed();
        // Give health checks a moment to see MAINTENANCE, then let running
        // requests finish (at most 30 s).
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let until = Instant::now() + Duration::from_secs(30);
        while self.inner.inflight.load(Ordering::Acquire) > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut client = self.client();
        let lease = self.inner.lease.load(Ordering::Relaxed);
        let drain_key = format!("{}drain/{}", self.inner.prefix, self.inner.node_id);
        let _ = tokio::time::timeout(ETCD_CALL, client.delete(drain_key, None)).await;
        // No more writes from here on, then the lease (and with it the
        // member and leader keys) goes.
        *self.inner.deadline.lock().unwrap() = None;
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
        self.inner.left.notify_waiters();
    }

    /// etcd's own health, for the admin page.
    pub async fn etcd_health(&self) -> Option<std::result::Result<String, String>> {
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

pub const FENCED_MESSAGE: &str = "This node has lost contact with the cluster coordinator (etcd) and does not accept changes until it rejoins; nothing was changed. Retry: the load balancer sends you to a healthy node.";

/// Counts a request as running until dropped (drain waits for them).
pub struct InflightGuard(Arc<Inner>);

impl Drop for InflightGuard {
    fn drop(&mut self) {
        self.0.inflight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The build this binary came from (version and commit when known).
pub fn build_id() -> String {
    option_env!("CAIRN_BUILD")
        .unwrap_or(env!("CARGO_PKG_VERSION"))
        .to_owned()
}

async fn etcd<T>(
    f: impl std::future::Future<Output = std::result::Result<T, etcd_client::Error>>,
) -> Result<T> {
    match tokio::time::timeout(ETCD_CALL, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Error::Unavailable(format!("etcd: {e}"))),
        Err(_) => Err(Error::Unavailable("etcd did not answer within 2 s".into())),
    }
}

/// This process's incarnation: random, fixed for its lifetime. Its
/// database connections carry it and its fence row records it, so a
/// paused process whose node id was started again elsewhere cannot write
/// (migration V9).
pub fn incarnation() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| crate::auth::random_token(12))
}

/// The cluster id in PostgreSQL (created on first use) must match the one
/// in etcd (claimed on first use). Returns the id, and whether this call
/// claimed the etcd prefix for it (the first node of a new cluster).
async fn claim_cluster_id(
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
    let etcd_id = resp
        .op_responses()
        .into_iter()
        .find_map(|r| match r {
            etcd_client::TxnOpResponse::Get(g) => g
                .kvs()
                .first()
                .map(|kv| String::from_utf8_lossy(kv.value()).into_owned()),
            _ => None,
        })
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

/// When a database forms a cluster, the settings it had as a standalone
/// node (PostgreSQL's `settings` table) become the cluster's live settings,
/// so an admin who turns a single node into a cluster keeps the site title,
/// banner, limits and the rest. A key already set in etcd (by
/// `cairn config set` before the first node started) wins; a stored value
/// that no longer validates is skipped with a warning. Each copied value is
/// audited as changed by "standalone settings".
async fn seed_settings(
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
