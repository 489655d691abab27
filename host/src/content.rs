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

pub const MAX_TITLE: usize = 255;
pub const MAX_BODY: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    Page,
    BlogPost,
    Comment,
    Attachment,
}

impl ContentType {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Page => "page",
            ContentType::BlogPost => "blogpost",
            ContentType::Comment => "comment",
            ContentType::Attachment => "attachment",
        }
    }
    pub fn parse(s: &str) -> Option<ContentType> {
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
pub struct Space {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub description: String,
    pub homepage_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

fn space_from(r: &Row) -> Space {
    Space {
        id: r.get("id"),
        key: r.get("space_key"),
        name: r.get("name"),
        description: r.get("description"),
        homepage_id: r.get("homepage_id"),
        created_at: r.get("created_at"),
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
    pub fn restriction_chain(&self) -> Vec<i64> {
        let mut c = self.ancestors.clone();
        c.push(self.id);
        c
    }
    /// Page ancestors root → parent (for comments/attachments: the
    /// container's ancestors and the container).
    pub fn page_ancestors(&self) -> &[i64] {
        &self.ancestors
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

fn not_found(id: i64) -> Error {
    Error::NotFound(format!("No content found with id: ContentId{{id={id}}}"))
}

pub fn validate_title(title: &str) -> Result<&str> {
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
pub fn validate_body(body: &str) -> Result<()> {
    if body.len() > MAX_BODY {
        return Err(Error::TooLarge(format!(
            "the body is larger than {} MiB",
            MAX_BODY / 1024 / 1024
        )));
    }
    cairn_render::check(body)
        .map_err(|e| Error::BadRequest(format!("the body is not well-formed storage format: {e}")))
}

// ---------------------------------------------------------------- spaces

pub fn validate_space_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::BadRequest(format!(
            "space key {key:?} is invalid: use 1 to 255 letters and digits"
        )));
    }
    Ok(())
}

pub async fn spaces(db: &impl GenericClient, viewer: &Viewer) -> Result<Vec<Space>> {
    let rows = crate::db::query(
        db,
        "SELECT * FROM spaces WHERE id = ANY($1) ORDER BY lower(name)",
        &[&*viewer.view_spaces],
    )
    .await?;
    Ok(rows.iter().map(space_from).collect())
}

/// A space the viewer may view, by key (case-insensitive).
pub async fn space(db: &impl GenericClient, viewer: &Viewer, key: &str) -> Result<Space> {
    let row = crate::db::query_opt(
        db,
        "SELECT * FROM spaces WHERE upper(space_key) = upper($1)",
        &[&key],
    )
    .await?;
    match row {
        Some(r) if viewer.can_view_space(r.get("id")) => Ok(space_from(&r)),
        _ => Err(Error::NotFound(format!("No space with key : {key}"))),
    }
}

/// A space by key for its administrators (who may lack `view`).
pub async fn space_for_admin(db: &impl GenericClient, viewer: &Viewer, key: &str) -> Result<Space> {
    let row = crate::db::query_opt(
        db,
        "SELECT * FROM spaces WHERE upper(space_key) = upper($1)",
        &[&key],
    )
    .await?;
    let Some(r) = row else {
        return Err(Error::NotFound(format!("No space with key : {key}")));
    };
    let s = space_from(&r);
    if viewer.has_space_perm(db, s.id, SpacePerm::Admin).await? {
        Ok(s)
    } else if viewer.can_view_space(s.id) {
        Err(Error::Forbidden(
            "only space administrators may do this".into(),
        ))
    } else {
        Err(Error::NotFound(format!("No space with key : {key}")))
    }
}

/// Creates a space with a home page. The creator gets every space
/// permission; `cairn-users` gets view, edit, comment and attach.
pub async fn create_space(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    key: &str,
    name: &str,
    description: &str,
) -> Result<Space> {
    let user = viewer.require_user()?;
    if !viewer.can_create_space {
        return Err(Error::Forbidden(
            "you do not have permission to create spaces".into(),
        ));
    }
    validate_space_key(key)?;
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(Error::BadRequest(
            "a space name needs 1 to 200 characters".into(),
        ));
    }
    let tx = db.transaction().await?;
    let row = tx
        .query_one(
            "INSERT INTO spaces (space_key, name, description, creator_id) VALUES ($1, $2, $3, $4) RETURNING *",
            &[&key, &name, &description, &user.id],
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                Error::BadRequest(format!("A space with key {key} already exists"))
            } else {
                e.into()
            }
        })?;
    let space_id: i64 = row.get("id");
    tx.execute(
        "INSERT INTO space_permissions (space_id, permission, user_id)
         SELECT $1, p, $2 FROM unnest(ARRAY['view','edit','comment','attach','delete','restrict','admin']) p",
        &[&space_id, &user.id],
    )
    .await?;
    tx.execute(
        "INSERT INTO space_permissions (space_id, permission, group_id)
         SELECT $1, p, g.id FROM groups g, unnest(ARRAY['view','edit','comment','attach']) p
         WHERE g.name = 'cairn-users'",
        &[&space_id],
    )
    .await?;
    let home_title = format!("{name} Home");
    let body = format!("<p>Welcome to {}.</p>", xml_escape(name));
    let home = tx
        .query_one(
            "INSERT INTO content (content_type, space_id, title, body, creator_id, modifier_id)
             VALUES ('page', $1, $2, $3, $4, $4) RETURNING id",
            &[&space_id, &home_title, &body, &user.id],
        )
        .await?;
    let home_id: i64 = home.get(0);
    tx.execute(
        "INSERT INTO content_versions (content_id, version, title, body, author_id, message)
         VALUES ($1, 1, $2, $3, $4, 'Space created')",
        &[&home_id, &home_title, &body, &user.id],
    )
    .await?;
    tx.execute(
        "UPDATE spaces SET homepage_id = $2 WHERE id = $1",
        &[&space_id, &home_id],
    )
    .await?;
    journal(&tx, home_id, "created").await?;
    tx.commit().await?;
    let mut s = space_from(&row);
    s.homepage_id = Some(home_id);
    Ok(s)
}

