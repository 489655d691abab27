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

use cairn_plugin_sdk::content::{Attachment, ContentSummary, Page};
use cairn_plugin_sdk::*;

mod store;
mod util;

use store::Store;
use util::*;

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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    Natural,
    Title,
    Created,
    Modified,
}

fn sort_param(call: &MacroCall, default: Sort) -> Sort {
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

fn sort_summaries(list: &mut [ContentSummary], sort: Sort, reverse: bool) {
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

struct Tree<'a, S: Store> {
    store: &'a S,
    sort: Sort,
    reverse: bool,
    pages: usize,
}

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

fn tree_html(
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
fn depth_param(call: &MacroCall, name: &str, default: i64) -> i64 {
    call.int(name, default)
        .unwrap_or(default)
        .clamp(1, MAX_DEPTH)
}

fn children(s: &impl Store, call: &MacroCall, ctx: &RenderContext) -> Result<String, RenderError> {
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

fn pagetree(s: &impl Store, call: &MacroCall, ctx: &RenderContext) -> Result<String, RenderError> {
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

// ---------------------------------------------------------------------------------------
// contentbylabel

/// Labels of a `cql` parameter: the values of its `label` clauses, and whether they are
/// joined with AND; also its `space` and `type` values.
struct CqlParts {
    labels: Vec<String>,
    and: bool,
    spaces: Vec<String>,
    types: Vec<String>,
}

fn parse_cql(cql: &str) -> CqlParts {
    // Tokens: quoted strings, words, and the punctuation that matters.
    let mut toks: Vec<(String, bool)> = Vec::new();
    let mut chars = cql.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c == '"' || c == '\'' {
            chars.next();
            let mut v = String::new();
            while let Some(d) = chars.next() {
                if d == '\\' {
                    if let Some(e) = chars.next() {
                        v.push(e);
                    }
                } else if d == c {
                    break;
                } else {
                    v.push(d);
                }
            }
            toks.push((v, true));
        } else if c.is_whitespace() || c == ',' || c == '(' || c == ')' {
            chars.next();
        } else if c == '=' || c == '!' || c == '~' {
            let mut v = String::new();
            while let Some(&d) = chars.peek() {
                if d == '=' || d == '!' || d == '~' {
                    v.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            toks.push((v, false));
        } else {
            let mut v = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_whitespace() || matches!(d, ',' | '(' | ')' | '=' | '!' | '~' | '"' | '\'')
                {
                    break;
                }
                v.push(d);
                chars.next();
            }
            toks.push((v, false));
        }
    }
    let mut parts = CqlParts {
        labels: Vec::new(),
        and: false,
        spaces: Vec::new(),
        types: Vec::new(),
    };
    let mut field: Option<String> = None;
    let mut last_join_and = false;
    let mut label_clauses = 0;
    for (t, quoted) in toks {
        let lower = t.to_ascii_lowercase();
        if !quoted && matches!(lower.as_str(), "and" | "or") {
            last_join_and = lower == "and";
            field = None;
            continue;
        }
        if !quoted && lower == "order" {
            break;
        }
        if !quoted
            && matches!(
                lower.as_str(),
                "label" | "labels" | "space" | "space.key" | "type"
            )
        {
            if lower.starts_with("label") {
                label_clauses += 1;
                if label_clauses > 1 && last_join_and {
                    parts.and = true;
                }
            }
            field = Some(lower);
            continue;
        }
        if !quoted && matches!(lower.as_str(), "=" | "in" | "not" | "!=" | "~") {
            if lower == "not" || lower == "!=" {
                field = None; // negated clauses are not supported: ignored
            }
            continue;
        }
        match field.as_deref() {
            Some(f) if f.starts_with("label") => parts.labels.push(t),
            Some("space") | Some("space.key") => parts.spaces.push(t),
            Some("type") => parts.types.push(t),
            _ => {}
        }
    }
    parts
}

fn content_by_label(
    s: &impl Store,
    call: &MacroCall,
    ctx: &RenderContext,
) -> Result<String, RenderError> {
    let cql = call.param_nonempty("cql").map(parse_cql);
    let written = call.param_nonempty("labels");
    let mut any: Vec<String> = Vec::new();
    let mut required: Vec<String> = Vec::new();
    let mut excluded: Vec<String> = Vec::new();
    let mut and = call
        .param_nonempty("operator")
        .is_some_and(|o| o.eq_ignore_ascii_case("and"));
    match (written, &cql) {
        (Some(w), _) => {
            for l in split_list(w, true) {
                if let Some(r) = l.strip_prefix('+') {
                    required.push(r.to_lowercase());
                } else if let Some(x) = l.strip_prefix('-') {
                    excluded.push(x.to_lowercase());
                } else {
                    any.push(l.to_lowercase());
                }
            }
        }
        (None, Some(c)) => {
            any = c
                .labels
                .iter()
                .map(|l| l.trim().to_lowercase())
                .filter(|l| !l.is_empty())
                .collect();
            and |= c.and;
        }
        (None, None) => {}
    }
    any.retain(|l| !l.is_empty());
    required.retain(|l| !l.is_empty());
    excluded.retain(|l| !l.is_empty());
    if any.is_empty() && required.is_empty() {
        return Err(RenderError::InvalidParameter((
            "labels".into(),
            "give at least one label (e.g. labels=meeting-notes)".into(),
        )));
    }
    if and {
        required.append(&mut any);
    }
    let mut spaces = match call.param_nonempty("spaces") {
        Some(v) => space_list(v, ctx),
        None => Vec::new(),
    };
    if spaces.is_empty() {
        if let Some(c) = &cql {
            spaces = c.spaces.iter().flat_map(|v| space_list(v, ctx)).collect();
        }
    }
    let mut types: Vec<String> = call
        .param_nonempty("type")
        .map(|t| split_list(t, true))
        .unwrap_or_default();
    if types.is_empty() {
        if let Some(c) = &cql {
            types = c.types.clone();
        }
    }
    let types: Vec<String> = types.iter().map(|t| normalize_type(t)).collect();
    let max = call.int("max", 20).unwrap_or(20).clamp(1, MAX_ITEMS) as usize;
    let fetch = 1000u32;

    // Candidates: pages carrying the required labels and (OR) any one of the others.
    let mut found: Vec<ContentSummary> = Vec::new();
    if any.is_empty() {
        found = s.with_labels(&required, &spaces, fetch);
    } else {
        for l in &any {
            let mut want = required.clone();
            want.push(l.clone());
            for c in s.with_labels(&want, &spaces, fetch) {
                if !found.iter().any(|f| f.id == c.id) {
                    found.push(c);
                }
            }
        }
    }
    found.retain(|c| types.is_empty() || types.iter().any(|t| t == &c.type_));
    let reverse = call.flag("reverse");
    let sort = sort_param(call, Sort::Modified);
    sort_summaries(
        &mut found,
        if sort == Sort::Natural {
            Sort::Modified
        } else {
            sort
        },
        reverse,
    );

    let show_labels = call.flag("showLabels");
    let mut items: Vec<(ContentSummary, Vec<String>)> = Vec::new();
    for c in found {
        if items.len() >= max {
            break;
        }
        let labels = if show_labels || !excluded.is_empty() {
            s.labels(c.id)
        } else {
            Vec::new()
        };
        if excluded
            .iter()
            .any(|x| labels.iter().any(|l| l.eq_ignore_ascii_case(x)))
        {
            continue;
        }
        items.push((c, labels));
    }

    let mut out = String::new();
    if let Some(t) = call.param_nonempty("title") {
        out.push_str("<div class=\"macro-heading\">");
        escape_into(&mut out, t);
        out.push_str("</div>");
    }
    if items.is_empty() {
        out.push_str("<p class=\"macro-empty\">No content found.</p>");
        return Ok(out);
    }
    let show_space = call.flag("showSpace");
    out.push_str("<ul class=\"content-by-label\">");
    for (c, labels) in &items {
        out.push_str("<li>");
        link(&mut out, &c.url, &c.title);
        if show_space {
            out.push_str(" <span class=\"meta\">");
            escape_into(&mut out, &c.space_key);
            out.push_str("</span>");
        }
        if show_labels && !labels.is_empty() {
            out.push_str(" <span class=\"item-labels\">");
            for l in labels {
                out.push_str("<span class=\"label\">");
                escape_into(&mut out, l);
                out.push_str("</span> ");
            }
            out.pop();
            out.push_str("</span>");
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// recently-updated

fn recently_updated(
    s: &impl Store,
    call: &MacroCall,
    ctx: &RenderContext,
) -> Result<String, RenderError> {
    let spaces = match call.param_nonempty("spaces") {
        Some(v) => space_list(v, ctx),
        None => vec![ctx.space_key.clone()],
    };
    let written_types: Vec<String> = call
        .param_nonempty("types")
        .or_else(|| call.param_nonempty("type"))
        .map(|t| split_list(t, true))
        .unwrap_or_default()
        .iter()
        .map(|t| normalize_type(t))
        .collect();
    let types: Vec<String> = written_types
        .iter()
        .filter(|t| matches!(t.as_str(), "page" | "blogpost" | "comment"))
        .cloned()
        .collect();
    let max = call.int("max", 15).unwrap_or(15).clamp(1, 100) as usize;
    let labels: Vec<String> = call
        .param_nonempty("labels")
        .map(|l| split_list(l, true))
        .unwrap_or_default()
        .iter()
        .map(|l| l.to_lowercase())
        .collect();

    let mut out = String::new();
    if !call.flag("hideHeading") {
        out.push_str("<div class=\"macro-heading\">Recently updated</div>");
    }
    // Only types Cairn does not have (e.g. attachment): nothing to list.
    let mut list = if !written_types.is_empty() && types.is_empty() {
        Vec::new()
    } else {
        let fetch = if labels.is_empty() {
            max
        } else {
            (max * 5).max(100)
        };
        s.recently_updated(&spaces, &types, fetch as u32)
    };
    list.sort_by_key(|c| std::cmp::Reverse(timestamp(&c.last_modified)));
    let mut items = Vec::new();
    for c in list {
        if items.len() >= max {
            break;
        }
        if !labels.is_empty() {
            let have = s.labels(c.id);
            if !labels
                .iter()
                .any(|l| have.iter().any(|h| h.eq_ignore_ascii_case(l)))
            {
                continue;
            }
        }
        items.push(c);
    }
    if items.is_empty() {
        out.push_str("<p class=\"macro-empty\">Nothing was updated recently.</p>");
        return Ok(out);
    }
    out.push_str("<ul class=\"recently-updated\">");
    for c in &items {
        out.push_str("<li>");
        link(&mut out, &c.url, &c.title);
        out.push_str(" <span class=\"meta\">");
        if let Some(u) = &c.last_modifier {
            escape_into(&mut out, &u.display_name);
            out.push_str(" · ");
        }
        escape_into(&mut out, day(&c.last_modified));
        out.push_str("</span></li>");
    }
    out.push_str("</ul>");
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// attachments

fn attachments(
    s: &impl Store,
    call: &MacroCall,
    ctx: &RenderContext,
) -> Result<String, RenderError> {
    let Some(page) = target_page(s, call, ctx)? else {
        return Ok(no_files());
    };
    let mut list: Vec<Attachment> = s.attachments(page);
    if let Some(p) = call.param_nonempty("patterns") {
        let patterns: Vec<Pattern> = split_list(p, false)
            .iter()
            .map(|p| Pattern::new(p))
            .collect();
        if !patterns.is_empty() {
            list.retain(|a| patterns.iter().any(|p| p.matches(&a.filename)));
        }
    }
    let by = call
        .param_nonempty("sortBy")
        .map(|v| v.to_ascii_lowercase().replace([' ', '_', '-'], ""))
        .unwrap_or_else(|| "name".into());
    let descending = match call
        .param_nonempty("sortOrder")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("descending") | Some("desc") => true,
        Some("ascending") | Some("asc") => false,
        _ => by != "name",
    };
    match by.as_str() {
        "size" => list.sort_by_key(|a| a.size),
        "date" | "createddate" | "created" | "modified" => {
            list.sort_by_key(|a| timestamp(&a.created))
        }
        _ => list.sort_by_cached_key(|a| a.filename.to_lowercase()),
    }
    if descending {
        list.reverse();
    }
    if list.is_empty() {
        return Ok(no_files());
    }
    let mut out = String::from("<table class=\"attachments-macro\"><thead><tr><th>File</th><th>Size</th><th>Modified</th></tr></thead><tbody>");
    for a in &list {
        out.push_str("<tr><td>");
        link(&mut out, &a.url, &a.filename);
        out.push_str("</td><td>");
        out.push_str(&human_size(a.size));
        out.push_str("</td><td>");
        escape_into(&mut out, &minute(&a.created));
        out.push_str("</td></tr>");
    }
    out.push_str("</tbody></table>");
    Ok(out)
}

fn no_files() -> String {
    "<p class=\"macro-empty\">No files attached.</p>".into()
}

#[cfg(test)]
mod tests;
