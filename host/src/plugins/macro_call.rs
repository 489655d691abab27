//! Rendering one macro call with the plugin that provides it: the call's
//! context, the output cache, the page's budget, the limits on output, and
//! the boxes shown instead of output that failed or was not made.
//!
//! Invariants: a cacheable macro is not told who the viewer is, and its
//! cached output is reused only while every read it made answers the same
//! for the viewer at hand (a call that wrote or included a page is never
//! cached); output over the size or nesting limits is refused; everything
//! a box shows is escaped.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::page_scope::{page_account, page_left, page_refusal};
use super::runtime::{self, reads::Read, wit};
use super::{Failure, PluginRow, Plugins, Registry, RenderHost};
use crate::perms::Viewer;
use crate::sync::Recover;

/// A cacheable macro's output, with the reads it was rendered from.
pub(super) struct CachedOutput {
    pub(super) html: String,
    pub(super) reads: Vec<(Read, u64)>,
}

/// Deepest element nesting a macro's output may have (storage format allows
/// 400 for a whole body).
pub const MAX_OUTPUT_DEPTH: usize = 200;

/// Where a macro is rendered, as the host knows it.
#[derive(Clone)]
pub struct PageContext {
    pub page_id: Option<i64>,
    pub title: String,
    pub page_type: String,
    pub space_key: String,
    pub version: i32,
    pub target: wit::OutputTarget,
}

impl Plugins {
    /// Forgets every cached macro output (benchmarks measure the uncached path).
    pub fn clear_output_cache(&self) {
        self.inner.outputs.clear();
    }

