//! Copying a page, or a page with everything under it, with its
//! attachments, labels, restrictions and content properties — Confluence's
//! "Copy" and "copy page hierarchy". A tree is copied as a long task.
//!
//! Invariants: everything is checked and every new title is known free
//! before the first page is written, so a refused copy writes nothing; only
//! pages the copier may see are copied (read restrictions are inherited, so
//! a hidden page hides its subtree); each copy is made as the copier, through
//! `content::create` and `attach::record`, so it passes the same checks and
//! reaches search and watchers as any new page; restrictions are copied
//! last, so a restriction cannot lock the copier out half-way.

use std::collections::HashMap;

use crate::content::{self, Content, ContentType};
use crate::error::{Error, Result};
use crate::perms::Viewer;

/// What to copy, and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// The copy of the page itself; empty: "Copy of TITLE".
    pub title: String,
    /// The destination space; `None`: the page's own.
    pub space_key: Option<String>,
    /// The destination parent page; `None`: the page's own parent (in its
    /// space) or the top of the destination space.
    pub parent: Option<i64>,
    pub children: bool,
    pub attachments: bool,
    pub labels: bool,
    pub restrictions: bool,
    pub properties: bool,
    /// Put before the titles of the pages under the copied one (which would
    /// otherwise clash with their originals in the same space).
    pub prefix: String,
    /// Replace `search` by `replace` in those titles (after the prefix).
    pub search: String,
    pub replace: String,
}

impl Options {
    /// Confluence's defaults for a copy: the page alone, with its
    /// attachments, labels, restrictions and properties.
    pub fn page(title: &str) -> Options {
        Options {
            title: title.to_owned(),
            space_key: None,
            parent: None,
            children: false,
            attachments: true,
            labels: true,
            restrictions: true,
            properties: true,
            prefix: String::new(),
            search: String::new(),
            replace: String::new(),
        }
    }
}

/// A checked copy, ready to run.
pub struct Plan {
    viewer: Viewer,
    opts: Options,
    space_key: String,
    root_parent: Option<i64>,
    /// The pages to copy, each after its parent, with their new titles.
    pages: Vec<(Content, String)>,
    attachments: i64,
}

impl Plan {
    /// The pages it copies.
    pub fn pages(&self) -> usize {
        self.pages.len()
    }

    /// Pages plus attachments: the steps its progress counts.
    pub fn steps(&self) -> i64 {
        self.pages.len() as i64 + self.attachments
    }

    pub fn source_title(&self) -> &str {
        &self.pages[0].0.title
    }
}

