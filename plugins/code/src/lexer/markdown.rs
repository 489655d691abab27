//! The Markdown lexer: block structure by line, then inline emphasis, code and
//! links.
//!
//! Invariant: the tokens cover the input exactly; inline scanning never crosses the
//! end of its line.

use super::*;

pub(super) fn markdown(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out = Out::new();
    let mut pos = 0;
    while pos < b.len() {
        let end = line_end(src, pos);
        let line = &src[pos..end];
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        let i = pos + indent;
        if indent <= 3 && (trimmed.starts_with("```") || trimmed.starts_with("~~~")) {
            // Fenced code: highlight the body in its language when known.
            let fence_char = trimmed.as_bytes()[0];
            let fence_len = trimmed.bytes().take_while(|&c| c == fence_char).count();
            let info = trimmed[fence_len..].trim();
            out.push(None, pos, i);
            out.push(Some(META), i, end);
            let body_start = next_line(src, end);
            let mut close_start = b.len();
            let mut close_end = b.len();
            let mut l = body_start;
            while l < b.len() {
                let e = line_end(src, l);
                let t = src[l..e].trim();
                if t.len() >= fence_len && t.bytes().all(|c| c == fence_char) {
                    close_start = l;
                    close_end = e;
                    break;
                }
                l = next_line(src, e);
            }
            out.push(None, end, body_start.min(close_start).max(end));
            let body = &src[body_start.min(close_start)..close_start];
            let lang = info.split_whitespace().next().and_then(lookup);
            let inner_start = body_start.min(close_start);
            match lang {
                Some(Lang::Markdown) | None => out.push(Some(STR), inner_start, close_start),
                Some(l) => out.extend_shifted(highlight(l, body), inner_start),
            }
            out.push(Some(META), close_start, close_end);
            let nl = next_line(src, close_end);
            out.push(None, close_end, nl);
            pos = nl;
            continue;
        }
        out.push(None, pos, i);
        if trimmed.starts_with('#') && trimmed.trim_start_matches('#').starts_with([' ', '\t'])
            || (trimmed.starts_with('#')
                && trimmed.trim_start_matches('#').is_empty()
                && !trimmed.is_empty())
        {
            out.push(Some(HEAD), i, end);
        } else if indent <= 3 && is_md_rule(trimmed) {
            out.push(Some(OP), i, end);
        } else if indent >= 4 && !trimmed.is_empty() {
            out.push(Some(STR), i, end);
        } else {
            let mut j = i;
            // Block quote and list markers.
            loop {
                let rest = &src[j..end];
                if rest.starts_with('>') {
                    out.push(Some(COM), j, j + 1);
                    j += 1;
                    let s = j;
                    j = scan_while(b, j, |c| c == b' ').min(end);
                    out.push(None, s, j);
                    continue;
                }
                if (rest.starts_with("- ") || rest.starts_with("* ") || rest.starts_with("+ "))
                    && !is_md_rule(rest)
                {
                    out.push(Some(OP), j, j + 1);
                    j += 1;
                    continue;
                }
                let digits = rest.bytes().take_while(|c| c.is_ascii_digit()).count();
                if digits > 0
                    && digits < 10
                    && matches!(rest.as_bytes().get(digits), Some(b'.' | b')'))
                    && matches!(rest.as_bytes().get(digits + 1), Some(b' ') | None)
                {
                    out.push(Some(OP), j, j + digits + 1);
                    j += digits + 1;
                    continue;
                }
                if rest.starts_with(' ') {
                    let s = j;
                    j = scan_while(b, j, |c| c == b' ').min(end);
                    out.push(None, s, j);
                    continue;
                }
                if rest.starts_with("[ ] ") || rest.starts_with("[x] ") || rest.starts_with("[X] ")
                {
                    out.push(Some(KW), j, j + 3);
                    j += 3;
                    continue;
                }
                break;
            }
            md_inline(src, j, end, &mut out);
        }
        let nl = next_line(src, end);
        out.push(None, end, nl);
        pos = nl;
    }
    out.toks
}

pub(super) fn is_md_rule(s: &str) -> bool {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    t.len() >= 3
        && (t.bytes().all(|c| c == b'-')
            || t.bytes().all(|c| c == b'*')
            || t.bytes().all(|c| c == b'_')
            || t.bytes().all(|c| c == b'='))
}

pub(super) fn md_inline(src: &str, mut i: usize, end: usize, out: &mut Out) {
    let b = src.as_bytes();
    while i < end {
        let s = i;
        let c = b[i];
        if c == b'\\' && i + 1 < end {
            i += 1 + char_len(src, i + 1);
            out.push(None, s, i.min(end));
            i = i.min(end);
            continue;
        }
        if c == b'`' {
            let ticks = scan_while(b, i, |c| c == b'`').min(end);
            let fence = &src[i..ticks];
            if let Some(p) = src[ticks..end].find(fence) {
                i = ticks + p + fence.len();
                out.push(Some(STR), s, i);
                continue;
            }
            out.push(None, s, ticks);
            i = ticks;
            continue;
        }
        if (c == b'*' || c == b'_') && i + 1 < end {
            let strong = b[i + 1] == c;
            let marker = if strong {
                &src[i..i + 2]
            } else {
                &src[i..i + 1]
            };
            let body = i + marker.len();
            if body < end && !b[body].is_ascii_whitespace() {
                if let Some(p) = src[body..end].find(marker) {
                    if p > 0 && !(c == b'_' && i > 0 && is_ident(b[i - 1])) {
                        i = body + p + marker.len();
                        out.push(Some(if strong { STRONG } else { EM }), s, i);
                        continue;
                    }
                }
            }
            i += marker.len();
            out.push(None, s, i);
            continue;
        }
        if c == b'[' || (c == b'!' && b.get(i + 1) == Some(&b'[')) {
            let open = if c == b'!' { i + 1 } else { i };
            if let Some(close) = src[open..end].find(']').map(|p| open + p) {
                if b.get(close + 1) == Some(&b'(') {
                    if let Some(paren) = src[close + 1..end].find(')').map(|p| close + 1 + p) {
                        out.push(Some(LINK), s, close + 1);
                        out.push(Some(STR), close + 1, paren + 1);
                        i = paren + 1;
                        continue;
                    }
                }
            }
            i = open + 1;
            out.push(None, s, i);
            continue;
        }
        if c == b'<' {
            if let Some(close) = src[i..end].find('>').map(|p| i + p) {
                let inner = &src[i + 1..close];
                if inner.contains("://") || inner.contains('@') {
                    out.push(Some(LINK), s, close + 1);
                } else {
                    out.push(Some(TAG), s, close + 1);
                }
                i = close + 1;
                continue;
            }
        }
        i += char_len(src, i);
        i = scan_while(b, i, |c| {
            !matches!(c, b'\\' | b'`' | b'*' | b'_' | b'[' | b'!' | b'<')
        })
        .min(end);
        out.push(None, s, i);
    }
}
