//! The text of notification mails: what a group of claimed queue rows
//! says to its recipient.
//!
//! Invariants: the recipient's access to each page is checked right here,
//! before anything about it is loaded — a page they may no longer see adds
//! nothing, not even its title; what an event says (diff excerpt, comment
//! text) is loaded once per delivery round and shared by its recipients,
//! who all see the same page.

use std::sync::Arc;

use deadpool_postgres::GenericClient;

use super::mail::{self, Entry, Mail};
use super::queue::Claimed;
use super::Kind;
use crate::content;
use crate::error::Result;
use crate::perms::Viewer;
use crate::sync::Recover;

/// The mail for a group of rows of one user, or `None` when nothing in it
/// may be sent (user gone or without mail, mail turned off, or none of the
/// pages visible to them any more).
pub(super) async fn compose(
    db: &impl GenericClient,
    cache: &FactsCache,
    base: &str,
    site: &str,
    rows: &[Claimed],
) -> Result<Option<Mail>> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    if let Some(addr) = &first.guest {
        return compose_for_guest(db, cache, base, site, first, addr).await;
    }
    let Some(user) = super::fanout::active_user(db, first.user_id).await? else {
        return Ok(None);
    };
    if user.email.trim().is_empty()
        || super::inapp::prefs(db, user.id).await?.email == super::EmailMode::Off
    {
        return Ok(None);
    }
    let viewer = Viewer::load(db, Some(user.clone())).await?;
    let mut entries = Vec::new();
    let mut title = String::new();
    for r in rows {
        // Checked now, as the recipient: lost access means no mail, no title.
        let Ok(page) = content::get(db, &viewer, r.page_id).await else {
            continue;
        };
        if let Some(f) = facts(db, cache, &page, r.event_id).await? {
            title = page.title.clone();
            entries.push(entry(base, &page, r, &f, &user));
        }
    }
    if entries.is_empty() {
        return Ok(None);
    }
    let single = rows.len() == 1 && !first.digest;
    let unsubscribe = match (single, first.watch_id) {
        (true, Some(w)) => {
            crate::db::query_opt(db, "SELECT token FROM watches WHERE id = $1", &[&w])
                .await?
                .map(|r| format!("{base}/notifications/unsubscribe/{}", r.get::<_, String>(0)))
        }
        _ => None,
    };
    let subject = if single {
        format!("[{site}] {title}")
    } else {
        format!("[{site}] {} updates", entries.len())
    };
    let (text, html) = mail::bodies(
        site,
        &entries,
        unsubscribe.as_deref(),
        &format!("{base}/notifications/settings"),
    );
    Ok(Some(Mail {
        to_name: user.display_name,
        to_addr: user.email,
        subject,
        text,
        html,
        key: first.key.clone(),
        thread_page: single.then_some(first.page_id),
        unsubscribe,
    }))
}

/// The mail of a share to an address without an account: only when an
/// anonymous reader may (still) see the page; no unsubscribe link (nothing
/// is watched), and the footer says why the mail came.
async fn compose_for_guest(
    db: &impl GenericClient,
    cache: &FactsCache,
    base: &str,
    site: &str,
    row: &Claimed,
    addr: &str,
) -> Result<Option<Mail>> {
    let anonymous = Viewer::load(db, None).await?;
    let Ok(page) = content::get(db, &anonymous, row.page_id).await else {
        return Ok(None);
    };
    let Some(f) = facts(db, cache, &page, row.event_id).await? else {
        return Ok(None);
    };
    let e = Entry {
        sentence: format!("{} shared with you:", f.actor),
        page_title: page.title.clone(),
        space_name: page.space_name.clone(),
        url: format!(
            "{base}{}",
            crate::urls::page_url(&page.space_key, page.id, &page.title)
        ),
        message: f.message.clone(),
        excerpt: f.excerpt.clone(),
    };
    let (text, html) = mail::guest_bodies(site, &e, &f.actor);
    Ok(Some(Mail {
        to_name: String::new(),
        to_addr: addr.to_owned(),
        subject: format!("[{site}] {}", page.title),
        text,
        html,
        key: row.key.clone(),
        thread_page: Some(row.page_id),
        unsubscribe: None,
    }))
}

/// What every recipient's mail says about one event (loaded once per
/// run: a page with 1,000 watchers diffs its versions once, not 1,000 times).
#[derive(Debug)]
pub(super) struct Facts {
    kind: Kind,
    comment: Option<i64>,
    actor: String,
    message: String,
    excerpt: Vec<String>,
}

pub(super) type FactsCache = std::sync::Mutex<std::collections::HashMap<i64, Option<Arc<Facts>>>>;

/// Loaded only after the recipient was found to see `page`.
async fn facts(
    db: &impl GenericClient,
    cache: &FactsCache,
    page: &content::Content,
    event_id: i64,
) -> Result<Option<Arc<Facts>>> {
    if let Some(f) = cache.lock().recover().get(&event_id) {
        return Ok(f.clone());
    }
    let f = load_facts(db, page, event_id).await?.map(Arc::new);
    cache.lock().recover().insert(event_id, f.clone());
    Ok(f)
}

