//! In-app notifications (the bell and its list) and each user's
//! notification preferences.
//!
//! Invariant: every read joins the page and applies the reader's
//! permission filter *now*, so a notification about a page the user can no
//! longer see is neither listed nor counted, and its title never shown.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use super::{Kind, Reason};
use crate::error::{Error, Result};
use crate::perms::Viewer;

/// How a user wants e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailMode {
    Immediate,
    /// Collected for `mail_batch_interval` (10 minutes), then one mail.
    Batched,
    /// One digest a day.
    Daily,
    Off,
}

impl EmailMode {
    pub(crate) const ALL: [EmailMode; 4] = [
        EmailMode::Immediate,
        EmailMode::Batched,
        EmailMode::Daily,
        EmailMode::Off,
    ];
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EmailMode::Immediate => "immediate",
            EmailMode::Batched => "batched",
            EmailMode::Daily => "daily",
            EmailMode::Off => "off",
        }
    }
    pub(crate) fn parse(s: &str) -> Result<EmailMode> {
        EmailMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                Error::BadRequest(format!(
                    "e-mail mode must be immediate, batched, daily or off, not {s:?}"
                ))
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefs {
    pub email: EmailMode,
    pub auto_watch: bool,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            email: EmailMode::Immediate,
            auto_watch: true,
        }
    }
}

pub(crate) async fn prefs(db: &impl GenericClient, user_id: i64) -> Result<Prefs> {
    let row = crate::db::query_opt(
        db,
        "SELECT email_mode, auto_watch FROM notify_prefs WHERE user_id = $1",
        &[&user_id],
    )
    .await?;
    Ok(match row {
        None => Prefs::default(),
        Some(r) => Prefs {
            email: EmailMode::parse(r.get(0)).unwrap_or(EmailMode::Immediate),
            auto_watch: r.get(1),
        },
    })
}

pub(crate) async fn set_prefs(db: &impl GenericClient, viewer: &Viewer, p: Prefs) -> Result<()> {
    let user = viewer.require_user()?;
    crate::db::execute(
        db,
        "INSERT INTO notify_prefs (user_id, email_mode, auto_watch) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET email_mode = $2, auto_watch = $3",
        &[&user.id, &p.email.as_str(), &p.auto_watch],
    )
    .await?;
    Ok(())
}

/// One in-app notification.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub id: i64,
    pub page_id: i64,
    pub page_title: String,
    pub space_key: String,
    pub kind: Kind,
    pub reason: Reason,
    /// The comment, for comment events.
    pub comment_id: Option<i64>,
    pub version: Option<i32>,
    pub actor: String,
    pub actor_username: String,
    pub message: String,
    pub at: DateTime<Utc>,
    pub read: bool,
}

impl Item {
    /// Where the notification leads: the page, or the exact comment.
    pub(crate) fn url(&self) -> String {
        let page = crate::urls::page_url(&self.space_key, self.page_id, &self.page_title);
        match self.comment_id {
            Some(c) => format!("{page}#comment-{c}"),
            None => page,
        }
    }
    /// "Ann Example edited", "… commented on", "… mentioned you on".
    pub(crate) fn sentence(&self) -> String {
        let verb = super::verb(self.kind, self.reason);
        format!("{} {verb}", self.actor)
    }
}

/// The viewer's notifications, newest first, only for pages they may see.
pub(crate) async fn list(
    db: &impl GenericClient,
    viewer: &Viewer,
    unread_only: bool,
    limit: i64,
) -> Result<Vec<Item>> {
    let user = viewer.require_user()?;
    let sql = format!(
        "SELECT n.id, n.page_id, c.title, s.space_key, o.kind, n.reason, o.subject_id, o.version,
                coalesce(au.display_name, 'Deleted user'), coalesce(au.username, ''),
                coalesce(o.detail->>'message', ''), n.created_at, n.read_at IS NOT NULL
         FROM notifications n
         JOIN notify_outbox o ON o.id = n.event_id
         JOIN content c ON c.id = n.page_id AND c.status = 'current'
         JOIN spaces s ON s.id = c.space_id
         LEFT JOIN users au ON au.id = o.actor_id
         WHERE n.user_id = $1 AND (NOT $4 OR n.read_at IS NULL) AND {}
         ORDER BY n.id DESC LIMIT $5",
        Viewer::content_filter(1, 2, 3)
    );
    let rows = crate::db::query(
        db,
        &sql,
        &[
            &user.id,
            &*viewer.groups,
            &*viewer.view_spaces,
            &unread_only,
            &limit,
        ],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| Item {
            id: r.get(0),
            page_id: r.get(1),
            page_title: r.get(2),
            space_key: r.get(3),
            kind: Kind::parse(r.get(4)).unwrap_or(Kind::Updated),
            reason: Reason::parse(r.get(5)),
            comment_id: r.get(6),
            version: r.get(7),
            actor: r.get(8),
            actor_username: r.get(9),
            message: r.get(10),
            at: r.get(11),
            read: r.get(12),
        })
        .collect())
}

/// Unread notifications the viewer may still see (the bell's number).
pub(crate) async fn unread_count(db: &impl GenericClient, viewer: &Viewer) -> Result<i64> {
    let user = viewer.require_user()?;
    let sql = format!(
        "SELECT count(*) FROM notifications n
         JOIN content c ON c.id = n.page_id AND c.status = 'current'
         WHERE n.user_id = $1 AND n.read_at IS NULL AND {}",
        Viewer::content_filter(1, 2, 3)
    );
    Ok(
        crate::db::query_one(db, &sql, &[&user.id, &*viewer.groups, &*viewer.view_spaces])
            .await?
            .get(0),
    )
}

/// Marks one of the viewer's notifications read (`None`: all of them).
/// Returns how many changed.
pub(crate) async fn mark_read(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: Option<i64>,
) -> Result<u64> {
    let user = viewer.require_user()?;
    Ok(crate::db::execute(
        db,
        "UPDATE notifications SET read_at = now()
         WHERE user_id = $1 AND read_at IS NULL AND ($2::bigint IS NULL OR id = $2)",
        &[&user.id, &id],
    )
    .await?)
}

/// Notifications grouped by page, pages in order of their newest item.
pub(crate) fn group_by_page(items: Vec<Item>) -> Vec<(i64, Vec<Item>)> {
    let mut groups: Vec<(i64, Vec<Item>)> = Vec::new();
    for it in items {
        match groups.iter_mut().find(|(p, _)| *p == it.page_id) {
            Some((_, v)) => v.push(it),
            None => groups.push((it.page_id, vec![it])),
        }
    }
    groups
}
