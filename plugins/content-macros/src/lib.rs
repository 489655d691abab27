//! First-party plugin `cairn.content-macros`: macros listing content — `children`,
//! `pagetree`, `contentbylabel`, `recently-updated` and `attachments`.
//!
//! Everything is read through the `content` capability, which answers as the viewing
//! user: what the viewer may not see is exactly like what does not exist, so it never
//! appears. Every macro is cacheable: its output depends only on the call, the page and
//! what it reads through `content` (never on who the viewer is, which it is not told), and
//! the host keeps cached output only while every read still answers the same for the
//! viewer at hand.
//!
//! The HTML is the one Cairn's former host-rendered macros wrote: `<div
//! class="children-macro"><ul><li><a href>…`, `<ul class="content-by-label">`, `<ul
//! class="recently-updated">`, `<table class="attachments-macro">`, and
//! `<p class="macro-empty">…</p>` for empty results.

use cairn_plugin_sdk::content::Page;
use cairn_plugin_sdk::*;

mod store;
mod util;

use store::Store;
use util::*;

mod by_label;
mod recent;
mod tree;

use by_label::*;
use recent::*;
use tree::*;

export_macros! {
    describe: specs(),
    render: |call, ctx| render(&store::Host::default(), &call, &ctx),
}

/// Deepest level `children`/`pagetree` go to.
const MAX_DEPTH: i64 = 10;
/// Most pages one tree lists (the host bounds the calls a plugin call may make).
const MAX_TREE_PAGES: usize = 500;
/// Most items listed by the list macros.
const MAX_ITEMS: i64 = 200;

fn specs() -> Vec<MacroSpec> {
    let sort =
        |d: &str| ParamSpec::new("sort", d).values(&["title", "creation", "modified", "natural"]);
    let reverse = || {
        ParamSpec::new("reverse", "Reverse the order")
            .of(ParamType::Boolean)
            .default("false")
    };
    vec![
        MacroSpec::new("children", "Children display")
            .cacheable(true)
            .description("Lists the child pages of a page")
            .param(ParamSpec::new("page", "The parent page (default: this page); \"SPACE:Title\" for another space").of(ParamType::Page))
            .param(ParamSpec::new("", "The parent page, as the unnamed parameter").of(ParamType::Page))
            .param(ParamSpec::new("depth", "How many levels to show").of(ParamType::Int).default("1"))
            .param(ParamSpec::new("all", "Show all descendants").of(ParamType::Boolean).default("false"))
            .param(sort("Order: title, creation, modified (default: the page tree's order)"))
            .param(reverse())
            .param(ParamSpec::new("first", "Show only the first N children").of(ParamType::Int))
            .param(ParamSpec::new("style", "Show the children as headings (h1 … h6) instead of a list"))
            .param(ParamSpec::new("excerptType", "Accepted for compatibility; ignored")),
        MacroSpec::new("pagetree", "Page tree")
            .cacheable(true)
            .description("Shows the tree of pages below a page")
            .param(ParamSpec::new("root", "@self (default), @parent, @home, or a page title").of(ParamType::Page))
            .param(ParamSpec::new("startDepth", "How many levels to show").of(ParamType::Int).default("1"))
            .param(sort("Order: title, creation, modified (default: the page tree's order)"))
            .param(reverse())
            .param(ParamSpec::new("expandCollapseAll", "Accepted for compatibility; ignored").of(ParamType::Boolean))
            .param(ParamSpec::new("searchBox", "Accepted for compatibility; ignored").of(ParamType::Boolean))
            .param(ParamSpec::new("excerpt", "Accepted for compatibility; ignored").of(ParamType::Boolean)),
        MacroSpec::new("contentbylabel", "Content by label")
            .cacheable(true)
            .description("Lists pages and blog posts with given labels")
            .param(ParamSpec::new("labels", "Labels, comma separated; +label: required, -label: excluded").of(ParamType::Label))
            .param(ParamSpec::new("cql", "A CQL query of label (and space, type) clauses, instead of labels"))
            .param(ParamSpec::new("spaces", "Space keys, comma separated; @self for this space (default: all spaces)").of(ParamType::Space))
            .param(ParamSpec::new("type", "page, blogpost (default: both)"))
            .param(ParamSpec::new("operator", "OR: any of the labels (default); AND: all of them").values(&["OR", "AND"]).default("OR"))
            .param(ParamSpec::new("max", "Most items to list").of(ParamType::Int).default("20"))
            .param(ParamSpec::new("showLabels", "Show each item's labels").of(ParamType::Boolean).default("false"))
            .param(ParamSpec::new("showSpace", "Show each item's space").of(ParamType::Boolean).default("false"))
            .param(ParamSpec::new("title", "Heading above the list"))
            .param(sort("Order: modified (default, newest first), title, creation"))
            .param(reverse())
            .param(ParamSpec::new("excerptType", "Accepted for compatibility; ignored")),
        MacroSpec::new("recently-updated", "Recently updated")
            .cacheable(true)
            .description("Lists recently changed content")
            .param(ParamSpec::new("spaces", "Space keys, comma separated; @all for all spaces (default: this space)").of(ParamType::Space))
            .param(ParamSpec::new("labels", "Only content with one of these labels").of(ParamType::Label))
            .param(ParamSpec::new("types", "page, blogpost, comment (default: all)"))
            .param(ParamSpec::new("max", "Most items to list").of(ParamType::Int).default("15"))
            .param(ParamSpec::new("hideHeading", "Hide the heading").of(ParamType::Boolean).default("false"))
            .param(ParamSpec::new("theme", "Accepted for compatibility; ignored"))
            .param(ParamSpec::new("width", "Accepted for compatibility; ignored")),
        MacroSpec::new("attachments", "Attachments")
            .cacheable(true)
            .description("Lists the files attached to a page")
            .param(ParamSpec::new("page", "The page (default: this page)").of(ParamType::Page))
            .param(ParamSpec::new("patterns", "Only files matching these patterns (comma separated; *.pdf or regular expressions)"))
            .param(ParamSpec::new("sortBy", "name (default), date, size, createddate").values(&["name", "date", "size", "createddate"]).default("name"))
            .param(ParamSpec::new("sortOrder", "ascending or descending (default: ascending for names, else descending)").values(&["ascending", "descending"]))
            .param(ParamSpec::new("old", "Accepted for compatibility; ignored").of(ParamType::Boolean))
            .param(ParamSpec::new("upload", "Accepted for compatibility; ignored").of(ParamType::Boolean))
            .param(ParamSpec::new("preview", "Accepted for compatibility; ignored").of(ParamType::Boolean)),
    ]
}

