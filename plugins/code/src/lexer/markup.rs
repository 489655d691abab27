//! Lexers for markup (HTML, XML) and stylesheets (CSS, SCSS).
//!
//! Invariant: the tokens cover the input exactly; unterminated constructs run to
//! the end of the input rather than failing.

use super::*;

pub(super) fn markup(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let n = b.len();
    let mut out = Out::new();
    let mut i = 0;
    while i < n {
        let start = i;
        if src[i..].starts_with("<!--") {
            i = until_after(src, i + 4, "-->");
            out.push(Some(COM), start, i);
        } else if src[i..].starts_with("<![CDATA[") {
            out.push(Some(META), i, i + 9);
            let body_end = src[i + 9..].find("]]>").map_or(n, |p| i + 9 + p);
            out.push(Some(STR), i + 9, body_end);
            i = (body_end + 3).min(n);
            out.push(Some(META), body_end, i);
        } else if src[i..].starts_with("<?") {
            i = until_after(src, i + 2, "?>");
            out.push(Some(META), start, i);
        } else if src[i..].starts_with("<!") {
            i = src[i..].find('>').map_or(n, |p| i + p + 1);
            out.push(Some(META), start, i);
        } else if b[i] == b'<' && i + 1 < n && (b[i + 1] == b'/' || is_ident_start(b[i + 1])) {
            let closing = b[i + 1] == b'/';
            let name_start = if closing { i + 2 } else { i + 1 };
            let name_end = scan_while(b, name_start, |c| {
                is_ident(c) || matches!(c, b'-' | b':' | b'.')
            });
            out.push(Some(TAG), start, name_end);
            let name = src[name_start..name_end].to_ascii_lowercase();
            i = name_end;
            // Attributes up to '>'
            let mut self_closing = false;
            while i < n {
                let c = b[i];
                if c == b'>' {
                    out.push(Some(TAG), i, i + 1);
                    i += 1;
                    break;
                }
                if c == b'/' && b.get(i + 1) == Some(&b'>') {
                    out.push(Some(TAG), i, i + 2);
                    i += 2;
                    self_closing = true;
                    break;
                }
                if c == b'<' {
                    break; // malformed: let the main loop go on
                }
                let s = i;
                if c.is_ascii_whitespace() {
                    i = scan_while(b, i, |c| c.is_ascii_whitespace());
                    out.push(None, s, i);
                } else if c == b'=' {
                    i += 1;
                    out.push(Some(OP), s, i);
                } else if c == b'"' || c == b'\'' {
                    i = scan_quoted(b, i, c, 0, true);
                    out.push(Some(STR), s, i);
                } else if is_ident_start(c)
                    || c == b':'
                    || c == b'@'
                    || c == b'['
                    || c == b'('
                    || c == b'*'
                    || c == b'#'
                {
                    i = scan_while(b, i + 1, |c| {
                        !c.is_ascii_whitespace()
                            && !matches!(c, b'=' | b'>' | b'/' | b'<' | b'"' | b'\'')
                    });
                    let class = if b.get(i) == Some(&b'=') || s == 0 || !matches!(b[s - 1], b'=') {
                        ATTR
                    } else {
                        STR
                    };
                    out.push(Some(class), s, i);
                } else {
                    i = scan_while(b, i + char_len(src, i), |c| {
                        !c.is_ascii_whitespace() && !matches!(c, b'>' | b'<' | b'/' | b'=')
                    });
                    out.push(Some(STR), s, i);
                }
            }
            // Embedded script and style.
            if !closing && !self_closing && (name == "script" || name == "style") && i <= n {
                let close = format!("</{name}");
                let end = src[i..]
                    .to_ascii_lowercase()
                    .find(&close)
                    .map_or(n, |p| i + p);
                let inner = &src[i..end];
                let toks = if name == "script" {
                    generic(&JAVASCRIPT, inner)
                } else {
                    css(inner, false)
                };
                out.extend_shifted(toks, i);
                i = end;
            }
        } else if b[i] == b'&' {
            let e = scan_while(b, i + 1, |c| c.is_ascii_alphanumeric() || c == b'#');
            if e > i + 1 && b.get(e) == Some(&b';') {
                i = e + 1;
                out.push(Some(LIT), start, i);
            } else {
                i += 1;
                out.push(None, start, i);
            }
        } else {
            i = scan_while(b, i + 1, |c| c != b'<' && c != b'&');
            out.push(None, start, i);
        }
    }
    out.toks
}

