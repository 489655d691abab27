//! What a plugin call may ask of the renderer that called it: rendering
//! another page (the `content` capability's `render-page` and
//! `render-excerpt`, used by include macros).
//!
//! Invariant: the plugins side never names the renderer. `present`
//! implements [`RenderHost`] and hands it to each macro call it makes; a
//! call made without one (loading, admin pages, events, tools) cannot render
//! pages and says so.

use crate::perms::Viewer;

/// The renderer as a plugin call sees it. Implemented by
/// `present::Presenter`; passed per call, so there is no handle to fill in
/// later and no import back from plugins to the renderer.
pub trait RenderHost: Send + Sync {
    /// Renders page `id` (or its excerpt named `excerpt`; `Some("")`: the
    /// first excerpt) as `viewer`, on the blocking thread of the plugin call
    /// that asked, within that call's deadline. `Err` is the reason shown
    /// to the plugin.
    fn render_page(
        &self,
        handle: &tokio::runtime::Handle,
        viewer: &Viewer,
        id: i64,
        excerpt: Option<&str>,
    ) -> std::result::Result<String, String>;
}