pub async fn update_space(
    db: &impl GenericClient,
    viewer: &Viewer,
    space: &Space,
    name: &str,
    description: &str,
    homepage_id: Option<i64>,
) -> Result<()> {
    viewer
        .require_space_perm(db, space.id, SpacePerm::Admin)
        .await?;
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(Error::BadRequest(
            "a space name needs 1 to 200 characters".into(),
        ));
    }
    if let Some(h) = homepage_id {
        let c = get(db, viewer, h).await?;
        if c.space_id != space.id || c.content_type != ContentType::Page {
            return Err(Error::BadRequest(
                "the home page must be a page of this space".into(),
            ));
        }
    }
    crate::db::execute(db,
        "UPDATE spaces SET name = $2, description = $3, homepage_id = coalesce($4, homepage_id) WHERE id = $1",
        &[&space.id, &name, &description, &homepage_id],
    )
    .await?;
    Ok(())
}

pub async fn space_grants(db: &impl GenericClient, space_id: i64) -> Result<Vec<Grant>> {
    let rows = crate::db::query(
        db,
        "SELECT p.permission, u.username AS uname, g.name AS gname FROM space_permissions p
             LEFT JOIN users u ON u.id = p.user_id LEFT JOIN groups g ON g.id = p.group_id
             WHERE p.space_id = $1 ORDER BY 2 NULLS FIRST, 3 NULLS FIRST, 1",
        &[&space_id],
    )
    .await?;
    Ok(rows.iter().map(grant_from_row).collect())
}

