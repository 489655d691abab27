//! Element ids: the ids a macro's output already uses and the slugs headings
//! get. Invariant: every id the renderer writes is unique in the page.

/// The `id` attribute values of the elements in sanitized HTML. There every `<` of text
/// is written `&lt;` and every attribute value is double-quoted with its `"` written
/// `&quot;` (a raw `<` or `>` may stand inside a value), so a tag starts at `<` and
/// ends at the first `>` outside quotes.
pub(super) fn element_ids(html: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        loop {
            let Some(at) = rest.find(['"', '>']) else {
                return ids;
            };
            if rest.as_bytes()[at] == b'>' {
                rest = &rest[at + 1..];
                break;
            }
            let name = rest[..at].trim_end().trim_end_matches('=').trim_end();
            let is_id = name
                .rsplit(|c: char| c.is_ascii_whitespace())
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case("id"));
            let value_and_more = &rest[at + 1..];
            let Some(end) = value_and_more.find('"') else {
                return ids;
            };
            let value = &value_and_more[..end];
            if is_id && !value.is_empty() {
                ids.push(
                    value
                        .replace("&quot;", "\"")
                        .replace("&nbsp;", "\u{a0}")
                        .replace("&amp;", "&"),
                );
            }
            rest = &value_and_more[end + 1..];
        }
    }
    ids
}

/// Anchor ids: the heading text with spaces as `-`, punctuation dropped, case kept, so
/// `#My-Heading` links written by hand keep working.
pub(super) fn slug(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            s.push(c);
        } else if (c.is_whitespace() || c == '-') && !s.is_empty() && !s.ends_with('-') {
            s.push('-');
        }
    }
    while s.ends_with('-') {
        s.pop();
    }
    if s.is_empty() {
        s.push_str("heading");
    }
    s
}

#[cfg(test)]
pub(super) mod element_id_tests {
    use super::element_ids;

    #[test]
    fn ids_are_read_from_tags_only() {
        assert_eq!(
            element_ids(
                "<span class=\"anchor\" id=\"top&quot;x &amp; y\"></span>\
                 <p title=\"a > id=&quot;no&quot;\">id=\"text\" &lt;b id=\"esc\"&gt;</p><b id=\"b\">"
            ),
            vec!["top\"x & y".to_string(), "b".to_string()]
        );
    }
}
