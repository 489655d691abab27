//! A three-way merge of storage format (or any text): the version an edit
//! started from, the version someone else saved since, and the edit. Used
//! by the editor's conflict view to offer both changes merged.
//!
//! Invariant: a merge is offered only when the two changes touch different
//! parts of the base; any overlap is `None` (the user decides), never a
//! guess. Text is compared in pieces that end at a line break or the end of
//! a tag, so two edits in different paragraphs of a one-line storage body
//! still merge.

use similar::{capture_diff_slices, Algorithm, DiffOp};

/// Pieces of `s` ending after each `>` or line break (together they are `s`).
fn pieces(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        if b == b'>' || b == b'\n' {
            out.push(&s[start..=i]);
            start = i + 1;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// One change against the base: the base pieces `start..end` become `new`.
struct Hunk<'a> {
    start: usize,
    end: usize,
    new: &'a [&'a str],
}

fn hunks<'a>(base: &[&str], other: &'a [&'a str]) -> Vec<Hunk<'a>> {
    // (base start, base end, other start, other end) of each change.
    let mut spans: Vec<(usize, usize, usize, usize)> = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, base, other) {
        let (old_start, old_len, new_start, new_len) = match op {
            DiffOp::Equal { .. } => continue,
            DiffOp::Delete {
                old_index,
                old_len,
                new_index,
            } => (old_index, old_len, new_index, 0),
            DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => (old_index, 0, new_index, new_len),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (old_index, old_len, new_index, new_len),
        };
        let span = (
            old_start,
            old_start + old_len,
            new_start,
            new_start + new_len,
        );
        // Adjacent operations are one change (a delete next to an insert).
        match spans.last_mut() {
            Some(last) if last.1 == span.0 && last.3 == span.2 => {
                last.1 = span.1;
                last.3 = span.3;
            }
            _ => spans.push(span),
        }
    }
    spans
        .into_iter()
        .map(|(start, end, ns, ne)| Hunk {
            start,
            end,
            new: &other[ns..ne],
        })
        .collect()
}

/// `base` with both `theirs` and `yours` applied, or `None` when they
/// change the same (or touching) parts.
pub(crate) fn merge3(base: &str, theirs: &str, yours: &str) -> Option<String> {
    if theirs == yours {
        return Some(yours.to_owned());
    }
    let b = pieces(base);
    let t = pieces(theirs);
    let y = pieces(yours);
    let mut all: Vec<Hunk<'_>> = hunks(&b, &t);
    let mine = hunks(&b, &y);
    for m in mine {
        let clash = all.iter().any(|h| m.start <= h.end && h.start <= m.end);
        if clash {
            // The same change made by both is no conflict.
            if all
                .iter()
                .any(|h| h.start == m.start && h.end == m.end && h.new == m.new)
            {
                continue;
            }
            return None;
        }
        all.push(m);
    }
    all.sort_by_key(|h| (h.start, h.end));
    let mut out = String::with_capacity(base.len().max(yours.len()));
    let mut at = 0;
    for h in &all {
        out.extend(b[at..h.start].iter().copied());
        out.extend(h.new.iter().copied());
        at = h.end;
    }
    out.extend(b[at..].iter().copied());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::merge3;

    #[test]
    fn changes_in_different_paragraphs_merge() {
        let base = "<p>one</p><p>two</p><p>three</p>";
        let theirs = "<p>ONE</p><p>two</p><p>three</p>";
        let yours = "<p>one</p><p>two</p><p>three, and more</p>";
        assert_eq!(
            merge3(base, theirs, yours).as_deref(),
            Some("<p>ONE</p><p>two</p><p>three, and more</p>")
        );
    }

    #[test]
    fn changes_to_the_same_paragraph_do_not() {
        let base = "<p>one</p><p>two</p>";
        assert_eq!(
            merge3(base, "<p>uno</p><p>two</p>", "<p>eins</p><p>two</p>"),
            None
        );
    }

    #[test]
    fn insertions_and_deletions_merge() {
        let base = "a\nb\nc\nd\n";
        assert_eq!(
            merge3(base, "a\nc\nd\n", "a\nb\nc\nd\ne\n").as_deref(),
            Some("a\nc\nd\ne\n")
        );
        assert_eq!(merge3(base, "x\n", "x\n").as_deref(), Some("x\n"));
    }
}
