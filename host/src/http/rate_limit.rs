//! The REST rate limit as middleware: authenticates the caller (the viewer
//! is kept for the handler) and spends a token of their bucket.
//!
//! Invariant: only `/rest/…` is limited; a refused call gets 429 with
//! `Retry-After`, an allowed one the `X-RateLimit-*` headers.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::ratelimit::Decision;
use crate::AppState;

fn put(resp: &mut Response, name: &'static str, v: String) {
    if let Ok(h) = HeaderValue::from_str(&v) {
        resp.headers_mut().insert(name, h);
    }
}

/// Middleware on `/rest/…`: authenticates (the viewer is kept for the
/// handler), then spends a token.
pub(crate) async fn layer(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/rest/") {
        return next.run(req).await;
    }
    let viewer = match crate::http::viewer::resolve(&app, req.headers()).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let key = match &viewer.user {
        Some(u) if viewer.rate_limit_exempt => {
            let _ = u;
            None
        }
        Some(u) => Some(format!("user:{}", u.id)),
        None => Some(format!(
            "anon:{}",
            req.extensions()
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default()
        )),
    };
    req.extensions_mut().insert(viewer);
    let decision = match key {
        Some(k) => app.rate_limiter.check(&k),
        None => Decision::Unlimited,
    };
    match decision {
        Decision::Unlimited => next.run(req).await,
        Decision::Allowed {
            limit,
            remaining,
            rate,
        } => {
            let mut resp = next.run(req).await;
            put(&mut resp, "x-ratelimit-limit", format!("{limit}"));
            put(&mut resp, "x-ratelimit-remaining", format!("{remaining}"));
            put(&mut resp, "x-ratelimit-interval-seconds", "1".into());
            put(&mut resp, "x-ratelimit-fillrate", format!("{rate}"));
            resp
        }
        Decision::Refused {
            limit,
            rate,
            retry_after,
        } => {
            let mut resp = Error::TooManyRequests(format!(
                "rate limit exceeded: {rate} requests per second with bursts of {limit}; retry after {retry_after} s"
            ))
            .into_response();
            put(&mut resp, "retry-after", retry_after.to_string());
            put(&mut resp, "x-ratelimit-limit", format!("{limit}"));
            put(&mut resp, "x-ratelimit-remaining", "0".into());
            put(&mut resp, "x-ratelimit-interval-seconds", "1".into());
            put(&mut resp, "x-ratelimit-fillrate", format!("{rate}"));
            resp
        }
    }
}
