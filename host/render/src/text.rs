//! Plain text for search indexing.

use crate::html::normalize_space;
use crate::tree::{Element, Node};

/// Elements that end a line of text.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "tr"
            | "td"
            | "th"
            | "br"
            | "hr"
            | "pre"
            | "blockquote"
            | "table"
            | "ul"
            | "ol"
            | "dt"
            | "dd"
            | "caption"
            | "ac:layout-cell"
            | "ac:task"
            | "ac:task-body"
            | "ac:rich-text-body"
            | "ac:plain-text-body"
            | "ac:structured-macro"
            | "ac:macro"
            | "ac:image"
    )
}

pub(crate) fn extract(nodes: &[Node]) -> String {
    let mut raw = String::new();
    walk(nodes, &mut raw);
    let mut out = String::with_capacity(raw.len());
    for line in raw.lines() {
        let line = normalize_space(line);
        if !line.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&line);
        }
    }
    out
}

fn walk(nodes: &[Node], out: &mut String) {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => element(e, out),
        }
    }
}

fn element(e: &Element, out: &mut String) {
    let name = e.name.as_str();
    match name {
        // Parameters, task metadata, placeholders and resource identifiers are markup,
        // not content; script/style content is not text either.
        "ac:parameter"
        | "ac:default-parameter"
        | "ac:task-id"
        | "ac:task-status"
        | "ac:placeholder"
        | "ac:adf-node"
        | "script"
        | "style" => return,
        "ac:adf-extension" => {
            if let Some(f) = e.child("ac:adf-fallback") {
                walk(&f.children, out);
            }
            return;
        }
        "ac:link" => {
            // A link with no body shows its target's name: index the written one.
            let has_body = e
                .child_elements()
                .any(|c| c.name == "ac:plain-text-link-body" || c.name == "ac:link-body");
            if !has_body {
                if let Some(r) = e.child_elements().find(|c| c.name.starts_with("ri:")) {
                    let written = r
                        .attr("ri:content-title")
                        .or_else(|| r.attr("ri:filename"))
                        .unwrap_or_default();
                    out.push(' ');
                    out.push_str(written);
                    out.push(' ');
                }
                return;
            }
        }
        "ac:emoticon" => {
            if let Some(f) = e.attr("ac:emoji-fallback") {
                out.push(' ');
                out.push_str(f);
                out.push(' ');
            }
            return;
        }
        _ if name.starts_with("ri:") => return,
        _ => {}
    }
    let block = is_block(name);
    if block {
        out.push('\n');
    } else if matches!(name, "td" | "th") {
        out.push(' ');
    }
    walk(&e.children, out);
    if block {
        out.push('\n');
    }
}
