//! Spaces, pages, blog posts, versions, labels, comments, restrictions and
//! the trash: Confluence's content model on PostgreSQL.
//!
//! Invariants: every read goes through the viewer's permissions (a hidden
//! row is "not found", never "forbidden", so titles don't leak); every save
//! writes an immutable version in the same transaction as the content row;
//! a save names the version it was based on and is refused when that is no
//! longer current; bodies are stored exactly as submitted.

use chrono::{DateTime, NaiveDate, Utc};

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crate::error::{is_unique_violation, Error, Result};
use crate::perms::{SpacePerm, Viewer};
use crate::users::{grant_from_row, Grant, Principal};

mod comments;
pub(crate) mod contributors;
mod drafts;
mod favourites;
mod inline;
mod labels;
mod likes;
mod listing;
mod markers;
mod merge;
mod pages;
mod properties;
mod restrictions;
mod spaces;
pub(crate) mod task_index;
mod tasks;
mod trash;
mod tree;
mod versions;

pub(crate) use comments::*;
pub(crate) use drafts::*;
pub(crate) use favourites::*;
pub(crate) use inline::*;
pub(crate) use labels::*;
pub(crate) use likes::*;
pub(crate) use listing::*;
pub(crate) use markers::Selection;
pub(crate) use merge::merge3;
pub(crate) use pages::*;
pub use pages::{create, get, update, NewContent, Saved, Update};
pub(crate) use properties::*;
pub use restrictions::set_restriction;
pub(crate) use restrictions::*;
pub(crate) use spaces::*;
pub(crate) use tasks::*;
pub(crate) use trash::*;
pub(crate) use tree::*;
pub use versions::history;
pub(crate) use versions::*;

pub(crate) const MAX_TITLE: usize = 255;

pub(crate) const MAX_BODY: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    Page,
    BlogPost,
    Comment,
    Attachment,
}

