//! `children` and `pagetree`: a page's children as a nested list, sorted
//! as the macro asks, to the depth it asks.
//!
//! Invariant: only pages the host returns for the viewer are listed; the
//! macro never guesses at pages it was not given.

use crate::*;

use cairn_plugin_sdk::content::ContentSummary;
use store::Store;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Sort {
    Natural,
    Title,
    Created,
    Modified,
}

pub(super) fn sort_param(call: &MacroCall, default: Sort) -> Sort {
    match call
        .param_nonempty("sort")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("title") | Some("bitwise") => Sort::Title,
        Some("creation") | Some("created") | Some("createddate") => Sort::Created,
        Some("modified") | Some("lastmodified") | Some("date") => Sort::Modified,
        Some("natural") | Some("position") | Some("manual") => Sort::Natural,
        _ => default,
    }
}

pub(super) fn sort_summaries(list: &mut [ContentSummary], sort: Sort, reverse: bool) {
    match sort {
        Sort::Natural => {}
        Sort::Title => list.sort_by_cached_key(|c| c.title.to_lowercase()),
        Sort::Created => list.sort_by_key(|c| timestamp(&c.created)),
        // Newest first.
        Sort::Modified => list.sort_by_key(|c| std::cmp::Reverse(timestamp(&c.last_modified))),
    }
    if reverse {
        list.reverse();
    }
}

pub(super) struct Tree<'a, S: Store> {
    pub(super) store: &'a S,
    pub(super) sort: Sort,
    pub(super) reverse: bool,
    pub(super) pages: usize,
}

pub(super) fn tree_html(
    s: &impl Store,
    call: &MacroCall,
    root: Option<i64>,
    depth: i64,
    first: Option<usize>,
    heading: Option<u8>,
) -> String {
    let mut inner = String::new();
    if let Some(id) = root {
        let mut t = Tree {
            store: s,
            sort: sort_param(call, Sort::Natural),
            reverse: call.flag("reverse"),
            pages: 0,
        };
        t.list(&mut inner, id, depth, first, heading);
    }
    if inner.is_empty() {
        return "<p class=\"macro-empty\">No child pages.</p>".into();
    }
    format!("<div class=\"children-macro\">{inner}</div>")
}

/// A depth parameter: a number from 1 on (bad values: the default).
pub(super) fn depth_param(call: &MacroCall, name: &str, default: i64) -> i64 {
    call.int(name, default)
        .unwrap_or(default)
        .clamp(1, MAX_DEPTH)
}

pub(super) fn children(
    s: &impl Store,
    call: &MacroCall,
    ctx: &RenderContext,
) -> Result<String, RenderError> {
    let root = target_page(s, call, ctx)?;
    let depth = if call.flag("all") {
        MAX_DEPTH
    } else {
        depth_param(call, "depth", 1)
    };
    let first = match call.int("first", 0) {
        Ok(n) if n > 0 => Some(n.min(MAX_ITEMS) as usize),
        _ => None,
    };
    let heading = call
        .param_nonempty("style")
        .map(str::to_ascii_lowercase)
        .and_then(|s| s.strip_prefix('h').and_then(|n| n.parse::<u8>().ok()))
        .filter(|n| (1..=6).contains(n));
    Ok(tree_html(s, call, root, depth, first, heading))
}

pub(super) fn pagetree(
    s: &impl Store,
    call: &MacroCall,
    ctx: &RenderContext,
) -> Result<String, RenderError> {
    let root_param = call.param_nonempty("root").unwrap_or("@self");
    let root = match root_param.to_ascii_lowercase().as_str() {
        "@self" => ctx.page_id,
        // A top-level page has no parent: its own tree then.
        "@parent" => ctx
            .page_id
            .map(|id| s.get(id).and_then(|p| p.summary.parent_id).unwrap_or(id)),
        // The top of the current page's tree (Cairn's stand-in for the space home).
        "@home" | "@none" => ctx.page_id.map(|id| {
            let mut top = id;
            for _ in 0..32 {
                match s.get(top).and_then(|p| p.summary.parent_id) {
                    Some(parent) => top = parent,
                    None => break,
                }
            }
            top
        }),
        _ => Some(find_page(s, ctx, "root", root_param)?.summary.id),
    };
    let depth = depth_param(call, "startDepth", 1);
    Ok(tree_html(s, call, root, depth, None, None))
}
