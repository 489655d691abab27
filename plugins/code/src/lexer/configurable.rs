//! The configurable lexer: one scanner for the C-like, scripting and query languages,
//! driven by a [`Spec`] (keywords, comments, quotes …) from `langs.rs`.
//!
//! Invariant: every step of [`G::run`] consumes at least one character and emits
//! tokens that cover what it consumed, so the output covers the input exactly.

use super::*;

/// Extra rules of one language, beyond what [`Spec`] configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    None,
    Rust,
    Cpp,
    CSharp,
    Python,
    Ruby,
    Php,
    Perl,
    Lua,
    Haskell,
    Shell,
    PowerShell,
    Sql,
    Toml,
    Json,
    Js,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Spec {
    pub name: &'static str,
    pub keywords: &'static [&'static str],
    pub types: &'static [&'static str],
    /// Constants such as true, false, null.
    pub literals: &'static [&'static str],
    /// Well-known functions and commands, shown as functions.
    pub builtins: &'static [&'static str],
    pub line_comments: &'static [&'static str],
    pub block_comment: Option<(&'static str, &'static str)>,
    pub nested_comments: bool,
    /// Characters opening strings.
    pub quotes: &'static str,
    /// Quotes whose strings may span lines.
    pub multiline_quotes: &'static str,
    /// Quotes inside which the escape character has no meaning.
    pub raw_quotes: &'static str,
    pub escape: u8,
    /// `"""` / `'''` strings.
    pub triple_quotes: bool,
    /// Prefixes glued to a string (`r"…"`, `f'…'`, `u8"…"`), lower case.
    pub string_prefixes: &'static [&'static str],
    pub case_insensitive: bool,
    /// Capitalised identifiers (with a lower-case letter) are types.
    pub cap_types: bool,
    /// `@name` is an annotation / decorator.
    pub annotations: bool,
    /// Characters starting a variable (`$x`, `@x`, `%x`).
    pub sigils: &'static str,
    /// `#` at the start of a line begins a preprocessor line.
    pub preprocessor: bool,
    /// `/regex/` literals where an operand is expected.
    pub regex_literals: bool,
    /// Extra characters inside identifiers (after the first).
    pub ident_extra: &'static str,
    pub flavor: Flavor,
}

pub(super) fn word_in(list: &[&str], w: &str, ci: bool) -> bool {
    if ci {
        list.iter().any(|k| k.eq_ignore_ascii_case(w))
    } else {
        list.contains(&w)
    }
}

/// State of the configurable lexer.
pub(super) struct G<'a> {
    pub(super) spec: &'static Spec,
    pub(super) src: &'a str,
    pub(super) b: &'a [u8],
    pub(super) out: Out,
    /// Class and last byte of the previous significant (non-space, non-comment) token.
    pub(super) prev: Option<(Class, u8)>,
    /// The previous significant token was this keyword.
    pub(super) prev_kw: Option<&'a str>,
}

impl<'a> G<'a> {
    pub(super) fn emit(&mut self, class: Class, start: usize, end: usize) {
        self.out.push(class, start, end);
        if class != Some(COM) && end > start {
            self.prev = Some((class, self.b[end - 1]));
            self.prev_kw = if class == Some(KW) {
                Some(&self.src[start..end])
            } else {
                None
            };
        }
    }

    pub(super) fn starts(&self, i: usize, pat: &str) -> bool {
        self.src.as_bytes()[i..].starts_with(pat.as_bytes())
    }

    /// Whether an operand (not an operator) is expected: decides `/regex/` vs division.
    pub(super) fn expects_operand(&self) -> bool {
        match self.prev {
            None => true,
            Some((Some(KW), _)) => true,
            Some((Some(OP), _)) => true,
            Some((_, c)) => matches!(
                c,
                b'(' | b',' | b'[' | b'{' | b';' | b'!' | b'&' | b'|' | b'?' | b':' | b'=' | b'}'
            ),
        }
    }

    pub(super) fn block_comment_end(&self, i: usize, open: &str, close: &str) -> usize {
        let mut depth = 0usize;
        let mut j = i;
        while j < self.b.len() {
            if self.starts(j, close) {
                j += close.len();
                if depth <= 1 {
                    return j;
                }
                depth -= 1;
                continue;
            }
            if self.starts(j, open) && (depth == 0 || self.spec.nested_comments) {
                depth += 1;
                j += open.len();
                continue;
            }
            j += 1;
        }
        self.b.len()
    }

