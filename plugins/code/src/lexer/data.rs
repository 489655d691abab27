//! Lexers for data and configuration files: YAML, INI and properties files, and
//! unified diffs.
//!
//! Invariant: line-oriented — every line is classified on its own, so a malformed
//! line never affects the next one; the tokens cover the input exactly.

use super::*;

pub(super) fn yaml(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out = Out::new();
    let mut pos = 0;
    // Block scalar (| or >): lines indented more than this belong to it.
    let mut block_indent: Option<usize> = None;
    while pos < b.len() {
        let end = line_end(src, pos);
        let line = &src[pos..end];
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if let Some(bi) = block_indent {
            if line.trim().is_empty() || indent > bi {
                out.push(Some(STR), pos, end);
                out.push(None, end, next_line(src, end));
                pos = next_line(src, end);
                continue;
            }
            block_indent = None;
        }
        if line.starts_with("---") || line.starts_with("...") {
            out.push(Some(META), pos, pos + 3);
            yaml_value(src, pos + 3, end, &mut out);
        } else {
            let mut i = pos + indent;
            out.push(None, pos, i);
            // List markers
            while i < end && b[i] == b'-' && (i + 1 == end || b[i + 1] == b' ') {
                out.push(Some(OP), i, i + 1);
                let s = i + 1;
                i = scan_while(b, s, |c| c == b' ').min(end);
                out.push(None, s, i);
            }
            // key:
            if let Some(colon) = yaml_key_end(b, i, end) {
                out.push(Some(ATTR), i, colon);
                out.push(Some(OP), colon, colon + 1);
                i = colon + 1;
            }
            let value_start = i;
            let rest = src[value_start..end].trim();
            if rest.starts_with('|') || rest.starts_with('>') {
                let is_block = rest.len() <= 3
                    && rest[1..]
                        .bytes()
                        .all(|c| matches!(c, b'+' | b'-') || c.is_ascii_digit());
                if is_block {
                    block_indent = Some(indent);
                }
            }
            yaml_value(src, value_start, end, &mut out);
        }
        let nl = next_line(src, end);
        out.push(None, end, nl);
        pos = nl;
    }
    out.toks
}

/// The position of the `:` ending a mapping key that starts at `i`, if the line has one.
pub(super) fn yaml_key_end(b: &[u8], i: usize, end: usize) -> Option<usize> {
    if i >= end || matches!(b[i], b'#' | b'[' | b'{' | b'&' | b'*' | b'!' | b'|' | b'>') {
        return None;
    }
    let mut j = i;
    if b[i] == b'"' || b[i] == b'\'' {
        j = scan_quoted(b, i, b[i], if b[i] == b'"' { b'\\' } else { 0 }, false);
        return (b.get(j) == Some(&b':') && j < end).then_some(j);
    }
    while j < end {
        if b[j] == b':' && (j + 1 == end || b[j + 1] == b' ' || b[j + 1] == b'\t') {
            return Some(j);
        }
        if b[j] == b'#' && j > i && b[j - 1] == b' ' {
            return None;
        }
        j += 1;
    }
    None
}

pub(super) fn yaml_value(src: &str, mut i: usize, end: usize, out: &mut Out) {
    let b = src.as_bytes();
    while i < end {
        let s = i;
        let c = b[i];
        if c == b'#' && (i == 0 || matches!(b[i - 1], b' ' | b'\t')) {
            out.push(Some(COM), i, end);
            return;
        }
        if c == b' ' || c == b'\t' {
            i = scan_while(b, i, |c| c == b' ' || c == b'\t').min(end);
            out.push(None, s, i);
        } else if c == b'"' || c == b'\'' {
            i = scan_quoted(b, i, c, if c == b'"' { b'\\' } else { 0 }, false).min(end);
            out.push(Some(STR), s, i);
        } else if c == b'&' || c == b'*' {
            i = scan_while(b, i + 1, |c| {
                !c.is_ascii_whitespace() && !matches!(c, b',' | b']' | b'}')
            })
            .min(end);
            out.push(Some(VAR), s, i);
        } else if c == b'!' {
            i = scan_while(b, i + 1, |c| !c.is_ascii_whitespace()).min(end);
            out.push(Some(TYPE), s, i);
        } else if matches!(c, b'[' | b']' | b'{' | b'}' | b',') {
            i += 1;
            out.push(None, s, i);
        } else if c == b'|' || c == b'>' {
            i = scan_while(b, i + 1, |c| matches!(c, b'+' | b'-') || c.is_ascii_digit()).min(end);
            out.push(Some(OP), s, i);
        } else {
            // A plain scalar up to a comment, a flow indicator or "key: ".
            let mut j = i;
            while j < end {
                let c = b[j];
                if matches!(c, b',' | b']' | b'}' | b'[' | b'{') {
                    break;
                }
                if c == b'#' && j > i && matches!(b[j - 1], b' ' | b'\t') {
                    break;
                }
                if c == b':' && (j + 1 == end || b[j + 1] == b' ') {
                    break;
                }
                j += 1;
            }
            if j == i {
                j = i + char_len(src, i);
            }
            let word = src[i..j].trim_end();
            let wend = i + word.len();
            let lower = word.to_ascii_lowercase();
            let class = if matches!(
                lower.as_str(),
                "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~"
            ) {
                Some(LIT)
            } else if !word.is_empty()
                && (word.parse::<f64>().is_ok()
                    || (word.starts_with("0x")
                        && word.len() > 2
                        && word[2..].bytes().all(|c| c.is_ascii_hexdigit())))
            {
                Some(NUM)
            } else if j < end && b[j] == b':' {
                Some(ATTR) // flow mapping key
            } else {
                None
            };
            out.push(class, i, wend);
            out.push(None, wend, j);
            i = j;
            if i < end && b[i] == b':' {
                out.push(Some(OP), i, i + 1);
                i += 1;
            }
        }
    }
}

