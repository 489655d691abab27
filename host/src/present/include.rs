//! Rendering one page inside another (the include capability plugins
//! call): cycle and depth limits, and a deadline from the calling plugin.
//!
//! Invariant: a page never renders inside itself, includes nest at most
//! `MAX_INCLUDE_DEPTH` deep, and an included page is rendered as the
//! viewer who asked, with that viewer's permissions.

use super::{
    render_blocking, resolve::resolve, viewed, PluginPart, Presenter, MAX_INCLUDE_DEPTH, RENDERING,
};
use crate::content::{self, ContentType};
use crate::error::Error;
use crate::perms::Viewer;
use crate::plugins::RenderHost;
use cairn_render::MacroBody;
use std::sync::Arc;

pub(super) struct RenderingGuard(bool);

impl RenderingGuard {
    pub(super) fn push(id: Option<i64>) -> RenderingGuard {
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

/// The renderer a page render hands to its plugin calls: it renders page
/// `id` (or its excerpt) as `viewer` for a plugin's
/// `render-page`/`render-excerpt` call, on the blocking thread of the page
/// that includes it, with plugins, refusing cycles and deep nesting.
impl RenderHost for Presenter {
    fn render_page(
        &self,
        handle: &tokio::runtime::Handle,
        viewer: &Viewer,
        id: i64,
        excerpt: Option<&str>,
    ) -> std::result::Result<String, String> {
        let presenter = self;
        let chain = RENDERING.with(|r| r.borrow().clone());
        if chain.contains(&id) {
            return Err("the page includes itself (directly or through other pages)".into());
        }
        if chain.len() > MAX_INCLUDE_DEPTH {
            return Err(format!("includes nest more than {MAX_INCLUDE_DEPTH} deep"));
        }
        let plugins = presenter
            .plugins()
            .ok_or_else(|| "pages cannot be rendered here".to_string())?;
        let missing = || "the page does not exist or you may not view it".to_string();
        // Bounded by the deadline of the plugin call that asked (its time limit
        // holds while the host reads the page).
        let left =
            crate::plugins::runtime::time_left().unwrap_or(std::time::Duration::from_secs(30));
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
                    let refs = presenter.references(&c).map_err(|e| e.to_string())?;
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
            let resolved = resolve(&db, viewer, &c.space_key, Some(&c), &refs)
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
        let page = viewed(&c);
        let with = PluginPart {
            plugins,
            registry: &registry,
            viewer,
            page: &page,
            host: Some(Arc::new(presenter.clone())),
        };
        render_blocking(&body, &resolved, Some(with), None)
            .map(|(r, _)| r.html)
            .map_err(|e| e.to_string())
    }
}

/// A macro parameter, trimmed; `None` when absent or blank.
fn param<'a>(m: &'a cairn_render::MacroCall, name: &str) -> Option<&'a str> {
    m.params
        .get(name)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

/// Sets its flag when dropped: a render whose request future is dropped (the
/// client has gone) tells its blocking thread to stop calling plugins.
pub(super) struct CancelOnDrop(pub(super) Arc<std::sync::atomic::AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
