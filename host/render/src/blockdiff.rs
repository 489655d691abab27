//! Diffs of a page as readers see it: the storage bodies of two versions are
//! cut into their top-level blocks (paragraphs, headings, lists, tables,
//! macros), the blocks are compared, and a changed text block is compared
//! again word by word in its rendered HTML.
//!
//! Invariant: the word diff only wraps text that was between tags of the
//! (already sanitized) rendered HTML in `<ins>`/`<del>` and keeps every tag
//! of the newer version in order, so the markup it returns is as balanced
//! and as safe as its inputs. No regex on markup: blocks come from the XML
//! reader, words from a small tokenizer that knows quoted attributes.

use std::time::Duration;

use quick_xml::events::Event;
use quick_xml::Reader;
use similar::{capture_diff_slices_deadline, Algorithm, DiffOp};

/// Bounds the work on huge or wildly different versions.
const DEADLINE: Duration = Duration::from_millis(300);

/// The top-level blocks of a storage-format body, as source text: each
/// top-level element (with what it contains) and each run of non-blank
/// text between them. An ill-formed body is one block.
pub fn storage_blocks(src: &str) -> Vec<String> {
    let mut reader = Reader::from_str(src);
    {
        let c = reader.config_mut();
        c.trim_text(false);
        c.check_end_names = false;
        c.allow_unmatched_ends = true;
        c.expand_empty_elements = false;
    }
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    loop {
        let before = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(_) => return vec![src.to_owned()],
        };
        let after = reader.buffer_position() as usize;
        match event {
            Event::Eof => break,
            Event::Start(_) => {
                if depth == 0 {
                    start = before;
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    out.push(src[start..after].to_owned());
                }
            }
            Event::Empty(_) | Event::CData(_) if depth == 0 => {
                out.push(src[before..after].to_owned());
            }
            Event::Text(_) if depth == 0 => {
                let text = &src[before..after];
                if !text.trim().is_empty() {
                    out.push(text.trim().to_owned());
                }
            }
            _ => {}
        }
    }
    if depth != 0 {
        return vec![src.to_owned()];
    }
    out
}

/// One step of a block diff, by index into the old and new blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockChange {
    Same {
        old: usize,
        new: usize,
    },
    Removed(usize),
    Added(usize),
    /// The same kind of text block, changed: compare its words.
    Changed {
        old: usize,
        new: usize,
    },
}

/// The element name a block starts with (`p`, `h2`, `ac:structured-macro`, …).
fn kind(block: &str) -> &str {
    block
        .strip_prefix('<')
        .map(|r| {
            let end = r
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(r.len());
            &r[..end]
        })
        .unwrap_or("")
}

/// Blocks whose words are compared; tables, macros and layouts are compared
/// as whole blocks (their structure is what changed).
fn word_comparable(block: &str) -> bool {
    matches!(
        kind(block),
        "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol" | "blockquote" | "pre" | ""
    )
}

/// The changes that turn `old` blocks into `new` blocks. A replaced run
/// pairs blocks of the same kind in order as `Changed`; the rest are removed
/// or added.
pub fn block_changes(old: &[String], new: &[String]) -> Vec<BlockChange> {
    let deadline = std::time::Instant::now() + DEADLINE;
    let ops = capture_diff_slices_deadline(Algorithm::Myers, old, new, Some(deadline));
    let mut out = Vec::new();
    for op in ops {
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                for i in 0..len {
                    out.push(BlockChange::Same {
                        old: old_index + i,
                        new: new_index + i,
                    });
                }
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => out.extend((old_index..old_index + old_len).map(BlockChange::Removed)),
            DiffOp::Insert {
                new_index, new_len, ..
            } => out.extend((new_index..new_index + new_len).map(BlockChange::Added)),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                let (mut o, mut n) = (old_index, new_index);
                let (o_end, n_end) = (old_index + old_len, new_index + new_len);
                while o < o_end || n < n_end {
                    if o < o_end
                        && n < n_end
                        && kind(&old[o]) == kind(&new[n])
                        && word_comparable(&old[o])
                    {
                        out.push(BlockChange::Changed { old: o, new: n });
                        o += 1;
                        n += 1;
                    } else if o < o_end {
                        out.push(BlockChange::Removed(o));
                        o += 1;
                    } else {
                        out.push(BlockChange::Added(n));
                        n += 1;
                    }
                }
            }
        }
    }
    out
}

