//! Rendering content for a viewer: resolves what a body points at (pages,
//! attachments, users, macro data) as that viewer, then runs the storage
//! format renderer (`cairn_render`) and caches the result.
//!
//! Invariants: a target the viewer may not view resolves exactly like a
//! missing one (a broken link showing the text the author wrote), so no
//! title leaks through links or macros; the cache key includes a digest of
//! every resolved answer, so a cached page is only reused when it would
//! render identically for this viewer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use cairn_render::{AttachmentRef, Context, Link, MacroBody, MacroCall, PageRef, References};
use deadpool_postgres::GenericClient;

use crate::content::{self, Content, ContentType};
use crate::error::{Error, Result};
use crate::perms::Viewer;
use crate::plugins::{PageContext, Plugins, Registry};

/// The path of a page in the UI (Confluence's modern URL form).
pub fn page_url(space_key: &str, id: i64, title: &str) -> String {
    format!("/spaces/{}/pages/{id}/{}", enc(space_key), slug(title))
}

/// What [`enc`] leaves as is: letters, digits and `-._~`.
const URL_KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A title in a page URL: spaces become `+`, and `+` stays `+`.
pub fn slug(title: &str) -> String {
    const SLUG_KEEP: &percent_encoding::AsciiSet = &URL_KEEP.remove(b'+');
    percent_encoding::utf8_percent_encode(&title.replace(' ', "+"), SLUG_KEEP).to_string()
}

pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, URL_KEEP).to_string()
}

pub fn download_url(page_id: i64, filename: &str, version: Option<i32>) -> String {
    match version {
        Some(v) => format!(
            "/download/attachments/{page_id}/{}?version={v}",
            enc(filename)
        ),
        None => format!("/download/attachments/{page_id}/{}", enc(filename)),
    }
}

pub fn user_url(username: &str) -> String {
    format!("/users/{}", enc(username))
}

#[derive(Debug)]
pub struct RenderedPage {
    pub html: String,
    pub headings: Vec<cairn_render::Heading>,
    /// Every plugin macro in it declared itself cacheable: the output
    /// depends only on the stored data, so a response made of it may be
    /// cached until the data generation moves.
    pub cacheable: bool,
}

/// Per-node render caches.
#[derive(Clone)]
pub struct Renderer {
    refs: Arc<quick_cache::sync::Cache<(i64, i32), Arc<References>>>,
    pages: Arc<quick_cache::sync::Cache<(i64, i32, u64), Arc<RenderedPage>>>,
    plugins: Option<Plugins>,
}

impl Default for Renderer {
    fn default() -> Self {
        Renderer {
            refs: Arc::new(quick_cache::sync::Cache::new(20_000)),
            pages: Arc::new(quick_cache::sync::Cache::new(5_000)),
            plugins: None,
        }
    }
}

impl Renderer {
    /// Macros provided by plugins are rendered by them.
    pub fn with_plugins(mut self, plugins: Plugins) -> Renderer {
        self.plugins = Some(plugins);
        self
    }

    pub fn plugins(&self) -> Option<&Plugins> {
        self.plugins.as_ref()
    }
}

/// The renderer's context when plugins take part: the resolved host answers
/// plus a way to call plugins (on the blocking thread that renders).
struct WithPlugins<'a> {
    res: &'a Resolved,
    plugins: &'a Plugins,
    registry: &'a Registry,
    viewer: &'a Viewer,
    page: &'a PageContext,
    /// Headings of the page; `None` in the first pass that finds them.
    headings: Option<&'a [cairn_render::Heading]>,
}

impl Context for WithPlugins<'_> {
    fn current_space(&self) -> &str {
        self.res.current_space()
    }
    fn page(&self, r: &PageRef) -> Option<Link> {
        self.res.page(r)
    }
    fn attachment(&self, r: &AttachmentRef) -> Option<Link> {
        self.res.attachment(r)
    }
    fn user(&self, key: &str) -> Option<Link> {
        self.res.user(key)
    }
    fn content(&self, id: i64) -> Option<Link> {
        self.res.content(id)
    }
    fn space(&self, key: &str) -> Option<Link> {
        self.res.space(key)
    }
    fn render_macro(&self, call: &MacroCall) -> Option<String> {
        if self.registry.provides(&call.name) {
            return match self.headings {
                None => Some(String::new()),
                Some(h) => {
                    self.plugins
                        .render_macro(self.registry, self.viewer, self.page, h, call)
                }
            };
        }
        self.res.render_macro(call)
    }
}

