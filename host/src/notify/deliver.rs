//! The `notify-delivery` cluster job: fan out new events, then send the
//! mail queue.
//!
//! Invariants: a mail row is claimed (`sending`, committed) before its SMTP
//! call and marked `sent` right after the server accepted it — so two
//! processes never send one row, and a duplicate is possible only when a
//! process dies between the server's acceptance and that mark; such rows,
//! found in `sending` under another process's claim, are sent again with
//! the same Message-ID and counted in `resent` (shown on the admin page).
//! The recipient's permission to see the page is checked again right before
//! sending. A refused recipient (5xx) fails that row only; an outage
//! (connection failure, 4xx) stops the batch and retries with backoff.

use futures_util::StreamExt;

use super::compose::{compose, FactsCache};
use super::mail::{self, SendError, SmtpConfig};
use super::queue::{self, Claimed};
use crate::cluster::Settings;
use crate::error::Result;
use crate::sync::Recover;

/// Claims per run of the job.
const ROUNDS: usize = 20;

/// What one run did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Summary {
    pub events: usize,
    pub sent: usize,
    pub failed: usize,
    pub dropped: usize,
    pub deferred: usize,
    pub recovered: u64,
}

impl Summary {
    pub fn is_empty(&self) -> bool {
        self.events + self.sent + self.failed + self.dropped + self.deferred == 0
            && self.recovered == 0
    }
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} events fanned out; {} mails sent, {} refused, {} dropped, {} deferred, {} recovered",
            self.events, self.sent, self.failed, self.dropped, self.deferred, self.recovered
        )
    }
}

/// One run of the job (the leader calls it every half second).
pub async fn run(pool: &deadpool_postgres::Pool, settings: &Settings) -> Result<Summary> {
    let smtp = SmtpConfig::from_settings(settings);
    let batch_secs = crate::config::parse_duration(&settings.text("mail_batch_interval"))
        .map_or(600.0, |d| d.as_secs_f64());
    let mut s = Summary {
        events: super::fanout::run(pool, 500, smtp.is_some(), batch_secs).await?,
        ..Summary::default()
    };
    trim(pool).await?;
    let Some(cfg) = smtp else {
        return Ok(s);
    };
    let db = pool.get().await?;
    s.recovered = queue::recover(&db).await?;
    let base = settings.text("base_url");
    let site = settings.site_title.clone();
    let transport = mail::transport_for(&cfg)?;
    // Small claims, several rounds: a process that dies leaves at most one
    // claim (≤ BATCH rows plus whole digests) to be recovered and resent.
    for _ in 0..ROUNDS {
        let (n, outage) = round(&db, &cfg, &base, &site, &transport, &mut s).await?;
        if n == 0 || outage {
            break;
        }
    }
    Ok(s)
}

/// One claim and its sends; returns how many rows it claimed and whether
/// the server was unreachable.
async fn round(
    db: &deadpool_postgres::Object,
    cfg: &SmtpConfig,
    base: &str,
    site: &str,
    transport: &lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    s: &mut Summary,
) -> Result<(usize, bool)> {
    let mut claimed = queue::claim(db).await?;
    let n = claimed.len();
    claimed.sort_by_key(|c| (c.digest, c.user_id, c.id));
    // Groups: each immediate row alone; each user's digest rows together.
    let mut groups: Vec<Vec<Claimed>> = Vec::new();
    for c in claimed {
        match groups.last_mut() {
            Some(g) if c.digest && g[0].digest && g[0].user_id == c.user_id => g.push(c),
            _ => groups.push(vec![c]),
        }
    }
    // Up to `PARALLEL` mails in flight (the transport pools as many SMTP
    // connections); after an outage, the groups not yet started go back
    // to the queue unattempted.
    let outage: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
    let ctx = SendCtx {
        db,
        cfg,
        base,
        site,
        transport,
        outage: &outage,
        facts: FactsCache::default(),
    };
    let outcomes: Vec<Result<Outcome>> = futures_util::stream::iter(groups)
        .map(|g| ctx.send_group(g))
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    for o in outcomes {
        match o? {
            Outcome::Sent(n) => s.sent += n,
            Outcome::Failed(n) => s.failed += n,
            Outcome::Dropped(n) => s.dropped += n,
            Outcome::Deferred(n) => s.deferred += n,
        }
    }
    let outage = outage.lock().recover().is_some();
    Ok((n, outage))
}