pub async fn set_space_grant(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_id: i64,
    perm: SpacePerm,
    who: &Principal,
    granted: bool,
) -> Result<()> {
    viewer
        .require_space_perm(db, space_id, SpacePerm::Admin)
        .await?;
    if *who == Principal::Anonymous && matches!(perm, SpacePerm::Admin | SpacePerm::Restrict) {
        return Err(Error::BadRequest(
            "anonymous visitors cannot administer or restrict".into(),
        ));
    }
    let (u, g) = who.ids();
    if granted {
        crate::db::execute(db,
            "INSERT INTO space_permissions (space_id, permission, user_id, group_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[&space_id, &perm.as_str(), &u, &g],
        )
        .await?;
    } else {
        crate::db::execute(
            db,
            "DELETE FROM space_permissions WHERE space_id = $1 AND permission = $2
             AND user_id IS NOT DISTINCT FROM $3 AND group_id IS NOT DISTINCT FROM $4",
            &[&space_id, &perm.as_str(), &u, &g],
        )
        .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- reads

/// Current content the viewer may view; 404 otherwise.
pub async fn get(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<Content> {
    let c = get_any(db, viewer, id).await?;
    if c.status != "current" {
        return Err(not_found(id));
    }
    Ok(c)
}

/// Like [`get`] but also returns trashed content.
pub async fn get_any(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<Content> {
    let sql = format!(
        "{CONTENT_SELECT} WHERE c.id = $1 AND {}",
        Viewer::content_filter(2, 3, 4)
    );
    let row = crate::db::query_opt(
        db,
        &sql,
        &[
            &id,
            &viewer.user_id(),
            &*viewer.groups,
            &*viewer.view_spaces,
        ],
    )
    .await?;
    row.map(|r| content_from(&r)).ok_or_else(|| not_found(id))
}

/// Many rows by id, filtered for the viewer, in the order given.
pub async fn get_many(
    db: &impl GenericClient,
    viewer: &Viewer,
    ids: &[i64],
) -> Result<Vec<Content>> {
    get_many_with(db, viewer, ids, true).await
}

/// [`get_many`] without the bodies (left empty): for lists and search
/// results that show no body. 25 search hits' bodies were a third of the
/// statement's time and most of its bytes.
pub async fn get_many_meta(
    db: &impl GenericClient,
    viewer: &Viewer,
    ids: &[i64],
) -> Result<Vec<Content>> {
    get_many_with(db, viewer, ids, false).await
}

async fn get_many_with(
    db: &impl GenericClient,
    viewer: &Viewer,
    ids: &[i64],
    with_body: bool,
) -> Result<Vec<Content>> {
    let select = if with_body {
        std::borrow::Cow::Borrowed(CONTENT_SELECT)
    } else {
        std::borrow::Cow::Owned(CONTENT_SELECT.replace("c.body,", "''::text AS body,"))
    };
    let sql = format!(
        "{select} WHERE c.id = ANY($1) AND c.status = 'current' AND {}",
        Viewer::content_filter(2, 3, 4)
    );
    let rows = crate::db::query(
        db,
        &sql,
        &[
            &ids,
            &viewer.user_id(),
            &*viewer.groups,
            &*viewer.view_spaces,
        ],
    )
    .await?;
    let mut out: Vec<Content> = rows.iter().map(content_from).collect();
    out.sort_by_key(|c| ids.iter().position(|i| *i == c.id));
    Ok(out)
}

/// (id, title) of each ancestor, root first. Every ancestor of a viewable
/// page is viewable (read restrictions are inherited), so no filter is lost.
pub async fn breadcrumbs(db: &impl GenericClient, c: &Content) -> Result<Vec<(i64, String)>> {
    let rows = crate::db::query(
        db,
        "SELECT id, title FROM content WHERE id = ANY($1) AND content_type IN ('page', 'blogpost')",
        &[&c.ancestors],
    )
    .await?;
    let mut v: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    v.sort_by_key(|(id, _)| c.ancestors.iter().position(|a| a == id));
    Ok(v)
}

/// Looks a page (or blog post) up by space key and title, as the viewer.
pub async fn by_title(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_key: &str,
    title: &str,
    ctype: ContentType,
) -> Result<Option<Content>> {
    let sql = format!(
        "{CONTENT_SELECT} WHERE upper(s.space_key) = upper($1) AND lower(c.title) = lower($2)
         AND c.content_type = $5 AND c.status = 'current' AND {}
         ORDER BY c.posting_day DESC NULLS LAST LIMIT 1",
        Viewer::content_filter(3, 4, 6)
    );
    let row = crate::db::query_opt(
        db,
        &sql,
        &[
            &space_key,
            &title,
            &viewer.user_id(),
            &*viewer.groups,
            &ctype.as_str(),
            &*viewer.view_spaces,
        ],
    )
    .await?;
    Ok(row.map(|r| content_from(&r)))
}

#[derive(Debug, Clone)]
pub struct TreeNode {
    pub id: i64,
    pub title: String,
    pub has_children: bool,
    pub position: i32,
}

/// Viewable child pages of `parent` (or the space's root pages), ordered
/// by position then title. `has_children` counts only viewable children.
pub async fn children(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_id: i64,
    parent: Option<i64>,
    offset: i64,
    limit: i64,
) -> Result<Vec<TreeNode>> {
    let filter = Viewer::content_filter(4, 5, 6);
    let child_filter = filter.replace("c.", "k.");
    let parent_cond = parent_is("c.parent_id", 2, parent);
    let sql = format!(
        "SELECT c.id, c.title, c.position, EXISTS (SELECT 1 FROM content k WHERE k.parent_id = c.id
            AND k.content_type = 'page' AND k.status = 'current' AND {child_filter}) AS has_children
         FROM content c WHERE c.space_id = $1 AND c.content_type = 'page' AND c.status = 'current'
           AND {parent_cond} AND {filter}
         ORDER BY c.position, lower(c.title), c.id OFFSET $3 LIMIT $7"
    );
    let rows = crate::db::query(
        db,
        &sql,
        &[
            &space_id,
            &parent,
            &offset,
            &viewer.user_id(),
            &*viewer.groups,
            &*viewer.view_spaces,
            &limit,
        ],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| TreeNode {
            id: r.get(0),
            title: r.get(1),
            position: r.get(2),
            has_children: r.get(3),
        })
        .collect())
}

/// Recently updated pages and blog posts the viewer may see.
pub async fn recently_updated(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_id: Option<i64>,
    content_type: Option<ContentType>,
    limit: i64,
) -> Result<Vec<Content>> {
    // Two statements rather than `($1 IS NULL OR space_id = $1)`: plans are
    // generic (see `db::pool`), and only a plain equality lets the one in a
    // space use `content_space_modified`.
    let space_cond = if space_id.is_some() {
        "c.space_id = $1"
    } else {
        "$1::bigint IS NULL"
    };
    let sql = format!(
        "{CONTENT_SELECT} WHERE c.content_type IN ('page', 'blogpost') AND c.status = 'current'
         AND {space_cond} AND ($6::text IS NULL OR c.content_type = $6)
         AND {} ORDER BY c.modified_at DESC LIMIT $5",
        Viewer::content_filter(2, 3, 4)
    );
    let ct = content_type.map(|t| t.as_str());
    let rows = crate::db::query(
        db,
        &sql,
        &[
            &space_id,
            &viewer.user_id(),
            &*viewer.groups,
            &*viewer.view_spaces,
            &limit,
            &ct,
        ],
    )
    .await?;
    Ok(rows.iter().map(content_from).collect())
}

/// Blog posts of a space, newest first.
pub async fn blog_posts(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_id: i64,
    offset: i64,
    limit: i64,
) -> Result<Vec<Content>> {
    let sql = format!(
        "{CONTENT_SELECT} WHERE c.content_type = 'blogpost' AND c.status = 'current' AND c.space_id = $1
         AND {} ORDER BY c.posting_day DESC, c.created_at DESC OFFSET $5 LIMIT $6",
        Viewer::content_filter(2, 3, 4)
    );
    let rows = crate::db::query(
        db,
        &sql,
        &[
            &space_id,
            &viewer.user_id(),
            &*viewer.groups,
            &*viewer.view_spaces,
            &offset,
            &limit,
        ],
    )
    .await?;
    Ok(rows.iter().map(content_from).collect())
}

// ---------------------------------------------------------------- writes

pub struct NewContent<'a> {
    pub content_type: ContentType,
    pub space_key: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub parent_id: Option<i64>,
    pub message: &'a str,
    pub labels: &'a [String],
    pub posting_day: Option<NaiveDate>,
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

/// Creates a page or blog post (version 1).
pub async fn create(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    n: NewContent<'_>,
) -> Result<Content> {
    let user = viewer.require_user()?.clone();
    if !matches!(n.content_type, ContentType::Page | ContentType::BlogPost) {
        return Err(Error::BadRequest(
            "only pages and blog posts are created this way".into(),
        ));
    }
    let title = validate_title(n.title)?;
    validate_body(n.body)?;
    let space = space(&*db, viewer, n.space_key).await?;
    viewer
        .require_space_perm(&*db, space.id, SpacePerm::Edit)
        .await?;
    let labels = normalize_labels(n.labels)?;
    let (parent_id, ancestors) = match (n.content_type, n.parent_id) {
        (ContentType::Page, Some(pid)) => {
            let p = get(&*db, viewer, pid).await?;
            if p.content_type != ContentType::Page || p.space_id != space.id {
                return Err(Error::BadRequest(format!(
                    "the parent {pid} is not a page in space {}",
                    space.key
                )));
            }
            let mut a = p.ancestors.clone();
            a.push(p.id);
            (Some(p.id), a)
        }
        (ContentType::Page, None) => (None, Vec::new()),
        _ => (None, Vec::new()),
    };
    let posting_day = match n.content_type {
        ContentType::BlogPost => Some(n.posting_day.unwrap_or_else(|| Utc::now().date_naive())),
        _ => None,
    };
    let tx = db.transaction().await?;
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO content (content_type, space_id, parent_id, ancestors, position, title, body,
                     creator_id, modifier_id, posting_day)
                 VALUES ($1, $2, $3, $4,
                     coalesce((SELECT max(position) + 1 FROM content WHERE space_id = $2
                       AND {} AND content_type = 'page'), 0),
                     $5, $6, $7, $7, $8) RETURNING id",
                parent_is("parent_id", 3, parent_id)
            ),
            &[
                &n.content_type.as_str(),
                &space.id,
                &parent_id,
                &ancestors,
                &title,
                &n.body,
                &user.id,
                &posting_day,
            ],
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                title_taken(title, &space.key)
            } else {
                e.into()
            }
        })?;
    let id: i64 = row.get(0);
    tx.execute(
        "INSERT INTO content_versions (content_id, version, title, body, author_id, message)
         VALUES ($1, 1, $2, $3, $4, $5)",
        &[&id, &title, &n.body, &user.id, &n.message],
    )
    .await?;
    for l in &labels {
        tx.execute(
            "INSERT INTO labels (content_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&id, l],
        )
        .await?;
    }
    journal(&tx, id, "created").await?;
    tx.commit().await?;
    get(&*db, viewer, id).await
}

pub struct Update<'a> {
    pub title: Option<&'a str>,
    pub body: Option<&'a str>,
    /// The version the edit started from; must still be current.
    pub base_version: i32,
    pub message: &'a str,
    pub minor_edit: bool,
}