/// Renders a body that points at nothing else (no links to resolve), calling
/// plugins for the macros they provide: for benchmarks and tools. Run it on
/// a blocking thread when plugins use capabilities.
pub fn render_with_plugins(
    body: &str,
    space_key: &str,
    plugins: &Plugins,
    registry: &Registry,
    viewer: &Viewer,
    page: &PageContext,
) -> std::result::Result<cairn_render::Rendered, cairn_render::SyntaxError> {
    let res = Resolved {
        current_space: space_key.to_string(),
        current_page: page.page_id,
        ..Resolved::default()
    };
    render_blocking(body, &res, Some((plugins, registry, viewer, page)), None).map(|(r, _)| r)
}

thread_local! {
    /// Pages being rendered on this thread, outermost first (include cycles).
    static RENDERING: std::cell::RefCell<Vec<i64>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct RenderingGuard(bool);
impl RenderingGuard {
    fn push(id: Option<i64>) -> RenderingGuard {
        match id {
            Some(id) => {
                RENDERING.with(|r| r.borrow_mut().push(id));
                RenderingGuard(true)
            }
            None => RenderingGuard(false),
        }
    }
}
impl Drop for RenderingGuard {
    fn drop(&mut self) {
        if self.0 {
            RENDERING.with(|r| r.borrow_mut().pop());
        }
    }
}

/// Renders page `id` (or its excerpt) as `viewer` for a plugin's
/// `render-page`/`render-excerpt` call: on the blocking thread of the page
/// that includes it, with plugins, refusing cycles and deep nesting.
pub fn render_included(
    plugins: &Plugins,
    handle: &tokio::runtime::Handle,
    viewer: &Viewer,
    id: i64,
    excerpt: Option<&str>,
) -> std::result::Result<String, String> {
    let chain = RENDERING.with(|r| r.borrow().clone());
    if chain.contains(&id) {
        return Err("the page includes itself (directly or through other pages)".into());
    }
    if chain.len() > MAX_INCLUDE_DEPTH {
        return Err(format!("includes nest more than {MAX_INCLUDE_DEPTH} deep"));
    }
    let renderer = plugins
        .renderer()
        .ok_or_else(|| "pages cannot be rendered here".to_string())?;
    let missing = || "the page does not exist or you may not view it".to_string();
    // Bounded by the deadline of the plugin call that asked (its time limit
    // holds while the host reads the page).
    let left = crate::plugins::runtime::time_left().unwrap_or(std::time::Duration::from_secs(30));
    let read = async {
        let db = plugins.pool().get().await.map_err(|e| e.to_string())?;
        let c = match content::get(&db, viewer, id).await {
            Ok(c)
                if c.status == "current"
                    && matches!(c.content_type, ContentType::Page | ContentType::BlogPost) =>
            {
                c
            }
            Ok(_) | Err(Error::NotFound(_)) | Err(Error::Forbidden(_)) => return Err(missing()),
            Err(e) => return Err(e.to_string()),
        };
        let body = match excerpt {
            None => c.body.clone(),
            Some(name) => {
                let refs = renderer.references(&c).map_err(|e| e.to_string())?;
                let want = Some(name.trim()).filter(|n| !n.is_empty());
                let ex = refs.macros.iter().find(|x| {
                    x.name.eq_ignore_ascii_case("excerpt")
                        && (want.is_none() || param(x, "name") == want)
                });
                match ex.map(|x| &x.body) {
                    Some(MacroBody::Rich(b)) => b.clone(),
                    _ => return Err("the page has no such excerpt".into()),
                }
            }
        };
        let refs = cairn_render::references(&body).map_err(|e| e.to_string())?;
        let mut visiting: HashSet<i64> = chain.iter().copied().collect();
        visiting.insert(id);
        let resolved = resolve(
            renderer,
            &db,
            viewer,
            &c.space_key,
            Some(&c),
            &refs,
            &mut visiting,
            false,
        )
        .await
        .map_err(|e| e.to_string())?;
        Ok((c, body, resolved))
    };
    let (c, body, resolved) = handle.block_on(async {
        tokio::time::timeout(left, read)
            .await
            .unwrap_or_else(|_| Err("reading the page took longer than the time limit".into()))
    })?;
    let registry = plugins.registry();
    let page = PageContext {
        page_id: Some(c.id),
        title: c.title.clone(),
        page_type: c.content_type.as_str().to_string(),
        space_key: c.space_key.clone(),
        version: c.version,
        target: crate::plugins::OutputTarget::View,
    };
    render_blocking(
        &body,
        &resolved,
        Some((plugins, &registry, viewer, &page)),
        None,
    )
    .map(|(r, _)| r.html)
    .map_err(|e| e.to_string())
}

/// Renders `body`, calling plugins for the macros they provide. Plugins get
/// the page's headings, found by a first pass that skips plugin calls. The
/// [`Taint`] says whether the page may be cached. Plugin calls stop when
/// `cancelled` is set (the client has gone).
fn render_blocking(
    body: &str,
    res: &Resolved,
    plugins: Option<(&Plugins, &Registry, &Viewer, &PageContext)>,
    cancelled: Option<Arc<std::sync::atomic::AtomicBool>>,
) -> std::result::Result<(cairn_render::Rendered, Taint), cairn_render::SyntaxError> {
    let Some((plugins, registry, viewer, page)) = plugins else {
        return cairn_render::render(body, res).map(|r| (r, Taint::default()));
    };
    let scope = plugins.enter_page(cancelled);
    let _rendering = RenderingGuard::push(page.page_id);
    let mut ctx = WithPlugins {
        res,
        plugins,
        registry,
        viewer,
        page,
        headings: None,
    };
    let first = cairn_render::render(body, &ctx)?;
    ctx.headings = Some(&first.headings);
    let out = cairn_render::render(body, &ctx)?;
    Ok((
        out,
        Taint {
            read_data: scope.read_data(),
            incomplete: scope.incomplete(),
        },
    ))
}

/// What plugin calls did to a render's cacheability.
#[derive(Default, Clone, Copy)]
struct Taint {
    /// A call read content as the viewer (or its key-value store): not for
    /// the page cache other viewers share.
    read_data: bool,
    /// A macro failed or was not rendered: not for any cache.
    incomplete: bool,
}

/// Sets its flag when dropped: a render whose request future is dropped (the
/// client has gone) tells its blocking thread to stop calling plugins.
struct CancelOnDrop(Arc<std::sync::atomic::AtomicBool>);
impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[derive(Default, Hash)]
struct Resolved {
    current_space: String,
    current_page: Option<i64>,
    pages: BTreeMap<PageRef, (String, String)>,
    attachments: BTreeMap<AttachmentRef, (String, String)>,
    users: BTreeMap<String, (String, String)>,
    contents: BTreeMap<i64, (String, String)>,
    spaces: BTreeMap<String, (String, String)>,
    macros: BTreeMap<String, String>,
}

fn macro_key(name: &str, params: &BTreeMap<String, String>) -> String {
    let mut k = name.to_ascii_lowercase();
    for (p, v) in params {
        k.push('\u{1}');
        k.push_str(p);
        k.push('\u{2}');
        k.push_str(v);
    }
    k
}

fn link((url, title): &(String, String)) -> Link {
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
    fn render_macro(&self, call: &MacroCall) -> Option<String> {
        self.macros
            .get(&macro_key(&call.name, &call.params))
            .cloned()
    }
}

/// Macros the host renders from the database; the rest are the renderer's
/// built-ins (or, later, plugins).
const HOST_MACROS: &[&str] = &[
    "children",
    "include",
    "excerpt-include",
    "attachments",
    "recently-updated",
    "contentbylabel",
    "pagetree",
];

const MAX_INCLUDE_DEPTH: usize = 3;

fn esc(s: &str) -> String {
    content::xml_escape(s)
}

impl Renderer {
    fn references(&self, c: &Content) -> Result<Arc<References>> {
        if let Some(r) = self.refs.get(&(c.id, c.version)) {
            return Ok(r);
        }
        let r =
            Arc::new(cairn_render::references(&c.body).map_err(|e| {
                Error::Internal(format!("stored body of {} is ill-formed: {e}", c.id))
            })?);
        self.refs.insert((c.id, c.version), r.clone());
        Ok(r)
    }

    /// Plugins taking part in rendering `refs`: the registry snapshot, and
    /// whether every plugin macro used is cacheable (viewer-independent).
    fn plugin_part(&self, refs: &References) -> Option<(Plugins, Arc<Registry>, bool)> {
        let plugins = self.plugins.as_ref()?;
        let registry = plugins.registry();
        let mut used = false;
        let mut cacheable = true;
        for m in &refs.macros {
            if let Some(l) = registry.provider(&m.name) {
                used = true;
                cacheable &= l.spec(&m.name).is_some_and(|s| s.cacheable);
            }
        }
        used.then(|| (plugins.clone(), registry, cacheable))
    }

    /// Whether every plugin macro in stored content declares itself
    /// cacheable (no rendering; the parsed references are cached).
    pub fn is_cacheable(&self, c: &Content) -> Result<bool> {
        let refs = self.references(c)?;
        Ok(self.plugin_part(&refs).is_none_or(|(_, _, all)| all))
    }

    /// Renders a stored version of content for `viewer`, cached.
    pub async fn render_content(
        &self,
        db: &impl GenericClient,
        viewer: &Viewer,
        c: &Content,
    ) -> Result<Arc<RenderedPage>> {
        let (refs, resolved) = self.resolve_content(db, viewer, c).await?;
        self.render_resolved(viewer, c, &refs, resolved).await
    }

    /// [`Renderer::render_content`] holding a database connection only
    /// while resolving references, never while plugins run.
    pub async fn render_content_pooled(
        &self,
        pool: &deadpool_postgres::Pool,
        viewer: &Viewer,
        c: &Content,
    ) -> Result<Arc<RenderedPage>> {
        let (refs, resolved) = {
            let db = pool.get().await?;
            self.resolve_content(&db, viewer, c).await?
        };
        self.render_resolved(viewer, c, &refs, resolved).await
    }

    async fn resolve_content(
        &self,
        db: &impl GenericClient,
        viewer: &Viewer,
        c: &Content,
    ) -> Result<(Arc<References>, Resolved)> {
        let refs = self.references(c)?;
        let mut visiting = HashSet::from([c.id]);
        let resolved = resolve(
            self,
            db,
            viewer,
            &c.space_key,
            Some(c),
            &refs,
            &mut visiting,
            false,
        )
        .await?;
        Ok((refs, resolved))
    }

    async fn render_resolved(
        &self,
        viewer: &Viewer,
        c: &Content,
        refs: &References,
        resolved: Resolved,
    ) -> Result<Arc<RenderedPage>> {
        let part = self.plugin_part(refs);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        resolved.hash(&mut h);
        // A page whose plugin macros all declare themselves cacheable is
        // cached per registry generation; otherwise it renders every time.
        let cacheable = match &part {
            None => true,
            Some((_, reg, all)) => {
                reg.generation.hash(&mut h);
                *all
            }
        };
        let key = (c.id, c.version, h.finish());
        if cacheable {
            if let Some(p) = self.pages.get(&key) {
                return Ok(p);
            }
        }
        let body = c.body.clone();
        let page_ctx = PageContext {
            page_id: Some(c.id),
            title: c.title.clone(),
            page_type: c.content_type.as_str().to_string(),
            space_key: c.space_key.clone(),
            version: c.version,
            target: crate::plugins::OutputTarget::View,
        };
        let viewer = viewer.clone();
        let cancel = CancelOnDrop(Arc::default());
        let cancelled = cancel.0.clone();
        let (out, taint) = tokio::task::spawn_blocking(move || {
            let plugins = part
                .as_ref()
                .map(|(p, r, _)| (p, r.as_ref(), &viewer, &page_ctx));
            render_blocking(&body, &resolved, plugins, Some(cancelled))
        })
        .await
        .map_err(Error::internal)?
        .map_err(|e| Error::Internal(format!("stored body of {} is ill-formed: {e}", c.id)))?;
        drop(cancel);
        let cacheable = cacheable && !taint.incomplete;
        let page = Arc::new(RenderedPage {
            html: out.html,
            headings: out.headings,
            cacheable,
        });
        // The page cache is shared by every viewer whose references resolve
        // alike; a page whose plugins read content as this viewer is not.
        if cacheable && !taint.read_data {
            self.pages.insert(key, page.clone());
        }
        Ok(page)
    }

    /// Renders a body that is not stored (preview, historical versions,
    /// conversion). Ill-formed input is a 400 saying where.
    pub async fn render_source(
        &self,
        db: &impl GenericClient,
        viewer: &Viewer,
        space_key: &str,
        page: Option<&Content>,
        body: &str,
    ) -> Result<RenderedPage> {
        let refs = cairn_render::references(body).map_err(|e| {
            Error::BadRequest(format!("the body is not well-formed storage format: {e}"))
        })?;
        let mut visiting = HashSet::new();
        if let Some(p) = page {
            visiting.insert(p.id);
        }
        let resolved = resolve(
            self,
            db,
            viewer,
            space_key,
            page,
            &refs,
            &mut visiting,
            false,
        )
        .await?;
        let part = self.plugin_part(&refs);
        let cacheable = part.as_ref().is_none_or(|(_, _, all)| *all);
        let page_ctx = PageContext {
            page_id: page.map(|p| p.id),
            title: page.map(|p| p.title.clone()).unwrap_or_default(),
            page_type: page
                .map(|p| p.content_type.as_str().to_string())
                .unwrap_or_else(|| "page".into()),
            space_key: space_key.to_string(),
            version: page.map(|p| p.version).unwrap_or(0),
            target: crate::plugins::OutputTarget::Preview,
        };
        let viewer = viewer.clone();
        let body = body.to_owned();
        let cancel = CancelOnDrop(Arc::default());
        let cancelled = cancel.0.clone();
        let (out, taint) = tokio::task::spawn_blocking(move || {
            let plugins = part
                .as_ref()
                .map(|(p, r, _)| (p, r.as_ref(), &viewer, &page_ctx));
            render_blocking(&body, &resolved, plugins, Some(cancelled))
        })
        .await
        .map_err(Error::internal)?
        .map_err(|e| {
            Error::BadRequest(format!("the body is not well-formed storage format: {e}"))
        })?;
        Ok(RenderedPage {
            html: out.html,
            headings: out.headings,
            cacheable: cacheable && !taint.incomplete,
        })
    }
}

fn norm_day(d: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(d, "%Y/%m/%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d"))
        .ok()
}

