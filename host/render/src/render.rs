//! Storage format tree -> HTML (before sanitizing).
//!
//! Architecture invariant: every piece of text or attribute value that comes from the
//! body or the host is escaped here as it is written; the final sanitizer pass is a
//! second line of defence, not the only one.

use std::collections::HashSet;

use crate::html::{class_token, escape_into, normalize_space, text_of_own_html};
use crate::tree::{Element, Node};
use crate::{Context, Heading};

mod elements;
mod ids;
mod links;
mod macro_outputs;
mod refs;
pub(crate) use elements::is_phrasing;
pub(crate) use macro_outputs::MacroOutputs;
pub(crate) use refs::{attachment_ref, macro_call, page_ref, user_key};

use elements::{drops_content, emoticon_char, is_void, passthrough_attrs};
use ids::{element_ids, slug};
use refs::Target;

pub(crate) struct Renderer<'a> {
    ctx: &'a dyn Context,
    headings: Vec<Heading>,
    ids: HashSet<String>,
    macros: MacroOutputs,
    /// Inside the body of a task that is not complete: a past due date is overdue.
    open_task: bool,
}

/// Renders a parsed body. Returns unsanitized HTML (with macro markers, see
/// [`MacroOutputs`]), the headings and the macro outputs.
pub(crate) fn render(nodes: &[Node], ctx: &dyn Context) -> (String, Vec<Heading>, MacroOutputs) {
    let mut r = Renderer {
        ctx,
        headings: Vec::new(),
        ids: HashSet::new(),
        macros: MacroOutputs::new(),
        open_task: false,
    };
    let mut out = String::with_capacity(1024);
    r.nodes(&mut out, nodes, false);
    (out, r.headings, r.macros)
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
        if name == "time" && e.children.is_empty() {
            if let Some(day) = e.attr("datetime").and_then(crate::tasks::iso_day) {
                return self.date(out, &day);
            }
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
            // The text an inline comment is on: the page script highlights it
            // and links it to the thread while the thread is open.
            "inline-comment-marker" => {
                out.push_str("<span class=\"inline-marker\"");
                push_attr(out, "data-ref", e.attr("ac:ref").unwrap_or(""));
                out.push('>');
                self.nodes(out, &e.children, inline);
                out.push_str("</span>");
            }
            // Template instructions, task metadata and macro parts out of place: nothing
            // a reader should see.
            "placeholder" | "parameter" | "default-parameter" | "plain-text-body" | "task-id"
            | "task-status" | "task-uuid" | "adf-node" | "adf-attribute" | "adf-content" => {}
            // link-body, rich-text-body, task-body, adf-fallback
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
                "ac:task-body" => {
                    let outer = std::mem::replace(&mut self.open_task, !done);
                    self.nodes(out, &child.children, false);
                    self.open_task = outer;
                }
                "ac:task-list" => self.task_list(out, child),
                _ => {}
            }
        }
        out.push_str("</li>");
    }

    /// A date (`<time datetime="YYYY-MM-DD"/>`, Confluence's date lozenge) as a
    /// readable date; in an open task, one before the host's today is marked overdue.
    fn date(&mut self, out: &mut String, day: &str) {
        let overdue = self.open_task && self.ctx.today().is_some_and(|t| day < t.as_str());
        out.push_str("<time");
        push_attr(out, "datetime", day);
        push_attr(
            out,
            "class",
            if overdue {
                "date-lozenge overdue"
            } else {
                "date-lozenge"
            },
        );
        if overdue {
            push_attr(out, "title", "Overdue");
        }
        out.push('>');
        escape_into(out, &crate::tasks::readable_day(day));
        out.push_str("</time>");
    }

    fn emoticon(&mut self, out: &mut String, e: &Element) {
        let name = e.attr("ac:name").unwrap_or_default();
        let glyph = e
            .attr("ac:emoji-fallback")
            .filter(|f| !f.trim().is_empty())
            .or_else(|| emoticon_char(name));
        // A known emoticon the host has an image for: the image, with the
        // character as its text (copying and screen readers keep it).
        if let (Some(g), Some(src)) = (emoticon_char(name), self.ctx.emoticon_image(name)) {
            out.push_str("<img");
            push_attr(
                out,
                "class",
                &format!("emoticon emoticon-{}", class_token(name)),
            );
            push_attr(out, "src", &src);
            push_attr(out, "alt", glyph.unwrap_or(g));
            push_attr(out, "title", name);
            out.push('>');
            return;
        }
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

fn push_attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape_into(out, value);
    out.push('"');
}
