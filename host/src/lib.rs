//! Cairn: a clustered wiki whose macros and admin extensions are WebAssembly
//! components. This crate is the `cairn` binary's library: configuration,
//! storage, domain services and the HTTP surface. See ARCHITECTURE.md for
//! the code map.
//!
//! The public surface is what the `cairn` binary, the test harness
//! (`tests/`), the benchmarks and the examples use; every other item is
//! `pub(crate)` or lives in a private module, so the compiler reports code
//! that nothing calls. Widen an item only for one of those users.

pub mod attach;
pub mod auth;
pub mod cluster;
pub mod config;
mod consistency;
pub mod content;
pub mod copy;
pub mod db;
pub mod demo;
pub mod error;
mod generation;
mod http;
pub mod import;
pub(crate) mod longtask;
pub mod metrics;
pub mod node;
pub mod notify;
pub mod perms;
pub mod plugins;
pub mod present;
pub mod ratelimit;
mod rest;
pub mod search;
pub mod static_export;
mod status;
pub(crate) mod sync;
pub(crate) mod templates;
pub mod urls;
pub mod users;
mod web;

use std::path::PathBuf;

use axum::routing::get;

/// Everything a request handler may reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: deadpool_postgres::Pool,
    pub readiness: status::Readiness,
    pub(crate) basic_cache: auth::BasicCache,
    pub presenter: present::Presenter,
    pub files: attach::Store,
    pub site_title: String,
    /// Absolute base URL for `_links.base` (`CAIRN_BASE_URL`).
    pub base_url: String,
    pub rate_limiter: std::sync::Arc<ratelimit::RateLimiter>,
    /// This node's id (`CAIRN_NODE_ID`) and when it started.
    pub node_id: String,
    pub started: chrono::DateTime<chrono::Utc>,
    /// This node's search index; `None` until it is opened.
    pub search: Option<std::sync::Arc<search::SearchIndex>>,
    /// WebAssembly plugins (the presenter holds the same handle).
    pub plugins: plugins::Plugins,
    /// Membership, fencing, leadership and live settings (standalone by default).
    pub cluster: cluster::Cluster,
    /// Moves on every write anywhere in the cluster; keys the caches below.
    pub generation: generation::Generation,
    /// Whole page-view responses per viewer ([`http::response_cache::layer`]).
    pub response_cache: http::response_cache::ResponseCache,
    /// Read-your-writes tokens: what this node has caught up to.
    pub(crate) consistency: consistency::Consistency,
}

/// REST calls per user: 50 a second, bursts of 500 (`CAIRN_REST_RATE_LIMIT`).
pub const DEFAULT_RATE_LIMIT: ratelimit::Limits = ratelimit::Limits {
    rate: 50.0,
    burst: 500.0,
};

/// Default attachment size limit: 100 MiB.
pub const DEFAULT_MAX_ATTACHMENT: u64 = 100 * 1024 * 1024;

/// What a node's state is built from (see `node.rs` for a node built from
/// its configuration).
pub struct Parts {
    pub pool: deadpool_postgres::Pool,
    pub shared_home: PathBuf,
    /// Where compiled plugins are cached; `None` compiles them each time.
    pub local_home: Option<PathBuf>,
    pub cluster: cluster::Cluster,
    pub readiness: status::Readiness,
    pub search: Option<std::sync::Arc<search::SearchIndex>>,
    pub base_url: String,
    pub node_id: String,
    pub max_attachment_size: u64,
    pub rest_rate_limit: Option<ratelimit::Limits>,
    pub response_cache: bool,
}

impl AppState {
    /// A node's state, every part in place before any request can see it.
    ///
    /// # Errors
    /// When the plugin engine cannot be created.
    pub fn assemble(p: Parts) -> anyhow::Result<AppState> {
        let plugins = plugins::Plugins::new(p.pool.clone(), &p.shared_home)?;
        if let Some(local_home) = &p.local_home {
            plugins.set_local_home(local_home);
        }
        plugins.set_base_url(&p.base_url);
        let presenter = present::Presenter::default();
        let generation = generation::Generation::default();
        if !p.response_cache {
            generation.disable();
        }
        if let Some(index) = &p.search {
            index.set_generation(generation.clone());
        }
        Ok(AppState {
            cluster: p.cluster,
            pool: p.pool,
            readiness: p.readiness,
            basic_cache: auth::BasicCache::default(),
            presenter: presenter.with_plugins(plugins.clone()),
            plugins,
            files: attach::Store::new(&p.shared_home, p.max_attachment_size),
            site_title: "Cairn".into(),
            base_url: p.base_url,
            rate_limiter: ratelimit::RateLimiter::new(p.rest_rate_limit),
            node_id: p.node_id,
            started: chrono::Utc::now(),
            search: p.search,
            generation,
            response_cache: http::response_cache::ResponseCache::default(),
            consistency: consistency::Consistency::default(),
        })
    }

