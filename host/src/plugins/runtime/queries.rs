//! What the data capabilities read, as functions of (viewer or plugin,
//! arguments): the `content` reads as the call's viewer, and the `kv` reads
//! of the plugin's own keys. `reads.rs` calls them for a plugin's call and
//! again for the output cache's replay.
//!
//! Invariant: anything the viewer may not see is answered exactly like
//! something that does not exist; no function depends on anything but the
//! database and its arguments.

use deadpool_postgres::Object;

use super::bindings::cairn::plugin::content::{Attachment, ContentSummary, Page};
use super::bindings::cairn::plugin::people::{Contributor, Profile};
use super::bindings::cairn::plugin::tasks::Task;
use super::bindings::cairn::plugin::types::User;
use crate::content::contributors::ContributorQuery;
use crate::content::task_index::TaskQuery;
use crate::content::{self, Content, ContentType, Person};
use crate::error::Result;
use crate::perms::Viewer;

const MAX_LIST: u32 = 1000;

fn user(p: &Person) -> Option<User> {
    if p.username.is_empty() {
        return None;
    }
    Some(User {
        key: p.user_key.clone(),
        username: p.username.clone(),
        display_name: p.display_name.clone(),
    })
}

fn summary(c: &Content) -> ContentSummary {
    ContentSummary {
        id: c.id,
        type_: c.content_type.as_str().to_string(),
        title: c.title.clone(),
        space_key: c.space_key.clone(),
        url: crate::urls::page_url(&c.space_key, c.id, &c.title),
        version: c.version,
        created: c.created_at.to_rfc3339(),
        last_modified: c.modified_at.to_rfc3339(),
        author: user(&c.creator),
        last_modifier: user(&c.modifier),
        parent_id: c.parent_id,
        position: Some(c.position),
    }
}

async fn page(db: &Object, c: Content) -> Result<Page> {
    let labels = content::labels(db, c.id).await?;
    Ok(Page {
        summary: summary(&c),
        body: c.body.clone(),
        labels,
    })
}

fn readable(c: &Content) -> bool {
    matches!(c.content_type, ContentType::Page | ContentType::BlogPost) && c.status == "current"
}

