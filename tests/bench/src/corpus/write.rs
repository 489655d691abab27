//! Writing a page body out: Confluence storage format for Cairn, wikitext for
//! MediaWiki and plain text, from the same blocks. Invariant: all three
//! carry the same words, so both wikis index the same text.

use std::fmt::Write;

use super::{Block, Inline};

pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page body as Confluence storage format.
pub fn storage(body: &[Block]) -> String {
    let mut s = String::new();
    for b in body {
        match b {
            Block::Heading(l, t) => {
                let _ = write!(s, "<h{l}>{}</h{l}>", esc(t));
            }
            Block::Para(inl) => {
                s.push_str("<p>");
                for i in inl {
                    match i {
                        Inline::Text(t) => s.push_str(&esc(t)),
                        Inline::Bold(t) => {
                            let _ = write!(s, "<strong>{}</strong>", esc(t));
                        }
                        Inline::Link(t) => {
                            let _ = write!(
                                s,
                                "<ac:link><ri:page ri:content-title=\"{}\" /></ac:link>",
                                esc(t)
                            );
                        }
                    }
                }
                s.push_str("</p>");
            }
            Block::List(ordered, items) => {
                let tag = if *ordered { "ol" } else { "ul" };
                let _ = write!(s, "<{tag}>");
                for i in items {
                    let _ = write!(s, "<li>{}</li>", esc(i));
                }
                let _ = write!(s, "</{tag}>");
            }
            Block::Table(rows) => {
                s.push_str("<table><tbody>");
                for (n, row) in rows.iter().enumerate() {
                    s.push_str("<tr>");
                    for c in row {
                        let t = if n == 0 { "th" } else { "td" };
                        let _ = write!(s, "<{t}>{}</{t}>", esc(c));
                    }
                    s.push_str("</tr>");
                }
                s.push_str("</tbody></table>");
            }
            Block::Code(lang, text) => {
                let _ = write!(
                    s,
                    "<ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">{lang}</ac:parameter><ac:plain-text-body><![CDATA[{text}]]></ac:plain-text-body></ac:structured-macro>"
                );
            }
            Block::Panel(kind, text) => {
                let _ = write!(
                    s,
                    "<ac:structured-macro ac:name=\"{kind}\"><ac:rich-text-body><p>{}</p></ac:rich-text-body></ac:structured-macro>",
                    esc(text)
                );
            }
            Block::Image(file) => {
                let _ = write!(
                    s,
                    "<p><ac:image ac:width=\"400\"><ri:attachment ri:filename=\"{}\" /></ac:image></p>",
                    esc(file)
                );
            }
        }
    }
    s
}

/// The page body as MediaWiki wikitext (the same content; panels become
/// templates-free styled divs, since a fresh MediaWiki has no templates).
pub fn wikitext(body: &[Block]) -> String {
    let mut s = String::new();
    for b in body {
        match b {
            Block::Heading(l, t) => {
                let eq = "=".repeat(*l as usize);
                let _ = writeln!(s, "{eq} {t} {eq}");
            }
            Block::Para(inl) => {
                for i in inl {
                    match i {
                        Inline::Text(t) => s.push_str(&esc(t)),
                        Inline::Bold(t) => {
                            let _ = write!(s, "'''{}'''", esc(t));
                        }
                        Inline::Link(t) => {
                            let _ = write!(s, "[[{t}]]");
                        }
                    }
                }
                s.push_str("\n\n");
            }
            Block::List(ordered, items) => {
                let m = if *ordered { '#' } else { '*' };
                for i in items {
                    let _ = writeln!(s, "{m} {}", esc(i));
                }
                s.push('\n');
            }
            Block::Table(rows) => {
                s.push_str("{| class=\"wikitable\"\n");
                for (n, row) in rows.iter().enumerate() {
                    if n > 0 {
                        s.push_str("|-\n");
                    }
                    let m = if n == 0 { '!' } else { '|' };
                    for c in row {
                        let _ = writeln!(s, "{m} {}", esc(c));
                    }
                }
                s.push_str("|}\n\n");
            }
            // SyntaxHighlight needs Pygments, which Debian's MediaWiki does
            // not enable by default.
            Block::Code(_, text) => {
                let _ = write!(s, "<pre>\n{}\n</pre>\n\n", esc(text));
            }
            Block::Panel(kind, text) => {
                let _ = write!(
                    s,
                    "<div class=\"panel-{kind}\" style=\"border:1px solid #ccc;padding:8px\">{}</div>\n\n",
                    esc(text)
                );
            }
            Block::Image(file) => {
                let _ = write!(s, "[[File:{file}|400px]]\n\n");
            }
        }
    }
    s
}

/// Plain words of a page, for PostgreSQL full-text search.
pub fn plain(body: &[Block]) -> String {
    let mut s = String::new();
    for b in body {
        match b {
            Block::Heading(_, t) | Block::Panel(_, t) | Block::Code(_, t) => {
                s.push_str(t);
                s.push(' ');
            }
            Block::Para(inl) => {
                for i in inl {
                    match i {
                        Inline::Text(t) | Inline::Bold(t) | Inline::Link(t) => {
                            s.push_str(t);
                            s.push(' ');
                        }
                    }
                }
            }
            Block::List(_, items) => {
                for i in items {
                    s.push_str(i);
                    s.push(' ');
                }
            }
            Block::Table(rows) => {
                for c in rows.iter().flatten() {
                    s.push_str(c);
                    s.push(' ');
                }
            }
            Block::Image(_) => {}
        }
    }
    s
}