    /// A standalone node's state with the built-in defaults and no search
    /// index (tests and tools).
    ///
    /// # Errors
    /// When the plugin engine cannot be created.
    pub fn new(pool: deadpool_postgres::Pool, shared_home: PathBuf) -> anyhow::Result<AppState> {
        let readiness = status::Readiness::default();
        let cluster = cluster::Cluster::standalone(
            "local",
            "http://127.0.0.1:8090",
            pool.clone(),
            cluster::Defaults::builtin(),
            readiness.clone(),
        );
        AppState::assemble(Parts {
            pool,
            shared_home,
            local_home: None,
            cluster,
            readiness,
            search: None,
            base_url: "http://127.0.0.1:8090".into(),
            node_id: "local".into(),
            max_attachment_size: DEFAULT_MAX_ATTACHMENT,
            rest_rate_limit: Some(DEFAULT_RATE_LIMIT),
            response_cache: true,
        })
    }

    /// What this node's cluster jobs work with.
    pub fn job_context(&self) -> cluster::jobs::JobContext {
        cluster::jobs::JobContext {
            cluster: self.cluster.clone(),
            pool: self.pool.clone(),
            index: self.search.clone(),
            plugins: self.plugins.clone(),
            shared_home: self.files.shared_home().to_owned(),
        }
    }
}

/// The node's whole HTTP surface.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/status", get(http::status::status))
        .route("/metrics", get(metrics::metrics))
        .merge(web::routes().layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::error_pages,
        )))
        .merge(rest::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::response_cache::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::rate_limit::layer,
        ))
        .layer(axum::middleware::from_fn(rest::xsrf_layer))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::gate::layer,
        ))
        // Uploads lift this on their own routes and enforce the attachment
        // limit while streaming.
        .layer(axum::extract::DefaultBodyLimit::max(8 * 1024 * 1024))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// One line per request at info (debug for assets and /status, which load
/// balancers and browsers hit constantly).
async fn log_request(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let start = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let resp = next.run(req).await;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let status = resp.status().as_u16();
    if path == "/status" || path == "/metrics" || path.starts_with("/assets/") {
        tracing::debug!(%method, %path, status, ms, "request");
    } else {
        tracing::info!(%method, %path, status, ms, "request");
    }
    resp
}

pub use axum::Router;
pub use generation::Generation;
pub use http::response_cache::ResponseCache;
pub use status::Readiness;

/// Applies a new log filter (the live setting `log_level`).
pub type LogLevelSetter = Box<dyn Fn(&str) + Send + Sync>;

impl AppState {
    /// Applies live settings to this node as they change (within a second
    /// of the change on any node). `log_level` is handed to `set_log_level`.
    pub fn spawn_settings_applier(&self, set_log_level: Option<LogLevelSetter>) {
        let app = self.clone();
        let mut rx = self.cluster.subscribe_settings();
        tokio::spawn(async move {
            let mut last_level = String::new();
            loop {
                let s = rx.borrow_and_update().clone();
                app.rate_limiter.set(s.rest_rate_limit);
                app.files.set_max_size(s.max_attachment_size);
                plugins::runtime::set_default_limits(
                    s.plugin_time_limit_ms,
                    s.plugin_memory_limit_mb,
                );
                app.plugins.set_page_budget_ms(s.plugin_page_budget_ms);
                if s.log_level != last_level {
                    if let Some(f) = &set_log_level {
                        f(&s.log_level);
                    }
                    last_level = s.log_level.clone();
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        });
    }
}

/// Serves `app` on `listener` until the listener fails.
///
/// # Errors
/// When accepting connections fails.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await
}
