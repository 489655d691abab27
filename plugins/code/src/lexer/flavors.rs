//! The rules one language adds to the configurable lexer ([`Flavor`]): Rust
//! lifetimes and raw strings, C++ raw strings, C# verbatim strings, Lua long
//! brackets, regex literals, heredocs and the like.
//!
//! Invariant: a rule either recognises a whole token at `i` and says where it ends
//! (always past `i`), or declines and leaves `i` to the general rules.

use super::*;

impl<'a> G<'a> {
    /// Language-specific constructs checked before the general rules.
    pub(super) fn special(&self, i: usize) -> Option<(Class, usize)> {
        let b = self.b;
        let n = b.len();
        let c = b[i];
        match self.spec.flavor {
            Flavor::Rust => {
                if c == b'#' && (self.starts(i, "#[") || self.starts(i, "#![")) {
                    return Some((Some(ATTR), bracket_end(b, i)));
                }
                if c == b'r' || c == b'b' {
                    // r"…", r#"…"#, br"…", b"…", b'…'
                    let mut j = i + 1;
                    if c == b'b' && b.get(j) == Some(&b'r') {
                        j += 1;
                    }
                    let raw = c == b'r' || j == i + 2;
                    if raw {
                        let hashes = scan_while(b, j, |x| x == b'#') - j;
                        if b.get(j + hashes) == Some(&b'"') {
                            let close = format!("\"{}", "#".repeat(hashes));
                            return Some((
                                Some(STR),
                                until_after(self.src, j + hashes + 1, &close),
                            ));
                        }
                    } else if b.get(j) == Some(&b'"') {
                        return Some((Some(STR), scan_quoted(b, j, b'"', b'\\', true)));
                    } else if b.get(j) == Some(&b'\'') {
                        return Some((Some(STR), scan_quoted(b, j, b'\'', b'\\', false)));
                    }
                    if i > 0 && is_ident(b[i - 1]) {
                        return None;
                    }
                }
                if c == b'\'' {
                    return Some(rust_quote(self.src, i));
                }
                None
            }
            Flavor::CSharp => {
                // @"verbatim", $"interpolated", $@"…", @$"…"
                let mut j = i;
                let mut verbatim = false;
                while j < n && j < i + 2 && (b[j] == b'@' || b[j] == b'$') {
                    verbatim |= b[j] == b'@';
                    j += 1;
                }
                if j > i && b.get(j) == Some(&b'"') {
                    let end = if verbatim {
                        verbatim_end(b, j)
                    } else {
                        scan_quoted(b, j, b'"', b'\\', false)
                    };
                    return Some((Some(STR), end));
                }
                if c == b'@' && i + 1 < n && is_ident_start(b[i + 1]) {
                    // @keyword used as an identifier
                    return Some((None, scan_while(b, i + 1, is_ident)));
                }
                if c == b'[' && self.expects_operand() {
                    // [Attribute] at the start of a line
                    if at_line_start(b, i) {
                        let e = bracket_end(b, i);
                        if self.src[i..e].bytes().all(|x| x != b'\n')
                            && e > i + 2
                            && is_ident_start(b[i + 1])
                        {
                            return Some((Some(ATTR), e));
                        }
                    }
                }
                None
            }
            Flavor::Python => {
                if c == b'@' && at_line_start(b, i) && i + 1 < n && is_ident_start(b[i + 1]) {
                    return Some((
                        Some(ATTR),
                        scan_while(b, i + 1, |x| is_ident(x) || x == b'.'),
                    ));
                }
                None
            }
            Flavor::Ruby => {
                if c == b'=' && at_line_start(b, i) && self.starts(i, "=begin") {
                    let end = self.src[i..]
                        .find("\n=end")
                        .map_or(n, |p| line_end(self.src, i + p + 1));
                    return Some((Some(COM), end));
                }
                // :symbol (not ::, not a ternary's ':')
                if c == b':'
                    && i + 1 < n
                    && is_ident_start(b[i + 1])
                    && !(i > 0 && (b[i - 1] == b':' || is_ident(b[i - 1])))
                {
                    return Some((Some(LIT), scan_while(b, i + 1, is_ident)));
                }
                None
            }
            Flavor::Php => {
                for tag in ["<?php", "<?=", "<?", "?>"] {
                    if starts_with_ci(self.src, i, tag) {
                        return Some((Some(META), i + tag.len()));
                    }
                }
                None
            }
            Flavor::Perl => {
                if c == b'='
                    && at_line_start(b, i)
                    && i + 1 < n
                    && b[i + 1].is_ascii_alphabetic()
                    && (i == 0 || b[i - 1] == b'\n')
                {
                    let end = self.src[i..]
                        .find("\n=cut")
                        .map_or(n, |p| line_end(self.src, i + p + 1));
                    return Some((Some(COM), end));
                }
                None
            }
            Flavor::Lua => {
                if self.starts(i, "--[") {
                    if let Some(end) = lua_long_bracket(self.src, i + 2) {
                        return Some((Some(COM), end));
                    }
                }
                if c == b'[' {
                    if let Some(end) = lua_long_bracket(self.src, i) {
                        return Some((Some(STR), end));
                    }
                }
                None
            }
            Flavor::Haskell => {
                if self.starts(i, "{-#") {
                    return Some((Some(META), until_after(self.src, i + 3, "#-}")));
                }
                if c == b'\'' && !(i > 0 && is_ident(b[i - 1])) {
                    // 'a', '\n'
                    let e = if b.get(i + 1) == Some(&b'\\') {
                        scan_quoted(b, i, b'\'', b'\\', false)
                    } else if i + 1 < n {
                        let l = char_len(self.src, i + 1);
                        if b.get(i + 1 + l) == Some(&b'\'') {
                            i + 2 + l
                        } else {
                            return None;
                        }
                    } else {
                        return None;
                    };
                    return Some((Some(STR), e));
                }
                None
            }
            Flavor::Shell => {
                // Options: -x, --long-option (at the start of a word)
                if c == b'-'
                    && i + 1 < n
                    && (i == 0 || matches!(b[i - 1], b' ' | b'\t'))
                    && (b[i + 1].is_ascii_alphabetic()
                        || (b[i + 1] == b'-'
                            && b.get(i + 2).is_some_and(|x| x.is_ascii_alphabetic())))
                {
                    return Some((
                        Some(ATTR),
                        scan_while(b, i + 1, |x| is_ident(x) || x == b'-'),
                    ));
                }
                // Here-documents: <<EOF … EOF
                if self.starts(i, "<<") && !self.starts(i, "<<<") {
                    return heredoc(self.src, i).map(|e| (Some(STR), e));
                }
                None
            }
            Flavor::PowerShell => {
                if c == b'@' && matches!(b.get(i + 1), Some(b'"') | Some(b'\'')) {
                    let close = if b[i + 1] == b'"' { "\n\"@" } else { "\n'@" };
                    return Some((Some(STR), until_after(self.src, i + 2, close)));
                }
                if c == b'-'
                    && i + 1 < n
                    && b[i + 1].is_ascii_alphabetic()
                    && !(i > 0 && is_ident(b[i - 1]))
                {
                    let e = scan_while(b, i + 1, |x| x.is_ascii_alphanumeric() || x == b'_');
                    let word = &self.src[i + 1..e];
                    let class = if word_in(PS_OPERATORS, word, true) {
                        OP
                    } else {
                        ATTR
                    };
                    return Some((Some(class), e));
                }
                if c == b'[' && i + 1 < n && b[i + 1].is_ascii_alphabetic() {
                    let e = scan_while(b, i + 1, |x| {
                        is_ident(x) || matches!(x, b'.' | b'[' | b',' | b'`')
                    });
                    if b.get(e) == Some(&b']') {
                        return Some((Some(TYPE), e + 1));
                    }
                }
                if c == b'$' {
                    // $true, $false, $null
                    let e = scan_while(b, i + 1, is_ident);
                    if word_in(self.spec.literals, &self.src[i..e], true) {
                        return Some((Some(LIT), e));
                    }
                }
                None
            }
            Flavor::Toml => {
                if c == b'[' && at_line_start(b, i) {
                    let e = line_end(self.src, i);
                    let line = &self.src[i..e];
                    let close = line.find(']').map(|p| i + p + 1);
                    if let Some(mut close) = close {
                        if b.get(close) == Some(&b']') {
                            close += 1;
                        }
                        return Some((Some(TYPE), close));
                    }
                }
                if c.is_ascii_digit() {
                    // Dates and times: 1979-05-27T07:32:00Z, 07:32:00
                    let e = scan_while(b, i, |x| {
                        x.is_ascii_alphanumeric() || matches!(x, b'-' | b':' | b'.' | b'+' | b'_')
                    });
                    let e = if b.get(e) == Some(&b' ')
                        && b.get(e + 1).is_some_and(|x| x.is_ascii_digit())
                        && self.src[i..e].contains('-')
                    {
                        scan_while(b, e + 1, |x| {
                            x.is_ascii_alphanumeric() || matches!(x, b'-' | b':' | b'.' | b'+')
                        })
                    } else {
                        e
                    };
                    return Some((Some(NUM), e));
                }
                None
            }
            Flavor::Sql => {
                // Postgres dollar quoting: $$ … $$, $tag$ … $tag$
                if c == b'$' {
                    let e = scan_while(b, i + 1, is_ident);
                    if b.get(e) == Some(&b'$')
                        && !self.src[i + 1..e]
                            .bytes()
                            .next()
                            .is_some_and(|x| x.is_ascii_digit())
                    {
                        let tag = &self.src[i..=e];
                        return Some((Some(STR), until_after(self.src, e + 1, tag)));
                    }
                }
                None
            }
            _ => None,
        }
    }
}

