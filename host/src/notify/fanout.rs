//! Fan-out: each outbox event becomes in-app notifications and queued
//! mails for the people who should hear of it.
//!
//! Invariants: one transaction per event takes the event (`FOR UPDATE SKIP
//! LOCKED`), writes its notifications and mails (unique per event and user,
//! `ON CONFLICT DO NOTHING`) and marks it processed — so an event is fanned
//! out once, whichever node runs this and however often; the actor is never
//! a recipient; a recipient is included only if the page is visible to
//! them now, checked with the same `Viewer` and `content::get` as every
//! request.

use std::collections::{BTreeMap, BTreeSet};

use deadpool_postgres::GenericClient;

use super::inapp::EmailMode;
use super::{Kind, Reason};
use crate::content::{self, ContentType};
use crate::error::Result;
use crate::perms::{User, Viewer};

/// One recipient of an event.
#[derive(Debug, Clone)]
struct Recipient {
    reason: Reason,
    /// The watch that made them a recipient (its unsubscribe link).
    watch_id: Option<i64>,
}

/// Fans out up to `max` events; returns how many were processed.
/// `mail_on` is false when no SMTP host is set: no mail is queued then.
pub async fn run(
    pool: &deadpool_postgres::Pool,
    max: usize,
    mail_on: bool,
    batch_secs: f64,
) -> Result<usize> {
    let mut done = 0;
    let mut db = pool.get().await?;
    while done < max {
        let tx = db.transaction().await?;
        let Some(ev) = crate::db::query_opt(
            &tx,
            "SELECT id, kind, page_id, subject_id, version, actor_id, detail FROM notify_outbox
             WHERE processed_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
            &[],
        )
        .await?
        else {
            break;
        };
        let event_id: i64 = ev.get(0);
        let kind = Kind::parse(ev.get(1));
        let page_id: i64 = ev.get(2);
        let subject_id: Option<i64> = ev.get(3);
        let version: Option<i32> = ev.get(4);
        let actor_id: Option<i64> = ev.get(5);
        let detail: serde_json::Value = ev.get(6);
        if let Some(kind) = kind {
            let recipients =
                recipients(&tx, kind, page_id, subject_id, version, actor_id, &detail).await?;
            for (user, r) in recipients {
                deliver_to(&tx, event_id, page_id, &user, &r, mail_on, batch_secs).await?;
            }
            if kind == Kind::Shared && mail_on {
                if let Some(actor) = actor_id {
                    deliver_to_guests(&tx, event_id, page_id, actor, &detail).await?;
                }
            }
        }
        crate::db::execute(
            &tx,
            "UPDATE notify_outbox SET processed_at = now() WHERE id = $1",
            &[&event_id],
        )
        .await?;
        tx.commit().await?;
        done += 1;
    }
    Ok(done)
}