/// The outcome of an update: a new version, or nothing to change.
pub enum Saved {
    NewVersion(Content),
    Unchanged(Content),
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

/// Saves a new version. Refused with a conflict when `base_version` is no
/// longer current: the caller keeps its text and can show what changed.
/// Saving an identical title and body creates no version.
pub async fn update(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
    u: Update<'_>,
) -> Result<Saved> {
    let c = get(&*db, viewer, id).await?;
    require_edit(&*db, viewer, &c).await?;
    let user_id = viewer.require_user()?.id;
    let title = match u.title {
        Some(t) => validate_title(t)?.to_owned(),
        None => c.title.clone(),
    };
    let body = u.body.unwrap_or(&c.body);
    if u.body.is_some() {
        validate_body(body)?;
    }
    if u.base_version != c.version {
        return Err(Error::Conflict(format!(
            "Version must be incremented on update. Current version is: {}",
            c.version
        )));
    }
    if title == c.title && body == c.body {
        return Ok(Saved::Unchanged(c));
    }
    let tx = db.transaction().await?;
    let row = tx
        .query_opt(
            "UPDATE content SET version = version + 1, title = $3, body = $4, modifier_id = $5,
                 modified_at = now() WHERE id = $1 AND version = $2 AND status = 'current' RETURNING version",
            &[&id, &u.base_version, &title, &body, &user_id],
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                title_taken(&title, &c.space_key)
            } else {
                e.into()
            }
        })?;
    let Some(row) = row else {
        // Someone saved between our read and our write.
        let now: i32 = tx
            .query_one("SELECT version FROM content WHERE id = $1", &[&id])
            .await?
            .get(0);
        return Err(Error::Conflict(format!(
            "Version must be incremented on update. Current version is: {now}"
        )));
    };
    let version: i32 = row.get(0);
    tx.execute(
        "INSERT INTO content_versions (content_id, version, title, body, author_id, message, minor_edit)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&id, &version, &title, &body, &user_id, &u.message, &u.minor_edit],
    )
    .await?;
    journal(&tx, id, "updated").await?;
    tx.commit().await?;
    Ok(Saved::NewVersion(get(&*db, viewer, id).await?))
}

/// Sets new ancestors for `id` and everything under it (pages, and the
/// comments and attachments of each).
async fn reroot(db: &impl GenericClient, id: i64, new_ancestors: &[i64]) -> Result<()> {
    crate::db::execute(
        db,
        "UPDATE content SET ancestors = $2 WHERE id = $1",
        &[&id, &new_ancestors],
    )
    .await?;
    crate::db::execute(db,
        "UPDATE content SET ancestors = $2::bigint[] || $1::bigint || ancestors[array_position(ancestors, $1) + 1:]
         WHERE $1 = ANY(ancestors)",
        &[&id, &new_ancestors],
    )
    .await?;
    Ok(())
}

/// Moves a page (with its subtree) under `new_parent` (None = space root)
/// in the same or another space, at `position` among its new siblings
/// (None = last).
pub async fn move_page(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
    new_space_key: Option<&str>,
    new_parent: Option<i64>,
    position: Option<i32>,
) -> Result<Content> {
    let c = get(&*db, viewer, id).await?;
    if c.content_type != ContentType::Page {
        return Err(Error::BadRequest(
            "only pages can be moved in the tree".into(),
        ));
    }
    require_edit(&*db, viewer, &c).await?;
    let space = match new_space_key {
        Some(k) => space(&*db, viewer, k).await?,
        None => space(&*db, viewer, &c.space_key).await?,
    };
    if space.id != c.space_id {
        viewer
            .require_space_perm(&*db, space.id, SpacePerm::Edit)
            .await?;
        viewer
            .require_space_perm(&*db, c.space_id, SpacePerm::Delete)
            .await?;
    }
    let ancestors = match new_parent {
        Some(p) => {
            let parent = get(&*db, viewer, p).await?;
            if parent.content_type != ContentType::Page || parent.space_id != space.id {
                return Err(Error::BadRequest(format!(
                    "the new parent {p} is not a page in space {}",
                    space.key
                )));
            }
            if p == id || parent.ancestors.contains(&id) {
                return Err(Error::BadRequest(
                    "a page cannot be moved under itself or one of its descendants".into(),
                ));
            }
            let mut a = parent.ancestors.clone();
            a.push(p);
            a
        }
        None => Vec::new(),
    };
    let tx = db.transaction().await?;
    let pos: i32 = match position {
        Some(p) => {
            tx.execute(
                &format!(
                    "UPDATE content SET position = position + 1 WHERE space_id = $1 AND content_type = 'page'
                     AND {} AND position >= $3 AND id <> $4",
                    parent_is("parent_id", 2, new_parent)
                ),
                &[&space.id, &new_parent, &p, &id],
            )
            .await?;
            p
        }
        None => tx
            .query_one(
                &format!(
                    "SELECT coalesce(max(position) + 1, 0) FROM content WHERE space_id = $1
                     AND content_type = 'page' AND {} AND id <> $3",
                    parent_is("parent_id", 2, new_parent)
                ),
                &[&space.id, &new_parent, &id],
            )
            .await?
            .get(0),
    };
    tx.execute(
        "UPDATE content SET parent_id = $2, position = $3, space_id = $4 WHERE id = $1",
        &[&id, &new_parent, &pos, &space.id],
    )
    .await?;
    if space.id != c.space_id {
        tx.execute(
            "UPDATE content SET space_id = $2 WHERE $1 = ANY(ancestors)",
            &[&id, &space.id],
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                Error::BadRequest(format!(
                    "a page in this subtree has a title that already exists in space {}",
                    space.key
                ))
            } else {
                e.into()
            }
        })?;
    }
    reroot(&tx, id, &ancestors).await?;
    journal(&tx, id, "moved").await?;
    tx.commit().await.map_err(|e| {
        if is_unique_violation(&e) {
            title_taken(&c.title, &space.key)
        } else {
            e.into()
        }
    })?;
    get(&*db, viewer, id).await
}

/// Copies a page (body, labels; not its children) as a new page.
pub async fn copy_page(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
    new_title: &str,
    parent: Option<i64>,
) -> Result<Content> {
    let c = get(&*db, viewer, id).await?;
    if c.content_type != ContentType::Page {
        return Err(Error::BadRequest("only pages can be copied".into()));
    }
    let labels = labels(&*db, id).await?;
    let key = c.space_key.clone();
    create(
        db,
        viewer,
        NewContent {
            content_type: ContentType::Page,
            space_key: &key,
            title: new_title,
            body: &c.body,
            parent_id: parent.or(c.parent_id),
            message: &format!("Copied from \"{}\"", c.title),
            labels: &labels,
            posting_day: None,
        },
    )
    .await
}

// ---------------------------------------------------------------- history

