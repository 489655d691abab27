//! Resolving a body's references as the viewer: the pages, attachments,
//! users and spaces it links to (and that its macros' parameters name).
//! Macros are the plugins' (`with_plugins.rs`): the host renders none.
//!
//! Invariant: a target the viewer may not view resolves exactly like a
//! missing one, so no title leaks through a link or a macro.

use crate::content::{self, Content, ContentType};
use crate::error::Result;
use crate::perms::Viewer;
use crate::urls::{download_url, enc, page_url, user_url};
use cairn_render::{AttachmentRef, Context, Link, MacroCall, PageRef, References};
use deadpool_postgres::GenericClient;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

#[derive(Default, Hash)]
pub(super) struct Resolved {
    pub(super) current_space: String,
    pub(super) current_page: Option<i64>,
    pub(super) pages: BTreeMap<PageRef, (String, String)>,
    pub(super) attachments: BTreeMap<AttachmentRef, (String, String)>,
    pub(super) users: BTreeMap<String, (String, String)>,
    pub(super) contents: BTreeMap<i64, (String, String)>,
    pub(super) spaces: BTreeMap<String, (String, String)>,
    /// Today (UTC), so overdue tasks are marked; being part of the render
    /// cache's key, a cached rendering lasts at most until midnight.
    pub(super) today: Option<String>,
}

pub(super) fn link((url, title): &(String, String)) -> Link {
    Link {
        url: url.clone(),
        title: title.clone(),
    }
}

impl Context for Resolved {
    fn current_space(&self) -> &str {
        &self.current_space
    }
    fn page(&self, r: &PageRef) -> Option<Link> {
        self.pages.get(r).map(link)
    }
    fn attachment(&self, r: &AttachmentRef) -> Option<Link> {
        self.attachments.get(r).map(link)
    }
    fn user(&self, key: &str) -> Option<Link> {
        self.users.get(key).map(link)
    }
    fn content(&self, id: i64) -> Option<Link> {
        self.contents.get(&id).map(link)
    }
    fn space(&self, key: &str) -> Option<Link> {
        self.spaces.get(key).map(link)
    }
    fn render_macro(&self, _: &MacroCall) -> Option<String> {
        None
    }
    fn emoticon_image(&self, name: &str) -> Option<String> {
        crate::urls::emoticon_url(name)
    }
    fn today(&self) -> Option<String> {
        self.today.clone()
    }
}

pub(super) fn norm_day(d: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(d, "%Y/%m/%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d"))
        .ok()
}

/// Looks up page references as the viewer: (space key, lower title) →
/// content, without bodies.
async fn resolve_pages(
    db: &impl GenericClient,
    viewer: &Viewer,
    current_space: &str,
    refs: impl Iterator<Item = &PageRef>,
) -> Result<HashMap<PageRef, Content>> {
    let refs: Vec<&PageRef> = refs.collect();
    if refs.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<String> = refs
        .iter()
        .map(|r| {
            r.space_key
                .as_deref()
                .unwrap_or(current_space)
                .to_uppercase()
        })
        .collect();
    let titles: Vec<String> = refs.iter().map(|r| r.title.to_lowercase()).collect();
    let blog: Vec<bool> = refs.iter().map(|r| r.posting_day.is_some()).collect();
    // One branch per content type, so each probes its partial title index
    // (`content_page_title`, `content_blog_title`) instead of filtering
    // every page of the space.
    let rows = crate::db::query(
        db,
        "SELECT c.id FROM unnest($1::text[], $2::text[], $3::bool[]) AS r(k, t, b)
           JOIN spaces s ON upper(s.space_key) = r.k
           JOIN content c ON c.space_id = s.id AND lower(c.title) = r.t
          WHERE NOT r.b AND c.content_type = 'page' AND c.status = 'current'
         UNION ALL
         SELECT c.id FROM unnest($1::text[], $2::text[], $3::bool[]) AS r(k, t, b)
           JOIN spaces s ON upper(s.space_key) = r.k
           JOIN content c ON c.space_id = s.id AND lower(c.title) = r.t
          WHERE r.b AND c.content_type = 'blogpost' AND c.status = 'current'",
        &[&keys, &titles, &blog],
    )
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let found = content::get_many_meta(db, viewer, &ids).await?;
    let mut out = HashMap::new();
    for r in refs {
        let key = r.space_key.as_deref().unwrap_or(current_space);
        let want_type = if r.posting_day.is_some() {
            ContentType::BlogPost
        } else {
            ContentType::Page
        };
        let day = r.posting_day.as_deref().and_then(norm_day);
        if let Some(c) = found.iter().find(|c| {
            c.space_key.eq_ignore_ascii_case(key)
                && c.title.to_lowercase() == r.title.to_lowercase()
                && c.content_type == want_type
                && (day.is_none() || c.posting_day == day)
        }) {
            out.insert(r.clone(), c.clone());
        }
    }
    Ok(out)
}