    /// A string at `i` (opening quote). Handles triple quotes.
    pub(super) fn string_end(&self, i: usize) -> usize {
        let b = self.b;
        let q = b[i];
        if self.spec.triple_quotes
            && (q == b'"' || q == b'\'')
            && b.get(i + 1) == Some(&q)
            && b.get(i + 2) == Some(&q)
        {
            let pat = if q == b'"' { "\"\"\"" } else { "'''" };
            let esc = !self.spec.raw_quotes.as_bytes().contains(&q);
            let mut j = i + 3;
            while j < b.len() {
                if esc && b[j] == self.spec.escape && self.spec.escape != 0 {
                    j += 2;
                    continue;
                }
                if self.starts(j, pat) {
                    // """a"""" : the closing quotes are the last three of the run.
                    let mut k = j + 3;
                    while k < b.len() && b[k] == q {
                        k += 1;
                    }
                    return k;
                }
                j += 1;
            }
            return b.len();
        }
        let escape = if self.spec.raw_quotes.as_bytes().contains(&q) {
            0
        } else {
            self.spec.escape
        };
        let multiline = self.spec.multiline_quotes.as_bytes().contains(&q);
        scan_quoted(b, i, q, escape, multiline).min(b.len())
    }

    pub(super) fn run(mut self) -> Vec<Token> {
        let b = self.b;
        let n = b.len();
        let mut i = 0;
        while i < n {
            let start = i;
            if let Some((class, end)) = self.special(i) {
                let end = end.clamp(i + char_len(self.src, i), n);
                self.emit(class, start, end);
                i = end;
                continue;
            }
            let c = b[i];
            if c.is_ascii_whitespace() {
                i = scan_while(b, i, |c| c.is_ascii_whitespace());
                self.out.push(None, start, i);
                continue;
            }
            if let Some((open, close)) = self.spec.block_comment {
                if self.starts(i, open) {
                    i = self.block_comment_end(i, open, close);
                    self.emit(Some(COM), start, i);
                    continue;
                }
            }
            if self.spec.line_comments.iter().any(|p| self.starts(i, p)) && self.comment_allowed(i)
            {
                i = line_end(self.src, i);
                self.emit(Some(COM), start, i);
                continue;
            }
            if self.spec.preprocessor && c == b'#' && at_line_start(b, i) {
                // To the end of the line, following backslash continuations.
                let mut j = i;
                loop {
                    let e = line_end(self.src, j);
                    let trimmed = self.src[j..e].trim_end();
                    if trimmed.ends_with('\\') && e < n {
                        j = e + 1;
                        continue;
                    }
                    i = e;
                    break;
                }
                self.emit(Some(META), start, i);
                continue;
            }
            if self.spec.quotes.as_bytes().contains(&c) {
                i = self.string_end(i);
                let class = if self.spec.flavor == Flavor::Sql && c != b'\'' {
                    Some(VAR) // quoted identifiers
                } else if self.spec.flavor == Flavor::Json && self.followed_by_colon(i) {
                    Some(ATTR)
                } else {
                    Some(STR)
                };
                self.emit(class, start, i);
                continue;
            }
            if c.is_ascii_digit()
                || (c == b'.'
                    && i + 1 < n
                    && b[i + 1].is_ascii_digit()
                    && !(i > 0 && is_ident(b[i - 1])))
            {
                i = scan_number(b, i);
                self.emit(Some(NUM), start, i);
                continue;
            }
            if is_ident_start(c) {
                i = self.word(i);
                continue;
            }
            if self.spec.sigils.as_bytes().contains(&c) {
                if let Some(end) = self.sigil(i) {
                    self.emit(Some(VAR), start, end);
                    i = end;
                    continue;
                }
            }
            if self.spec.annotations && c == b'@' && i + 1 < n && is_ident_start(b[i + 1]) {
                i = scan_while(b, i + 1, |c| is_ident(c) || c == b'.');
                self.emit(Some(ATTR), start, i);
                continue;
            }
            if self.spec.regex_literals && c == b'/' && self.expects_operand() {
                if let Some(end) = regex_end(b, i) {
                    self.emit(Some(RE), start, end);
                    i = end;
                    continue;
                }
            }
            if b"+-*/%=<>!&|^~?:".contains(&c) {
                i = scan_while(b, i, |c| b"+-*/%=<>!&|^~?:".contains(&c));
                // Don't swallow the start of a comment (`=//x`, `+--x`).
                for p in self
                    .spec
                    .line_comments
                    .iter()
                    .copied()
                    .chain(self.spec.block_comment.map(|(o, _)| o))
                {
                    if let Some(k) = self.src[start..i].find(p) {
                        if k > 0 {
                            i = start + k;
                        }
                    }
                }
                self.emit(Some(OP), start, i);
                continue;
            }
            i += char_len(self.src, i);
            self.emit(None, start, i);
        }
        self.out.toks
    }