/// End of a bracketed group starting at `i` (`#[…]`, `[…]`): after the matching `]`,
/// skipping strings.
pub(super) fn bracket_end(b: &[u8], i: usize) -> usize {
    let mut depth = 0i32;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth <= 0 {
                    return j + 1;
                }
            }
            b'"' => {
                j = scan_quoted(b, j, b'"', b'\\', true);
                continue;
            }
            _ => {}
        }
        j += 1;
    }
    b.len()
}

/// Rust `'`: a char literal (`'a'`, `'\n'`, `'\u{1F600}'`) or a lifetime (`'a`).
pub(super) fn rust_quote(src: &str, i: usize) -> (Class, usize) {
    let b = src.as_bytes();
    let n = b.len();
    if i + 1 >= n {
        return (None, n);
    }
    if b[i + 1] == b'\\' {
        return (Some(STR), scan_quoted(b, i, b'\'', b'\\', false));
    }
    let l = char_len(src, i + 1);
    if b.get(i + 1 + l) == Some(&b'\'') {
        return (Some(STR), i + 2 + l);
    }
    if is_ident_start(b[i + 1]) {
        return (Some(LIT), scan_while(b, i + 1, is_ident));
    }
    (None, i + 1)
}

/// C# verbatim string from the opening quote at `i` (`""` is an escaped quote).
pub(super) fn verbatim_end(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == b'"' {
            if b.get(j + 1) == Some(&b'"') {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

/// C++ raw string `R"delim( … )delim"` from its opening quote at `i`.
pub(super) fn cpp_raw_string_end(src: &str, i: usize) -> usize {
    let b = src.as_bytes();
    let open = scan_while(b, i + 1, |c| c != b'(' && c != b'\n' && c != b'"');
    if b.get(open) != Some(&b'(') || open - (i + 1) > 16 {
        return scan_quoted(b, i, b'"', b'\\', false);
    }
    let close = format!("){}\"", &src[i + 1..open]);
    until_after(src, open + 1, &close)
}

/// Lua long brackets `[[ … ]]`, `[==[ … ]==]` at `i`; None when not one.
pub(super) fn lua_long_bracket(src: &str, i: usize) -> Option<usize> {
    let b = src.as_bytes();
    if b.get(i) != Some(&b'[') {
        return None;
    }
    let eq = scan_while(b, i + 1, |c| c == b'=');
    if b.get(eq) != Some(&b'[') {
        return None;
    }
    let close = format!("]{}]", "=".repeat(eq - i - 1));
    Some(until_after(src, eq + 1, &close))
}

/// A JavaScript/Ruby/Perl regex literal from `/` at `i`: its end (after flags), or None
/// when this does not look like one (no closing `/` on the line).
pub(super) fn regex_end(b: &[u8], i: usize) -> Option<usize> {
    if matches!(b.get(i + 1), Some(b'/') | Some(b'*') | Some(b' ') | None) {
        return None;
    }
    let mut j = i + 1;
    let mut in_class = false;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'/' if !in_class => {
                return Some(scan_while(b, j + 1, |c| c.is_ascii_alphabetic()));
            }
            b'\n' => return None,
            _ => {}
        }
        j += 1;
    }
    None
}

/// A shell here-document starting with `<<` at `i`: the end of its terminator line.
pub(super) fn heredoc(src: &str, i: usize) -> Option<usize> {
    let b = src.as_bytes();
    let mut j = i + 2;
    let strip_tabs = b.get(j) == Some(&b'-');
    if strip_tabs {
        j += 1;
    }
    while j < b.len() && b[j] == b' ' {
        j += 1;
    }
    let quote = match b.get(j) {
        Some(&q @ (b'\'' | b'"')) => {
            j += 1;
            Some(q)
        }
        _ => None,
    };
    let w_start = j;
    let w_end = scan_while(b, j, |c| is_ident(c) || c == b'-');
    if w_end == w_start {
        return None;
    }
    let word = &src[w_start..w_end];
    let mut after = w_end;
    if let Some(q) = quote {
        if b.get(after) != Some(&q) {
            return None;
        }
        after += 1;
    }
    let _ = after;
    // The body starts on the next line; it ends with a line holding only the word.
    let mut line = next_line(src, i);
    while line < b.len() {
        let e = line_end(src, line);
        let text = &src[line..e];
        let text = if strip_tabs {
            text.trim_start_matches('\t')
        } else {
            text
        };
        if text == word {
            return Some(e);
        }
        line = e + 1;
    }
    Some(b.len())
}