/// Checks a copy of page `id` and everything it would write.
pub async fn plan(
    db: &impl deadpool_postgres::GenericClient,
    viewer: &Viewer,
    id: i64,
    mut opts: Options,
) -> Result<Plan> {
    viewer.require_user()?;
    let root = content::get(db, viewer, id).await?;
    if root.content_type != ContentType::Page {
        return Err(Error::BadRequest("only pages can be copied".into()));
    }
    if opts.title.trim().is_empty() {
        opts.title = format!("Copy of {}", root.title);
    }
    opts.title = opts.title.trim().to_owned();
    let space_key = match opts.space_key.as_deref().map(str::trim) {
        Some(k) if !k.is_empty() => k.to_owned(),
        _ => root.space_key.clone(),
    };
    let dest = content::space(db, viewer, &space_key).await?;
    viewer
        .require_space_perm(db, dest.id, crate::perms::SpacePerm::Edit)
        .await?;
    let root_parent = match opts.parent {
        Some(p) => {
            let parent = content::get(db, viewer, p).await.map_err(|_| {
                Error::BadRequest(format!("the parent page {p} does not exist or is hidden"))
            })?;
            if parent.content_type != ContentType::Page || parent.space_id != dest.id {
                return Err(Error::BadRequest(format!(
                    "the parent page must be a page in space {}",
                    dest.key
                )));
            }
            Some(p)
        }
        None if dest.id == root.space_id => root.parent_id,
        None => None,
    };
    let mut pages = vec![root.clone()];
    if opts.children {
        let ids: Vec<i64> = crate::db::query(
            db,
            "SELECT id FROM content WHERE content_type = 'page' AND status = 'current'
               AND $1 = ANY(ancestors)
             ORDER BY cardinality(ancestors), position, lower(title), id",
            &[&id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        pages.extend(content::get_many_meta(db, viewer, &ids).await?);
    }
    // New titles, each checked against the destination and the others.
    let mut planned: Vec<(Content, String)> = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for (i, p) in pages.into_iter().enumerate() {
        let title = if i == 0 {
            opts.title.clone()
        } else {
            let mut t = format!("{}{}", opts.prefix, p.title);
            if !opts.search.is_empty() {
                t = t.replace(&opts.search, &opts.replace);
            }
            t.trim().to_owned()
        };
        if title.is_empty() || title.chars().count() > 255 {
            return Err(Error::BadRequest(format!(
                "the copy of \"{}\" would have {} title; change the prefix or the replacement",
                p.title,
                if title.is_empty() {
                    "an empty"
                } else {
                    "a too long"
                }
            )));
        }
        if let Some(other) = seen.insert(title.to_lowercase(), p.title.clone()) {
            return Err(Error::BadRequest(format!(
                "the copies of \"{other}\" and \"{}\" would both be titled \"{title}\"",
                p.title
            )));
        }
        planned.push((p, title));
    }
    let lower: Vec<String> = seen.keys().cloned().collect();
    if let Some(r) = crate::db::query_opt(
        db,
        "SELECT title FROM content WHERE space_id = $1 AND content_type = 'page' AND status = 'current'
           AND lower(title) = ANY($2) ORDER BY lower(title) LIMIT 1",
        &[&dest.id, &lower],
    )
    .await?
    {
        let taken: String = r.get(0);
        return Err(Error::BadRequest(format!(
            "a page titled \"{taken}\" already exists in space {}; choose another title{}",
            dest.key,
            if opts.children {
                " or a prefix for the pages under it"
            } else {
                ""
            }
        )));
    }
    let attachments = if opts.attachments {
        let ids: Vec<i64> = planned.iter().map(|(p, _)| p.id).collect();
        crate::db::query_one(
            db,
            "SELECT count(*) FROM content WHERE container_id = ANY($1) AND content_type = 'attachment'
               AND status = 'current'",
            &[&ids],
        )
        .await?
        .get(0)
    } else {
        0
    };
    Ok(Plan {
        viewer: viewer.clone(),
        opts,
        space_key: dest.key,
        root_parent,
        pages: planned,
        attachments,
    })
}

/// Runs a plan; `step` hears the steps done so far. Returns the copy of
/// the page.
pub async fn run<F, Fut>(db: &mut deadpool_postgres::Object, plan: Plan, step: F) -> Result<Content>
where
    F: Fn(i64) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let Plan {
        viewer,
        opts,
        space_key,
        root_parent,
        pages,
        ..
    } = plan;
    // Links between the copied pages follow them to their new titles.
    let renamed: Vec<(String, String)> = pages
        .iter()
        .filter(|(p, t)| &p.title != t)
        .map(|(p, t)| {
            (
                format!("ri:content-title=\"{}\"", content::xml_escape(&p.title)),
                format!("ri:content-title=\"{}\"", content::xml_escape(t)),
            )
        })
        .collect();
    let mut copies: HashMap<i64, i64> = HashMap::new();
    let mut done = 0i64;
    let mut first: Option<Content> = None;
    for (i, (page, title)) in pages.iter().enumerate() {
        let parent = if i == 0 {
            root_parent
        } else {
            match page.parent_id.and_then(|p| copies.get(&p)) {
                Some(p) => Some(*p),
                None => continue,
            }
        };
        let source = content::get(&*db, &viewer, page.id).await?;
        let mut body = source.body.clone();
        for (old, new) in &renamed {
            body = body.replace(old, new);
        }
        let labels = if opts.labels {
            content::labels(&*db, page.id).await?
        } else {
            Vec::new()
        };
        let copy = content::create(
            db,
            &viewer,
            content::NewContent {
                content_type: ContentType::Page,
                space_key: &space_key,
                title,
                body: &body,
                parent_id: parent,
                message: &format!("Copied from \"{}\"", source.title),
                labels: &labels,
                posting_day: None,
            },
        )
        .await?;
        copies.insert(page.id, copy.id);
        done += 1;
        step(done).await?;
        if opts.attachments {
            let n = crate::attach::copy_all(db, &viewer, &source, copy.id).await?;
            done += n as i64;
            if n > 0 {
                step(done).await?;
            }
        }
        if opts.properties {
            content::copy_properties(&*db, &viewer, page.id, copy.id).await?;
        }
        if first.is_none() {
            first = Some(copy);
        }
    }
    if opts.restrictions {
        for (from, to) in &copies {
            content::copy_restrictions(&*db, *from, *to).await?;
        }
    }
    let first = first.ok_or_else(|| Error::Internal("a copy with no page".into()))?;
    content::get(&*db, &viewer, first.id).await
}

/// Copies the page alone, now.
pub async fn copy_page(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    id: i64,
    opts: Options,
) -> Result<Content> {
    let plan = plan(
        &*db,
        viewer,
        id,
        Options {
            children: false,
            ..opts
        },
    )
    .await?;
    run(db, plan, |_| async { Ok(()) }).await
}

/// Copies the page and the pages under it as a long task; returns its id.
pub async fn copy_tree(
    pool: &deadpool_postgres::Pool,
    node_id: &str,
    viewer: &Viewer,
    id: i64,
    opts: Options,
) -> Result<i64> {
    let db = pool.get().await?;
    let plan = plan(
        &db,
        viewer,
        id,
        Options {
            children: true,
            ..opts
        },
    )
    .await?;
    drop(db);
    let name = format!(
        "Copy \"{}\" and the {} pages under it",
        plan.source_title(),
        plan.pages() - 1
    );
    let steps = plan.steps();
    let task_pool = pool.clone();
    crate::longtask::start(
        pool,
        node_id,
        viewer,
        "copy-page-hierarchy",
        &name,
        move |progress| async move {
            progress.set(0, steps).await?;
            let mut db = task_pool.get().await?;
            let pages = plan.pages();
            let copy = run(&mut db, plan, |done| progress.set(done, steps)).await?;
            Ok((
                crate::urls::page_url(&copy.space_key, copy.id, &copy.title),
                format!("Copied {pages} pages as \"{}\".", copy.title),
            ))
        },
    )
    .await
}