/// Who hears of an event, and why (the strongest reason per user).
async fn recipients(
    db: &impl GenericClient,
    kind: Kind,
    page_id: i64,
    subject_id: Option<i64>,
    version: Option<i32>,
    actor_id: Option<i64>,
    detail: &serde_json::Value,
) -> Result<Vec<(User, Recipient)>> {
    let Some(page) = crate::db::query_opt(
        db,
        "SELECT content_type, space_id FROM content WHERE id = $1 AND status = 'current'",
        &[&page_id],
    )
    .await?
    else {
        return Ok(Vec::new());
    };
    let is_blog = page.get::<_, &str>(0) == ContentType::BlogPost.as_str();
    let space_id: i64 = page.get(1);
    let mut by_user: BTreeMap<i64, Recipient> = BTreeMap::new();
    let mut add = |uid: i64, reason: Reason, watch_id: Option<i64>| {
        let e = by_user.entry(uid).or_insert(Recipient { reason, watch_id });
        if reason < e.reason {
            e.reason = reason;
        }
        if e.watch_id.is_none() {
            e.watch_id = watch_id;
        }
    };
    // Page watches first, so theirs is the unsubscribe link offered.
    let watchers = if kind.for_watchers() {
        crate::db::query(
            db,
            "SELECT id, user_id FROM watches
             WHERE content_id = $1 OR (space_id = $2 AND (NOT blog_only OR $3))
             ORDER BY content_id IS NULL, id",
            &[&page_id, &space_id, &is_blog],
        )
        .await?
    } else {
        Vec::new()
    };
    for r in watchers {
        add(r.get(1), Reason::Watch, Some(r.get(0)));
    }
    match kind {
        // Everyone who wrote in the thread.
        Kind::Resolved => {
            for r in crate::db::query(
                db,
                "SELECT DISTINCT c.creator_id FROM inline_comments i JOIN content c ON c.id = i.comment_id
                 WHERE i.marker_ref = (SELECT marker_ref FROM inline_comments WHERE comment_id = $1)
                   AND c.container_id = $2 AND c.creator_id IS NOT NULL",
                &[&subject_id, &page_id],
            )
            .await?
            {
                add(r.get(0), Reason::Direct, None);
            }
        }
        Kind::Shared => {
            for uid in detail
                .get("to")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_i64())
            {
                add(uid, Reason::Direct, None);
            }
        }
        _ => {}
    }
    if kind == Kind::Commented {
        if let Some(parent) = detail.get("replyTo").and_then(|v| v.as_i64()) {
            if let Some(r) = crate::db::query_opt(
                db,
                "SELECT creator_id FROM content WHERE id = $1",
                &[&parent],
            )
            .await?
            {
                if let Some(uid) = r.get::<_, Option<i64>>(0) {
                    add(uid, Reason::Reply, None);
                }
            }
        }
    }
    if kind.for_watchers() {
        for uid in mentioned(db, kind, page_id, subject_id, version).await? {
            add(uid, Reason::Mention, None);
        }
    }
    for uid in assigned(db, kind, page_id, version).await? {
        add(uid, Reason::TaskAssigned, None);
    }
    if let Some(a) = actor_id {
        by_user.remove(&a);
    }
    let mut out = Vec::new();
    for (uid, r) in by_user {
        let Some(user) = active_user(db, uid).await? else {
            continue;
        };
        let viewer = Viewer::load(db, Some(user.clone())).await?;
        if content::get(db, &viewer, page_id).await.is_ok() {
            out.push((user, r));
        }
    }
    Ok(out)
}