/// A token of rendered HTML: a tag, a word, or a run of whitespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Tok<'a> {
    Tag(&'a str),
    Word(&'a str),
    Space(&'a str),
}

fn tokens(html: &str) -> Vec<Tok<'_>> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i] == b'<' {
            // To the closing `>`, skipping quoted attribute values.
            let mut quote = 0u8;
            i += 1;
            while i < b.len() {
                let c = b[i];
                if quote != 0 {
                    if c == quote {
                        quote = 0;
                    }
                } else if c == b'"' || c == b'\'' {
                    quote = c;
                } else if c == b'>' {
                    i += 1;
                    break;
                }
                i += 1;
            }
            out.push(Tok::Tag(&html[start..i]));
        } else if b[i].is_ascii_whitespace() {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            out.push(Tok::Space(&html[start..i]));
        } else {
            while i < b.len() && b[i] != b'<' && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            out.push(Tok::Word(&html[start..i]));
        }
    }
    out
}

fn push_marked(out: &mut String, mark: &str, word: &str) {
    out.push('<');
    out.push_str(mark);
    out.push_str(" class=\"diff-word\">");
    out.push_str(word);
    out.push_str("</");
    out.push_str(mark);
    out.push('>');
}

/// The newer rendered block with the words added wrapped in `<ins>` and the
/// words removed put back, wrapped in `<del>`, where they were.
pub fn word_diff_html(old_html: &str, new_html: &str) -> String {
    let (old, new) = (tokens(old_html), tokens(new_html));
    let deadline = std::time::Instant::now() + DEADLINE;
    let ops = capture_diff_slices_deadline(Algorithm::Myers, &old, &new, Some(deadline));
    let mut out = String::with_capacity(new_html.len() + 64);
    let removed = |out: &mut String, toks: &[Tok<'_>]| {
        for t in toks {
            match t {
                Tok::Word(w) => push_marked(out, "del", w),
                Tok::Space(s) => out.push_str(s),
                // Tags only the old version had are left out: the newer
                // version's tags alone stay balanced.
                Tok::Tag(_) => {}
            }
        }
    };
    let added = |out: &mut String, toks: &[Tok<'_>]| {
        for t in toks {
            match t {
                Tok::Word(w) => push_marked(out, "ins", w),
                Tok::Space(s) | Tok::Tag(s) => out.push_str(s),
            }
        }
    };
    for op in ops {
        match op {
            DiffOp::Equal { new_index, len, .. } => {
                for t in &new[new_index..new_index + len] {
                    let (Tok::Tag(s) | Tok::Word(s) | Tok::Space(s)) = t;
                    out.push_str(s);
                }
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => removed(&mut out, &old[old_index..old_index + old_len]),
            DiffOp::Insert {
                new_index, new_len, ..
            } => added(&mut out, &new[new_index..new_index + new_len]),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                removed(&mut out, &old[old_index..old_index + old_len]);
                added(&mut out, &new[new_index..new_index + new_len]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_the_top_level_elements() {
        let b = storage_blocks(
            "<h1>Title</h1>\n<p>one <strong>two</strong></p><ac:structured-macro ac:name=\"toc\"/>\n<table><tbody><tr><td>x</td></tr></tbody></table>tail",
        );
        assert_eq!(
            b,
            [
                "<h1>Title</h1>",
                "<p>one <strong>two</strong></p>",
                "<ac:structured-macro ac:name=\"toc\"/>",
                "<table><tbody><tr><td>x</td></tr></tbody></table>",
                "tail"
            ]
        );
        assert_eq!(storage_blocks("<p>unclosed"), ["<p>unclosed"]);
    }

    #[test]
    fn changed_paragraphs_pair_and_tables_do_not() {
        let old: Vec<String> = ["<p>a</p>", "<p>b</p>", "<table><tr><td>1</td></tr></table>"]
            .map(String::from)
            .to_vec();
        let new: Vec<String> = [
            "<p>a</p>",
            "<p>b!</p>",
            "<table><tr><td>2</td></tr></table>",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            block_changes(&old, &new),
            [
                BlockChange::Same { old: 0, new: 0 },
                BlockChange::Changed { old: 1, new: 1 },
                BlockChange::Removed(2),
                BlockChange::Added(2),
            ]
        );
    }

    #[test]
    fn words_are_marked_inside_the_new_markup() {
        let html = word_diff_html(
            "<p>the quick <strong>brown</strong> fox</p>",
            "<p>the slow <a href=\"/x?a=1&amp;b=>\">brown</a> fox jumps</p>",
        );
        assert_eq!(
            html,
            "<p>the <del class=\"diff-word\">quick</del><ins class=\"diff-word\">slow</ins> \
             <a href=\"/x?a=1&amp;b=>\">brown</a> fox <ins class=\"diff-word\">jumps</ins></p>"
        );
    }
}
