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