/// Users mentioned (`ri:user`) by this version and not by the one before
/// (for a comment: by the comment), so a person is told once per version
/// however often it names them.
async fn mentioned(
    db: &impl GenericClient,
    kind: Kind,
    page_id: i64,
    subject_id: Option<i64>,
    version: Option<i32>,
) -> Result<BTreeSet<i64>> {
    let (id, v) = match kind {
        Kind::Commented => (subject_id.unwrap_or(0), 1),
        _ => (page_id, version.unwrap_or(1)),
    };
    let rows = crate::db::query(
        db,
        "SELECT version, body FROM content_versions WHERE content_id = $1 AND version IN ($2, $2 - 1)",
        &[&id, &v],
    )
    .await?;
    let mut now = BTreeSet::new();
    let mut before = BTreeSet::new();
    for r in rows {
        let refs = cairn_render::references(r.get::<_, &str>(1))
            .map(|x| x.users)
            .unwrap_or_default();
        if r.get::<_, i32>(0) == v {
            now = refs;
        } else if kind != Kind::Commented {
            before = refs;
        }
    }
    let keys: Vec<String> = now.difference(&before).cloned().collect();
    if keys.is_empty() {
        return Ok(BTreeSet::new());
    }
    Ok(crate::db::query(
        db,
        "SELECT id FROM users WHERE user_key = ANY($1) OR lower(username) = ANY(SELECT lower(k) FROM unnest($1::text[]) k)",
        &[&keys],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

/// Users a task of the page is assigned to by this version and was not by
/// the one before (per task id: reassigning a task tells the new assignee;
/// moving or editing an assigned task tells no one), so an assignee hears of
/// it once per version however many tasks name them.
async fn assigned(
    db: &impl GenericClient,
    kind: Kind,
    page_id: i64,
    version: Option<i32>,
) -> Result<BTreeSet<i64>> {
    if !matches!(kind, Kind::Created | Kind::Updated) {
        return Ok(BTreeSet::new());
    }
    let v = version.unwrap_or(1);
    let rows = crate::db::query(
        db,
        "SELECT version, body FROM content_versions WHERE content_id = $1 AND version IN ($2, $2 - 1)",
        &[&page_id, &v],
    )
    .await?;
    let mut now: Vec<(String, String)> = Vec::new();
    let mut before: BTreeSet<(String, String)> = BTreeSet::new();
    for r in rows {
        let pairs = cairn_render::tasks(r.get::<_, &str>(1))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|t| Some((t.id, t.assignee?)));
        if r.get::<_, i32>(0) == v {
            now = pairs.collect();
        } else {
            before = pairs.collect();
        }
    }
    let keys: Vec<String> = now
        .into_iter()
        .filter(|p| !before.contains(p))
        .map(|(_, k)| k)
        .collect();
    if keys.is_empty() {
        return Ok(BTreeSet::new());
    }
    Ok(crate::db::query(
        db,
        "SELECT id FROM users WHERE user_key = ANY($1) OR lower(username) = ANY(SELECT lower(k) FROM unnest($1::text[]) k)",
        &[&keys],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

/// An active user by id.
pub(crate) async fn active_user(db: &impl GenericClient, uid: i64) -> Result<Option<User>> {
    Ok(crate::db::query_opt(
        db,
        "SELECT id, username, display_name, user_key, email FROM users WHERE id = $1 AND active",
        &[&uid],
    )
    .await?
    .map(|r| User {
        id: r.get(0),
        username: r.get(1),
        display_name: r.get(2),
        user_key: r.get(3),
        email: r.get(4),
    }))
}

async fn deliver_to(
    db: &impl GenericClient,
    event_id: i64,
    page_id: i64,
    user: &User,
    r: &Recipient,
    mail_on: bool,
    batch_secs: f64,
) -> Result<()> {
    crate::db::execute(
        db,
        "INSERT INTO notifications (user_id, event_id, page_id, reason) VALUES ($1, $2, $3, $4)
         ON CONFLICT (event_id, user_id) DO NOTHING",
        &[&user.id, &event_id, &page_id, &r.reason.as_str()],
    )
    .await?;
    if !mail_on || user.email.trim().is_empty() {
        return Ok(());
    }
    let mode = super::inapp::prefs(db, user.id).await?.email;
    let due = match mode {
        EmailMode::Off => return Ok(()),
        EmailMode::Immediate => "now()",
        // Joins the user's open batch, or opens one.
        EmailMode::Batched => {
            "coalesce((SELECT min(due_at) FROM mail_queue WHERE user_id = $2 AND state = 'pending'
                        AND mode = 'batched' AND due_at > now()), now() + $8 * interval '1 second')"
        }
        EmailMode::Daily => "date_trunc('day', now()) + interval '1 day'",
    };
    // `$8` appears in every form of `due` (times zero where unused) so its
    // type is always known.
    crate::db::execute(
        db,
        &format!(
            "INSERT INTO mail_queue (idem_key, user_id, event_id, page_id, reason, watch_id, mode, due_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, {due} + $8 * interval '0 second')
             ON CONFLICT (idem_key) DO NOTHING"
        ),
        &[
            &format!("cairn-e{event_id}-u{}", user.id),
            &user.id,
            &event_id,
            &page_id,
            &r.reason.as_str(),
            &r.watch_id,
            &mode.as_str(),
            &batch_secs,
        ],
    )
    .await?;
    Ok(())
}

/// Queues the mails of a share to addresses without an account: one per
/// address, sent at once, the row's `user_id` holding the sharer (whose
/// share it is) and `to_address` the recipient. Whether an anonymous
/// reader may see the page is checked when the mail is composed.
async fn deliver_to_guests(
    db: &impl GenericClient,
    event_id: i64,
    page_id: i64,
    actor_id: i64,
    detail: &serde_json::Value,
) -> Result<()> {
    let guests = detail
        .get("guests")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str());
    for (i, addr) in guests.enumerate() {
        crate::db::execute(
            db,
            "INSERT INTO mail_queue (idem_key, user_id, to_address, event_id, page_id, reason, mode)
             VALUES ($1, $2, $3, $4, $5, $6, 'immediate')
             ON CONFLICT (idem_key) DO NOTHING",
            &[
                &format!("cairn-e{event_id}-g{i}"),
                &actor_id,
                &addr,
                &event_id,
                &page_id,
                &Reason::Direct.as_str(),
            ],
        )
        .await?;
    }
    Ok(())
}
