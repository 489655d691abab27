//! Excerpts: the part of a body that shows why it matched, with the
//! matched words highlighted.
//!
//! Invariant: an excerpt is plain text from the indexed body, escaped by
//! whoever renders it; highlighting never cuts a character in two.

use tantivy::snippet::SnippetGenerator;

/// The excerpt of one hit: the best fragment of its body. Stemming every
/// hit's whole body was a third of a search's CPU, so the generator only
/// sees windows around the first few word-start places where a query stem
/// (or the stem less its last letter, for `happy` → `happi`) occurs: a stem
/// is nearly always a prefix of the words it came from. A hit whose body
/// holds none (it matched on its title or a label) gets its first words,
/// without stemming the body at all.
pub(super) fn excerpt(g: &SnippetGenerator, stems: &[String], body: &str) -> String {
    // A fragment is at most 150 characters (the generator's default).
    const BEFORE: usize = 60;
    const AFTER: usize = 240;
    const WINDOWS: usize = 4;
    let floor = |mut i: usize| {
        while !body.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    if stems.is_empty() {
        // Nothing of the query is in the body (a title-only or wildcard
        // query): the generator would tokenize it all to find nothing.
        return first_words(body);
    }
    let highlighted = |text: &str| {
        let s = g.snippet(text);
        (!s.highlighted().is_empty()).then(|| s.to_html())
    };
    if body.len() <= BEFORE + AFTER {
        return highlighted(body).unwrap_or_else(|| first_words(body));
    }
    // ASCII lowercasing keeps byte offsets.
    let lower = body.to_ascii_lowercase();
    let at_word_start = |i: &usize| {
        lower[..*i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric())
    };
    let mut places: Vec<usize> = Vec::new();
    for stem in stems.iter().filter(|s| !s.is_empty()) {
        let shorter = stem
            .char_indices()
            .last()
            .map(|(i, _)| &stem[..i])
            .filter(|p| p.chars().count() >= 3);
        for needle in std::iter::once(stem.as_str()).chain(shorter) {
            places.extend(
                lower
                    .match_indices(needle)
                    .map(|(i, _)| i)
                    .filter(at_word_start)
                    .take(WINDOWS),
            );
        }
    }
    places.sort_unstable();
    places.dedup();
    for at in places.into_iter().take(WINDOWS) {
        let mut start = floor(at.saturating_sub(BEFORE));
        if start > 0 {
            // Begin at a word, not inside one.
            start = body[start..at]
                .find(char::is_whitespace)
                .map_or(start, |i| start + i + 1);
        }
        let end = floor((at + AFTER).min(body.len()));
        if let Some(html) = highlighted(&body[start..end]) {
            return html;
        }
    }
    first_words(body)
}

pub(super) fn first_words(body: &str) -> String {
    let s: String = body.chars().take(240).collect();
    crate::content::xml_escape(&s)
}
