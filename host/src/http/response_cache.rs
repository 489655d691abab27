//! The response cache: whole responses of page views and REST content
//! reads, per viewer identity and data generation.
//!
//! Invariant: a response is cached only when its handler marked it
//! [`Cacheable`], and served only for the same credentials, chrome and
//! generation it was made in, so any write anywhere in the cluster (which
//! moves the generation) retires every cached response at once.

use std::hash::{Hash, Hasher};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Marks a response its handler allows to be cached for this viewer until
/// the generation moves (a rendered page whose macros are all cacheable).
#[derive(Clone, Copy)]
pub(crate) struct Cacheable;

/// Whole responses of page views and REST content reads, per viewer
/// identity and generation.
#[derive(Clone)]
pub struct ResponseCache {
    entries: Arc<quick_cache::sync::Cache<Key, Arc<Cached>, Weigh>>,
}

/// (generation, hash of the viewer's credentials and the page chrome, path and query)
type Key = (u64, u64, String);

pub(crate) struct Cached {
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
    pub fn entry_count(&self) -> usize {
        self.entries.len()
    }
}

/// Who is asking, as far as a cached response can tell: the session cookie
/// or Authorization header (each names one viewer and, for sessions, one
/// CSRF token in the page), plus the chrome (site title, banners).
fn identity(headers: &axum::http::HeaderMap) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    crate::auth::credentials_digest(headers).hash(&mut h);
    super::chrome::chrome().hash(&mut h);
    h.finish()
}

/// The middleware: serves a GET from the cache when the generation has not
/// moved since it was stored, and stores responses their handler marked
/// [`Cacheable`]. Runs inside the cluster gate, so fenced and read-only
/// banners are part of the key.
pub(crate) async fn layer(
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
