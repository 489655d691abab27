//! Storage format tree -> HTML (before sanitizing).
//!
//! Architecture invariant: every piece of text or attribute value that comes from the
//! body or the host is escaped here as it is written; the final sanitizer pass is a
//! second line of defence, not the only one.

use std::collections::{BTreeMap, HashSet};

use crate::html::{class_token, escape, escape_into, normalize_space, text_of_own_html};
use crate::tree::{Element, Node};
use crate::{AttachmentRef, Context, Heading, Link, MacroBody, MacroCall, PageRef};

/// Plain HTML elements passed through, with the attributes kept from the body.
fn passthrough_attrs(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "p" | "div" | "span" | "blockquote" | "ul" | "li" | "table" | "h1" | "h2" | "h3" | "h4"
        | "h5" | "h6" | "pre" => &["style"],
        "ol" => &["style", "start"],
        "td" | "th" => &["style", "colspan", "rowspan"],
        "a" => &["href", "title"],
        "col" => &["span"],
        "abbr" => &["title"],
        "time" => &["datetime"],
        "strong" | "b" | "em" | "i" | "u" | "s" | "del" | "ins" | "strike" | "sub" | "sup"
        | "code" | "small" | "big" | "thead" | "tbody" | "tfoot" | "tr" | "colgroup"
        | "caption" | "cite" | "q" | "mark" | "kbd" | "var" | "samp" | "dl" | "dt" | "dd" => &[],
        _ => return None,
    })
}

fn is_void(name: &str) -> bool {
    matches!(name, "br" | "hr" | "col")
}

/// Elements whose content is running text: a macro inside one is an inline macro.
pub(crate) fn is_phrasing(name: &str) -> bool {
    matches!(
        name,
        "p" | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "span"
            | "strong"
            | "b"
            | "em"
            | "i"
            | "u"
            | "s"
            | "del"
            | "ins"
            | "strike"
            | "sub"
            | "sup"
            | "code"
            | "small"
            | "big"
            | "a"
            | "cite"
            | "q"
            | "abbr"
            | "mark"
            | "kbd"
            | "var"
            | "samp"
            | "time"
    )
}

/// Unknown elements whose content is not text a reader should see (scripts, styles,
/// embedded documents): dropped whole instead of rendering their children.
fn drops_content(name: &str) -> bool {
    let local = name.rsplit(':').next().unwrap_or(name);
    matches!(
        local.to_ascii_lowercase().as_str(),
        "script"
            | "style"
            | "template"
            | "noscript"
            | "iframe"
            | "object"
            | "embed"
            | "applet"
            | "svg"
            | "math"
            | "textarea"
            | "select"
            | "title"
            | "head"
            | "frame"
            | "frameset"
            | "noembed"
            | "noframes"
            | "xmp"
            | "plaintext"
    )
}

fn emoticon_char(name: &str) -> Option<&'static str> {
    Some(match name {
        "smile" => "🙂",
        "sad" => "🙁",
        "cheeky" => "😛",
        "laugh" => "😀",
        "wink" => "😉",
        "thumbs-up" => "👍",
        "thumbs-down" => "👎",
        "information" => "ℹ️",
        "tick" => "✅",
        "cross" => "❌",
        "warning" => "⚠️",
        "plus" => "➕",
        "minus" => "➖",
        "question" => "❓",
        "light-on" => "💡",
        "light-off" => "🔅",
        "yellow-star" => "⭐",
        "red-star" => "🌟",
        "green-star" => "✳️",
        "blue-star" => "💫",
        "heart" => "❤️",
        "broken-heart" => "💔",
        _ => return None,
    })
}

pub(crate) struct Renderer<'a> {
    ctx: &'a dyn Context,
    headings: Vec<Heading>,
    ids: HashSet<String>,
    macros: MacroOutputs,
}

/// Macro output, sanitized on its own, kept out of the page until the page has been
/// sanitized: the page holds a marker instead (an unguessable per-render nonce and an
/// index), so the output is parsed and sanitized once, not twice. The marker only ever
/// stands where content goes (markup built around a macro — a heading's text, a link
/// body, another macro's body — gets the output itself), and no one outside the
/// renderer sees the nonce, so no input can forge one into an attribute.
pub(crate) struct MacroOutputs {
    nonce: String,
    html: Vec<String>,
}