async fn load_facts(
    db: &impl GenericClient,
    page: &content::Content,
    event_id: i64,
) -> Result<Option<Facts>> {
    let Some(ev) = crate::db::query_opt(
        db,
        "SELECT o.kind, o.subject_id, o.version, coalesce(o.detail->>'message', ''),
                coalesce(u.display_name, 'Someone')
         FROM notify_outbox o LEFT JOIN users u ON u.id = o.actor_id WHERE o.id = $1",
        &[&event_id],
    )
    .await?
    else {
        return Ok(None);
    };
    let Some(kind) = Kind::parse(ev.get(0)) else {
        return Ok(None);
    };
    let subject: Option<i64> = ev.get(1);
    let version: Option<i32> = ev.get(2);
    let excerpt = match (kind, subject) {
        (Kind::Commented | Kind::Resolved, Some(cid)) => {
            let body: Option<String> =
                crate::db::query_opt(db, "SELECT body FROM content WHERE id = $1", &[&cid])
                    .await?
                    .map(|r| r.get(0));
            plain_lines(body.as_deref().unwrap_or(""), 12)
        }
        (Kind::Updated, _) => diff_excerpt(db, page.id, version.unwrap_or(page.version)).await?,
        (Kind::Moved, _) => {
            let mut trail: Vec<String> = crate::content::breadcrumbs(db, page)
                .await?
                .into_iter()
                .map(|(_, t)| t)
                .collect();
            trail.insert(0, page.space_name.clone());
            vec![format!("Now at: {}", trail.join(" > "))]
        }
        _ => plain_lines(&page.body, 8),
    };
    Ok(Some(Facts {
        kind,
        comment: subject.filter(|_| kind.has_comment()),
        actor: ev.get(4),
        message: ev.get(3),
        excerpt,
    }))
}

fn entry(
    base: &str,
    page: &content::Content,
    r: &Claimed,
    f: &Facts,
    user: &crate::perms::User,
) -> Entry {
    let verb = super::verb(f.kind, r.reason);
    let mut url = format!(
        "{base}{}",
        crate::urls::page_url(&page.space_key, page.id, &page.title)
    );
    if let Some(c) = f.comment {
        url.push_str(&format!("#comment-{c}"));
    }
    Entry {
        sentence: format!("{} {verb}", f.actor),
        page_title: page.title.clone(),
        space_name: page.space_name.clone(),
        url,
        message: f.message.clone(),
        excerpt: match r.reason {
            super::Reason::TaskAssigned => assigned_lines(&page.body, user),
            _ => f.excerpt.clone(),
        },
    }
}

/// The open tasks of a body assigned to `user` ("Task: … (due 5 Jan 2026)"),
/// for the mail telling them of the assignment.
fn assigned_lines(storage: &str, user: &crate::perms::User) -> Vec<String> {
    cairn_render::tasks(storage)
        .unwrap_or_default()
        .into_iter()
        .filter(|t| !t.complete)
        .filter(|t| {
            t.assignee
                .as_deref()
                .is_some_and(|k| k == user.user_key || k.eq_ignore_ascii_case(&user.username))
        })
        .take(10)
        .map(|t| {
            let text: String = t.text.chars().take(300).collect();
            let due = t
                .due
                .and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
                .map(|d| format!(" (due {})", d.format("%-d %b %Y")))
                .unwrap_or_default();
            format!("Task: {text}{due}")
        })
        .collect()
}

/// Up to `max` non-empty lines of a body's text.
fn plain_lines(storage: &str, max: usize) -> Vec<String> {
    let text = cairn_render::text(storage).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(max)
        .map(|l| l.chars().take(300).collect())
        .collect()
}

/// The changed lines between version `v - 1` and `v`, `+`/`-` prefixed,
/// at most 12.
async fn diff_excerpt(db: &impl GenericClient, page_id: i64, v: i32) -> Result<Vec<String>> {
    let rows = crate::db::query(
        db,
        "SELECT version, body FROM content_versions WHERE content_id = $1 AND version IN ($2, $2 - 1)",
        &[&page_id, &v],
    )
    .await?;
    let (mut old, mut new) = (String::new(), String::new());
    for r in rows {
        let t = cairn_render::text(r.get::<_, &str>(1)).unwrap_or_default();
        if r.get::<_, i32>(0) == v {
            new = t;
        } else {
            old = t;
        }
    }
    let diff = similar::TextDiff::from_lines(&old, &new);
    let mut out = Vec::new();
    for ch in diff.iter_all_changes() {
        let sign = match ch.tag() {
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Equal => continue,
        };
        let l = ch.value().trim();
        if l.is_empty() {
            continue;
        }
        out.push(format!(
            "{sign} {}",
            l.chars().take(300).collect::<String>()
        ));
        if out.len() == 12 {
            break;
        }
    }
    Ok(out)
}
