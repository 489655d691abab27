//! Read-your-writes on every node: the consistency token.
//!
//! Invariant: a request that carries the token of a write is never answered
//! from a cache (response, viewer, restriction caches: everything keyed by
//! the data generation, [`crate::changes`]) filled before that write
//! committed, on any node.
//!
//! The token is a WAL position taken after the write committed: the node
//! that ran a write request emits a non-transactional WAL message
//! (`pg_logical_emit_message`) once the handler has returned and sends its
//! end position back — as the `X-Cairn-Consistency` response header for
//! scripts and the `cairn.consistency` cookie for browsers. Because the
//! message is written after the commit completed, any WAL position at or
//! past the token was read after that commit was visible.
//!
//! A node that gets a request whose token is ahead of what it has
//! *caught up to* reads the database's current WAL position and moves its
//! data generation (so every cache entry filled before that moment is
//! unreachable), then records that position as caught up. It does not wait
//! for the change notification: one round trip is cheaper and deterministic, and the notification still moves the generation for
//! requests without a token (bounded by the notification latency, see
//! `cairn_change_notify_delay_seconds`). Concurrent requests share one
//! catch-up. A token ahead of the database's own position cannot come from
//! a write to it (a forged token, or one from another database) and is
//! ignored, so it cannot be used to empty a node's caches.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};

/// The response header that carries the token, and the request header a
/// script sends it back in.
pub(crate) const HEADER: &str = "x-cairn-consistency";
/// The browser's copy of the token.
pub(crate) const COOKIE: &str = "cairn.consistency";
/// How long a browser keeps sending its token: far longer than any
/// notification takes, after which the token can only cost a round trip.
const COOKIE_MAX_AGE_SECS: u32 = 300;
/// A catch-up that takes longer than this gives up on recording the
/// position; the generation has moved by then anyway.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// This node's side of the tokens: the WAL position it has caught up to.
#[derive(Clone, Default)]
pub(crate) struct Consistency(Arc<Inner>);

#[derive(Default)]
struct Inner {
    caught_up: AtomicU64,
    /// One catch-up at a time; the others wait for it and re-check.
    catching_up: tokio::sync::Mutex<()>,
    /// Requests whose token made this node move its generation.
    catch_ups: AtomicU64,
}

impl Consistency {
    /// The WAL position this node's caches are known to be at or past.
    pub(crate) fn caught_up(&self) -> u64 {
        self.0.caught_up.load(Ordering::Acquire)
    }

    /// How many requests made this node catch up (a metric).
    pub(crate) fn catch_ups(&self) -> u64 {
        self.0.catch_ups.load(Ordering::Relaxed)
    }

    /// After a write request: the token naming it. The caller has already
    /// moved the generation, so this node is caught up to the token.
    pub(crate) async fn issue(&self, pool: &deadpool_postgres::Pool) -> Option<u64> {
        let token = wal_position(
            pool,
            "SELECT (pg_logical_emit_message(false, 'cairn', '') - '0/0'::pg_lsn)::bigint",
        )
        .await?;
        self.0.caught_up.fetch_max(token, Ordering::AcqRel);
        Some(token)
    }

    /// Before a request that carries `token`: makes sure nothing cached
    /// before the write it names can answer it.
    pub(crate) async fn catch_up(
        &self,
        pool: &deadpool_postgres::Pool,
        generation: &crate::generation::Generation,
        token: u64,
    ) {
        if token <= self.caught_up() {
            return;
        }
        let _one = self.0.catching_up.lock().await;
        if token <= self.caught_up() {
            return;
        }
        let now = wal_position(
            pool,
            "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint",
        )
        .await;
        match now {
            // Not a position this database has reached: not a token of
            // one of its writes.
            Some(now) if token > now => {
                tracing::debug!(token, now, "ignoring a consistency token from the future");
            }
            Some(now) => {
                generation.bump();
                self.0.catch_ups.fetch_add(1, Ordering::Relaxed);
                self.0.caught_up.fetch_max(now, Ordering::AcqRel);
            }
            // The database did not answer: moving the generation is always
            // safe (what is read after it is read after the write).
            None => {
                generation.bump();
                self.0.catch_ups.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// A WAL position read with `sql`; `None` when the database does not
/// answer within [`DB_TIMEOUT`].
async fn wal_position(pool: &deadpool_postgres::Pool, sql: &str) -> Option<u64> {
    tokio::time::timeout(DB_TIMEOUT, async {
        let db = pool.get().await.ok()?;
        let row = crate::db::query_one(&db, sql, &[]).await.ok()?;
        u64::try_from(row.get::<_, i64>(0)).ok()
    })
    .await
    .ok()
    .flatten()
}

/// The token a request carries: the header, else the cookie (the larger
/// if both). Malformed values are ignored.
pub(crate) fn token_of(headers: &HeaderMap) -> Option<u64> {
    let header = headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let cookie = crate::auth::cookie(headers, COOKIE).and_then(|v| v.parse::<u64>().ok());
    header.max(cookie)
}

/// Puts `token` on a write's response: the header and the cookie.
pub(crate) fn attach(headers: &mut HeaderMap, token: u64) {
    if let Ok(v) = HeaderValue::from_str(&token.to_string()) {
        headers.insert(HEADER, v);
    }
    let cookie =
        format!("{COOKIE}={token}; Path=/; Max-Age={COOKIE_MAX_AGE_SECS}; HttpOnly; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        headers.append(axum::http::header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_the_header_or_the_cookie_whichever_is_later() {
        let mut h = HeaderMap::new();
        assert_eq!(token_of(&h), None);
        h.insert(HEADER, HeaderValue::from_static(" 42 "));
        assert_eq!(token_of(&h), Some(42));
        h.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_static("a=b; cairn.consistency=77"),
        );
        assert_eq!(token_of(&h), Some(77));
        h.insert(HEADER, HeaderValue::from_static("99"));
        assert_eq!(token_of(&h), Some(99));
        h.insert(HEADER, HeaderValue::from_static("-1"));
        h.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_static("cairn.consistency=x"),
        );
        assert_eq!(token_of(&h), None);
    }

    #[test]
    fn a_write_response_carries_header_and_cookie() {
        let mut h = HeaderMap::new();
        attach(&mut h, 1234);
        assert_eq!(h.get(HEADER).unwrap(), "1234");
        let c = h
            .get(axum::http::header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(c.starts_with("cairn.consistency=1234; Path=/"), "{c}");
    }
}