#[derive(Debug, Clone)]
pub struct VersionInfo {
    pub number: i32,
    pub title: String,
    pub author: Person,
    pub created_at: DateTime<Utc>,
    pub message: String,
    pub minor_edit: bool,
    pub body: String,
    pub file_size: Option<i64>,
    pub file_sha256: Option<String>,
    pub media_type: Option<String>,
}

fn version_from(r: &Row) -> VersionInfo {
    VersionInfo {
        number: r.get("version"),
        title: r.get("title"),
        author: person(r, "a_user", "a_name", "a_key"),
        created_at: r.get("created_at"),
        message: r.get("message"),
        minor_edit: r.get("minor_edit"),
        body: r.get("body"),
        file_size: r.get("file_size"),
        file_sha256: r.get("file_sha256"),
        media_type: r.get("media_type"),
    }
}

const VERSION_SELECT: &str =
    "SELECT v.version, v.title, v.body, v.created_at, v.message, v.minor_edit,
    v.file_size, v.file_sha256, v.media_type,
    u.username AS a_user, u.display_name AS a_name, u.user_key AS a_key
  FROM content_versions v LEFT JOIN users u ON u.id = v.author_id";

/// All versions, newest first (bodies included; history pages are rare).
pub async fn history(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
) -> Result<Vec<VersionInfo>> {
    get_any(db, viewer, id).await?;
    let rows = crate::db::query(
        db,
        &format!("{VERSION_SELECT} WHERE v.content_id = $1 ORDER BY v.version DESC"),
        &[&id],
    )
    .await?;
    Ok(rows.iter().map(version_from).collect())
}

pub async fn version(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    n: i32,
) -> Result<VersionInfo> {
    get_any(db, viewer, id).await?;
    let row = crate::db::query_opt(
        db,
        &format!("{VERSION_SELECT} WHERE v.content_id = $1 AND v.version = $2"),
        &[&id, &n],
    )
    .await?;
    row.map(|r| version_from(&r))
        .ok_or_else(|| Error::NotFound(format!("content {id} has no version {n}")))
}

/// Restores version `n` as a new version on top of `base_version`.
pub async fn restore_version(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
    n: i32,
    base_version: i32,
) -> Result<Saved> {
    let v = version(&*db, viewer, id, n).await?;
    let msg = format!("Restored version {n}");
    update(
        db,
        viewer,
        id,
        Update {
            title: Some(&v.title),
            body: Some(&v.body),
            base_version,
            message: &msg,
            minor_edit: false,
        },
    )
    .await
}

// ---------------------------------------------------------------- labels

pub fn normalize_label(name: &str) -> Result<String> {
    let l = name.trim().to_lowercase();
    if l.is_empty() || l.chars().count() > 255 {
        return Err(Error::BadRequest(
            "a label needs 1 to 255 characters".into(),
        ));
    }
    if l.chars()
        .any(|c| c.is_whitespace() || c.is_control() || "!#&()*,.:;<>?@[]^".contains(c))
    {
        return Err(Error::BadRequest(format!(
            "label {name:?} contains a space or one of !#&()*,.:;<>?@[]^"
        )));
    }
    Ok(l)
}

fn normalize_labels(names: &[String]) -> Result<Vec<String>> {
    let mut v = Vec::new();
    for n in names {
        let l = normalize_label(n)?;
        if !v.contains(&l) {
            v.push(l);
        }
    }
    Ok(v)
}

pub async fn labels(db: &impl GenericClient, id: i64) -> Result<Vec<String>> {
    let rows = crate::db::query(
        db,
        "SELECT name FROM labels WHERE content_id = $1 ORDER BY name",
        &[&id],
    )
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub async fn add_labels(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    names: &[String],
) -> Result<Vec<String>> {
    let c = get(db, viewer, id).await?;
    require_edit(db, viewer, &c).await?;
    for l in normalize_labels(names)? {
        crate::db::execute(
            db,
            "INSERT INTO labels (content_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&id, &l],
        )
        .await?;
    }
    journal(db, id, "labels").await?;
    labels(db, id).await
}

pub async fn set_labels(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    names: &[String],
) -> Result<Vec<String>> {
    let c = get(db, viewer, id).await?;
    require_edit(db, viewer, &c).await?;
    let names = normalize_labels(names)?;
    crate::db::execute(
        db,
        "DELETE FROM labels WHERE content_id = $1 AND NOT (name = ANY($2))",
        &[&id, &names],
    )
    .await?;
    add_labels(db, viewer, id, &names).await
}

pub async fn remove_label(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    name: &str,
) -> Result<()> {
    let c = get(db, viewer, id).await?;
    require_edit(db, viewer, &c).await?;
    let n = crate::db::execute(
        db,
        "DELETE FROM labels WHERE content_id = $1 AND name = lower($2)",
        &[&id, &name.trim()],
    )
    .await?;
    if n == 0 {
        return Err(Error::NotFound(format!(
            "content {id} has no label {name:?}"
        )));
    }
    journal(db, id, "labels").await?;
    Ok(())
}

// ---------------------------------------------------------------- comments

/// Comments of a page, oldest first; `parent_id` links replies.
pub async fn comments(
    db: &impl GenericClient,
    viewer: &Viewer,
    container: i64,
) -> Result<Vec<Content>> {
    let page = get(db, viewer, container).await?;
    comments_of(db, viewer, &page).await
}

/// [`comments`] for a page the caller has already loaded as this viewer.
pub async fn comments_of(
    db: &impl GenericClient,
    viewer: &Viewer,
    page: &Content,
) -> Result<Vec<Content>> {
    let container = page.id;
    let sql = format!(
        "{CONTENT_SELECT} WHERE c.container_id = $1 AND c.content_type = 'comment' AND c.status = 'current'
         AND {} ORDER BY c.created_at, c.id",
        Viewer::content_filter(2, 3, 4)
    );
    let rows = crate::db::query(
        db,
        &sql,
        &[
            &container,
            &viewer.user_id(),
            &*viewer.groups,
            &*viewer.view_spaces,
        ],
    )
    .await?;
    Ok(rows.iter().map(content_from).collect())
}

pub async fn add_comment(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    container: i64,
    reply_to: Option<i64>,
    body: &str,
) -> Result<Content> {
    let user = viewer.require_user()?.clone();
    let page = get(&*db, viewer, container).await?;
    if !matches!(page.content_type, ContentType::Page | ContentType::BlogPost) {
        return Err(Error::BadRequest(
            "comments belong to pages and blog posts".into(),
        ));
    }
    viewer
        .require_space_perm(&*db, page.space_id, SpacePerm::Comment)
        .await?;
    if body.trim().is_empty() {
        return Err(Error::BadRequest("a comment must not be empty".into()));
    }
    validate_body(body)?;
    if let Some(r) = reply_to {
        let parent = get(&*db, viewer, r).await?;
        if parent.container_id != Some(container) || parent.content_type != ContentType::Comment {
            return Err(Error::BadRequest(format!(
                "comment {r} is not on this page"
            )));
        }
    }
    let mut chain = page.ancestors.clone();
    chain.push(page.id);
    let title = format!("Re: {}", page.title);
    let tx = db.transaction().await?;
    let id: i64 = tx
        .query_one(
            "INSERT INTO content (content_type, space_id, parent_id, container_id, ancestors, title, body,
                 creator_id, modifier_id) VALUES ('comment', $1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            &[&page.space_id, &reply_to, &container, &chain, &title, &body, &user.id],
        )
        .await?
        .get(0);
    tx.execute(
        "INSERT INTO content_versions (content_id, version, title, body, author_id) VALUES ($1, 1, $2, $3, $4)",
        &[&id, &title, &body, &user.id],
    )
    .await?;
    journal(&tx, id, "created").await?;
    tx.commit().await?;
    get(&*db, viewer, id).await
}

/// Only the author or a space administrator edits or deletes a comment.
async fn require_comment_owner(
    db: &impl GenericClient,
    viewer: &Viewer,
    c: &Content,
) -> Result<()> {
    let user = viewer.require_user()?;
    if c.content_type != ContentType::Comment {
        return Err(Error::BadRequest(format!("{} is not a comment", c.id)));
    }
    if c.creator.user_key == user.user_key
        || viewer
            .has_space_perm(db, c.space_id, SpacePerm::Admin)
            .await?
    {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only the author or a space administrator may change this comment".into(),
        ))
    }
}

