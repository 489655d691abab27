//! The one allow-list every HTML string leaves this crate through.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};

const TAGS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "del",
    "ins",
    "sub",
    "sup",
    "code",
    "pre",
    "blockquote",
    "br",
    "hr",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "colgroup",
    "col",
    "caption",
    "a",
    "span",
    "small",
    "big",
    "div",
    "img",
    "details",
    "summary",
    "input",
    "cite",
    "q",
    "abbr",
    "mark",
    "kbd",
    "var",
    "samp",
    "time",
    "dl",
    "dt",
    "dd",
];

/// CSS properties a body may set. Nothing that takes a URL, positions content over the
/// page chrome or changes behaviour.
const STYLE_PROPERTIES: &[&str] = &[
    "color",
    "background-color",
    "text-align",
    "text-decoration",
    "text-decoration-line",
    "margin-left",
    "padding-left",
    "border-color",
    "border-style",
    "border-width",
    "font-weight",
    "font-style",
    "vertical-align",
    "width",
];

static BUILDER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::empty();
    b.tags(TAGS.iter().copied().collect())
        .clean_content_tags(
            [
                "script", "style", "template", "noscript", "iframe", "object", "embed", "svg",
                "math",
            ]
            .into_iter()
            .collect(),
        )
        .generic_attributes(["class", "id", "title", "style"].into_iter().collect())
        .tag_attributes(HashMap::from([
            ("a", HashSet::from(["href"])),
            ("img", HashSet::from(["src", "alt", "width", "height"])),
            ("td", HashSet::from(["colspan", "rowspan"])),
            ("th", HashSet::from(["colspan", "rowspan"])),
            ("ol", HashSet::from(["start"])),
            ("col", HashSet::from(["span"])),
            ("time", HashSet::from(["datetime"])),
            ("input", HashSet::from(["type", "checked", "disabled"])),
            ("details", HashSet::from(["open"])),
            ("span", HashSet::from(["data-ref"])),
        ]))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true)
        .filter_style_properties(STYLE_PROPERTIES.iter().copied().collect())
        .attribute_filter(filter_attribute);
    b
});

/// Runs before ammonia's own style filtering: a style that could fetch or execute
/// anything is dropped whole rather than repaired.
fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    match attribute {
        // Inputs are display-only task checkboxes, whatever the HTML asked for. (Set
        // here rather than with ammonia's attribute setter, which orders attributes
        // differently from run to run.)
        "type" if element == "input" => Some(Cow::Borrowed("checkbox")),
        "style" => safe_style(value).then_some(Cow::Borrowed(value)),
        // Ammonia already refuses bad schemes; a relative URL that merely mentions one
        // (`<img src="javascript:…` as a path) is inert but dropped all the same, so no
        // output can be mistaken for — or rewritten by a later tool into — a script URL.
        "href" | "src" => {
            let squashed: String = value
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .flat_map(char::to_lowercase)
                .collect();
            let hostile = ["javascript:", "vbscript:", "data:", "livescript:"]
                .iter()
                .any(|bad| squashed.contains(bad));
            (!hostile).then_some(Cow::Borrowed(value))
        }
        // Classes and ids are plain tokens; anything else is someone being clever.
        "class" => {
            let ok = value.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ' ' | '+' | '#' | '.')
            });
            ok.then_some(Cow::Borrowed(value))
        }
        "width" | "height" | "colspan" | "rowspan" | "start" | "span" => {
            let v = value.trim();
            let ok = !v.is_empty() && v.len() <= 6 && v.bytes().all(|b| b.is_ascii_digit());
            ok.then_some(Cow::Borrowed(v))
        }
        _ => Some(Cow::Borrowed(value)),
    }
}

/// Whether a style attribute is plain declarations with simple values. Anything that
/// could fetch or execute (url(), expression(), escapes, comments, at-rules, scheme-like
/// values) makes the whole attribute go, rather than being repaired.
fn safe_style(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    if ["url(", "expression", "behavior", "binding", "script"]
        .iter()
        .any(|bad| lower.contains(bad))
    {
        return false;
    }
    lower.split(';').all(|decl| {
        if decl.trim().is_empty() {
            return true;
        }
        let Some((property, value)) = decl.split_once(':') else {
            return false;
        };
        property
            .trim()
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '-')
            && value.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(
                        c,
                        ' ' | '#' | '%' | '.' | ',' | '(' | ')' | '-' | '!' | '\t'
                    )
            })
    })
}