impl MacroOutputs {
    fn new() -> MacroOutputs {
        use std::hash::{BuildHasher, Hasher};
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        MacroOutputs {
            nonce: format!("cairnmacro{:016x}n", h.finish()),
            html: Vec::new(),
        }
    }

    fn push(&mut self, out: &mut String, clean: String) {
        out.push_str(&self.nonce);
        out.push_str(&self.html.len().to_string());
        out.push('_');
        self.html.push(clean);
    }

    /// `html` with every marker replaced by its macro's output.
    pub(crate) fn substitute(&self, html: &str) -> String {
        if self.html.is_empty() || !html.contains(&self.nonce) {
            return html.to_string();
        }
        let mut out =
            String::with_capacity(html.len() + self.html.iter().map(String::len).sum::<usize>());
        let mut rest = html;
        while let Some(at) = rest.find(&self.nonce) {
            out.push_str(&rest[..at]);
            let after = &rest[at + self.nonce.len()..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let index = after[..digits].parse::<usize>().ok();
            match (
                index.and_then(|i| self.html.get(i)),
                after[digits..].starts_with('_'),
            ) {
                (Some(h), true) => {
                    out.push_str(h);
                    rest = &after[digits + 1..];
                }
                _ => {
                    out.push_str(&self.nonce);
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// Renders a parsed body. Returns unsanitized HTML (with macro markers, see
/// [`MacroOutputs`]), the headings and the macro outputs.
pub(crate) fn render(nodes: &[Node], ctx: &dyn Context) -> (String, Vec<Heading>, MacroOutputs) {
    let mut r = Renderer {
        ctx,
        headings: Vec::new(),
        ids: HashSet::new(),
        macros: MacroOutputs::new(),
    };
    let mut out = String::with_capacity(1024);
    r.nodes(&mut out, nodes, false);
    (out, r.headings, r.macros)
}

/// A link target after asking the context.
enum Target {
    Found {
        url: String,
        title: String,
        class: &'static str,
    },
    /// Missing or invisible: keep the written text, never a guessed title.
    Broken(String),
}

pub(crate) fn page_ref(e: &Element) -> PageRef {
    PageRef {
        space_key: e.attr("ri:space-key").map(str::to_owned),
        title: e.attr("ri:content-title").unwrap_or_default().to_owned(),
        posting_day: if e.name == "ri:blog-post" {
            e.attr("ri:posting-day").map(str::to_owned)
        } else {
            None
        },
    }
}

pub(crate) fn attachment_ref(e: &Element) -> AttachmentRef {
    AttachmentRef {
        container: e
            .child_elements()
            .find(|c| c.name == "ri:page" || c.name == "ri:blog-post")
            .map(page_ref),
        filename: e.attr("ri:filename").unwrap_or_default().to_owned(),
    }
}

pub(crate) fn user_key(e: &Element) -> String {
    e.attr("ri:userkey")
        .or_else(|| e.attr("ri:username"))
        .or_else(|| e.attr("ri:account-id"))
        .unwrap_or_default()
        .to_owned()
}

/// Builds the call for a macro element; `rich` turns the rich-text body into whatever the
/// caller needs (rendered HTML when rendering, raw storage text for references).
pub(crate) fn macro_call(
    e: &Element,
    inline: bool,
    mut rich: impl FnMut(&Element) -> String,
) -> MacroCall {
    let mut params = BTreeMap::new();
    let mut param_pages = BTreeMap::new();
    let mut body = MacroBody::None;
    for child in e.child_elements() {
        match child.name.as_str() {
            "ac:parameter" | "ac:default-parameter" => {
                let key = if child.name == "ac:default-parameter" {
                    String::new()
                } else {
                    child.attr("ac:name").unwrap_or_default().to_owned()
                };
                let value = match child.child("ac:link") {
                    Some(link) => link_param_value(link, &key, &mut param_pages),
                    None => child.text_content(),
                };
                params.insert(key, value);
            }
            "ac:plain-text-body" => body = MacroBody::Plain(child.text_content()),
            "ac:rich-text-body" => body = MacroBody::Rich(rich(child)),
            _ => {}
        }
    }
    let inline = match params
        .get("atlassian-macro-output-type")
        .map(String::as_str)
    {
        Some(t) if t.eq_ignore_ascii_case("inline") => true,
        Some(t) if t.eq_ignore_ascii_case("block") => false,
        _ => inline,
    };
    MacroCall {
        name: e.attr("ac:name").unwrap_or_default().to_owned(),
        params,
        param_pages,
        body,
        inline,
    }
}

fn link_param_value(
    link: &Element,
    key: &str,
    param_pages: &mut BTreeMap<String, PageRef>,
) -> String {
    let Some(res) = link.child_elements().find(|c| c.name.starts_with("ri:")) else {
        return link.text_content();
    };
    match res.name.as_str() {
        "ri:page" | "ri:blog-post" => {
            let r = page_ref(res);
            let title = r.title.clone();
            param_pages.insert(key.to_owned(), r);
            title
        }
        "ri:user" => user_key(res),
        "ri:space" => res.attr("ri:space-key").unwrap_or_default().to_owned(),
        "ri:attachment" => res.attr("ri:filename").unwrap_or_default().to_owned(),
        "ri:url" => res.attr("ri:value").unwrap_or_default().to_owned(),
        "ri:content-entity" => res.attr("ri:content-id").unwrap_or_default().to_owned(),
        _ => link.text_content(),
    }
}

/// The `id` attribute values of the elements in sanitized HTML. There every `<` of text
/// is written `&lt;` and every attribute value is double-quoted with its `"` written
/// `&quot;` (a raw `<` or `>` may stand inside a value), so a tag starts at `<` and
/// ends at the first `>` outside quotes.
fn element_ids(html: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        loop {
            let Some(at) = rest.find(['"', '>']) else {
                return ids;
            };
            if rest.as_bytes()[at] == b'>' {
                rest = &rest[at + 1..];
                break;
            }
            let name = rest[..at].trim_end().trim_end_matches('=').trim_end();
            let is_id = name
                .rsplit(|c: char| c.is_ascii_whitespace())
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case("id"));
            let value_and_more = &rest[at + 1..];
            let Some(end) = value_and_more.find('"') else {
                return ids;
            };
            let value = &value_and_more[..end];
            if is_id && !value.is_empty() {
                ids.push(
                    value
                        .replace("&quot;", "\"")
                        .replace("&nbsp;", "\u{a0}")
                        .replace("&amp;", "&"),
                );
            }
            rest = &value_and_more[end + 1..];
        }
    }
    ids
}

/// Anchor ids: the heading text with spaces as `-`, punctuation dropped, case kept, so
/// `#My-Heading` links written by hand keep working.
fn slug(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            s.push(c);
        } else if (c.is_whitespace() || c == '-') && !s.is_empty() && !s.ends_with('-') {
            s.push('-');
        }
    }
    while s.ends_with('-') {
        s.pop();
    }
    if s.is_empty() {
        s.push_str("heading");
    }
    s
}

impl Renderer<'_> {
    fn nodes(&mut self, out: &mut String, nodes: &[Node], inline: bool) {
        for n in nodes {
            match n {
                Node::Text(t) => escape_into(out, t),
                Node::Element(e) => self.element(out, e, inline),
            }
        }
    }

    /// Nodes rendered for markup built around them: with macro output in place of
    /// markers (see [`MacroOutputs`]).
    fn render_nodes(&mut self, nodes: &[Node], inline: bool) -> String {
        let mut s = String::new();
        self.nodes(&mut s, nodes, inline);
        self.macros.substitute(&s)
    }

    fn element(&mut self, out: &mut String, e: &Element, inline: bool) {
        let name = e.name.as_str();
        if let Some(rest) = name.strip_prefix("ac:") {
            return self.ac_element(out, e, rest, inline);
        }
        if name.starts_with("ri:") || drops_content(name) {
            return;
        }
        if let [b'h', level @ b'1'..=b'6'] = name.as_bytes() {
            return self.heading(out, e, level - b'0');
        }
        if is_void(name) {
            out.push('<');
            out.push_str(name);
            self.passthrough_attrs(out, e);
            out.push('>');
            return;
        }
        if passthrough_attrs(name).is_some() {
            let tag = if name == "strike" { "s" } else { name };
            out.push('<');
            out.push_str(tag);
            self.passthrough_attrs(out, e);
            out.push('>');
            self.nodes(out, &e.children, inline || is_phrasing(name));
            out.push_str("</");
            out.push_str(tag);
            out.push('>');
            return;
        }
        // Unknown HTML: keep the content, drop the tag.
        self.nodes(out, &e.children, inline);
    }

    fn passthrough_attrs(&self, out: &mut String, e: &Element) {
        let allowed = passthrough_attrs(&e.name).unwrap_or(&[]);
        for (k, v) in &e.attrs {
            if allowed.contains(&k.as_str()) {
                push_attr(out, k, v);
            }
        }
    }

    fn heading(&mut self, out: &mut String, e: &Element, level: u8) {
        let inner = self.render_nodes(&e.children, true);
        let text = normalize_space(&text_of_own_html(&inner));
        let anchor = self.unique_id(slug(&text));
        out.push_str("<h");
        out.push(char::from(b'0' + level));
        push_attr(out, "id", &anchor);
        if let Some(style) = e.attr("style") {
            push_attr(out, "style", style);
        }
        out.push('>');
        out.push_str(&inner);
        out.push_str("</h");
        out.push(char::from(b'0' + level));
        out.push('>');
        self.headings.push(Heading {
            level,
            text,
            anchor,
        });
    }

    fn unique_id(&mut self, base: String) -> String {
        if self.ids.insert(base.clone()) {
            return base;
        }
        let mut n = 1usize;
        loop {
            let candidate = format!("{base}-{n}");
            if self.ids.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }

    fn ac_element(&mut self, out: &mut String, e: &Element, local: &str, inline: bool) {
        match local {
            "link" => self.link(out, e),
            "image" => self.image(out, e),
            "structured-macro" | "macro" => self.macro_element(out, e, inline),
            "task-list" => self.task_list(out, e),
            "task" => {
                out.push_str("<ul class=\"task-list\">");
                self.task(out, e);
                out.push_str("</ul>");
            }
            "emoticon" => self.emoticon(out, e),
            "layout" => self.div(out, "layout", e),
            "layout-section" => {
                let kind = class_token(e.attr("ac:type").unwrap_or("single"));
                let class = format!("layout-section layout-{kind}");
                self.div(out, &class, e);
            }
            "layout-cell" => self.div(out, "layout-cell", e),
            "adf-extension" => {
                if let Some(fallback) = e.child("ac:adf-fallback") {
                    self.nodes(out, &fallback.children, inline);
                }
            }
            "plain-text-link-body" => escape_into(out, &e.text_content()),
            // Template instructions, task metadata and macro parts out of place: nothing
            // a reader should see.
            "placeholder" | "parameter" | "default-parameter" | "plain-text-body" | "task-id"
            | "task-status" | "task-uuid" | "adf-node" | "adf-attribute" | "adf-content" => {}
            // inline-comment-marker, link-body, rich-text-body, task-body, adf-fallback
            // and anything newer: the content is what counts.
            _ => self.nodes(out, &e.children, inline),
        }
    }

    fn div(&mut self, out: &mut String, class: &str, e: &Element) {
        out.push_str("<div");
        push_attr(out, "class", class);
        out.push('>');
        self.nodes(out, &e.children, false);
        out.push_str("</div>");
    }

    fn resolve(&self, res: Option<&Element>, anchor: Option<&str>) -> Target {
        let found = |l: Link, class: &'static str| Target::Found {
            url: l.url,
            title: l.title,
            class,
        };
        let Some(res) = res else {
            let anchor = anchor.unwrap_or_default();
            return Target::Found {
                url: String::new(),
                title: anchor.to_owned(),
                class: "",
            };
        };
        match res.name.as_str() {
            "ri:page" | "ri:blog-post" => {
                let r = page_ref(res);
                match self.ctx.page(&r) {
                    Some(l) => found(l, ""),
                    None => Target::Broken(r.title),
                }
            }
            "ri:attachment" => {
                let r = attachment_ref(res);
                match self.ctx.attachment(&r) {
                    Some(l) => found(l, "attachment-link"),
                    None => Target::Broken(r.filename),
                }
            }
            "ri:url" => {
                let url = res.attr("ri:value").unwrap_or_default().to_owned();
                Target::Found {
                    title: url.clone(),
                    url,
                    class: "external-link",
                }
            }
            "ri:user" => {
                let key = user_key(res);
                match self.ctx.user(&key) {
                    Some(l) => found(l, "user-mention"),
                    None => Target::Broken(key),
                }
            }
            "ri:space" => {
                let key = res.attr("ri:space-key").unwrap_or_default();
                match self.ctx.space(key) {
                    Some(l) => found(l, ""),
                    None => Target::Broken(key.to_owned()),
                }
            }
            "ri:content-entity" => {
                let written = res.attr("ri:content-id").unwrap_or_default();
                match written
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .and_then(|id| self.ctx.content(id))
                {
                    Some(l) => found(l, ""),
                    None => Target::Broken(written.to_owned()),
                }
            }
            "ri:shortcut" => {
                // Shortcut links need site configuration Cairn does not have.
                let key = res.attr("ri:key").unwrap_or_default();
                let param = res.attr("ri:parameter").unwrap_or_default();
                Target::Broken(format!("{param}@{key}"))
            }
            other => Target::Broken(other.trim_start_matches("ri:").to_owned()),
        }
    }

    fn link(&mut self, out: &mut String, e: &Element) {
        let anchor = e.attr("ac:anchor").filter(|a| !a.is_empty());
        let res = e.child_elements().find(|c| c.name.starts_with("ri:"));
        let body = if let Some(b) = e.child("ac:plain-text-link-body") {
            escape(&b.text_content())
        } else if let Some(b) = e.child("ac:link-body") {
            self.render_nodes(&b.children, true)
        } else {
            String::new()
        };
        let body = (!body.trim().is_empty()).then_some(body);
        match self.resolve(res, anchor) {
            Target::Found { url, title, class } => {
                let mut href = url;
                if let Some(a) = anchor {
                    href.push('#');
                    href.push_str(a);
                }
                out.push_str("<a");
                push_attr(out, "href", &href);
                if !class.is_empty() {
                    push_attr(out, "class", class);
                }
                out.push('>');
                match body {
                    Some(b) => out.push_str(&b),
                    None if title.is_empty() => escape_into(out, &href),
                    None => escape_into(out, &title),
                }
                out.push_str("</a>");
            }
            Target::Broken(written) => {
                out.push_str("<span class=\"broken-link\">");
                match body {
                    Some(b) => out.push_str(&b),
                    None if written.is_empty() => out.push_str("broken link"),
                    None => escape_into(out, &written),
                }
                out.push_str("</span>");
            }
        }
    }

    fn image(&mut self, out: &mut String, e: &Element) {
        let res = e.child_elements().find(|c| c.name.starts_with("ri:"));
        let mut alt = e.attr("ac:alt").map(str::to_owned);
        let src = match res {
            Some(r) if r.name == "ri:attachment" => {
                let a = attachment_ref(r);
                match self.ctx.attachment(&a) {
                    Some(l) => {
                        alt.get_or_insert(a.filename);
                        l.url
                    }
                    None => return broken_image(out, &a.filename),
                }
            }
            Some(r) if r.name == "ri:url" => r.attr("ri:value").unwrap_or_default().to_owned(),
            _ => return broken_image(out, "image"),
        };
        let mut class = String::from("image");
        for (attr, prefix) in [
            ("ac:align", " image-align-"),
            ("ac:layout", " image-layout-"),
        ] {
            if let Some(v) = e.attr(attr).map(class_token).filter(|v| !v.is_empty()) {
                class.push_str(prefix);
                class.push_str(&v);
            }
        }
        if e.attr("ac:border").is_some_and(|b| b == "true") {
            class.push_str(" image-border");
        }
        out.push_str("<img");
        push_attr(out, "src", &src);
        push_attr(out, "alt", alt.as_deref().unwrap_or_default());
        if let Some(t) = e.attr("ac:title") {
            push_attr(out, "title", t);
        }
        for (attr, html) in [("ac:width", "width"), ("ac:height", "height")] {
            if let Some(v) = e.attr(attr).map(str::trim) {
                if !v.is_empty() && v.len() <= 6 && v.bytes().all(|b| b.is_ascii_digit()) {
                    push_attr(out, html, v);
                }
            }
        }
        push_attr(out, "class", &class);
        out.push('>');
    }

    fn task_list(&mut self, out: &mut String, e: &Element) {
        out.push_str("<ul class=\"task-list\">");
        for child in e.child_elements() {
            match child.name.as_str() {
                "ac:task" => self.task(out, child),
                "ac:task-list" => {
                    out.push_str("<li>");
                    self.task_list(out, child);
                    out.push_str("</li>");
                }
                _ => {}
            }
        }
        out.push_str("</ul>");
    }

    fn task(&mut self, out: &mut String, task: &Element) {
        let done = task
            .child("ac:task-status")
            .is_some_and(|s| s.text_content().trim() == "complete");
        if done {
            out.push_str(
                "<li class=\"task-list-item checked\"><input type=\"checkbox\" disabled checked> ",
            );
        } else {
            out.push_str("<li class=\"task-list-item\"><input type=\"checkbox\" disabled> ");
        }
        for child in task.child_elements() {
            match child.name.as_str() {
                "ac:task-body" => self.nodes(out, &child.children, false),
                "ac:task-list" => self.task_list(out, child),
                _ => {}
            }
        }
        out.push_str("</li>");
    }

    fn emoticon(&mut self, out: &mut String, e: &Element) {
        let name = e.attr("ac:name").unwrap_or_default();
        let glyph = e
            .attr("ac:emoji-fallback")
            .filter(|f| !f.trim().is_empty())
            .or_else(|| emoticon_char(name));
        out.push_str("<span");
        push_attr(
            out,
            "class",
            &format!("emoticon emoticon-{}", class_token(name)),
        );
        push_attr(out, "title", name);
        out.push('>');
        match glyph {
            Some(g) => escape_into(out, g),
            None => {
                out.push(':');
                escape_into(out, name);
                out.push(':');
            }
        }
        out.push_str("</span>");
    }

    /// A macro call: the context renders it (plugins, in the host), or it
    /// is shown as not available. The renderer has no macros of its own.
    fn macro_element(&mut self, out: &mut String, e: &Element, inline: bool) {
        let call = macro_call(e, inline, |body| self.render_nodes(&body.children, false));
        if let Some(html) = self.ctx.render_macro(&call) {
            // Sanitized on its own first so that unbalanced host markup cannot close the
            // page's elements around it.
            let clean = crate::sanitize::clean(&html);
            // An id the macro defines (an `anchor` macro's name) is the macro's: headings
            // after it get distinct ids, so `#name` links reach the macro.
            for id in element_ids(&clean) {
                self.ids.insert(id);
            }
            self.macros.push(out, clean);
            return;
        }
        // Block-level box normally; a span in running text so the paragraph
        // around it is not split.
        let tag = if call.inline { "span" } else { "div" };
        out.push('<');
        out.push_str(tag);
        out.push_str(" class=\"macro-unavailable\">macro &quot;");
        escape_into(out, &call.name);
        out.push_str("&quot; is not available</");
        out.push_str(tag);
        out.push('>');
    }
}

fn broken_image(out: &mut String, written: &str) {
    out.push_str("<span class=\"broken-link broken-image\">");
    escape_into(out, written);
    out.push_str("</span>");
}

fn push_attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape_into(out, value);
    out.push('"');
}

#[cfg(test)]
mod element_id_tests {
    use super::element_ids;

    #[test]
    fn ids_are_read_from_tags_only() {
        assert_eq!(
            element_ids(
                "<span class=\"anchor\" id=\"top&quot;x &amp; y\"></span>\
                 <p title=\"a > id=&quot;no&quot;\">id=\"text\" &lt;b id=\"esc\"&gt;</p><b id=\"b\">"
            ),
            vec!["top\"x & y".to_string(), "b".to_string()]
        );
    }
}
