//! Links and images: each target is resolved through the context, so a missing
//! or invisible target shows the written text, never a guessed title or URL.

use super::refs::{attachment_ref, page_ref, user_key};
use super::{push_attr, Renderer, Target};
use crate::html::{class_token, escape, escape_into};
use crate::tree::Element;
use crate::Link;

impl Renderer<'_> {
    pub(super) fn resolve(&self, res: Option<&Element>, anchor: Option<&str>) -> Target {
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

    pub(super) fn link(&mut self, out: &mut String, e: &Element) {
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

    pub(super) fn image(&mut self, out: &mut String, e: &Element) {
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
}

pub(super) fn broken_image(out: &mut String, written: &str) {
    out.push_str("<span class=\"broken-link broken-image\">");
    escape_into(out, written);
    out.push_str("</span>");
}