/// Looks up page references as the viewer: (space key, lower title) →
/// content, without bodies except for the references in `with_body`.
async fn resolve_pages(
    db: &impl GenericClient,
    viewer: &Viewer,
    current_space: &str,
    refs: impl Iterator<Item = &PageRef>,
    with_body: &HashSet<&PageRef>,
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
    let ids: Vec<i64> = out
        .iter()
        .filter(|(r, _)| with_body.contains(r))
        .map(|(_, c)| c.id)
        .collect();
    if !ids.is_empty() {
        for full in content::get_many(db, viewer, &ids).await? {
            for c in out.values_mut().filter(|c| c.id == full.id) {
                *c = full.clone();
            }
        }
    }
    Ok(out)
}

fn boxed<'a, T>(
    f: impl std::future::Future<Output = T> + Send + 'a,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>> {
    Box::pin(f)
}

/// Resolves every reference of a body for the viewer.
#[allow(clippy::too_many_arguments)]
fn resolve<'a, D: GenericClient>(
    renderer: &'a Renderer,
    db: &'a D,
    viewer: &'a Viewer,
    space_key: &'a str,
    page: Option<&'a Content>,
    refs: &'a References,
    visiting: &'a mut HashSet<i64>,
    nested: bool,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Resolved>> + Send + 'a>> {
    boxed(async move {
        let mut res = Resolved {
            current_space: space_key.to_owned(),
            current_page: page.map(|p| p.id),
            ..Resolved::default()
        };
        let mut all_pages: Vec<PageRef> = refs.pages.iter().cloned().collect();
        for m in &refs.macros {
            all_pages.extend(m.param_pages.values().cloned());
        }
        // Included pages are rendered here, so their bodies are needed.
        let included: HashSet<&PageRef> = refs
            .macros
            .iter()
            .filter(|m| {
                m.name.eq_ignore_ascii_case("include")
                    || m.name.eq_ignore_ascii_case("excerpt-include")
            })
            .flat_map(|m| m.param_pages.values())
            .collect();
        let pages = resolve_pages(db, viewer, space_key, all_pages.iter(), &included).await?;
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
                    v.container_id == Some(cid)
                        && v.title.to_lowercase() == a.filename.to_lowercase()
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
        for m in &refs.macros {
            let name = m.name.to_ascii_lowercase();
            // At the top level plugins render the macros they provide; an
            // included page is rendered here by the host (no plugin calls in
            // this async context), so its macros are resolved by the host.
            if !HOST_MACROS.contains(&name.as_str())
                || (!nested
                    && renderer
                        .plugins
                        .as_ref()
                        .is_some_and(|p| p.registry().provides(&name)))
            {
                continue;
            }
            let key = macro_key(&m.name, &m.params);
            if res.macros.contains_key(&key) {
                continue;
            }
            let html =
                host_macro(renderer, db, viewer, space_key, page, m, &pages, visiting).await?;
            res.macros.insert(key, html);
        }
        Ok(res)
    })
}

