//! References read out of storage-format elements (`ri:page`, `ri:attachment`,
//! `ri:user`, macro calls and their link parameters). Invariant: these read the
//! body only; resolving a reference is the context's job.

use crate::tree::Element;
use crate::{AttachmentRef, MacroBody, MacroCall, PageRef};
use std::collections::BTreeMap;

/// A link target after asking the context.
pub(super) enum Target {
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
                    // `<ac:parameter><ri:space …/></ac:parameter>`, as Confluence writes
                    // space, attachment and URL parameters.
                    None if child.child_elements().any(|c| c.name.starts_with("ri:")) => {
                        link_param_value(child, &key, &mut param_pages)
                    }
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

pub(super) fn link_param_value(
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
