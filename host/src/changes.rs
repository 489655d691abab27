//! The data generation: a number that moves whenever anything a page view
//! depends on may have changed, on this node or any other. Node-local caches
//! of whole responses and of viewers are keyed by it, so they need no
//! database round trip to stay correct.
//!
//! It moves:
//! - on this node, after every request that may write (any method but GET,
//!   HEAD and OPTIONS), before the response leaves — so a user always reads
//!   their own writes;
//! - on every node, when PostgreSQL delivers `NOTIFY cairn_change`, which a
//!   statement trigger on every table of wiki state sends in the writing
//!   transaction (migration V8): delivered at commit, so another node's
//!   cache lags a commit by the notification's latency (about a millisecond
//!   on a LAN);
//! - when the LISTEN connection is lost. Until it is back, [`current`]
//!   answers `None` and nothing is served from or stored in those caches.
//!
//! Live settings (site title, banners) move it too, from the settings watch.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Default)]
pub struct Generation(Arc<Inner>);

#[derive(Default)]
struct Inner {
    value: AtomicU64,
    /// The LISTEN connection is up; remote writes are being heard.
    listening: AtomicBool,
    /// Test and benchmark switch: caches off.
    disabled: AtomicBool,
}

impl Generation {
    /// The generation to key a cache entry with, read before the data it
    /// caches; `None` while remote writes might go unheard.
    pub fn current(&self) -> Option<u64> {
        if !self.0.listening.load(Ordering::Acquire) || self.0.disabled.load(Ordering::Relaxed) {
            return None;
        }
        Some(self.0.value.load(Ordering::Acquire))
    }

    pub fn bump(&self) {
        self.0.value.fetch_add(1, Ordering::AcqRel);
    }

    /// Turns the generation-keyed caches off (`CAIRN_RESPONSE_CACHE=off`).
    pub fn disable(&self) {
        self.0.disabled.store(true, Ordering::Relaxed);
    }

    /// Listens for `cairn_change` for as long as the process runs,
    /// reconnecting every second after a loss.
    pub fn spawn_listener(&self, database_url: String) {
        let g = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = g.listen(&database_url).await {
                    tracing::debug!(error = %e, "change LISTEN connection lost; response caches are off until it is back");
                }
                g.0.listening.store(false, Ordering::Release);
                g.bump();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    async fn listen(&self, url: &str) -> Result<(), tokio_postgres::Error> {
        let (client, mut conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
        let driver = tokio::spawn(async move {
            use futures_util::StreamExt;
            let mut stream = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
            while let Some(msg) = stream.next().await {
                match msg {
                    Ok(tokio_postgres::AsyncMessage::Notification(_)) => {
                        let _ = tx.send(true);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(false);
        });
        client.batch_execute("LISTEN cairn_change").await?;
        // Whatever happened while nobody listened is unknown: move on.
        self.bump();
        self.0.listening.store(true, Ordering::Release);
        // Bump directly from the driver's messages; `client` must stay alive
        // for the connection to stay open.
        while let Some(alive) = rx.recv().await {
            if !alive {
                break;
            }
            self.bump();
        }
        driver.abort();
        drop(client);
        Ok(())
    }
}

/// Marks a response its handler allows to be cached for this viewer until
/// the generation moves (a rendered page whose macros are all cacheable).
#[derive(Clone, Copy)]
pub struct Cacheable;

/// Whole responses of page views and REST content reads, per viewer
/// identity and generation.
#[derive(Clone)]
pub struct ResponseCache {
    entries: Arc<quick_cache::sync::Cache<Key, Arc<Cached>, Weigh>>,
}

/// (generation, hash of the viewer's credentials and the page chrome, path and query)
type Key = (u64, u64, String);

pub struct Cached {
    content_type: axum::http::HeaderValue,
    body: bytes::Bytes,
}

#[derive(Clone)]
struct Weigh;

impl quick_cache::Weighter<Key, Arc<Cached>> for Weigh {
    fn weight(&self, k: &Key, v: &Arc<Cached>) -> u64 {
        (v.body.len() + k.2.len() + 64) as u64
    }
}

/// At most this many bytes of cached responses per node.
const RESPONSE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl Default for ResponseCache {
    fn default() -> Self {
        ResponseCache {
            entries: Arc::new(quick_cache::sync::Cache::with_weighter(
                4096,
                RESPONSE_CACHE_BYTES,
                Weigh,
            )),
        }
    }
}

impl ResponseCache {
    /// How many responses are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Who is asking, as far as a cached response can tell: the session cookie
/// or Authorization header (each names one viewer and, for sessions, one
/// CSRF token in the page), plus the chrome (site title, banners).
fn identity(headers: &axum::http::HeaderMap) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    crate::auth::credentials_digest(headers).hash(&mut h);
    crate::cluster::gate::chrome().hash(&mut h);
    h.finish()
}

/// The middleware: serves a GET from the cache when the generation has not
/// moved since it was stored, and stores responses their handler marked
/// [`Cacheable`]. Runs inside the cluster gate, so fenced and read-only
/// banners are part of the key.
pub async fn layer(
    axum::extract::State(app): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if req.method() != axum::http::Method::GET {
        return next.run(req).await;
    }
    let Some(generation) = app.generation.current() else {
        return next.run(req).await;
    };
    let key = (
        generation,
        identity(req.headers()),
        req.uri()
            .path_and_query()
            .map_or_else(String::new, |p| p.as_str().to_owned()),
    );
    if let Some(hit) = app.response_cache.entries.get(&key) {
        crate::metrics::RESPONSE_CACHE_HITS.fetch_add(1, Ordering::Relaxed);
        return (
            [(axum::http::header::CONTENT_TYPE, hit.content_type.clone())],
            hit.body.clone(),
        )
            .into_response();
    }
    let resp = next.run(req).await;
    if resp.status() != axum::http::StatusCode::OK
        || resp.extensions().get::<Cacheable>().is_none()
        || resp.headers().contains_key(axum::http::header::SET_COOKIE)
    {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 8 * 1024 * 1024).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Some(ct) = parts.headers.get(axum::http::header::CONTENT_TYPE) {
        app.response_cache.entries.insert(
            key,
            Arc::new(Cached {
                content_type: ct.clone(),
                body: bytes.clone(),
            }),
        );
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}
