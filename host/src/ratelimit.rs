//! REST rate limiting like Data Center's: a token bucket per user (per
//! client address for anonymous calls), refilled at `rate` tokens a second
//! up to `burst`. Users marked exempt are never limited. Every REST response
//! carries the `X-RateLimit-*` headers; a refused call gets 429 with
//! `Retry-After`.
//!
//! Invariant: buckets are per node (as in Data Center); the limit a client
//! sees across N nodes behind a balancer is at most N times the setting.

use crate::sync::Recover;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Rate and burst; `None` turns limiting off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub rate: f64,
    pub burst: f64,
}

impl Limits {
    /// `"RATE/BURST"` (e.g. `50/500`) or `off`.
    pub(crate) fn parse(s: &str) -> Option<Option<Limits>> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Some(None);
        }
        let (r, b) = s.split_once('/')?;
        let rate: f64 = r
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| *v > 0.0 && v.is_finite())?;
        let burst: f64 = b
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| *v >= 1.0 && v.is_finite())?;
        Some(Some(Limits { rate, burst }))
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct RateLimiter {
    limits: Mutex<Option<Limits>>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

pub(crate) enum Decision {
    Unlimited,
    Allowed {
        limit: f64,
        remaining: f64,
        rate: f64,
    },
    Refused {
        limit: f64,
        rate: f64,
        retry_after: u64,
    },
}

impl RateLimiter {
    pub(crate) fn new(limits: Option<Limits>) -> Arc<RateLimiter> {
        Arc::new(RateLimiter {
            limits: Mutex::new(limits),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Changes the limits (live configuration); buckets keep their tokens.
    pub fn set(&self, limits: Option<Limits>) {
        {
            let mut l = self.limits.lock().recover();
            *l = limits;
        }
    }

    pub(crate) fn limits(&self) -> Option<Limits> {
        *self.limits.lock().recover()
    }

    pub(crate) fn check(&self, key: &str) -> Decision {
        let Some(l) = self.limits() else {
            return Decision::Unlimited;
        };
        let now = Instant::now();
        let mut buckets = self.buckets.lock().recover();
        if buckets.len() > 100_000 {
            // Full buckets carry no information; drop them.
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.at).as_secs_f64() * l.rate < l.burst
            });
        }
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: l.burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * l.rate).min(l.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Decision::Allowed {
                limit: l.burst,
                remaining: b.tokens.floor(),
                rate: l.rate,
            }
        } else {
            let retry_after = ((1.0 - b.tokens) / l.rate).ceil().max(1.0) as u64;
            Decision::Refused {
                limit: l.burst,
                rate: l.rate,
                retry_after,
            }
        }
    }
}