    pub(super) fn followed_by_colon(&self, mut i: usize) -> bool {
        while i < self.b.len() && matches!(self.b[i], b' ' | b'\t') {
            i += 1;
        }
        self.b.get(i) == Some(&b':')
    }

    /// Shell-like languages: `#` only starts a comment at the start of a word.
    pub(super) fn comment_allowed(&self, i: usize) -> bool {
        match self.spec.flavor {
            Flavor::Shell | Flavor::PowerShell | Flavor::Perl | Flavor::Ruby => {
                i == 0
                    || matches!(
                        self.b[i - 1],
                        b' ' | b'\t' | b'\n' | b';' | b'(' | b'{' | b'|' | b'&'
                    )
            }
            _ => true,
        }
    }

    pub(super) fn sigil(&self, i: usize) -> Option<usize> {
        let b = self.b;
        let n = b.len();
        let c = b[i];
        let next = *b.get(i + 1)?;
        match self.spec.flavor {
            Flavor::Shell | Flavor::Perl if c == b'$' && next == b'{' => Some(
                b[i..]
                    .iter()
                    .position(|&x| x == b'}')
                    .map_or(n, |p| i + p + 1),
            ),
            Flavor::Shell | Flavor::Perl
                if c == b'$' && b"?#@*!$0123456789_".contains(&next) && !is_ident_start(next) =>
            {
                Some(i + 2)
            }
            Flavor::PowerShell if c == b'$' && next == b'{' => Some(
                b[i..]
                    .iter()
                    .position(|&x| x == b'}')
                    .map_or(n, |p| i + p + 1),
            ),
            Flavor::Sql if c == b'$' && next.is_ascii_digit() => {
                Some(scan_while(b, i + 1, |x| x.is_ascii_digit()))
            }
            Flavor::Ruby
                if c == b'@'
                    && next == b'@'
                    && b.get(i + 2).is_some_and(|&x| is_ident_start(x)) =>
            {
                Some(scan_while(b, i + 2, is_ident))
            }
            Flavor::Perl if c == b'%' && !(next == b'{' || is_ident_start(next)) => None,
            _ if is_ident_start(next) => {
                let mut j = scan_while(b, i + 1, is_ident);
                // $env:PATH, $script:x
                if self.spec.flavor == Flavor::PowerShell
                    && j + 1 < n
                    && b[j] == b':'
                    && is_ident_start(b[j + 1])
                {
                    j = scan_while(b, j + 1, is_ident);
                }
                // Perl package variables: $Foo::bar
                while self.spec.flavor == Flavor::Perl
                    && j + 2 < n
                    && b[j] == b':'
                    && b[j + 1] == b':'
                    && is_ident_start(b[j + 2])
                {
                    j = scan_while(b, j + 2, is_ident);
                }
                Some(j)
            }
            _ => None,
        }
    }