/// How long processed events (and with them their in-app notifications and
/// mail rows) are kept.
const KEEP_DAYS: f64 = 90.0;

/// Deletes events processed more than [`KEEP_DAYS`] ago, at most once an
/// hour per process (the delete cascades to `notifications` and
/// `mail_queue`).
async fn trim(pool: &deadpool_postgres::Pool) -> Result<()> {
    static LAST: std::sync::Mutex<Option<std::time::Instant>> = std::sync::Mutex::new(None);
    {
        let mut last = LAST.lock().recover();
        if last.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(3600)) {
            return Ok(());
        }
        *last = Some(std::time::Instant::now());
    }
    let db = pool.get().await?;
    let n = crate::db::execute(
        &db,
        "DELETE FROM notify_outbox WHERE processed_at < now() - $1 * interval '1 day'
         AND NOT EXISTS (SELECT 1 FROM mail_queue m WHERE m.event_id = notify_outbox.id
                         AND m.state IN ('pending', 'sending'))",
        &[&KEEP_DAYS],
    )
    .await?;
    if n > 0 {
        tracing::info!(events = n, "old notification events trimmed");
    }
    Ok(())
}

/// Mails in flight at once.
const PARALLEL: usize = 16;

enum Outcome {
    Sent(usize),
    Failed(usize),
    Dropped(usize),
    Deferred(usize),
}

struct SendCtx<'a> {
    db: &'a deadpool_postgres::Object,
    cfg: &'a SmtpConfig,
    base: &'a str,
    site: &'a str,
    transport: &'a lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    outage: &'a std::sync::Mutex<Option<String>>,
    facts: FactsCache,
}

impl SendCtx<'_> {
    fn outage(&self) -> Option<String> {
        self.outage.lock().recover().clone()
    }

    /// Sends one group (a mail), moving its rows to their next state. A
    /// database error while composing gives the rows back to the queue
    /// (with backoff) rather than leaving them claimed.
    async fn send_group(&self, g: Vec<Claimed>) -> Result<Outcome> {
        let ids: Vec<i64> = g.iter().map(|c| c.id).collect();
        match self.try_send_group(g).await {
            Ok(o) => Ok(o),
            Err(e) => {
                tracing::warn!(rows = ?ids, error = %e, "composing a mail failed; retrying later");
                queue::release(self.db, &ids, &e.to_string(), true).await?;
                Ok(Outcome::Deferred(ids.len()))
            }
        }
    }

    async fn try_send_group(&self, g: Vec<Claimed>) -> Result<Outcome> {
        let db = self.db;
        let ids: Vec<i64> = g.iter().map(|c| c.id).collect();
        if let Some(err) = self.outage() {
            queue::release(db, &ids, &err, false).await?;
            return Ok(Outcome::Deferred(ids.len()));
        }
        let Some(m) = compose(db, &self.facts, self.base, self.site, &g).await? else {
            queue::set_state(
                db,
                &ids,
                "dropped",
                Some("the recipient may no longer see this, or turned e-mail off"),
            )
            .await?;
            return Ok(Outcome::Dropped(ids.len()));
        };
        let message = match mail::build(self.cfg, self.base, &m) {
            Ok(msg) => msg,
            Err(e) => {
                queue::set_state(db, &ids, "failed", Some(&e.public_message())).await?;
                return Ok(Outcome::Failed(ids.len()));
            }
        };
        match mail::send(self.transport, message).await {
            Ok(()) => {
                queue::set_state(db, &ids, "sent", None).await?;
                Ok(Outcome::Sent(ids.len()))
            }
            Err(SendError::Permanent(e)) => {
                tracing::warn!(rows = ?ids, error = %e, "mail refused");
                queue::set_state(db, &ids, "failed", Some(&e)).await?;
                Ok(Outcome::Failed(ids.len()))
            }
            Err(SendError::Transient(e)) => {
                tracing::warn!(error = %e, "SMTP unavailable; retrying with backoff");
                queue::release(db, &ids, &e, true).await?;
                *self.outage.lock().recover() = Some(e);
                Ok(Outcome::Deferred(ids.len()))
            }
        }
    }
}