pub(super) fn css(src: &str, scss: bool) -> Vec<Token> {
    let b = src.as_bytes();
    let n = b.len();
    let mut out = Out::new();
    let mut depth = 0usize;
    let mut in_value = false;
    let mut i = 0;
    while i < n {
        let start = i;
        let c = b[i];
        if src[i..].starts_with("/*") {
            i = until_after(src, i + 2, "*/");
            out.push(Some(COM), start, i);
        } else if scss && src[i..].starts_with("//") && !(i > 0 && b[i - 1] == b':') {
            i = line_end(src, i);
            out.push(Some(COM), start, i);
        } else if c.is_ascii_whitespace() {
            i = scan_while(b, i, |c| c.is_ascii_whitespace());
            out.push(None, start, i);
        } else if c == b'"' || c == b'\'' {
            i = scan_quoted(b, i, c, b'\\', false);
            out.push(Some(STR), start, i);
        } else if c == b'@' && i + 1 < n && (is_ident_start(b[i + 1]) || b[i + 1] == b'-') {
            i = scan_while(b, i + 1, |c| is_ident(c) || c == b'-');
            // Less variables (`@w: 1px`, `width: @w`) versus at-rules (`@media`).
            let defines = scss && b.get(scan_while(b, i, |c| c == b' ')) == Some(&b':');
            let class = if in_value || defines { VAR } else { KW };
            out.push(Some(class), start, i);
        } else if scss && c == b'$' && i + 1 < n && is_ident_start(b[i + 1]) {
            i = scan_while(b, i + 1, |c| is_ident(c) || c == b'-');
            out.push(Some(VAR), start, i);
        } else if c == b'{' {
            depth += 1;
            in_value = false;
            i += 1;
            out.push(None, start, i);
        } else if c == b'}' {
            depth = depth.saturating_sub(1);
            in_value = false;
            i += 1;
            out.push(None, start, i);
        } else if c == b';' {
            in_value = false;
            i += 1;
            out.push(None, start, i);
        } else if in_value {
            if c == b'#' {
                i = scan_while(b, i + 1, |c| c.is_ascii_alphanumeric());
                out.push(Some(NUM), start, i);
            } else if c.is_ascii_digit()
                || ((c == b'.' || c == b'-' || c == b'+')
                    && b.get(i + 1).is_some_and(|x| x.is_ascii_digit()))
            {
                i = scan_while(b, i + 1, |c| {
                    c.is_ascii_alphanumeric() || c == b'.' || c == b'%'
                });
                out.push(Some(NUM), start, i);
            } else if c == b'!' {
                i = scan_while(b, i + 1, |c| c.is_ascii_alphabetic() || c == b' ');
                out.push(Some(KW), start, i);
            } else if is_ident_start(c) || c == b'-' {
                i = scan_while(b, i + 1, |c| is_ident(c) || c == b'-');
                let class = if b.get(i) == Some(&b'(') { FN } else { LIT };
                out.push(Some(class), start, i);
                // url(...) holds an unquoted URL
                if src[start..i].eq_ignore_ascii_case("url")
                    && b.get(i) == Some(&b'(')
                    && !matches!(b.get(i + 1), Some(b'"') | Some(b'\''))
                {
                    let e = src[i..].find(')').map_or(n, |p| i + p);
                    out.push(None, i, i + 1);
                    out.push(Some(STR), i + 1, e);
                    i = e;
                }
            } else {
                i += char_len(src, i);
                out.push(
                    if c == b',' || c == b'/' || c == b'(' || c == b')' {
                        None
                    } else {
                        Some(OP)
                    },
                    start,
                    i,
                );
            }
        } else if depth > 0 && (is_ident_start(c) || c == b'-') && is_property(src, i) {
            i = scan_while(b, i + 1, |c| is_ident(c) || c == b'-');
            out.push(Some(ATTR), start, i);
            let colon = scan_while(b, i, |c| c == b' ' || c == b'\t');
            if b.get(colon) == Some(&b':') {
                out.push(None, i, colon + 1);
                i = colon + 1;
                in_value = true;
            }
        } else if c == b'.' || c == b'#' {
            i = scan_while(b, i + 1, |c| is_ident(c) || c == b'-');
            out.push(Some(TYPE), start, i.max(start + 1));
            i = i.max(start + 1);
        } else if c == b':' {
            i = scan_while(b, i + 1, |c| c == b':');
            i = scan_while(b, i, |c| is_ident(c) || c == b'-');
            out.push(Some(KW), start, i);
        } else if c == b'[' {
            i = src[i..].find(']').map_or(n, |p| i + p + 1);
            out.push(Some(ATTR), start, i);
        } else if c == b'&' || c == b'*' {
            i += 1;
            out.push(Some(TAG), start, i);
        } else if is_ident_start(c) || c == b'-' {
            i = scan_while(b, i + 1, |c| is_ident(c) || c == b'-');
            out.push(Some(TAG), start, i);
        } else if c.is_ascii_digit() {
            // keyframe selectors: 50%
            i = scan_while(b, i, |c| c.is_ascii_digit() || c == b'%' || c == b'.');
            out.push(Some(NUM), start, i);
        } else {
            i += char_len(src, i);
            let class = if matches!(c, b'>' | b'+' | b'~') {
                Some(OP)
            } else {
                None
            };
            out.push(class, start, i);
        }
    }
    out.toks
}

/// Inside a block: is the identifier at `i` a property (`name: value;`) rather than a
/// nested selector (`a:hover { … }`)?
pub(super) fn is_property(src: &str, i: usize) -> bool {
    let b = src.as_bytes();
    let e = scan_while(b, i, |c| is_ident(c) || c == b'-');
    let colon = scan_while(b, e, |c| c == b' ' || c == b'\t');
    if b.get(colon) != Some(&b':') {
        return false;
    }
    // A selector has its '{' before the end of the declaration.
    for &c in &b[colon..] {
        match c {
            b';' | b'}' | b'\n' => return true,
            b'{' => return false,
            _ => {}
        }
    }
    true
}