    /// An identifier or keyword at `i`.
    pub(super) fn word(&mut self, i: usize) -> usize {
        let b = self.b;
        let n = b.len();
        let extra = self.spec.ident_extra.as_bytes();
        let mut j = scan_while(b, i, |c| is_ident(c) || extra.contains(&c));
        // A trailing '-' is not part of a shell/PowerShell word (`a-`, `x--`).
        while j > i + 1 && b[j - 1] == b'-' {
            j -= 1;
        }
        let w = &self.src[i..j];
        let ci = self.spec.case_insensitive;
        // String prefixes glued to a quote: r"…", f'…', u8"…", b"…".
        if j < n
            && self.spec.quotes.as_bytes().contains(&b[j])
            && self
                .spec
                .string_prefixes
                .iter()
                .any(|p| p.eq_ignore_ascii_case(w))
        {
            let raw = w.to_ascii_lowercase().contains('r');
            let end = if raw && self.spec.flavor == Flavor::Cpp && b[j] == b'"' {
                cpp_raw_string_end(self.src, j)
            } else if raw {
                // Raw: no escapes.
                let q = b[j];
                if self.spec.triple_quotes && b.get(j + 1) == Some(&q) && b.get(j + 2) == Some(&q) {
                    self.string_end(j)
                } else {
                    scan_quoted(b, j, q, 0, false)
                }
            } else {
                self.string_end(j)
            };
            self.emit(Some(STR), i, end);
            return end;
        }
        // Ruby-style predicate names: empty?, save!
        if self.spec.flavor == Flavor::Ruby
            && j < n
            && (b[j] == b'?' || b[j] == b'!')
            && b.get(j + 1) != Some(&b'=')
        {
            j += 1;
        }
        let w = &self.src[i..j];
        let next = b.get(j).copied();
        let class = if self.spec.flavor == Flavor::Rust
            && next == Some(b'!')
            && matches!(b.get(j + 1), Some(b'(' | b'[' | b'{'))
        {
            // A macro call: name!(…)
            self.emit(Some(FN), i, j + 1);
            return j + 1;
        } else if self.spec.flavor == Flavor::PowerShell
            && w.contains('-')
            && w.as_bytes()[0].is_ascii_alphabetic()
        {
            Some(FN) // Get-ChildItem
        } else if word_in(self.spec.keywords, w, ci) {
            Some(KW)
        } else if word_in(self.spec.literals, w, ci) {
            Some(LIT)
        } else if word_in(self.spec.types, w, ci) {
            Some(TYPE)
        } else if self.prev_kw.is_some_and(|k| word_in(FN_DEFINERS, k, true)) {
            Some(FN)
        } else if self
            .prev_kw
            .is_some_and(|k| word_in(TYPE_DEFINERS, k, true))
        {
            Some(TYPE)
        } else if word_in(self.spec.builtins, w, ci) || next == Some(b'(') {
            Some(FN)
        } else if self.spec.flavor == Flavor::Json || self.spec.flavor == Flavor::Toml {
            if self.followed_by_assign(j) {
                Some(ATTR)
            } else {
                None
            }
        } else if self.spec.cap_types
            && w.as_bytes()[0].is_ascii_uppercase()
            && (self.spec.flavor == Flavor::Haskell || w.bytes().any(|c| c.is_ascii_lowercase()))
        {
            Some(TYPE)
        } else {
            None
        };
        self.emit(class, i, j);
        j
    }

    pub(super) fn followed_by_assign(&self, mut i: usize) -> bool {
        let b = self.b;
        // Dotted keys: a.b.c = 1
        loop {
            while i < b.len() && matches!(b[i], b' ' | b'\t') {
                i += 1;
            }
            match b.get(i) {
                Some(b'=') | Some(b':') => return true,
                Some(b'.') => {
                    i += 1;
                    while i < b.len() && matches!(b[i], b' ' | b'\t') {
                        i += 1;
                    }
                    if i < b.len() && (is_ident(b[i]) || b[i] == b'"' || b[i] == b'\'') {
                        i = if is_ident(b[i]) {
                            scan_while(b, i, |c| is_ident(c) || c == b'-')
                        } else {
                            scan_quoted(b, i, b[i], b'\\', false)
                        };
                        continue;
                    }
                    return false;
                }
                _ => return false,
            }
        }
    }
}

/// Lexes `src` with the configurable lexer.
pub(super) fn generic(spec: &'static Spec, src: &str) -> Vec<Token> {
    G {
        spec,
        src,
        b: src.as_bytes(),
        out: Out::new(),
        prev: None,
        prev_kw: None,
    }
    .run()
}