pub(super) fn ini(src: &str, properties: bool) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out = Out::new();
    let mut pos = 0;
    let mut continued = false;
    while pos < b.len() {
        let end = line_end(src, pos);
        let line = &src[pos..end];
        let trimmed = line.trim_start();
        let i = pos + (line.len() - trimmed.len());
        out.push(None, pos, i);
        if continued {
            out.push(Some(STR), i, end);
            continued = properties && line.trim_end().ends_with('\\');
        } else if trimmed.starts_with('#')
            || trimmed.starts_with(';')
            || (properties && trimmed.starts_with('!'))
        {
            out.push(Some(COM), i, end);
        } else if !properties && trimmed.starts_with('[') {
            let close = trimmed.find(']').map_or(end, |p| i + p + 1);
            out.push(Some(TYPE), i, close);
            ini_value(src, close, end, &mut out, false);
        } else if !trimmed.is_empty() {
            // key = value, key: value, or (properties) key value
            let mut j = i;
            while j < end {
                let c = b[j];
                if c == b'\\' && properties {
                    j += 2;
                    continue;
                }
                if c == b'=' || c == b':' || (properties && (c == b' ' || c == b'\t')) {
                    break;
                }
                j += 1;
            }
            let j = j.min(end);
            let key_end = i + src[i..j].trim_end().len();
            out.push(Some(ATTR), i, key_end);
            out.push(None, key_end, j);
            if j < end {
                // The separator, and blanks around it.
                let mut k = scan_while(b, j, |c| c == b' ' || c == b'\t').min(end);
                if k < end && (b[k] == b'=' || b[k] == b':') {
                    out.push(None, j, k);
                    out.push(Some(OP), k, k + 1);
                    k += 1;
                } else {
                    out.push(None, j, k);
                }
                ini_value(src, k, end, &mut out, properties);
            }
            continued = properties && line.trim_end().ends_with('\\');
        }
        let nl = next_line(src, end);
        out.push(None, end, nl);
        pos = nl;
    }
    out.toks
}

pub(super) fn ini_value(src: &str, i: usize, end: usize, out: &mut Out, properties: bool) {
    let b = src.as_bytes();
    let mut value_end = end;
    if !properties {
        // Trailing comment after whitespace.
        let mut j = i;
        while j < end {
            if (b[j] == b';' || b[j] == b'#') && j > i && matches!(b[j - 1], b' ' | b'\t') {
                value_end = j;
                break;
            }
            j += 1;
        }
    }
    let lead = scan_while(b, i, |c| c == b' ' || c == b'\t').min(value_end);
    out.push(None, i, lead);
    let v = src[lead..value_end].trim_end();
    let v_end = lead + v.len();
    let lower = v.to_ascii_lowercase();
    let class = if matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off"
    ) {
        Some(LIT)
    } else if !v.is_empty() && v.parse::<f64>().is_ok() {
        Some(NUM)
    } else {
        Some(STR)
    };
    out.push(class, lead, v_end);
    out.push(None, v_end, value_end);
    out.push(Some(COM), value_end, end);
}

pub(super) fn diff(src: &str) -> Vec<Token> {
    let mut out = Out::new();
    let mut pos = 0;
    while pos < src.len() {
        let end = line_end(src, pos);
        let line = &src[pos..end];
        let class = if line.starts_with("+++")
            || line.starts_with("---")
            || line.starts_with("diff ")
            || line.starts_with("index ")
            || line.starts_with("Index: ")
            || line.starts_with("===")
            || line.starts_with("new file mode")
            || line.starts_with("deleted file mode")
            || line.starts_with("similarity index")
            || line.starts_with("rename ")
            || line.starts_with("Only in ")
            || line.starts_with("Binary files ")
        {
            Some(META)
        } else if line.starts_with("@@") || line.starts_with("***************") {
            Some(HUNK)
        } else if line.starts_with('+') || line.starts_with('>') {
            Some(INS)
        } else if line.starts_with('-') || line.starts_with('<') {
            Some(DEL)
        } else if line.starts_with('!') {
            Some(KW)
        } else if line.starts_with('\\') {
            Some(COM)
        } else {
            None
        };
        out.push(class, pos, end);
        let nl = next_line(src, end);
        out.push(None, end, nl);
        pos = nl;
    }
    out.toks
}
