//! Capability `content`: reads as the call's viewer. Anything the viewer may
//! not see is answered exactly like something that does not exist.
//!
//! Invariant: each read is one function of (viewer, arguments), used both
//! for the plugin's call and for the output cache's replay (`reads.rs`).

use deadpool_postgres::Object;

use super::bindings::cairn::plugin::content::{Attachment, ContentSummary, Host, Page};
use super::bindings::cairn::plugin::types::User;
use super::reads::Read;
use super::HostState;
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

fn lower_all(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

fn upper_all(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|s| s.trim().to_uppercase())
        .filter(|s| !s.is_empty())
        .collect()
}

impl HostState {
    fn render_included(
        &mut self,
        id: i64,
        excerpt: Option<String>,
    ) -> wasmtime::Result<Result<String, String>> {
        self.tick()?;
        // The included page's render is not a read the cache can make again.
        self.env.unreplayable();
        let (Some(host), Some(handle)) = (self.env.render_host.clone(), self.env.handle.clone())
        else {
            return Ok(Err("pages cannot be rendered here".into()));
        };
        Ok(host.render_page(&handle, &self.env.viewer, id, excerpt.as_deref()))
    }
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

impl Host for HostState {
    fn get(&mut self, id: i64) -> wasmtime::Result<Option<Page>> {
        self.read(Read::Get(id))
    }

    fn find(&mut self, space_key: String, title: String) -> wasmtime::Result<Option<Page>> {
        self.read(Read::Find(space_key, title))
    }

    fn children(&mut self, id: i64, limit: u32) -> wasmtime::Result<Vec<ContentSummary>> {
        self.read(Read::Children(id, limit))
    }

    fn attachments(&mut self, id: i64) -> wasmtime::Result<Vec<Attachment>> {
        self.read(Read::Attachments(id))
    }

    fn labels(&mut self, id: i64) -> wasmtime::Result<Vec<String>> {
        self.read(Read::Labels(id))
    }

    fn with_labels(
        &mut self,
        labels: Vec<String>,
        space_keys: Vec<String>,
        limit: u32,
    ) -> wasmtime::Result<Vec<ContentSummary>> {
        let labels = lower_all(&labels);
        if labels.is_empty() {
            self.tick()?;
            return Ok(Vec::new());
        }
        self.read(Read::WithLabels(labels, upper_all(&space_keys), limit))
    }

    fn render_page(&mut self, id: i64) -> wasmtime::Result<Result<String, String>> {
        self.render_included(id, None)
    }

    fn render_excerpt(
        &mut self,
        id: i64,
        name: String,
    ) -> wasmtime::Result<Result<String, String>> {
        self.render_included(id, Some(name))
    }

    fn recently_updated(
        &mut self,
        space_keys: Vec<String>,
        types: Vec<String>,
        limit: u32,
    ) -> wasmtime::Result<Vec<ContentSummary>> {
        let mut types = lower_all(&types);
        types.retain(|t| matches!(t.as_str(), "page" | "blogpost" | "comment"));
        if types.is_empty() {
            types = vec!["page".into(), "blogpost".into(), "comment".into()];
        }
        self.read(Read::RecentlyUpdated(upper_all(&space_keys), types, limit))
    }
}