/// Sanitizes HTML with the crate's allow-list.
pub(crate) fn clean(html: &str) -> String {
    BUILDER.clean(html).to_string()
}

/// Elements with no content (never pushed on the tree builder's stack).
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen", "frame", "basefont", "bgsound",
];

/// Elements whose content is text up to their own end tag.
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];

/// Formatting elements: the tree builder may reopen them after they were
/// closed implicitly, so such a close does not lower the estimate.
const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];

/// Whether parsing `html` could nest elements deeper than `limit`, by one
/// linear scan that never underestimates the tree builder's depth: an end
/// tag only closes an element it matches, a formatting element closed
/// implicitly stays counted, `<div/>` opens a `div` as it does in HTML. The
/// work per tag is bounded by `limit` (the scan stops past it), so the check
/// is linear in the input, and the tree builder's per-tag work (which grows
/// with the depth) stays bounded for input that passes.
pub fn nests_deeper_than(html: &str, limit: usize) -> bool {
    let b = html.as_bytes();
    let mut stack: Vec<String> = Vec::new();
    let mut debt = 0usize;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        let rest = &b[i + 1..];
        if rest.starts_with(b"!--") {
            i = find(b, i + 4, b"-->").map_or(b.len(), |e| e + 3);
            continue;
        }
        if rest.first() == Some(&b'!') || rest.first() == Some(&b'?') {
            i = find(b, i + 1, b">").map_or(b.len(), |e| e + 1);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let start = i + 1 + usize::from(closing);
        if !b.get(start).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
            continue;
        }
        let mut j = start;
        while j < b.len() && !matches!(b[j], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>') {
            j += 1;
        }
        let name = html[start..j].to_ascii_lowercase();
        // The end of the tag, skipping quoted attribute values.
        let mut quote = None;
        while j < b.len() {
            match (quote, b[j]) {
                (None, b'>') => break,
                (None, q @ (b'"' | b'\'')) => quote = Some(q),
                (Some(q), c) if c == q => quote = None,
                _ => {}
            }
            j += 1;
        }
        i = j + 1;
        if closing {
            if let Some(at) = stack.iter().rposition(|n| *n == name) {
                debt += stack[at + 1..]
                    .iter()
                    .filter(|n| FORMATTING.contains(&n.as_str()))
                    .count();
                stack.truncate(at);
            }
        } else if !VOID.contains(&name.as_str()) {
            if name == "plaintext" {
                return stack.len() + debt + 1 > limit;
            }
            if RAW_TEXT.contains(&name.as_str()) {
                let end = format!("</{name}");
                i = find_ci(b, i, end.as_bytes()).unwrap_or(b.len());
                continue;
            }
            stack.push(name);
        }
        if stack.len() + debt > limit {
            return true;
        }
    }
    false
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn find_ci(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

#[cfg(test)]
mod depth_tests {
    use super::nests_deeper_than;

    #[test]
    fn depth_is_never_underestimated() {
        let deep = |n: usize| "<div>".repeat(n) + &"</div>".repeat(n);
        assert!(!nests_deeper_than(&deep(10), 10));
        assert!(nests_deeper_than(&deep(11), 10));
        assert!(nests_deeper_than(&"<div>".repeat(200_000), 100));
        assert!(nests_deeper_than(&"<div/>".repeat(11), 10));
        assert!(!nests_deeper_than(&"<br><img src=x><hr/>".repeat(100), 10));
        // Unmatched end tags close nothing.
        assert!(nests_deeper_than(&"<span></x>".repeat(11), 10));
        // Formatting elements closed implicitly may be reopened.
        assert!(nests_deeper_than(&"<p><b id=1></p>".repeat(11), 10));
        // Markup inside raw text and quoted attributes is text.
        assert!(!nests_deeper_than(
            &"<p title=\"<div><div>\"><script><div></script></p>".repeat(50),
            3
        ));
        assert!(!nests_deeper_than(
            &"<!-- <div><div><div> -->".repeat(10),
            1
        ));
        assert!(!nests_deeper_than("", 0));
    }
}
