//! The renderer's context when plugins take part: resolved host answers,
//! and plugin calls for the macros plugins provide.
//!
//! Invariant: a macro a plugin provides is rendered by that plugin only;
//! the first pass (which collects headings) calls no plugin.

use super::{render_blocking, resolve::Resolved, PluginPart};
use crate::perms::Viewer;
use crate::plugins::{PageContext, Plugins, Registry, RenderHost};
use cairn_render::{AttachmentRef, Context, Link, MacroCall, PageRef};
use std::sync::Arc;

/// The renderer's context when plugins take part: the resolved host answers
/// plus a way to call plugins (on the blocking thread that renders).
pub(super) struct WithPlugins<'a> {
    pub(super) res: &'a Resolved,
    pub(super) plugins: &'a Plugins,
    pub(super) registry: &'a Registry,
    pub(super) viewer: &'a Viewer,
    pub(super) page: &'a PageContext,
    /// Renders the pages a macro includes (`None`: it cannot).
    pub(super) host: Option<Arc<dyn RenderHost>>,
    /// Headings of the page; `None` in the first pass that finds them.
    pub(super) headings: Option<&'a [cairn_render::Heading]>,
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
    fn emoticon_image(&self, name: &str) -> Option<String> {
        self.res.emoticon_image(name)
    }
    fn today(&self) -> Option<String> {
        self.res.today()
    }
    fn render_macro(&self, call: &MacroCall) -> Option<String> {
        if self.registry.provides(&call.name) {
            return match self.headings {
                None => Some(String::new()),
                Some(h) => self.plugins.render_macro(
                    self.registry,
                    self.viewer,
                    self.page,
                    h,
                    call,
                    self.host.clone(),
                    true,
                ),
            };
        }
        self.res.render_macro(call)
    }
}

/// Renders a body that points at nothing else (no links to resolve), calling
/// plugins for the macros they provide: for benchmarks and tools. Run it on
/// a blocking thread when plugins use capabilities. Its macros cannot
/// include pages.
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
        today: Some(chrono::Utc::now().date_naive().to_string()),
        ..Resolved::default()
    };
    let with = PluginPart {
        plugins,
        registry,
        viewer,
        page,
        host: None,
    };
    render_blocking(body, &res, Some(with), None).map(|(r, _)| r)
}