pub async fn edit_comment(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
    body: &str,
    base_version: i32,
) -> Result<Content> {
    let c = get(&*db, viewer, id).await?;
    require_comment_owner(&*db, viewer, &c).await?;
    if body.trim().is_empty() {
        return Err(Error::BadRequest("a comment must not be empty".into()));
    }
    match update(
        db,
        viewer,
        id,
        Update {
            title: None,
            body: Some(body),
            base_version,
            message: "",
            minor_edit: false,
        },
    )
    .await?
    {
        Saved::NewVersion(c) | Saved::Unchanged(c) => Ok(c),
    }
}

/// Deletes a comment; its replies stay, shown as replies to a deleted comment.
pub async fn delete_comment(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<()> {
    let c = get(db, viewer, id).await?;
    require_comment_owner(db, viewer, &c).await?;
    crate::db::execute(
        db,
        "UPDATE content SET parent_id = $2 WHERE parent_id = $1 AND content_type = 'comment'",
        &[&id, &c.parent_id],
    )
    .await?;
    crate::db::execute(db, "DELETE FROM content WHERE id = $1", &[&id]).await?;
    journal(db, id, "deleted").await?;
    Ok(())
}

// ---------------------------------------------------------------- trash

/// Moves a page or blog post, with its subtree, comments and attachments,
/// to the trash. Trashing a whole subtree (rather than re-parenting the
/// children) keeps children of a restricted page hidden.
pub async fn trash(db: &mut deadpool_postgres::Object, viewer: &Viewer, id: i64) -> Result<()> {
    let c = get(&*db, viewer, id).await?;
    let user = viewer.require_user()?.clone();
    match c.content_type {
        ContentType::Page | ContentType::BlogPost => {
            viewer
                .require_space_perm(&*db, c.space_id, SpacePerm::Delete)
                .await?;
            let home: Option<i64> = crate::db::query_one(
                db,
                "SELECT homepage_id FROM spaces WHERE id = $1",
                &[&c.space_id],
            )
            .await?
            .get(0);
            if home == Some(id) {
                return Err(Error::BadRequest(
                    "the space's home page cannot be deleted; choose another home page first"
                        .into(),
                ));
            }
        }
        ContentType::Comment => return delete_comment(&*db, viewer, id).await,
        ContentType::Attachment => {
            require_edit(&*db, viewer, &c).await?;
        }
    }
    let tx = db.transaction().await?;
    tx.execute(
        "UPDATE content SET status = 'trashed', trashed_at = now(), trashed_by = $2
         WHERE (id = $1 OR $1 = ANY(ancestors) OR container_id = $1) AND status = 'current'",
        &[&id, &user.id],
    )
    .await?;
    journal(&tx, id, "trashed").await?;
    tx.commit().await?;
    Ok(())
}

pub struct TrashItem {
    pub id: i64,
    pub title: String,
    pub content_type: ContentType,
    pub trashed_at: DateTime<Utc>,
    pub trashed_by: String,
    pub descendants: i64,
}

/// Items trashed directly (not as part of a trashed parent), newest first.
pub async fn trash_list(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_id: i64,
) -> Result<Vec<TrashItem>> {
    viewer
        .require_space_perm(db, space_id, SpacePerm::Delete)
        .await?;
    let sql = format!(
        "SELECT c.id, c.title, c.content_type, c.trashed_at, coalesce(u.display_name, ''),
           (SELECT count(*) FROM content d WHERE c.id = ANY(d.ancestors) AND d.content_type = 'page'
              AND d.status = 'trashed')
         FROM content c LEFT JOIN users u ON u.id = c.trashed_by
         WHERE c.space_id = $1 AND c.status = 'trashed' AND c.content_type IN ('page', 'blogpost', 'attachment')
           AND NOT EXISTS (SELECT 1 FROM content p WHERE (p.id = c.parent_id OR p.id = c.container_id)
                 AND p.status = 'trashed' AND p.trashed_at = c.trashed_at)
           AND {} ORDER BY c.trashed_at DESC",
        Viewer::content_filter(2, 3, 4)
    );
    let rows = crate::db::query(
        db,
        &sql,
        &[
            &space_id,
            &viewer.user_id(),
            &*viewer.groups,
            &*viewer.view_spaces,
        ],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| TrashItem {
            id: r.get(0),
            title: r.get(1),
            content_type: ContentType::parse(r.get(2)).unwrap_or(ContentType::Page),
            trashed_at: r.get(3),
            trashed_by: r.get(4),
            descendants: r.get(5),
        })
        .collect())
}