/// Ids of content matching `where_sql` (parameters from $5 on), filtered for
/// the viewer ($1–$3) and limited ($4), newest first.
async fn ids_where(
    db: &Object,
    viewer: &Viewer,
    where_sql: &str,
    limit: u32,
    extra: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<i64>> {
    let sql = format!(
        "SELECT c.id FROM content c JOIN spaces s ON s.id = c.space_id
         WHERE c.status = 'current' AND {where_sql} AND {}
         ORDER BY c.modified_at DESC, c.id DESC LIMIT $4",
        Viewer::content_filter(1, 2, 3)
    );
    let limit = i64::from(limit.min(MAX_LIST));
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = Vec::new();
    let uid = viewer.user_id();
    params.push(&uid);
    params.push(&*viewer.groups);
    params.push(&*viewer.view_spaces);
    params.push(&limit);
    params.extend_from_slice(extra);
    let rows = crate::db::query(db, &sql, &params).await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Whether an error only means "not there for this viewer".
fn hidden(e: &crate::error::Error) -> bool {
    matches!(
        e,
        crate::error::Error::NotFound(_) | crate::error::Error::Forbidden(_)
    )
}

pub(super) async fn get(db: &Object, viewer: &Viewer, id: i64) -> Result<Option<Page>> {
    match content::get(db, viewer, id).await {
        Ok(c) if readable(&c) => Ok(Some(page(db, c).await?)),
        Ok(_) => Ok(None),
        Err(e) if hidden(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) async fn find(
    db: &Object,
    viewer: &Viewer,
    space_key: &str,
    title: &str,
) -> Result<Option<Page>> {
    match content::by_title(db, viewer, space_key, title, ContentType::Page).await? {
        Some(c) if readable(&c) => Ok(Some(page(db, c).await?)),
        _ => Ok(None),
    }
}

pub(super) async fn children(
    db: &Object,
    viewer: &Viewer,
    id: i64,
    limit: u32,
) -> Result<Vec<ContentSummary>> {
    let parent = match content::get(db, viewer, id).await {
        Ok(c) if readable(&c) => c,
        Ok(_) => return Ok(Vec::new()),
        Err(e) if hidden(&e) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let kids = content::children(
        db,
        viewer,
        parent.space_id,
        Some(parent.id),
        0,
        i64::from(limit.min(MAX_LIST)),
    )
    .await?;
    let ids: Vec<i64> = kids.iter().map(|k| k.id).collect();
    let list = content::get_many(db, viewer, &ids).await?;
    Ok(list.iter().map(summary).collect())
}

pub(super) async fn attachments(db: &Object, viewer: &Viewer, id: i64) -> Result<Vec<Attachment>> {
    let list = match crate::attach::list(db, viewer, id).await {
        Ok(l) => l,
        Err(e) if hidden(&e) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(list
        .into_iter()
        .map(|a| Attachment {
            id: a.content.id,
            url: crate::urls::download_url(id, &a.content.title, None),
            filename: a.content.title.clone(),
            media_type: a.media_type.clone(),
            size: a.size.max(0) as u64,
            version: a.content.version,
            comment: a.comment.clone(),
            created: a.content.created_at.to_rfc3339(),
            author: user(&a.content.creator),
        })
        .collect())
}

pub(super) async fn labels(db: &Object, viewer: &Viewer, id: i64) -> Result<Vec<String>> {
    match content::get_any(db, viewer, id).await {
        Ok(_) => content::labels(db, id).await,
        Err(e) if hidden(&e) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Pages and blog posts with every one of `labels` (lower-case, not empty)
/// in `spaces` (upper-case; empty: all).
pub(super) async fn with_labels(
    db: &Object,
    viewer: &Viewer,
    labels: &[String],
    spaces: &[String],
    limit: u32,
) -> Result<Vec<ContentSummary>> {
    let n = labels.len() as i64;
    let ids = ids_where(
        db,
        viewer,
        "c.content_type IN ('page', 'blogpost')
         AND (cardinality($6::text[]) = 0 OR upper(s.space_key) = ANY($6))
         AND (SELECT count(DISTINCT l.name) FROM labels l
              WHERE l.content_id = c.id AND l.name = ANY($5)) = $7",
        limit,
        &[&labels, &spaces, &n],
    )
    .await?;
    let list = content::get_many(db, viewer, &ids).await?;
    Ok(list.iter().map(summary).collect())
}

/// Content of `types` (lower-case, not empty) in `spaces` (upper-case;
/// empty: all), newest first.
pub(super) async fn recently_updated(
    db: &Object,
    viewer: &Viewer,
    spaces: &[String],
    types: &[String],
    limit: u32,
) -> Result<Vec<ContentSummary>> {
    let ids = ids_where(
        db,
        viewer,
        "c.content_type = ANY($5)
         AND (cardinality($6::text[]) = 0 OR upper(s.space_key) = ANY($6))",
        limit,
        &[&types, &spaces],
    )
    .await?;
    let list = content::get_many(db, viewer, &ids).await?;
    Ok(list.iter().map(summary).collect())
}

/// Tasks of the task index matching `q`, on content the viewer may see.
pub(super) async fn tasks(db: &Object, viewer: &Viewer, q: &TaskQuery) -> Result<Vec<Task>> {
    Ok(content::task_index::query(db, viewer, q)
        .await?
        .into_iter()
        .map(|t| Task {
            page_id: t.page_id,
            page_title: t.page_title,
            space_key: t.space_key,
            page_url: t.page_url,
            id: t.task_id,
            body: t.text,
            complete: t.complete,
            assignee: t.assignee.map(|(key, username, display_name)| User {
                key,
                username,
                display_name,
            }),
            due_date: t.due.map(|d| d.to_string()),
            created: t.created.to_rfc3339(),
            completed: t.completed.map(|c| c.to_rfc3339()),
        })
        .collect())
}

/// A person's profile as the viewer may see it (nobody for a viewer who
/// may not use the site).
pub(super) async fn profile(db: &Object, viewer: &Viewer, who: &str) -> Result<Option<Profile>> {
    if !viewer.can_use || who.trim().is_empty() {
        return Ok(None);
    }
    let Some((u, active)) = crate::users::by_key_or_name(db, who.trim()).await? else {
        return Ok(None);
    };
    let personal_space = content::personal_space_of(db, u.id)
        .await?
        .filter(|s| viewer.can_view_space(s.id))
        .map(|s| s.key);
    Ok(Some(Profile {
        url: crate::urls::user_url(&u.username),
        avatar_url: format!("{}/avatar", crate::urls::user_url(&u.username)),
        email: if viewer.user.is_some() {
            u.email.clone()
        } else {
            String::new()
        },
        active,
        personal_space,
        user: User {
            key: u.user_key,
            username: u.username,
            display_name: u.display_name,
        },
    }))
}

/// Contributors to the content `q` names, counted on what the viewer sees.
pub(super) async fn contributors(
    db: &Object,
    viewer: &Viewer,
    q: &ContributorQuery,
) -> Result<Vec<Contributor>> {
    Ok(content::contributors::contributors(db, viewer, q)
        .await?
        .into_iter()
        .map(|c| Contributor {
            user: User {
                key: c.user_key,
                username: c.username,
                display_name: c.display_name,
            },
            edits: c.edits.try_into().unwrap_or(u32::MAX),
            comments: c.comments.try_into().unwrap_or(u32::MAX),
            watches: c.watches.try_into().unwrap_or(u32::MAX),
            last_active: c.last_active.map(|t| t.to_rfc3339()).unwrap_or_default(),
        })
        .collect())
}

pub(super) async fn kv_get(db: &Object, plugin_id: &str, key: &str) -> Result<Option<Vec<u8>>> {
    let row = crate::db::query_opt(
        db,
        "SELECT value FROM plugin_kv WHERE plugin_id = $1 AND key = $2",
        &[&plugin_id, &key],
    )
    .await?;
    Ok(row.map(|r| r.get(0)))
}

pub(super) async fn kv_keys(
    db: &Object,
    plugin_id: &str,
    prefix: &str,
    limit: u32,
) -> Result<Vec<String>> {
    let limit = i64::from(limit.min(10_000));
    let rows = crate::db::query(
        db,
        "SELECT key FROM plugin_kv WHERE plugin_id = $1 AND starts_with(key, $2)
         ORDER BY key LIMIT $3",
        &[&plugin_id, &prefix, &limit],
    )
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
