//! Rendering content for a viewer: resolves what a body points at (pages,
//! attachments, users, macro data) as that viewer, then runs the storage
//! format renderer (`cairn_render`) and caches the result.
//!
//! Invariants: a target the viewer may not view resolves exactly like a
//! missing one (a broken link showing the text the author wrote), so no
//! title leaks through links or macros; the cache key includes a digest of
//! every resolved answer, so a cached page is only reused when it would
//! render identically for this viewer.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use cairn_render::References;
use deadpool_postgres::GenericClient;

use crate::content::Content;
use crate::error::{Error, Result};
use crate::perms::Viewer;
use crate::plugins::{PageContext, Plugins, Registry, RenderHost};

mod resolve;
use resolve::resolve;
#[cfg(test)]
mod cases;
mod diff;
mod include;
mod with_plugins;
use crate::present::include::CancelOnDrop;
use crate::present::include::RenderingGuard;
use crate::present::resolve::Resolved;
use crate::present::with_plugins::WithPlugins;
pub use with_plugins::render_with_plugins;

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
pub struct Presenter {
    refs: Arc<quick_cache::sync::Cache<(i64, i32), Arc<References>>>,
    pages: Arc<quick_cache::sync::Cache<(i64, i32, u64), Arc<RenderedPage>>>,
    plugins: Option<Plugins>,
}

impl Default for Presenter {
    fn default() -> Self {
        Presenter {
            refs: Arc::new(quick_cache::sync::Cache::new(20_000)),
            pages: Arc::new(quick_cache::sync::Cache::new(5_000)),
            plugins: None,
        }
    }
}

impl Presenter {
    /// Macros provided by plugins are rendered by them.
    pub(crate) fn with_plugins(mut self, plugins: Plugins) -> Presenter {
        self.plugins = Some(plugins);
        self
    }

    pub(crate) fn plugins(&self) -> Option<&Plugins> {
        self.plugins.as_ref()
    }
}

thread_local! {
    /// Pages being rendered on this thread, outermost first (include cycles).
    static RENDERING: std::cell::RefCell<Vec<i64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Where the macros of stored content `c` are, as its page view shows it.
fn viewed(c: &Content) -> PageContext {
    PageContext {
        page_id: Some(c.id),
        title: c.title.clone(),
        page_type: c.content_type.as_str().to_string(),
        space_key: c.space_key.clone(),
        version: c.version,
        target: crate::plugins::OutputTarget::View,
    }
}

/// What a render needs to call plugins: the registry snapshot, the viewer,
/// where the macros are, and the renderer their includes use.
struct PluginPart<'a> {
    plugins: &'a Plugins,
    registry: &'a Registry,
    viewer: &'a Viewer,
    page: &'a PageContext,
    host: Option<Arc<dyn RenderHost>>,
}

/// Renders `body`, calling plugins for the macros they provide. Plugins get
/// the page's headings, found by a first pass that skips plugin calls. The
/// [`Taint`] says whether the page may be cached. Plugin calls stop when
/// `cancelled` is set (the client has gone).
fn render_blocking(
    body: &str,
    res: &Resolved,
    plugins: Option<PluginPart<'_>>,
    cancelled: Option<Arc<std::sync::atomic::AtomicBool>>,
) -> RenderOutcome {
    let Some(PluginPart {
        plugins,
        registry,
        viewer,
        page,
        host,
    }) = plugins
    else {
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
        host,
        headings: None,
    };
    let first = cairn_render::render(body, &ctx)?;
    ctx.headings = Some(&first.headings);
    let mut out = cairn_render::render(body, &ctx)?;
    // Ids the macros define (anchors) move the headings after them to other
    // ids: the plugins must see the headings the page really has.
    if out.headings != first.headings {
        let second = out.headings;
        ctx.headings = Some(&second);
        out = cairn_render::render(body, &ctx)?;
    }
    Ok((
        out,
        Taint {
            read_data: scope.read_data(),
            incomplete: scope.incomplete(),
        },
    ))
}

/// A render and what its plugin calls did to its cacheability, or where the
/// body is ill-formed.
type RenderOutcome =
    std::result::Result<(cairn_render::Rendered, Taint), cairn_render::SyntaxError>;

/// What plugin calls did to a render's cacheability.
#[derive(Default, Clone, Copy)]
struct Taint {
    /// A call read content as the viewer (or its key-value store): not for
    /// the page cache other viewers share.
    read_data: bool,
    /// A macro failed or was not rendered: not for any cache.
    incomplete: bool,
}

const MAX_INCLUDE_DEPTH: usize = 3;

impl Presenter {
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
    pub(crate) fn is_cacheable(&self, c: &Content) -> Result<bool> {
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

    /// [`Presenter::render_content`] holding a database connection only
    /// while resolving references, never while plugins run.
    pub(crate) async fn render_content_pooled(
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
        let resolved = resolve(db, viewer, &c.space_key, Some(c), &refs).await?;
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
        let page_ctx = viewed(c);
        let (out, taint) = self
            .render_off_thread(body, resolved, part, viewer, page_ctx)
            .await?
            .map_err(|e| Error::Internal(format!("stored body of {} is ill-formed: {e}", c.id)))?;
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

    /// Renders stored content `c` for an export (HTML or PDF) as `viewer`:
    /// plugins see the output target `export` (no interactivity); never
    /// cached, since no page view shows it.
    pub(crate) async fn render_for_export(
        &self,
        pool: &deadpool_postgres::Pool,
        viewer: &Viewer,
        c: &Content,
    ) -> Result<String> {
        let (refs, resolved) = {
            let db = pool.get().await?;
            self.resolve_content(&db, viewer, c).await?
        };
        let part = self.plugin_part(&refs);
        let page_ctx = PageContext {
            target: crate::plugins::OutputTarget::Export,
            ..viewed(c)
        };
        let (out, _) = self
            .render_off_thread(c.body.clone(), resolved, part, viewer, page_ctx)
            .await?
            .map_err(|e| Error::Internal(format!("stored body of {} is ill-formed: {e}", c.id)))?;
        Ok(out.html)
    }

    /// Renders `body` on a blocking thread (plugins wait for the database
    /// there), with this presenter as the plugins' [`RenderHost`]; the
    /// render stops calling plugins when this future is dropped (the client
    /// has gone).
    async fn render_off_thread(
        &self,
        body: String,
        resolved: Resolved,
        part: Option<(Plugins, Arc<Registry>, bool)>,
        viewer: &Viewer,
        page: PageContext,
    ) -> Result<RenderOutcome> {
        let viewer = viewer.clone();
        let cancel = CancelOnDrop(Arc::default());
        let cancelled = cancel.0.clone();
        let host: Arc<dyn RenderHost> = Arc::new(self.clone());
        let out = tokio::task::spawn_blocking(move || {
            let plugins = part.as_ref().map(|(p, r, _)| PluginPart {
                plugins: p,
                registry: r,
                viewer: &viewer,
                page: &page,
                host: Some(host),
            });
            render_blocking(&body, &resolved, plugins, Some(cancelled))
        })
        .await
        .map_err(Error::internal)?;
        drop(cancel);
        Ok(out)
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
        let resolved = resolve(db, viewer, space_key, page, &refs).await?;
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
        let (out, taint) = self
            .render_off_thread(body.to_owned(), resolved, part, viewer, page_ctx)
            .await?
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
