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

use crate::sync::Recover;
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
    /// The payload of the last notification applied (tests send a marker
    /// and wait for it: everything committed before it has been heard).
    last_payload: std::sync::Mutex<String>,
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

    pub(crate) fn bump(&self) {
        self.0.value.fetch_add(1, Ordering::AcqRel);
    }

    /// The payload of the last change notification this node applied.
    pub fn last_payload(&self) -> String {
        self.0.last_payload.lock().recover().clone()
    }

    /// Turns the generation-keyed caches off (`CAIRN_RESPONSE_CACHE=off`).
    pub(crate) fn disable(&self) {
        self.0.disabled.store(true, Ordering::Relaxed);
    }

    /// Listens for `cairn_change` for as long as the process runs,
    /// reconnecting every second after a loss. `test_delay` holds every
    /// notification back that long (`Config::test_notify_delay`).
    pub fn spawn_listener(&self, database_url: String, test_delay: Option<Duration>) {
        let g = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = g.listen(&database_url, test_delay).await {
                    tracing::debug!(error = %e, "change LISTEN connection lost; response caches are off until it is back");
                }
                g.0.listening.store(false, Ordering::Release);
                g.bump();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    async fn listen(
        &self,
        url: &str,
        delay: Option<Duration>,
    ) -> Result<(), tokio_postgres::Error> {
        let (client, mut conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        // (payload, when it arrived) per notification, None when the
        // connection ends.
        let (tx, mut rx) =
            tokio::sync::mpsc::unbounded_channel::<Option<(String, tokio::time::Instant)>>();
        let driver = tokio::spawn(async move {
            use futures_util::StreamExt;
            let mut stream = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
            while let Some(msg) = stream.next().await {
                match msg {
                    Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                        let _ =
                            tx.send(Some((n.payload().to_owned(), tokio::time::Instant::now())));
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(None);
        });
        client.batch_execute("LISTEN cairn_change").await?;
        // Whatever happened while nobody listened is unknown: move on.
        self.bump();
        self.0.listening.store(true, Ordering::Release);
        // Bump directly from the driver's messages; `client` must stay alive
        // for the connection to stay open.
        while let Some(Some((payload, arrived))) = rx.recv().await {
            if let Some(d) = delay {
                tokio::time::sleep_until(arrived + d).await;
            }
            self.bump();
            {
                let mut last = self.0.last_payload.lock().recover();
                last.clone_from(&payload);
            }
            if let Ok(started_us) = payload.parse::<i64>() {
                let now_us = chrono::Utc::now().timestamp_micros();
                NOTIFY_DELAY.record((now_us - started_us).max(0) as u64);
            }
        }
        driver.abort();
        drop(client);
        Ok(())
    }
}

/// How long change notifications took to reach this node, from the start
/// of the writing transaction (so an upper bound of commit to delivery):
/// a histogram in microseconds.
pub(crate) struct DelayHistogram {
    buckets: [AtomicU64; DELAY_BOUNDS_US.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

/// Upper bounds of the histogram's buckets, in microseconds.
pub(crate) const DELAY_BOUNDS_US: [u64; 16] = [
    250, 500, 1_000, 2_000, 3_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000,
    1_000_000, 2_000_000, 5_000_000, 10_000_000,
];

pub(crate) static NOTIFY_DELAY: DelayHistogram = DelayHistogram {
    buckets: [const { AtomicU64::new(0) }; DELAY_BOUNDS_US.len()],
    count: AtomicU64::new(0),
    sum_us: AtomicU64::new(0),
};

impl DelayHistogram {
    fn record(&self, us: u64) {
        if let Some(i) = DELAY_BOUNDS_US.iter().position(|b| us <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// (cumulative count per bound, total count, sum in microseconds), as
    /// Prometheus wants them.
    pub(crate) fn snapshot(&self) -> (Vec<u64>, u64, u64) {
        let mut acc = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                acc += b.load(Ordering::Relaxed);
                acc
            })
            .collect();
        (
            cumulative,
            self.count.load(Ordering::Relaxed),
            self.sum_us.load(Ordering::Relaxed),
        )
    }
}