async fn trashed(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<Content> {
    let c = get_any(db, viewer, id).await?;
    if c.status != "trashed" {
        return Err(Error::BadRequest(format!(
            "content {id} is not in the trash"
        )));
    }
    viewer
        .require_space_perm(db, c.space_id, SpacePerm::Delete)
        .await?;
    Ok(c)
}

/// Restores what was trashed together with `id`. The page returns under
/// its old parent, or to the space root when that parent is gone.
pub async fn restore_from_trash(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
) -> Result<Content> {
    let c = trashed(&*db, viewer, id).await?;
    let at = trashed_at(&*db, id).await?;
    let tx = db.transaction().await?;
    if c.content_type == ContentType::Page {
        let parent_ok = match c.parent_id {
            Some(p) => tx
                .query_opt(
                    "SELECT ancestors FROM content WHERE id = $1 AND status = 'current'",
                    &[&p],
                )
                .await?
                .map(|r| {
                    let mut a: Vec<i64> = r.get(0);
                    a.push(p);
                    a
                }),
            None => Some(Vec::new()),
        };
        let ancestors = match parent_ok {
            Some(a) => a,
            None => {
                tx.execute("UPDATE content SET parent_id = NULL WHERE id = $1", &[&id])
                    .await?;
                Vec::new()
            }
        };
        reroot(&tx, id, &ancestors).await?;
    }
    tx.execute(
        "UPDATE content SET status = 'current', trashed_at = NULL, trashed_by = NULL
         WHERE (id = $1 OR $1 = ANY(ancestors) OR container_id = $1) AND status = 'trashed' AND trashed_at = $2",
        &[&id, &at],
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::Conflict(format!(
                "cannot restore \"{}\": a page with the same title now exists in space {}; rename or delete it first",
                c.title, c.space_key
            ))
        } else {
            e.into()
        }
    })?;
    journal(&tx, id, "restored").await?;
    tx.commit().await?;
    get(&*db, viewer, id).await
}

async fn trashed_at(db: &impl GenericClient, id: i64) -> Result<DateTime<Utc>> {
    Ok(
        crate::db::query_one(db, "SELECT trashed_at FROM content WHERE id = $1", &[&id])
            .await?
            .get(0),
    )
}

