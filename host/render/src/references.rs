//! Collects everything a body points at.

use crate::render::{attachment_ref, is_phrasing, macro_call, page_ref, user_key};
use crate::tree::{Element, Node};
use crate::References;

pub(crate) fn collect(src: &str, nodes: &[Node]) -> References {
    let mut refs = References::default();
    walk(src, nodes, false, &mut refs);
    refs
}

fn walk(src: &str, nodes: &[Node], inline: bool, refs: &mut References) {
    for n in nodes {
        if let Node::Element(e) = n {
            element(src, e, inline, refs);
        }
    }
}

fn element(src: &str, e: &Element, inline: bool, refs: &mut References) {
    match e.name.as_str() {
        "ri:page" | "ri:blog-post" => {
            refs.pages.insert(page_ref(e));
        }
        "ri:attachment" => {
            let a = attachment_ref(e);
            if let Some(c) = &a.container {
                refs.pages.insert(c.clone());
            }
            refs.attachments.insert(a);
            // The container is a child element: already recorded above.
            return;
        }
        "ri:user" => {
            refs.users.insert(user_key(e));
        }
        "ri:space" => {
            if let Some(k) = e.attr("ri:space-key") {
                refs.spaces.insert(k.to_owned());
            }
        }
        "ri:content-entity" => {
            if let Some(id) = e.attr("ri:content-id").and_then(|v| v.trim().parse().ok()) {
                refs.content_ids.insert(id);
            }
        }
        "ac:structured-macro" | "ac:macro" => {
            let call = macro_call(e, inline, |body| src[body.inner.clone()].to_owned());
            refs.macros.push(call);
        }
        _ => {}
    }
    let inline = inline || is_phrasing(&e.name);
    walk(src, &e.children, inline, refs);
}
