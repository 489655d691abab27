//! Line diffs with word highlights, as escaped HTML.

use std::time::Duration;

use similar::{ChangeTag, DiffOp, InlineChange, TextDiff};

use crate::html::escape_into;

/// Bounds the work on huge or wildly different versions: past it the diff gets coarser,
/// never slower.
const DEADLINE: Duration = Duration::from_millis(500);

fn diff<'a>(old: &'a str, new: &'a str) -> TextDiff<'a, 'a, 'a, str> {
    TextDiff::configure().timeout(DEADLINE).diff_lines(old, new)
}

/// Writes one line's content with changed words wrapped in `mark` (`ins`/`del`); a line
/// with nothing in common with the other side is wrapped whole.
fn line_html(out: &mut String, change: &InlineChange<'_, str>, mark: &str) {
    let values = change.values();
    let any_emphasis = values.iter().any(|(e, _)| *e);
    if !any_emphasis && change.tag() != ChangeTag::Equal {
        out.push('<');
        out.push_str(mark);
        out.push('>');
    }
    for (emphasized, value) in values {
        let value = value.trim_end_matches(['\n', '\r']);
        if *emphasized && !value.is_empty() {
            out.push('<');
            out.push_str(mark);
            out.push('>');
            escape_into(out, value);
            out.push_str("</");
            out.push_str(mark);
            out.push('>');
        } else {
            escape_into(out, value);
        }
    }
    if !any_emphasis && change.tag() != ChangeTag::Equal {
        out.push_str("</");
        out.push_str(mark);
        out.push('>');
    }
}

pub(crate) fn inline_html(old: &str, new: &str) -> String {
    let d = diff(old, new);
    let mut out = String::from("<div class=\"diff diff-inline\">");
    for op in d.ops() {
        for change in d.iter_inline_changes(op) {
            let (class, mark) = match change.tag() {
                ChangeTag::Equal => ("diff-line diff-eq", "span"),
                ChangeTag::Delete => ("diff-line diff-del", "del"),
                ChangeTag::Insert => ("diff-line diff-ins", "ins"),
            };
            out.push_str("<div class=\"");
            out.push_str(class);
            out.push_str("\">");
            line_html(&mut out, &change, mark);
            out.push_str("</div>");
        }
    }
    out.push_str("</div>");
    out
}

pub(crate) fn side_by_side_html(old: &str, new: &str) -> String {
    let d = diff(old, new);
    let mut out = String::from("<table class=\"diff\"><tbody>");
    for op in d.ops() {
        let mut dels = Vec::new();
        let mut inss = Vec::new();
        for change in d.iter_inline_changes(op) {
            match change.tag() {
                ChangeTag::Equal => {
                    out.push_str("<tr class=\"diff-eq\"><td class=\"diff-old\">");
                    line_html(&mut out, &change, "span");
                    out.push_str("</td><td class=\"diff-new\">");
                    line_html(&mut out, &change, "span");
                    out.push_str("</td></tr>");
                }
                ChangeTag::Delete => dels.push(change),
                ChangeTag::Insert => inss.push(change),
            }
        }
        if matches!(op, DiffOp::Equal { .. }) {
            continue;
        }
        for i in 0..dels.len().max(inss.len()) {
            out.push_str("<tr class=\"diff-change\"><td class=\"diff-old\">");
            if let Some(c) = dels.get(i) {
                line_html(&mut out, c, "del");
            }
            out.push_str("</td><td class=\"diff-new\">");
            if let Some(c) = inss.get(i) {
                line_html(&mut out, c, "ins");
            }
            out.push_str("</td></tr>");
        }
    }
    out.push_str("</tbody></table>");
    out
}
