//! Markdown -> storage format.
//!
//! Architecture invariant: everything written comes from the event stream through
//! [`xml_text`] or [`cdata`], so the output is always well-formed and raw HTML in the
//! Markdown can only ever become text.

use pulldown_cmark::{Alignment, CodeBlockKind, Event, LinkType, Options, Parser, Tag, TagEnd};

/// Characters XML 1.0 does not allow at all; they are dropped rather than escaped.
fn xml_char_ok(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

fn xml_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if xml_char_ok(c) => out.push(c),
            _ => {}
        }
    }
}

/// A CDATA section holding `text`; `]]>` is split across two sections.
fn cdata(out: &mut String, text: &str) {
    out.push_str("<![CDATA[");
    for c in text.chars().filter(|&c| xml_char_ok(c)) {
        out.push(c);
        if c == '>' && out.ends_with("]]>") {
            out.truncate(out.len() - 1);
            out.push_str("]]><![CDATA[>");
        }
    }
    out.push_str("]]>");
}

/// Whether the list starting at `events[i]` is a task list (its first item has a marker).
fn is_task_list(events: &[Event<'_>], i: usize) -> bool {
    task_marker(events, i + 1).is_some()
}

/// The checkbox state of the item starting at `events[i]`, if it has one.
fn task_marker(events: &[Event<'_>], i: usize) -> Option<bool> {
    if !matches!(events.get(i), Some(Event::Start(Tag::Item))) {
        return None;
    }
    for e in events.iter().skip(i + 1).take(2) {
        match e {
            Event::TaskListMarker(done) => return Some(*done),
            Event::Start(Tag::Paragraph) => continue,
            _ => return None,
        }
    }
    None
}

fn align_style(a: Option<&Alignment>) -> &'static str {
    match a {
        Some(Alignment::Left) => " style=\"text-align: left;\"",
        Some(Alignment::Center) => " style=\"text-align: center;\"",
        Some(Alignment::Right) => " style=\"text-align: right;\"",
        _ => "",
    }
}

pub(crate) fn to_storage(md: &str) -> String {
    to_storage_with(md, &|_| None)
}

/// `@username` in text (after a space, a bracket or the start) that
/// `mention` knows — it answers the user key — becomes a mention
/// (`ac:link` + `ri:user`); any other `@` stays text.
fn mention_text(out: &mut String, text: &str, mention: &dyn Fn(&str) -> Option<String>) {
    let mut rest = text;
    let mut prev: Option<char> = None;
    while let Some(at) = rest.find('@') {
        let before = rest[..at].chars().next_back().or(prev);
        let name_len = rest[at + 1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            .unwrap_or(rest.len() - at - 1);
        let name = rest[at + 1..at + 1 + name_len].trim_end_matches(['.', '-']);
        let starts_word = before.is_none_or(|c| c.is_whitespace() || "([{\"'".contains(c));
        match (starts_word && !name.is_empty())
            .then(|| mention(name))
            .flatten()
        {
            Some(key) => {
                xml_text(out, &rest[..at]);
                out.push_str("<ac:link><ri:user ri:userkey=\"");
                xml_text(out, &key);
                out.push_str("\"/></ac:link>");
                rest = &rest[at + 1 + name.len()..];
                prev = name.chars().next_back();
            }
            None => {
                xml_text(out, &rest[..=at]);
                prev = Some('@');
                rest = &rest[at + 1..];
            }
        }
    }
    xml_text(out, rest);
}

/// [`to_storage`] with mentions resolved by `mention` (username → user key).
pub(crate) fn to_storage_with(md: &str, mention: &dyn Fn(&str) -> Option<String>) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events: Vec<Event<'_>> = Parser::new_ext(md, options).collect();
    let mut out = String::with_capacity(md.len() * 2);
    // For each open list: is it a task list?
    let mut lists: Vec<bool> = Vec::new();
    let mut task_id = 0u32;
    let mut alignments: Vec<Alignment> = Vec::new();
    let mut cell = 0usize;
    let mut in_head = false;
    // Text of an open code block or image alt; markup inside is flattened.
    let mut capture: Option<String> = None;
    // Images nested in an image's alt text (legal Markdown) only contribute their text.
    let mut nested_images = 0usize;
    let mut image_targets: Vec<String> = Vec::new();
    // Inside a link's text a mention would nest links: `@` stays text there.
    let mut links = 0usize;

    for (i, event) in events.iter().enumerate() {
        match event {
            Event::Start(Tag::Link { .. }) => links += 1,
            Event::End(TagEnd::Link) => links = links.saturating_sub(1),
            _ => {}
        }
        if let Some(buf) = capture.as_mut() {
            match event {
                Event::Text(t) | Event::Code(t) => {
                    buf.push_str(t);
                    continue;
                }
                Event::Start(Tag::Image { .. }) => {
                    nested_images += 1;
                    continue;
                }
                Event::End(TagEnd::Image) if nested_images > 0 => {
                    nested_images -= 1;
                    continue;
                }
                Event::End(TagEnd::CodeBlock) | Event::End(TagEnd::Image) => {}
                _ => continue,
            }
        }
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => out.push_str("<p>"),
                Tag::Heading { level, .. } => {
                    out.push_str(&format!("<{level}>"));
                }
                Tag::BlockQuote(_) => out.push_str("<blockquote>"),
                Tag::CodeBlock(kind) => {
                    out.push_str("<ac:structured-macro ac:name=\"code\" ac:schema-version=\"1\">");
                    if let CodeBlockKind::Fenced(info) = kind {
                        let lang = info.split_whitespace().next().unwrap_or_default();
                        if !lang.is_empty() {
                            out.push_str("<ac:parameter ac:name=\"language\">");
                            xml_text(&mut out, lang);
                            out.push_str("</ac:parameter>");
                        }
                    }
                    capture = Some(String::new());
                }
                Tag::HtmlBlock => out.push_str("<p>"),
                Tag::List(start) => {
                    let task = is_task_list(&events, i);
                    lists.push(task);
                    match (task, start) {
                        (true, _) => out.push_str("<ac:task-list>"),
                        (false, Some(1)) => out.push_str("<ol>"),
                        (false, Some(n)) => out.push_str(&format!("<ol start=\"{n}\">")),
                        (false, None) => out.push_str("<ul>"),
                    }
                }
                Tag::Item => {
                    if lists.last().copied().unwrap_or(false) {
                        task_id += 1;
                        let done = task_marker(&events, i).unwrap_or(false);
                        let status = if done { "complete" } else { "incomplete" };
                        out.push_str(&format!(
                            "<ac:task><ac:task-id>{task_id}</ac:task-id><ac:task-status>{status}</ac:task-status><ac:task-body>"
                        ));
                    } else {
                        out.push_str("<li>");
                    }
                }
                Tag::Table(a) => {
                    alignments = a.clone();
                    out.push_str("<table>");
                }
                Tag::TableHead => {
                    in_head = true;
                    cell = 0;
                    out.push_str("<thead><tr>");
                }
                Tag::TableRow => {
                    cell = 0;
                    out.push_str("<tr>");
                }
                Tag::TableCell => {
                    out.push_str(if in_head { "<th" } else { "<td" });
                    out.push_str(align_style(alignments.get(cell)));
                    out.push('>');
                }
                Tag::Emphasis => out.push_str("<em>"),
                Tag::Strong => out.push_str("<strong>"),
                Tag::Strikethrough => out.push_str("<s>"),
                Tag::Superscript => out.push_str("<sup>"),
                Tag::Subscript => out.push_str("<sub>"),
                Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    ..
                } => {
                    out.push_str("<a href=\"");
                    if *link_type == LinkType::Email && !dest_url.starts_with("mailto:") {
                        out.push_str("mailto:");
                    }
                    xml_text(&mut out, dest_url);
                    out.push('"');
                    if !title.is_empty() {
                        out.push_str(" title=\"");
                        xml_text(&mut out, title);
                        out.push('"');
                    }
                    out.push('>');
                }
                Tag::Image {
                    dest_url, title, ..
                } => {
                    out.push_str("<ac:image");
                    if !title.is_empty() {
                        out.push_str(" ac:title=\"");
                        xml_text(&mut out, title);
                        out.push('"');
                    }
                    // The alt text follows as events; the tag is finished at its end.
                    out.push_str(" ac:alt=\"");
                    let url = dest_url.to_string();
                    capture = Some(String::new());
                    image_targets.push(url);
                }
                Tag::FootnoteDefinition(_)
                | Tag::DefinitionList
                | Tag::DefinitionListTitle
                | Tag::DefinitionListDefinition
                | Tag::MetadataBlock(_) => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph | TagEnd::HtmlBlock => out.push_str("</p>"),
                TagEnd::Heading(level) => out.push_str(&format!("</{level}>")),
                TagEnd::BlockQuote(_) => out.push_str("</blockquote>"),
                TagEnd::CodeBlock => {
                    let code = capture.take().unwrap_or_default();
                    let code = code.strip_suffix('\n').unwrap_or(&code);
                    out.push_str("<ac:plain-text-body>");
                    cdata(&mut out, code);
                    out.push_str("</ac:plain-text-body></ac:structured-macro>");
                }
                TagEnd::List(ordered) => {
                    let task = lists.pop().unwrap_or(false);
                    out.push_str(match (task, ordered) {
                        (true, _) => "</ac:task-list>",
                        (false, true) => "</ol>",
                        (false, false) => "</ul>",
                    });
                }
                TagEnd::Item => {
                    if lists.last().copied().unwrap_or(false) {
                        out.push_str("</ac:task-body></ac:task>");
                    } else {
                        out.push_str("</li>");
                    }
                }
                TagEnd::Table => out.push_str("</tbody></table>"),
                TagEnd::TableHead => {
                    in_head = false;
                    out.push_str("</tr></thead><tbody>");
                }
                TagEnd::TableRow => out.push_str("</tr>"),
                TagEnd::TableCell => {
                    out.push_str(if in_head { "</th>" } else { "</td>" });
                    cell += 1;
                }
                TagEnd::Emphasis => out.push_str("</em>"),
                TagEnd::Strong => out.push_str("</strong>"),
                TagEnd::Strikethrough => out.push_str("</s>"),
                TagEnd::Superscript => out.push_str("</sup>"),
                TagEnd::Subscript => out.push_str("</sub>"),
                TagEnd::Link => out.push_str("</a>"),
                TagEnd::Image => {
                    let alt = capture.take().unwrap_or_default();
                    xml_text(&mut out, &alt);
                    out.push_str("\">");
                    let url = image_targets.pop().unwrap_or_default();
                    if url.contains("://") || url.starts_with("//") {
                        out.push_str("<ri:url ri:value=\"");
                    } else {
                        out.push_str("<ri:attachment ri:filename=\"");
                    }
                    xml_text(&mut out, &url);
                    out.push_str("\"/></ac:image>");
                }
                TagEnd::FootnoteDefinition
                | TagEnd::DefinitionList
                | TagEnd::DefinitionListTitle
                | TagEnd::DefinitionListDefinition
                | TagEnd::MetadataBlock(_) => {}
            },
            Event::Text(t) if links == 0 => mention_text(&mut out, t, mention),
            Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) => xml_text(&mut out, t),
            Event::Code(t) => {
                out.push_str("<code>");
                xml_text(&mut out, t);
                out.push_str("</code>");
            }
            Event::InlineMath(t) | Event::DisplayMath(t) => xml_text(&mut out, t),
            Event::FootnoteReference(t) => {
                out.push('[');
                xml_text(&mut out, t);
                out.push(']');
            }
            Event::SoftBreak => out.push('\n'),
            Event::HardBreak => out.push_str("<br/>"),
            Event::Rule => out.push_str("<hr/>"),
            // Rendered as the task's status above.
            Event::TaskListMarker(_) => {}
        }
    }
    out
}