    /// Renders one macro call with the plugin that provides it. `None` when
    /// no enabled plugin provides the macro. Must run on a blocking thread
    /// (capabilities wait for the database). `host` renders the pages the
    /// call includes (`None`: it cannot include pages); `use_cache: false`
    /// bypasses the output cache (benchmarks measure the call itself).
    #[allow(clippy::too_many_arguments)]
    pub fn render_macro(
        &self,
        registry: &Registry,
        viewer: &Viewer,
        page: &PageContext,
        headings: &[cairn_render::Heading],
        call: &cairn_render::MacroCall,
        host: Option<Arc<dyn RenderHost>>,
        use_cache: bool,
    ) -> Option<String> {
        let l = registry.provider(&call.name)?;
        let idx = l.macros.clone()?;
        let spec = l.spec(&call.name);
        // A macro that declares itself cacheable is cached without the
        // viewer, so it is not told who the viewer is: its claim then holds
        // for its context (reads are checked below).
        let cacheable = spec.is_some_and(|s| s.cacheable);
        let (body_kind, body) = match &call.body {
            cairn_render::MacroBody::None => (wit::BodyKind::None, String::new()),
            cairn_render::MacroBody::Plain(t) => (wit::BodyKind::PlainText, t.clone()),
            cairn_render::MacroBody::Rich(h) => (wit::BodyKind::RichText, h.clone()),
        };
        let wcall = wit::MacroCall {
            name: call.name.clone(),
            params: call
                .params
                .iter()
                // A page link is given as "SPACE:Title", always qualified
                // (except Confluence's "@self", "@parent", "@home" …).
                .map(|(k, v)| match call.param_pages.get(k) {
                    Some(r) if !r.title.starts_with('@') => (
                        k.clone(),
                        format!(
                            "{}:{}",
                            r.space_key.as_deref().unwrap_or(&page.space_key),
                            r.title
                        ),
                    ),
                    _ => (k.clone(), v.clone()),
                })
                .collect(),
            body_kind,
            body,
            output: if call.inline {
                wit::OutputKind::Inline
            } else {
                wit::OutputKind::Block
            },
        };
        let ctx = wit::RenderContext {
            page_id: page.page_id,
            page_title: page.title.clone(),
            page_type: page.page_type.clone(),
            space_key: page.space_key.clone(),
            page_version: page.version,
            viewer: viewer
                .user
                .as_ref()
                .filter(|_| !cacheable)
                .map(|u| wit::User {
                    key: u.user_key.clone(),
                    username: u.username.clone(),
                    display_name: u.display_name.clone(),
                }),
            target: page.target,
            headings: headings
                .iter()
                .map(|h| wit::Heading {
                    level: h.level,
                    text: h.text.clone(),
                    anchor: h.anchor.clone(),
                })
                .collect(),
            base_url: self.inner.base_url.read().recover().clone(),
        };
        let metrics = self.metrics(&l.row.id);
        let cache_key = (use_cache && cacheable).then(|| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            l.row.hash.hash(&mut h);
            l.row.config.hash(&mut h);
            format!("{wcall:?}").hash(&mut h);
            format!("{ctx:?}").hash(&mut h);
            h.finish()
        });
        // A cached output that read data is reused only while every read
        // still answers the same, as this viewer.
        if let Some(hit) = cache_key.and_then(|k| self.inner.outputs.get(&k)) {
            let limit = Duration::from_millis(u64::from(l.row.limits().timeout_ms));
            if hit.reads.is_empty()
                || Read::all_unchanged(&hit.reads, &self.inner.pool, viewer, &l.row.id, limit)
            {
                metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
                page_account(Duration::ZERO, !hit.reads.is_empty(), false);
                return Some(hit.html.clone());
            }
        }
        // Cached output costs nothing; a call needs budget and a client.
        if let Some(why) = page_refusal() {
            page_account(Duration::ZERO, false, true);
            return Some(notice_box(&call.name, &l.row, why, call.inline));
        }
        // A top-level call gets what is left of the page's budget at most.
        let top = runtime::depth() == 0;
        let mut limits = l.row.limits();
        if let Some(left) = page_left().filter(|_| top) {
            limits.timeout_ms = limits
                .timeout_ms
                .min(u32::try_from(left.as_millis()).unwrap_or(u32::MAX).max(1));
        }
        let started = Instant::now();
        let (result, env) = self.call_with(l, viewer.clone(), host, limits, true, |store, inst| {
            idx.load(&mut *store, inst)?
                .call_render(&mut *store, &wcall, &ctx)
        });
        let read_data = env.touched_data.load(Ordering::Relaxed);
        page_account(
            if top {
                started.elapsed()
            } else {
                Duration::ZERO
            },
            read_data,
            false,
        );
        let result = result
            .and_then(|r| {
                r.map_err(|e| {
                    Failure::Guest(runtime::bounded_message(&match e {
                        wit::RenderError::InvalidParameter((p, why)) => {
                            format!("parameter {p:?}: {why}")
                        }
                        wit::RenderError::NotFound(m) => m,
                        wit::RenderError::Failed(m) => m,
                    }))
                })
            })
            .and_then(|html| {
                if html.len() > runtime::MAX_OUTPUT_BYTES {
                    Err(Failure::OutputTooLarge(html.len()))
                } else if cairn_render::nests_deeper_than(&html, MAX_OUTPUT_DEPTH) {
                    Err(Failure::Guest(format!(
                        "returned elements nested deeper than {MAX_OUTPUT_DEPTH} levels"
                    )))
                } else {
                    Ok(html)
                }
            });
        match result {
            Ok(html) => {
                metrics.record(started, None);
                // Output that read data (content as this viewer, or the
                // key-value store) is kept with its reads, made again before
                // it is reused; output of a call that wrote or included a
                // page is never kept.
                if let (Some(k), Some(reads)) = (cache_key, env.replayable_reads()) {
                    self.inner.outputs.insert(
                        k,
                        Arc::new(CachedOutput {
                            html: html.clone(),
                            reads,
                        }),
                    );
                }
                Some(html)
            }
            Err(f) => {
                page_account(Duration::ZERO, false, true);
                let msg = runtime::bounded_message(&f.to_string());
                metrics.record(started, Some(&msg));
                if matches!(f, Failure::Busy) {
                    return Some(notice_box(&call.name, &l.row, &msg, call.inline));
                }
                if !matches!(f, Failure::Guest(_)) {
                    tracing::warn!(plugin = %l.row.id, r#macro = %call.name, "plugin call failed: {msg}");
                }
                Some(error_box(&call.name, &l.row, &msg, call.inline))
            }
        }
    }
}

/// The box shown in place of a failed macro: names the macro, the plugin and
/// the reason. Everything in it is escaped.
pub fn error_box(name: &str, row: &PluginRow, reason: &str, inline: bool) -> String {
    let tag = if inline { "span" } else { "div" };
    format!(
        "<{tag} class=\"macro-error\">Macro &quot;{}&quot; (plugin {} {}) could not render: {}</{tag}>",
        crate::content::xml_escape(name),
        crate::content::xml_escape(&row.name),
        crate::content::xml_escape(&row.version),
        crate::content::xml_escape(&runtime::bounded_message(reason)),
    )
}

/// The box shown in place of a macro that was not called (page budget spent,
/// node busy, request cancelled). Everything in it is escaped.
pub fn notice_box(name: &str, row: &PluginRow, why: &str, inline: bool) -> String {
    let tag = if inline { "span" } else { "div" };
    format!(
        "<{tag} class=\"macro-error macro-not-rendered\">Macro &quot;{}&quot; (plugin {} {}) {}</{tag}>",
        crate::content::xml_escape(name),
        crate::content::xml_escape(&row.name),
        crate::content::xml_escape(&row.version),
        crate::content::xml_escape(why),
    )
}
