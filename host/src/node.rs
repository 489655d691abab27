//! One node, built from its [`Config`] and run until it is told to stop.
//!
//! Invariant: everything a request can reach is built before the listener
//! accepts a connection, and the node reports READY (`/status`) only after
//! the migrations ran, the first-party plugins are installed, the plugin
//! registry is loaded and the search index was settled against this
//! database and caught up with its journal. Until then it answers, but load
//! balancers keep traffic away.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::cluster::{self, Cluster, Figures, FiguresFn};
use crate::config::Config;
use crate::search::SearchIndex;
use crate::{AppState, LogLevelSetter, Parts};

/// The node's PostgreSQL: the configured one, or a private one started
/// inside the local home.
pub struct Database {
    url: String,
    embedded: Option<cairn_embedded_pg::EmbeddedPostgres>,
}

impl Database {
    /// # Errors
    /// When the embedded PostgreSQL cannot start.
    pub async fn open(config: &Config) -> anyhow::Result<Database> {
        if let Some(u) = &config.database_url {
            return Ok(Database {
                url: u.clone(),
                embedded: None,
            });
        }
        let dir = config.local_home.join("postgres");
        tracing::info!(dir = %dir.display(), "CAIRN_DATABASE_URL is not set: starting the embedded PostgreSQL");
        let pg = cairn_embedded_pg::EmbeddedPostgres::start(cairn_embedded_pg::Options::new(&dir))
            .await
            .context("cannot start the embedded PostgreSQL")?;
        Ok(Database {
            url: pg.url(),
            embedded: Some(pg),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops the embedded PostgreSQL, if this process started one.
    pub async fn close(self) {
        if let Some(pg) = self.embedded {
            if let Err(e) = pg.stop().await {
                tracing::warn!(error = %e, "stopping the embedded PostgreSQL failed");
            }
        }
    }
}

/// Builds the node from `config`, serves until a shutdown signal or a
/// drain, and stops the embedded database if it started one.
///
/// # Errors
/// When the node cannot be built (homes, database, cluster, index, port).
pub async fn serve(config: Config, set_log_level: LogLevelSetter) -> anyhow::Result<()> {
    let db = Database::open(&config).await?;
    let result = match build(&config, db.url(), set_log_level).await {
        Ok((state, index)) => run(&config, db.url(), state, index).await,
        Err(e) => Err(e),
    };
    db.close().await;
    result
}

/// A node's state for a command that renders without serving (`cairn
/// export --format html|pdf`): standalone, no search index, no background
/// work; the installed plugins loaded, so pages render as a node renders
/// them.
///
/// # Errors
/// The database or the plugin registry cannot be read.
pub async fn offline_state(config: &Config, url: &str) -> anyhow::Result<AppState> {
    crate::db::migrate(url).await?;
    let pool = crate::db::pool(url, 4)?;
    let readiness = crate::status::Readiness::default();
    let cluster = Cluster::standalone(
        &config.node_id,
        &config.base_url,
        pool.clone(),
        cluster::Defaults::from_config(config),
        readiness.clone(),
    );
    let state = AppState::assemble(Parts {
        pool,
        shared_home: config.shared_home.clone(),
        local_home: Some(config.local_home.clone()),
        cluster,
        readiness,
        search: None,
        base_url: config.base_url.clone(),
        node_id: format!("{}-cli", config.node_id),
        max_attachment_size: config.max_attachment_size,
        rest_rate_limit: None,
        response_cache: false,
    })?;
    state
        .plugins
        .reload(true)
        .await
        .map_err(|e| anyhow::anyhow!("the plugin registry cannot be read: {e}"))?;
    Ok(state)
}

/// Everything the node serves with; its background work starts in [`run`].
async fn build(
    config: &Config,
    url: &str,
    set_log_level: LogLevelSetter,
) -> anyhow::Result<(AppState, Arc<SearchIndex>)> {
    for dir in [&config.local_home, &config.shared_home] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let clustered = !config.etcd_endpoints.is_empty();
    // A clustered node's connections name it, so the database checks every
    // write it commits against its membership.
    let pool = crate::db::pool_for_node(url, 16, clustered.then_some(config.node_id.as_str()))?;
    let defaults = cluster::Defaults::from_config(config);
    let readiness = crate::status::Readiness::default();
    let cluster = if clustered {
        // Joining needs the cluster tables.
        crate::db::migrate(url).await?;
        Cluster::join(
            config,
            pool.clone(),
            defaults,
            config.lease_ttl,
            readiness.clone(),
        )
        .await
        .context("cannot join the cluster")?
    } else {
        Cluster::standalone(
            &config.node_id,
            &config.base_url,
            pool.clone(),
            defaults,
            readiness.clone(),
        )
    };
    // Opened now, trusted only once `settle` (after the migrations) has
    // checked it against the database.
    let index = SearchIndex::open(&config.local_home)
        .map_err(|e| anyhow::anyhow!("cannot open the search index: {e}"))?;
    let state = AppState::assemble(Parts {
        pool,
        shared_home: config.shared_home.clone(),
        local_home: Some(config.local_home.clone()),
        cluster,
        readiness,
        search: Some(index.clone()),
        base_url: config.base_url.clone(),
        node_id: config.node_id.clone(),
        max_attachment_size: config.max_attachment_size,
        rest_rate_limit: config.rest_rate_limit,
        response_cache: config.response_cache,
    })?;
    state.spawn_settings_applier(Some(set_log_level));
    state
        .generation
        .spawn_listener(url.to_owned(), config.test_notify_delay);
    state.cluster.set_figures(figures(&state, &index));
    Ok((state, index))
}

/// What this node publishes about itself to the other members.
fn figures(state: &AppState, index: &Arc<SearchIndex>) -> FiguresFn {
    // The journal head, read every two seconds instead of on every call.
    let head = Arc::new(AtomicI64::new(0));
    {
        let (head, pool) = (head.clone(), state.pool.clone());
        tokio::spawn(async move {
            loop {
                if let Ok(db) = pool.get().await {
                    if let Ok(h) = crate::search::journal::head(&db).await {
                        head.store(h, Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
    }
    let (index, plugins, pool) = (index.clone(), state.plugins.clone(), state.pool.clone());
    Arc::new(move || {
        let st = pool.status();
        let (rss, cpu) = crate::metrics::process_figures();
        let pos = index.position();
        Figures {
            memory_rss_bytes: rss,
            cpu_seconds: cpu,
            load_average: crate::metrics::load_average(),
            db_pool_size: st.size,
            db_pool_available: st.available,
            db_pool_max: st.max_size,
            index_docs: index.doc_count(),
            index_position: pos,
            index_lag: (head.load(Ordering::Relaxed) - pos).max(0),
            index_degraded: index.degraded().unwrap_or_default(),
            index_drift: index
                .health()
                .last_check
                .map(|c| format!("{} differed, {} repaired", c.differing, c.repaired))
                .unwrap_or_default(),
            plugins: plugins
                .registry()
                .loaded
                .iter()
                .map(|(id, l)| (id.clone(), l.row.hash.clone()))
                .collect(),
            ..Default::default()
        }
    })
}

/// Starts the cluster loops, listens, readies the node in the background
/// and serves until a shutdown signal or a completed drain.
async fn run(
    config: &Config,
    url: &str,
    state: AppState,
    index: Arc<SearchIndex>,
) -> anyhow::Result<()> {
    let cluster = state.cluster.clone();
    cluster.start();
    let app = crate::router(state.clone());
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(listen = %config.listen, base_url = %config.base_url, node_id = %config.node_id, clustered = cluster.is_clustered(), "cairn serving");
    let readying = tokio::spawn(become_ready(config.clone(), url.to_owned(), state, index));
    let shutdown = {
        let cluster = cluster.clone();
        async move {
            tokio::select! {
                () = shutdown_signal() => {
                    // Leave cleanly: members see us go at once instead of
                    // after the lease TTL, and leadership moves on.
                    if cluster.is_clustered() && cluster.state() != cluster::NodeState::Left {
                        cluster.drain().await;
                    }
                }
                () = cluster.left() => tracing::info!("drained; exiting"),
            }
        }
    };
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    readying.abort();
    result?;
    Ok(())
}

/// Indexes the tasks of pages saved before the task index existed (a
/// failure is logged: the index then lacks those pages until a later start).
async fn backfill_tasks(state: &AppState) {
    let result = match state.pool.get().await {
        Ok(mut db) => crate::content::task_index::backfill(&mut db).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(0) => {}
        Ok(n) => tracing::info!(pages = n, "task index backfilled"),
        Err(e) => tracing::error!(error = %e, "task index backfill failed"),
    }
}

/// Migrations, first-party plugins, the plugin registry, the search index;
/// then the background work, then READY.
async fn become_ready(config: Config, url: String, state: AppState, index: Arc<SearchIndex>) {
    match crate::db::migrate(&url).await {
        Ok(n) => tracing::info!(applied = n, "migrations done"),
        Err(e) => {
            tracing::error!(error = %e, "migrations failed; node stays STARTING");
            return;
        }
    }
    // Plugins: first-party ones (embedded in the binary, or a developer's
    // build with CAIRN_BUILTIN_PLUGINS) installed or upgraded, the registry
    // loaded, then watched.
    match &config.builtin_plugins {
        Some(dir) => {
            if let Err(e) = state.plugins.install_builtin(dir).await {
                tracing::error!(error = %e, "first-party plugins not installed");
            }
        }
        None => {
            state.plugins.install_embedded().await;
        }
    }
    if let Err(e) = state.plugins.reload(true).await {
        tracing::error!(error = %e, "plugin registry not loaded; retrying in the background");
    }
    state.plugins.spawn_watcher();
    backfill_tasks(&state).await;
    settle_index(&state, &index).await;
    index.spawn_drift_checker(
        state.pool.clone(),
        state.files.clone(),
        config.index_check_interval,
    );
    index.spawn_tailer(
        state.pool.clone(),
        url,
        state.files.clone(),
        config.node_id.clone(),
    );
    cluster::jobs::spawn(state.job_context());
    state.readiness.set_ready();
    state.cluster.set_ready();
}

/// Keeps, restores or rebuilds the index (only an index of this database's
/// history is used, search/integrity.rs), then catches it up.
async fn settle_index(state: &AppState, index: &Arc<SearchIndex>) {
    let started = std::time::Instant::now();
    let db = match state.pool.get().await {
        Ok(db) => db,
        Err(e) => {
            index.set_failing(true);
            tracing::error!(error = %e, "no database connection for the index catch-up");
            return;
        }
    };
    let caught_up = async {
        let settled = index.settle(&state.pool, &state.files).await?;
        tracing::info!(outcome = ?settled, "search index settled");
        if let Some(why) = index.degraded() {
            return Ok(Err(why));
        }
        index.catch_up(&db, &state.files).await.map(Ok)
    }
    .await;
    match caught_up {
        Ok(Err(why)) => tracing::warn!(
            reason = %why,
            "serving with search degraded until the rebuild is swapped in (/status says searchDegraded)"
        ),
        Ok(Ok(n)) => tracing::info!(
            applied = n,
            docs = index.doc_count(),
            position = index.position(),
            ms = started.elapsed().as_millis() as u64,
            "search index caught up"
        ),
        Err(e) => {
            index.set_failing(true);
            tracing::error!(error = %e, "search index catch-up failed; the tailer retries (status ERROR until it succeeds)")
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