/// Deletes trashed content for good, with its subtree and versions. Files
/// in the shared home are left to the orphaned-attachment cleanup job, which
/// can tell whether another version still uses the same bytes.
pub async fn purge(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<()> {
    trashed(db, viewer, id).await?;
    crate::db::execute(
        db,
        "DELETE FROM content WHERE (id = $1 OR $1 = ANY(ancestors)) AND status = 'trashed'",
        &[&id],
    )
    .await?;
    journal(db, id, "purged").await?;
    Ok(())
}

// ---------------------------------------------------------------- restrictions

pub struct Restrictions {
    pub read: Vec<Grant>,
    pub update: Vec<Grant>,
}

pub async fn restrictions(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
) -> Result<Restrictions> {
    get(db, viewer, id).await?;
    let rows = crate::db::query(db,
            "SELECT r.operation AS permission, u.username AS uname, g.name AS gname FROM content_restrictions r
             LEFT JOIN users u ON u.id = r.user_id LEFT JOIN groups g ON g.id = r.group_id
             WHERE r.content_id = $1 ORDER BY 2 NULLS LAST, 3",
            &[&id],
        )
        .await?;
    let all: Vec<Grant> = rows.iter().map(grant_from_row).collect();
    let (read, update) = all.into_iter().partition(|g| g.permission == "read");
    Ok(Restrictions { read, update })
}

/// Adds or removes one restriction. A user who adds a restriction is always
/// kept inside it, so nobody locks themselves out by accident.
pub async fn set_restriction(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    operation: &str,
    who: &Principal,
    add: bool,
) -> Result<()> {
    let c = get(db, viewer, id).await?;
    let user = viewer.require_user()?;
    if !matches!(c.content_type, ContentType::Page | ContentType::BlogPost) {
        return Err(Error::BadRequest(
            "only pages and blog posts carry restrictions".into(),
        ));
    }
    if !["read", "update"].contains(&operation) {
        return Err(Error::BadRequest(format!(
            "unknown restriction {operation:?}; use read or update"
        )));
    }
    let allowed = viewer
        .has_space_perm(db, c.space_id, SpacePerm::Restrict)
        .await?
        || viewer
            .has_space_perm(db, c.space_id, SpacePerm::Admin)
            .await?;
    if !allowed {
        return Err(Error::Forbidden(
            "you do not have permission to restrict pages in this space".into(),
        ));
    }
    let (u, g) = who.ids();
    if u.is_none() && g.is_none() {
        return Err(Error::BadRequest(
            "restrictions name a user or a group".into(),
        ));
    }
    if add {
        crate::db::execute(
            db,
            "INSERT INTO content_restrictions (content_id, operation, user_id) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&id, &operation, &user.id],
        )
        .await?;
        crate::db::execute(db,
            "INSERT INTO content_restrictions (content_id, operation, user_id, group_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[&id, &operation, &u, &g],
        )
        .await?;
    } else {
        crate::db::execute(
            db,
            "DELETE FROM content_restrictions WHERE content_id = $1 AND operation = $2
             AND user_id IS NOT DISTINCT FROM $3 AND group_id IS NOT DISTINCT FROM $4",
            &[&id, &operation, &u, &g],
        )
        .await?;
    }
    journal(db, id, "restrictions").await?;
    Ok(())
}

/// Removes all restrictions of one kind from a page.
pub async fn clear_restrictions(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    operation: &str,
) -> Result<()> {
    let c = get(db, viewer, id).await?;
    let allowed = viewer
        .has_space_perm(db, c.space_id, SpacePerm::Restrict)
        .await?
        || viewer
            .has_space_perm(db, c.space_id, SpacePerm::Admin)
            .await?;
    if !allowed {
        return Err(Error::Forbidden(
            "you do not have permission to restrict pages in this space".into(),
        ));
    }
    crate::db::execute(
        db,
        "DELETE FROM content_restrictions WHERE content_id = $1 AND operation = $2",
        &[&id, &operation],
    )
    .await?;
    journal(db, id, "restrictions").await?;
    Ok(())
}

pub fn xml_escape(s: &str) -> String {
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

// ---------------------------------------------------------------- listing

/// What [`list`] returns; every field narrows the result.
#[derive(Default)]
pub struct ListFilter<'a> {
    pub space_id: Option<i64>,
    /// Empty = pages and blog posts.
    pub types: Vec<ContentType>,
    /// Exact title (case-insensitive, as titles are unique that way).
    pub title: Option<&'a str>,
    pub posting_day: Option<NaiveDate>,
    /// Direct child pages of this page.
    pub parent: Option<i64>,
    /// Pages at the root of the space only.
    pub root_only: bool,
    /// Comments or attachments of this content.
    pub container: Option<i64>,
    /// Every page below this one.
    pub descendant_of: Option<i64>,
    pub label: Option<&'a str>,
    pub media_type: Option<&'a str>,
    /// `current` (default) or `trashed`.
    pub trashed: bool,
}

/// A page of content the viewer may view, filtered in SQL (so `start` and
/// `limit` count only visible rows). Returns the rows and whether more exist.
pub async fn list(
    db: &impl GenericClient,
    viewer: &Viewer,
    f: &ListFilter<'_>,
    start: i64,
    limit: i64,
) -> Result<(Vec<Content>, bool)> {
    use tokio_postgres::types::ToSql;
    let types: Vec<&str> = if f.types.is_empty() {
        vec!["page", "blogpost"]
    } else {
        f.types.iter().map(|t| t.as_str()).collect()
    };
    let title = f.title.map(str::to_lowercase);
    let mut params: Vec<Box<dyn ToSql + Sync + Send>> = vec![
        Box::new(viewer.user_id()),
        Box::new((*viewer.groups).clone()),
        Box::new((*viewer.view_spaces).clone()),
        Box::new(types),
        Box::new(if f.trashed { "trashed" } else { "current" }),
    ];
    let mut conds = vec![
        Viewer::content_filter(1, 2, 3),
        "c.content_type = ANY($4)".to_owned(),
        "c.status = $5".to_owned(),
    ];
    type Params = Vec<Box<dyn ToSql + Sync + Send>>;
    fn add(
        cond: &str,
        p: Box<dyn ToSql + Sync + Send>,
        params: &mut Params,
        conds: &mut Vec<String>,
    ) {
        params.push(p);
        conds.push(cond.replace('?', &format!("${}", params.len())));
    }
    if let Some(s) = f.space_id {
        add("c.space_id = ?", Box::new(s), &mut params, &mut conds);
    }
    if let Some(t) = title {
        add("lower(c.title) = ?", Box::new(t), &mut params, &mut conds);
    }
    if let Some(d) = f.posting_day {
        add("c.posting_day = ?", Box::new(d), &mut params, &mut conds);
    }
    if let Some(p) = f.parent {
        add("c.parent_id = ?", Box::new(p), &mut params, &mut conds);
    }
    if f.root_only {
        conds.push("c.parent_id IS NULL AND c.content_type = 'page'".into());
    }
    if let Some(p) = f.container {
        add("c.container_id = ?", Box::new(p), &mut params, &mut conds);
    }
    if let Some(p) = f.descendant_of {
        add(
            "? = ANY(c.ancestors) AND c.content_type = 'page'",
            Box::new(p),
            &mut params,
            &mut conds,
        );
    }
    if let Some(l) = f.label {
        add(
            "EXISTS (SELECT 1 FROM labels l WHERE l.content_id = c.id AND l.name = lower(?))",
            Box::new(l.to_owned()),
            &mut params,
            &mut conds,
        );
    }
    if let Some(m) = f.media_type {
        add(
            "EXISTS (SELECT 1 FROM content_versions v WHERE v.content_id = c.id AND v.version = c.version AND v.media_type = ?)",
            Box::new(m.to_owned()),
            &mut params,
            &mut conds,
        );
    }
    let order = if f.container.is_some() && f.types == [ContentType::Attachment] {
        "lower(c.title), c.id"
    } else if f.container.is_some() {
        "c.created_at, c.id"
    } else if f.parent.is_some() || f.root_only || f.descendant_of.is_some() {
        "c.position, lower(c.title), c.id"
    } else {
        "c.id"
    };
    params.push(Box::new(start.max(0)));
    let off = params.len();
    params.push(Box::new(limit.max(0) + 1));
    let lim = params.len();
    let sql = format!(
        "{CONTENT_SELECT} WHERE {} ORDER BY {order} OFFSET ${off} LIMIT ${lim}",
        conds.join(" AND ")
    );
    let refs: Vec<&(dyn ToSql + Sync)> =
        params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect();
    let rows = crate::db::query(db, &sql, &refs).await?;
    let mut out: Vec<Content> = rows.iter().map(content_from).collect();
    let more = out.len() as i64 > limit;
    out.truncate(limit.max(0) as usize);
    Ok((out, more))
}

/// Who likes a piece of content, oldest first.
pub struct Likes {
    pub users: Vec<crate::perms::User>,
    /// Whether the viewer is one of them.
    pub mine: bool,
    /// What was liked (`page`, `blogpost`, `comment`).
    pub content_type: ContentType,
}

/// The likes of content the viewer may see.
pub async fn likes(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<Likes> {
    let c = get(db, viewer, id).await?;
    likes_of(db, viewer, &c).await
}

/// [`likes`] for content the caller has already loaded as this viewer.
pub async fn likes_of(db: &impl GenericClient, viewer: &Viewer, c: &Content) -> Result<Likes> {
    let rows = crate::db::query(
        db,
        "SELECT u.id, u.username, u.display_name, u.user_key, u.email
           FROM likes l JOIN users u ON u.id = l.user_id
          WHERE l.content_id = $1 ORDER BY l.created_at, u.id",
        &[&c.id],
    )
    .await?;
    let users: Vec<crate::perms::User> = rows
        .iter()
        .map(|r| crate::perms::User {
            id: r.get(0),
            username: r.get(1),
            display_name: r.get(2),
            user_key: r.get(3),
            email: r.get(4),
        })
        .collect();
    let mine = viewer
        .user_id()
        .is_some_and(|me| users.iter().any(|u| u.id == me));
    Ok(Likes {
        users,
        mine,
        content_type: c.content_type,
    })
}

/// Likes (`true`) or unlikes content as the viewer; liking twice is one like.
/// Pages, blog posts and comments can be liked, by anyone who can see them.
pub async fn set_like(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    like: bool,
) -> Result<Likes> {
    let user = viewer.require_user()?.id;
    let c = get(db, viewer, id).await?;
    if c.content_type == ContentType::Attachment {
        return Err(Error::BadRequest("attachments cannot be liked".into()));
    }
    if like {
        crate::db::execute(
            db,
            "INSERT INTO likes (content_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&id, &user],
        )
        .await?;
    } else {
        crate::db::execute(
            db,
            "DELETE FROM likes WHERE content_id = $1 AND user_id = $2",
            &[&id, &user],
        )
        .await?;
    }
    likes_of(db, viewer, &c).await
}