pub(crate) fn render(
    s: &impl Store,
    call: &MacroCall,
    ctx: &RenderContext,
) -> Result<String, RenderError> {
    match call.name.to_ascii_lowercase().as_str() {
        "children" => children(s, call, ctx),
        "pagetree" => pagetree(s, call, ctx),
        "contentbylabel" => content_by_label(s, call, ctx),
        "recently-updated" => recently_updated(s, call, ctx),
        "attachments" => attachments(s, call, ctx),
        other => Err(fail(format!(
            "the content-macros plugin has no macro \"{other}\""
        ))),
    }
}

// ---------------------------------------------------------------------------------------
// Pages named in parameters

/// Finds the page a parameter names: "Title" in the current space, or "SPACE:Title".
/// Missing and invisible pages give the same error.
fn find_page(
    s: &impl Store,
    ctx: &RenderContext,
    param: &str,
    value: &str,
) -> Result<Page, RenderError> {
    if let Some((space, title)) = value.split_once(':') {
        let space = space.trim();
        let looks_like_key = !space.is_empty()
            && space.len() <= 255
            && space
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'~' || b == b'_' || b == b'-');
        if looks_like_key && !title.trim().is_empty() {
            if let Some(p) = s.find(space, title.trim()) {
                return Ok(p);
            }
            // A title holding a colon ("Release: 1.0") in the current space.
            if let Some(p) = s.find(&ctx.space_key, value) {
                return Ok(p);
            }
            return Err(RenderError::NotFound(format!(
                "{param}: there is no page \"{}\" in space {space}, or you may not view it",
                title.trim()
            )));
        }
    }
    s.find(&ctx.space_key, value).ok_or_else(|| {
        RenderError::NotFound(format!(
            "{param}: there is no page \"{value}\" in space {}, or you may not view it",
            ctx.space_key
        ))
    })
}

/// The page a macro is about: its `page` (or unnamed) parameter, else the current page
/// (None while previewing a page that is not saved yet).
fn target_page(
    s: &impl Store,
    call: &MacroCall,
    ctx: &RenderContext,
) -> Result<Option<i64>, RenderError> {
    for name in ["page", ""] {
        if let Some(v) = call.param_nonempty(name) {
            let label = if name.is_empty() { "page" } else { name };
            return find_page(s, ctx, label, v).map(|p| Some(p.summary.id));
        }
    }
    Ok(ctx.page_id)
}

// ---------------------------------------------------------------------------------------
// children and pagetree

impl<S: Store> Tree<'_, S> {
    /// The children of `id` down to `depth` levels as nested lists ("" when none).
    /// `first` limits the top level; `heading` shows the top level as headings.
    fn list(
        &mut self,
        out: &mut String,
        id: i64,
        depth: i64,
        first: Option<usize>,
        heading: Option<u8>,
    ) {
        if depth < 1 || self.pages >= MAX_TREE_PAGES {
            return;
        }
        let mut kids = self.store.children(id, 1000);
        sort_summaries(&mut kids, self.sort, self.reverse);
        if let Some(n) = first {
            kids.truncate(n);
        }
        kids.truncate(MAX_TREE_PAGES - self.pages);
        if kids.is_empty() {
            return;
        }
        self.pages += kids.len();
        if heading.is_none() {
            out.push_str("<ul>");
        }
        for k in &kids {
            match heading {
                Some(h) => {
                    out.push_str(&format!("<h{h}>"));
                    link(out, &k.url, &k.title);
                    out.push_str(&format!("</h{h}>"));
                    self.list(out, k.id, depth - 1, None, None);
                }
                None => {
                    out.push_str("<li>");
                    link(out, &k.url, &k.title);
                    self.list(out, k.id, depth - 1, None, None);
                    out.push_str("</li>");
                }
            }
        }
        if heading.is_none() {
            out.push_str("</ul>");
        }
    }
}

// ---------------------------------------------------------------------------------------
// contentbylabel

// ---------------------------------------------------------------------------------------
// recently-updated

// ---------------------------------------------------------------------------------------
// attachments

#[cfg(test)]
mod tests;