impl ContentType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ContentType::Page => "page",
            ContentType::BlogPost => "blogpost",
            ContentType::Comment => "comment",
            ContentType::Attachment => "attachment",
        }
    }
    pub(crate) fn parse(s: &str) -> Option<ContentType> {
        match s {
            "page" => Some(ContentType::Page),
            "blogpost" => Some(ContentType::BlogPost),
            "comment" => Some(ContentType::Comment),
            "attachment" => Some(ContentType::Attachment),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Space {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub description: String,
    pub homepage_id: Option<i64>,
    /// `global` or `personal`.
    pub space_type: String,
    /// Whether an administrator gave it a logo (else initials are drawn).
    pub has_logo: bool,
}

fn space_from(r: &Row) -> Space {
    Space {
        id: r.get("id"),
        key: r.get("space_key"),
        name: r.get("name"),
        description: r.get("description"),
        homepage_id: r.get("homepage_id"),
        has_logo: r
            .try_get::<_, Option<String>>("logo_sha256")
            .ok()
            .flatten()
            .is_some(),
        space_type: r.get("space_type"),
    }
}

/// A user as content shows it (author, modifier). `None` fields when the
/// user was deleted.
#[derive(Debug, Clone, Default)]
pub struct Person {
    pub username: String,
    pub display_name: String,
    pub user_key: String,
}

#[derive(Debug, Clone)]
pub struct Content {
    pub id: i64,
    pub content_type: ContentType,
    pub space_id: i64,
    pub space_key: String,
    pub space_name: String,
    pub parent_id: Option<i64>,
    pub container_id: Option<i64>,
    pub ancestors: Vec<i64>,
    pub position: i32,
    pub status: String,
    pub title: String,
    pub version: i32,
    pub body: String,
    pub creator: Person,
    pub created_at: DateTime<Utc>,
    pub modifier: Person,
    pub modified_at: DateTime<Utc>,
    pub posting_day: Option<NaiveDate>,
    pub version_message: String,
    pub minor_edit: bool,
}

impl Content {
    /// The chain whose read restrictions apply to this row.
    pub(crate) fn restriction_chain(&self) -> Vec<i64> {
        let mut c = self.ancestors.clone();
        c.push(self.id);
        c
    }
}

const CONTENT_SELECT: &str = "
SELECT c.id, c.content_type, c.space_id, s.space_key, s.name AS space_name, c.parent_id,
       c.container_id, c.ancestors, c.position, c.status, c.title, c.version, c.body,
       cu.username AS c_user, cu.display_name AS c_name, cu.user_key AS c_key, c.created_at,
       mu.username AS m_user, mu.display_name AS m_name, mu.user_key AS m_key, c.modified_at,
       c.posting_day, v.message AS v_message, v.minor_edit AS v_minor
FROM content c JOIN spaces s ON s.id = c.space_id
LEFT JOIN users cu ON cu.id = c.creator_id
LEFT JOIN users mu ON mu.id = c.modifier_id
LEFT JOIN content_versions v ON v.content_id = c.id AND v.version = c.version";

fn person(r: &Row, u: &str, n: &str, k: &str) -> Person {
    Person {
        username: r.get::<_, Option<String>>(u).unwrap_or_default(),
        display_name: r
            .get::<_, Option<String>>(n)
            .unwrap_or_else(|| "Deleted user".into()),
        user_key: r.get::<_, Option<String>>(k).unwrap_or_default(),
    }
}

fn content_from(r: &Row) -> Content {
    Content {
        id: r.get("id"),
        content_type: ContentType::parse(r.get("content_type")).unwrap_or(ContentType::Page),
        space_id: r.get("space_id"),
        space_key: r.get("space_key"),
        space_name: r.get("space_name"),
        parent_id: r.get("parent_id"),
        container_id: r.get("container_id"),
        ancestors: r.get("ancestors"),
        position: r.get("position"),
        status: r.get("status"),
        title: r.get("title"),
        version: r.get("version"),
        body: r.get("body"),
        creator: person(r, "c_user", "c_name", "c_key"),
        created_at: r.get("created_at"),
        modifier: person(r, "m_user", "m_name", "m_key"),
        modified_at: r.get("modified_at"),
        posting_day: r.get("posting_day"),
        version_message: r.get::<_, Option<String>>("v_message").unwrap_or_default(),
        minor_edit: r.get::<_, Option<bool>>("v_minor").unwrap_or(false),
    }
}

/// `col = $n`, or `col IS NULL` for the space root, so the planner can use
/// the tree indexes (`IS NOT DISTINCT FROM` cannot). `$n` stays referenced
/// so the parameter list is the same either way.
fn parent_is(col: &str, n: usize, parent: Option<i64>) -> String {
    match parent {
        Some(_) => format!("{col} = ${n}"),
        None => format!("{col} IS NULL AND ${n}::bigint IS NULL"),
    }
}

pub(crate) fn not_found(id: i64) -> Error {
    Error::NotFound(format!("No content found with id: ContentId{{id={id}}}"))
}

pub(crate) fn validate_title(title: &str) -> Result<&str> {
    let t = title.trim();
    if t.is_empty() {
        return Err(Error::BadRequest("the title must not be empty".into()));
    }
    if t.chars().count() > MAX_TITLE {
        return Err(Error::BadRequest(format!(
            "the title is longer than {MAX_TITLE} characters"
        )));
    }
    if t.chars().any(char::is_control) {
        return Err(Error::BadRequest(
            "the title must not contain control characters".into(),
        ));
    }
    Ok(t)
}

/// Refuses ill-formed storage format, saying where.
pub(crate) fn validate_body(body: &str) -> Result<()> {
    if body.len() > MAX_BODY {
        return Err(Error::TooLarge(format!(
            "the body is larger than {} MiB",
            MAX_BODY / 1024 / 1024
        )));
    }
    cairn_render::check(body)
        .map_err(|e| Error::BadRequest(format!("the body is not well-formed storage format: {e}")))
}

/// Records a content change for the search index journal (read by the
/// search issue's tailer; harmless until then).
async fn journal(db: &impl GenericClient, content_id: i64, op: &str) -> Result<()> {
    crate::db::execute(
        db,
        "SELECT pg_notify('cairn_content', $1)",
        &[&format!("{op}:{content_id}")],
    )
    .await?;
    Ok(())
}

fn title_taken(title: &str, key: &str) -> Error {
    Error::BadRequest(format!(
        "A page with this title already exists: A page already exists with the title {title} in the space with key {key}"
    ))
}

/// Whether the viewer may edit `c` (the checks [`update`] makes).
pub(crate) async fn may_edit(
    db: &impl GenericClient,
    viewer: &Viewer,
    c: &Content,
) -> Result<bool> {
    match require_edit(db, viewer, c).await {
        Ok(()) => Ok(true),
        Err(Error::Forbidden(_) | Error::Unauthorized(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The current content `id`, once the viewer may change it.
async fn get_to_edit(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<Content> {
    let c = get(db, viewer, id).await?;
    require_edit(db, viewer, &c).await?;
    Ok(c)
}

async fn require_edit(db: &impl GenericClient, viewer: &Viewer, c: &Content) -> Result<()> {
    viewer.require_user()?;
    let perm = match c.content_type {
        ContentType::Comment => SpacePerm::Comment,
        ContentType::Attachment => SpacePerm::Attach,
        _ => SpacePerm::Edit,
    };
    viewer.require_space_perm(db, c.space_id, perm).await?;
    let target = match c.content_type {
        ContentType::Comment | ContentType::Attachment => c.container_id.unwrap_or(c.id),
        _ => c.id,
    };
    if !viewer.passes_update_restrictions(db, target).await? {
        return Err(Error::Forbidden(
            "this page has edit restrictions that do not include you".into(),
        ));
    }
    Ok(())
}

pub(crate) fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}
