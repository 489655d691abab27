//! Which plain HTML elements a body may use, and how: the attributes kept per
//! element, void and phrasing elements, elements dropped with their content,
//! and the emoticon names. Invariant: an element or attribute not listed here
//! never reaches the output as markup.

/// Plain HTML elements passed through, with the attributes kept from the body.
pub(super) fn passthrough_attrs(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "p" | "div" | "span" | "blockquote" | "ul" | "li" | "table" | "h1" | "h2" | "h3" | "h4"
        | "h5" | "h6" | "pre" => &["style"],
        "ol" => &["style", "start"],
        "td" | "th" => &["style", "colspan", "rowspan"],
        "a" => &["href", "title"],
        "col" => &["span"],
        "abbr" => &["title"],
        "time" => &["datetime"],
        "strong" | "b" | "em" | "i" | "u" | "s" | "del" | "ins" | "strike" | "sub" | "sup"
        | "code" | "small" | "big" | "thead" | "tbody" | "tfoot" | "tr" | "colgroup"
        | "caption" | "cite" | "q" | "mark" | "kbd" | "var" | "samp" | "dl" | "dt" | "dd" => &[],
        _ => return None,
    })
}

pub(super) fn is_void(name: &str) -> bool {
    matches!(name, "br" | "hr" | "col")
}

/// Elements whose content is running text: a macro inside one is an inline macro.
pub(crate) fn is_phrasing(name: &str) -> bool {
    matches!(
        name,
        "p" | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "span"
            | "strong"
            | "b"
            | "em"
            | "i"
            | "u"
            | "s"
            | "del"
            | "ins"
            | "strike"
            | "sub"
            | "sup"
            | "code"
            | "small"
            | "big"
            | "a"
            | "cite"
            | "q"
            | "abbr"
            | "mark"
            | "kbd"
            | "var"
            | "samp"
            | "time"
    )
}

/// Unknown elements whose content is not text a reader should see (scripts, styles,
/// embedded documents): dropped whole instead of rendering their children.
pub(super) fn drops_content(name: &str) -> bool {
    let local = name.rsplit(':').next().unwrap_or(name);
    matches!(
        local.to_ascii_lowercase().as_str(),
        "script"
            | "style"
            | "template"
            | "noscript"
            | "iframe"
            | "object"
            | "embed"
            | "applet"
            | "svg"
            | "math"
            | "textarea"
            | "select"
            | "title"
            | "head"
            | "frame"
            | "frameset"
            | "noembed"
            | "noframes"
            | "xmp"
            | "plaintext"
    )
}

pub(super) fn emoticon_char(name: &str) -> Option<&'static str> {
    Some(match name {
        "smile" => "🙂",
        "sad" => "🙁",
        "cheeky" => "😛",
        "laugh" => "😀",
        "wink" => "😉",
        "thumbs-up" => "👍",
        "thumbs-down" => "👎",
        "information" => "ℹ️",
        "tick" => "✅",
        "cross" => "❌",
        "warning" => "⚠️",
        "plus" => "➕",
        "minus" => "➖",
        "question" => "❓",
        "light-on" => "💡",
        "light-off" => "🔅",
        "yellow-star" => "⭐",
        "red-star" => "🌟",
        "green-star" => "✳️",
        "blue-star" => "💫",
        "heart" => "❤️",
        "broken-heart" => "💔",
        _ => return None,
    })
}