fn param<'a>(m: &'a MacroCall, name: &str) -> Option<&'a str> {
    m.params
        .get(name)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

fn macro_error(name: &str, msg: &str) -> String {
    format!(
        "<div class=\"macro-error\">{}: {}</div>",
        esc(name),
        esc(msg)
    )
}

#[allow(clippy::too_many_arguments)]
async fn host_macro<D: GenericClient>(
    renderer: &Renderer,
    db: &D,
    viewer: &Viewer,
    space_key: &str,
    page: Option<&Content>,
    m: &MacroCall,
    pages: &HashMap<PageRef, Content>,
    visiting: &mut HashSet<i64>,
) -> Result<String> {
    let name = m.name.to_ascii_lowercase();
    // The page a macro is about: its page parameter, else the current page.
    let target: Option<Content> = match m.param_pages.get("page").or_else(|| m.param_pages.get(""))
    {
        Some(r) => pages.get(r).cloned(),
        None => match param(m, "page").or_else(|| param(m, "")) {
            Some(t) if name != "contentbylabel" && name != "recently-updated" => {
                content::by_title(db, viewer, space_key, t, ContentType::Page).await?
            }
            _ => page.cloned(),
        },
    };
    match name.as_str() {
        "children" | "pagetree" => {
            let Some(t) = target else {
                return Ok(macro_error(
                    &name,
                    "the page does not exist or you may not view it",
                ));
            };
            let depth: usize = if param(m, "all") == Some("true") {
                5
            } else {
                param(m, "depth")
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(1)
                    .clamp(1, 5)
            };
            let mut out = String::new();
            children_list(db, viewer, &t, depth, &mut out).await?;
            if out.is_empty() {
                return Ok("<p class=\"macro-empty\">No child pages.</p>".into());
            }
            Ok(format!("<div class=\"children-macro\">{out}</div>"))
        }
        "attachments" => {
            let Some(t) = target else {
                return Ok(macro_error(
                    &name,
                    "the page does not exist or you may not view it",
                ));
            };
            let list = crate::attach::list(db, viewer, t.id).await?;
            if list.is_empty() {
                return Ok("<p class=\"macro-empty\">No files attached.</p>".into());
            }
            let mut out = String::from("<table class=\"attachments-macro\"><thead><tr><th>File</th><th>Size</th><th>Modified</th></tr></thead><tbody>");
            for a in list {
                out.push_str(&format!(
                    "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
                    esc(&download_url(t.id, &a.content.title, None)),
                    esc(&a.content.title),
                    human_size(a.size),
                    a.content.modified_at.format("%Y-%m-%d %H:%M")
                ));
            }
            out.push_str("</tbody></table>");
            Ok(out)
        }
        "recently-updated" => {
            let max: i64 = param(m, "max")
                .and_then(|d| d.parse().ok())
                .unwrap_or(10)
                .clamp(1, 100);
            let space = content::space(db, viewer, space_key)
                .await
                .ok()
                .map(|s| s.id);
            let scope = match param(m, "spaces") {
                Some("@all") | Some("*") => None,
                _ => space,
            };
            let list = content::recently_updated(db, viewer, scope, None, max).await?;
            let mut out = String::from("<ul class=\"recently-updated\">");
            for c in list {
                out.push_str(&format!(
                    "<li><a href=\"{}\">{}</a> <span class=\"meta\">{} · {}</span></li>",
                    esc(&page_url(&c.space_key, c.id, &c.title)),
                    esc(&c.title),
                    esc(&c.modifier.display_name),
                    c.modified_at.format("%Y-%m-%d")
                ));
            }
            out.push_str("</ul>");
            Ok(out)
        }
        "contentbylabel" => {
            let labels: Vec<String> = param(m, "labels")
                .or_else(|| param(m, "cql").and_then(|c| c.split('"').nth(1)))
                .unwrap_or("")
                .split(',')
                .map(|l| l.trim().to_lowercase())
                .filter(|l| !l.is_empty())
                .collect();
            if labels.is_empty() {
                return Ok(macro_error(&name, "give a label (labels parameter)"));
            }
            let max: i64 = param(m, "max")
                .and_then(|d| d.parse().ok())
                .unwrap_or(20)
                .clamp(1, 100);
            let sql = format!(
                "SELECT c.id FROM content c WHERE c.status = 'current' AND c.content_type IN ('page', 'blogpost')
                 AND EXISTS (SELECT 1 FROM labels l WHERE l.content_id = c.id AND l.name = ANY($1))
                 AND {} ORDER BY c.modified_at DESC LIMIT $5",
                Viewer::content_filter(2, 3, 4)
            );
            let rows = crate::db::query(
                db,
                &sql,
                &[
                    &labels,
                    &viewer.user_id(),
                    &*viewer.groups,
                    &*viewer.view_spaces,
                    &max,
                ],
            )
            .await?;
            let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
            let list = content::get_many_meta(db, viewer, &ids).await?;
            let mut out = String::from("<ul class=\"content-by-label\">");
            for c in list {
                out.push_str(&format!(
                    "<li><a href=\"{}\">{}</a></li>",
                    esc(&page_url(&c.space_key, c.id, &c.title)),
                    esc(&c.title)
                ));
            }
            out.push_str("</ul>");
            Ok(out)
        }
        "include" | "excerpt-include" => {
            let Some(t) =
                target.filter(|t| Some(t.id) != page.map(|p| p.id) || m.param_pages.is_empty())
            else {
                return Ok(macro_error(
                    &name,
                    "the included page does not exist or you may not view it",
                ));
            };
            if visiting.contains(&t.id) || visiting.len() > MAX_INCLUDE_DEPTH {
                return Ok(macro_error(
                    &name,
                    "the page includes itself (directly or through other pages)",
                ));
            }
            let body = if name == "excerpt-include" {
                let refs = renderer.references(&t)?;
                let want = param(m, "name");
                let ex = refs.macros.iter().find(|x| {
                    x.name.eq_ignore_ascii_case("excerpt")
                        && (want.is_none() || param(x, "name") == want)
                });
                match ex.map(|x| &x.body) {
                    Some(MacroBody::Rich(b)) => b.clone(),
                    _ => return Ok(macro_error(&name, "the page has no excerpt")),
                }
            } else {
                t.body.clone()
            };
            visiting.insert(t.id);
            let refs = cairn_render::references(&body).unwrap_or_default();
            let inner = resolve(
                renderer,
                db,
                viewer,
                &t.space_key,
                Some(&t),
                &refs,
                visiting,
                true,
            )
            .await;
            visiting.remove(&t.id);
            let inner = inner?;
            let out = cairn_render::render(&body, &inner)
                .map(|r| r.html)
                .unwrap_or_else(|e| macro_error(&name, &e.to_string()));
            Ok(format!("<div class=\"include\">{out}</div>"))
        }
        _ => Ok(macro_error(&name, "not available")),
    }
}

fn children_list<'a, D: GenericClient>(
    db: &'a D,
    viewer: &'a Viewer,
    parent: &'a Content,
    depth: usize,
    out: &'a mut String,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
    boxed(async move {
        let kids = content::children(db, viewer, parent.space_id, Some(parent.id), 0, 200).await?;
        if kids.is_empty() {
            return Ok(());
        }
        out.push_str("<ul>");
        for k in kids {
            out.push_str(&format!(
                "<li><a href=\"{}\">{}</a>",
                esc(&page_url(&parent.space_key, k.id, &k.title)),
                esc(&k.title)
            ));
            if depth > 1 && k.has_children {
                let child = content::get(db, viewer, k.id).await?;
                children_list(db, viewer, &child, depth - 1, out).await?;
            }
            out.push_str("</li>");
        }
        out.push_str("</ul>");
        Ok(())
    })
}

pub fn human_size(n: i64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{n} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KB", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MB", n / 1024.0 / 1024.0)
    } else {
        format!("{:.1} GB", n / 1024.0 / 1024.0 / 1024.0)
    }
}