/// Resolves every reference of a body for the viewer.
pub(super) async fn resolve<D: GenericClient>(
    db: &D,
    viewer: &Viewer,
    space_key: &str,
    page: Option<&Content>,
    refs: &References,
) -> Result<Resolved> {
    let mut res = Resolved {
        current_space: space_key.to_owned(),
        current_page: page.map(|p| p.id),
        today: Some(chrono::Utc::now().date_naive().to_string()),
        ..Resolved::default()
    };
    let mut all_pages: Vec<PageRef> = refs.pages.iter().cloned().collect();
    for m in &refs.macros {
        all_pages.extend(m.param_pages.values().cloned());
    }
    let pages = resolve_pages(db, viewer, space_key, all_pages.iter()).await?;
    for (r, c) in &pages {
        res.pages.insert(
            r.clone(),
            (page_url(&c.space_key, c.id, &c.title), c.title.clone()),
        );
    }
    // Attachments: (container id, lower filename) as the viewer.
    if !refs.attachments.is_empty() {
        let mut containers = Vec::new();
        let mut names = Vec::new();
        let mut wanted = Vec::new();
        for a in &refs.attachments {
            let cid = match &a.container {
                None => page.map(|p| p.id),
                Some(pr) => pages.get(pr).map(|c| c.id),
            };
            if let Some(cid) = cid {
                containers.push(cid);
                names.push(a.filename.to_lowercase());
                wanted.push((a, cid));
            }
        }
        let rows = crate::db::query(db,
                "SELECT c.id, c.container_id, c.title FROM content c
                 JOIN unnest($1::bigint[], $2::text[]) AS r(p, n) ON c.container_id = r.p AND lower(c.title) = r.n
                 WHERE c.content_type = 'attachment' AND c.status = 'current'",
                &[&containers, &names],
            )
            .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let visible = content::get_many_meta(db, viewer, &ids).await?;
        for (a, cid) in wanted {
            if let Some(att) = visible.iter().find(|v| {
                v.container_id == Some(cid) && v.title.to_lowercase() == a.filename.to_lowercase()
            }) {
                res.attachments.insert(
                    a.clone(),
                    (download_url(cid, &att.title, None), att.title.clone()),
                );
            }
        }
    }
    if !refs.users.is_empty() && viewer.can_use {
        let keys: Vec<String> = refs.users.iter().cloned().collect();
        let rows = crate::db::query(db,
                "SELECT user_key, username, display_name FROM users WHERE user_key = ANY($1) OR username = ANY($1)",
                &[&keys],
            )
            .await?;
        for r in rows {
            let (k, u, d): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            let l = (user_url(&u), d);
            if refs.users.contains(&u) {
                res.users.insert(u.clone(), l.clone());
            }
            res.users.insert(k, l);
        }
    }
    if !refs.content_ids.is_empty() {
        let ids: Vec<i64> = refs.content_ids.iter().copied().collect();
        for c in content::get_many_meta(db, viewer, &ids).await? {
            res.contents.insert(
                c.id,
                (page_url(&c.space_key, c.id, &c.title), c.title.clone()),
            );
        }
    }
    for key in &refs.spaces {
        if let Ok(s) = content::space(db, viewer, key).await {
            res.spaces.insert(
                key.clone(),
                (format!("/spaces/{}", enc(&s.key)), s.name.clone()),
            );
        }
    }
    Ok(res)
}
