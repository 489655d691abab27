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

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use futures_util::StreamExt;

use super::compose::{compose, FactsCache};
use super::mail::{self, SendError, SmtpConfig};
use super::Reason;
use crate::cluster::Settings;
use crate::error::Result;

/// This process's claim mark: rows claimed under another mark were left by
/// a process that stopped (or lost leadership) mid-send.
static CLAIM: LazyLock<String> =
    LazyLock::new(|| format!("{}-{}", std::process::id(), crate::auth::random_token(8)));

/// Rows claimed per round (digests of their users come whole on top).
const BATCH: i64 = 48;

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
    s.recovered = crate::db::execute(
        &db,
        "UPDATE mail_queue SET state = 'pending', resent = resent + 1, claimed_by = NULL
         WHERE state = 'sending' AND claimed_by <> $1",
        &[&*CLAIM],
    )
    .await?;
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
    // The oldest due rows, plus every due digest row of their users (a
    // digest is never split between claims).
    let rows = crate::db::query(
        db,
        "WITH pick AS (
             SELECT id, user_id, mode FROM mail_queue
             WHERE state = 'pending' AND next_attempt <= now() AND due_at <= now()
             ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED),
         more AS (
             SELECT m.id FROM mail_queue m
             WHERE m.state = 'pending' AND m.next_attempt <= now() AND m.due_at <= now()
               AND m.mode <> 'immediate'
               AND m.user_id IN (SELECT user_id FROM pick WHERE mode <> 'immediate')
             FOR UPDATE SKIP LOCKED)
         UPDATE mail_queue SET state = 'sending', claimed_by = $1, attempts = attempts + 1
         WHERE id IN (SELECT id FROM pick UNION SELECT id FROM more)
         RETURNING id, user_id, event_id, page_id, reason, watch_id, mode, idem_key",
        &[&*CLAIM, &BATCH],
    )
    .await?;
    let n = rows.len();
    let mut claimed: Vec<Claimed> = rows
        .iter()
        .map(|r| Claimed {
            id: r.get(0),
            user_id: r.get(1),
            event_id: r.get(2),
            page_id: r.get(3),
            reason: Reason::parse(r.get(4)),
            watch_id: r.get(5),
            digest: r.get::<_, &str>(6) != "immediate",
            key: r.get(7),
        })
        .collect();
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
    let outage = outage.lock().unwrap_or_else(|p| p.into_inner()).is_some();
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
        let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
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
        self.outage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
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
                release(self.db, &ids, &e.to_string(), true).await?;
                Ok(Outcome::Deferred(ids.len()))
            }
        }
    }

    async fn try_send_group(&self, g: Vec<Claimed>) -> Result<Outcome> {
        let db = self.db;
        let ids: Vec<i64> = g.iter().map(|c| c.id).collect();
        if let Some(err) = self.outage() {
            release(db, &ids, &err, false).await?;
            return Ok(Outcome::Deferred(ids.len()));
        }
        let Some(m) = compose(db, &self.facts, self.base, self.site, &g).await? else {
            set_state(
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
                set_state(db, &ids, "failed", Some(&e.public_message())).await?;
                return Ok(Outcome::Failed(ids.len()));
            }
        };
        match mail::send(self.transport, message).await {
            Ok(()) => {
                set_state(db, &ids, "sent", None).await?;
                Ok(Outcome::Sent(ids.len()))
            }
            Err(SendError::Permanent(e)) => {
                tracing::warn!(rows = ?ids, error = %e, "mail refused");
                set_state(db, &ids, "failed", Some(&e)).await?;
                Ok(Outcome::Failed(ids.len()))
            }
            Err(SendError::Transient(e)) => {
                tracing::warn!(error = %e, "SMTP unavailable; retrying with backoff");
                release(db, &ids, &e, true).await?;
                *self.outage.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                Ok(Outcome::Deferred(ids.len()))
            }
        }
    }
}

/// A claimed queue row.
#[derive(Debug, Clone)]
pub(super) struct Claimed {
    pub(super) id: i64,
    pub(super) user_id: i64,
    pub(super) event_id: i64,
    pub(super) page_id: i64,
    pub(super) reason: Reason,
    pub(super) watch_id: Option<i64>,
    pub(super) digest: bool,
    pub(super) key: String,
}

async fn set_state(
    db: &impl GenericClient,
    ids: &[i64],
    state: &str,
    err: Option<&str>,
) -> Result<()> {
    crate::db::execute(
        db,
        "UPDATE mail_queue SET state = $2, last_error = coalesce($3, last_error), claimed_by = NULL,
             sent_at = CASE WHEN $2 = 'sent' THEN now() END
         WHERE id = ANY($1)",
        &[&ids, &state, &err],
    )
    .await?;
    Ok(())
}

/// Back to `pending`. `attempted`: the next try waits 5 s × 2^(attempts−1),
/// at most an hour; otherwise the claim's attempt is given back.
async fn release(db: &impl GenericClient, ids: &[i64], err: &str, attempted: bool) -> Result<()> {
    crate::db::execute(
        db,
        "UPDATE mail_queue SET state = 'pending', claimed_by = NULL, last_error = $2,
             attempts = CASE WHEN $3 THEN attempts ELSE attempts - 1 END,
             next_attempt = CASE WHEN $3
                 THEN now() + least(3600, 5 * power(2, least(attempts - 1, 20))) * interval '1 second'
                 ELSE next_attempt END
         WHERE id = ANY($1)",
        &[&ids, &err, &attempted],
    )
    .await?;
    Ok(())
}

/// The queue as the admin page shows it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct QueueStatus {
    pub events_pending: i64,
    pub pending: i64,
    pub retrying: i64,
    pub sent: i64,
    pub failed: i64,
    pub dropped: i64,
    pub resent: i64,
    pub oldest_pending: Option<DateTime<Utc>>,
    pub next_attempt: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

pub(crate) async fn status(db: &impl GenericClient) -> Result<QueueStatus> {
    let r = crate::db::query_one(
        db,
        "SELECT count(*) FILTER (WHERE state IN ('pending', 'sending')),
                count(*) FILTER (WHERE state = 'pending' AND attempts > 0),
                count(*) FILTER (WHERE state = 'sent'),
                count(*) FILTER (WHERE state = 'failed'),
                count(*) FILTER (WHERE state = 'dropped'),
                coalesce(sum(resent), 0)::bigint,
                min(created_at) FILTER (WHERE state = 'pending'),
                min(next_attempt) FILTER (WHERE state = 'pending' AND attempts > 0),
                (SELECT last_error FROM mail_queue WHERE last_error IS NOT NULL
                   AND state IN ('pending', 'failed') ORDER BY id DESC LIMIT 1)
         FROM mail_queue",
        &[],
    )
    .await?;
    Ok(QueueStatus {
        events_pending: super::outbox::pending(db).await?,
        pending: r.get(0),
        retrying: r.get(1),
        sent: r.get(2),
        failed: r.get(3),
        dropped: r.get(4),
        resent: r.get(5),
        oldest_pending: r.get(6),
        next_attempt: r.get(7),
        last_error: r.get(8),
    })
}
