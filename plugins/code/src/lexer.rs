//! A small hand-written highlighter: one configurable lexer for the C-like, scripting and
//! query languages, and dedicated ones for markup, CSS, YAML, INI-like files, diffs and
//! Markdown.
//!
//! Invariants: the tokens returned by [`highlight`] cover the input exactly, in order,
//! without gaps or overlaps, and every boundary falls on a character boundary; no input
//! makes a lexer panic or loop (each step consumes at least one character).

/// CSS classes of the tokens (`tok-*`, styled in `host/assets/app.css`).
pub mod class {
    pub const KW: &str = "tok-kw";
    pub const STR: &str = "tok-str";
    pub const COM: &str = "tok-com";
    pub const NUM: &str = "tok-num";
    pub const TYPE: &str = "tok-type";
    pub const FN: &str = "tok-fn";
    pub const ATTR: &str = "tok-attr";
    pub const TAG: &str = "tok-tag";
    pub const OP: &str = "tok-op";
    pub const VAR: &str = "tok-var";
    pub const LIT: &str = "tok-lit";
    pub const META: &str = "tok-meta";
    pub const RE: &str = "tok-re";
    pub const INS: &str = "tok-ins";
    pub const DEL: &str = "tok-del";
    pub const HUNK: &str = "tok-hunk";
    pub const HEAD: &str = "tok-head";
    pub const EM: &str = "tok-em";
    pub const STRONG: &str = "tok-strong";
    pub const LINK: &str = "tok-link";
}

use class::*;

#[rustfmt::skip]
mod langs;
use langs::*;

pub type Class = Option<&'static str>;

/// A highlighted piece of the input: `src[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub class: Class,
    pub start: usize,
    pub end: usize,
}

/// Token sink that merges neighbours of the same class.
struct Out {
    toks: Vec<Token>,
}

impl Out {
    fn new() -> Self {
        Out { toks: Vec::new() }
    }
    fn push(&mut self, class: Class, start: usize, end: usize) {
        if start >= end {
            return;
        }
        if let Some(last) = self.toks.last_mut() {
            if last.class == class && last.end == start {
                last.end = end;
                return;
            }
        }
        self.toks.push(Token { class, start, end });
    }
    /// Appends tokens of a sub-lexer run on `src[offset..]`.
    fn extend_shifted(&mut self, toks: Vec<Token>, offset: usize) {
        for t in toks {
            self.push(t.class, t.start + offset, t.end + offset);
        }
    }
}

/// Languages the highlighter knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Generic(&'static Spec),
    Markup,
    Css {
        scss: bool,
    },
    Yaml,
    Ini,
    Properties,
    Diff,
    Markdown,
    /// Known to mean "no highlighting" (text, none, plain …).
    Plain,
}

/// Finds a language by Confluence's name for it or a common alias (case-insensitive).
/// `None`: unknown, so the caller shows the code without highlighting.
pub fn lookup(name: &str) -> Option<Lang> {
    let n = name.trim().to_ascii_lowercase();
    Some(match n.as_str() {
        "rust" | "rs" => Lang::Generic(&RUST),
        "c" | "h" => Lang::Generic(&C),
        "cpp" | "c++" | "cc" | "cxx" | "hpp" | "hxx" | "objc" | "objective-c" | "objectivec" => {
            Lang::Generic(&CPP)
        }
        "csharp" | "c#" | "cs" | "dotnet" => Lang::Generic(&CSHARP),
        "java" | "javafx" => Lang::Generic(&JAVA),
        "kotlin" | "kt" | "kts" => Lang::Generic(&KOTLIN),
        "go" | "golang" => Lang::Generic(&GO),
        "python" | "py" | "python3" | "py3" | "jython" => Lang::Generic(&PYTHON),
        "ruby" | "rb" | "jruby" => Lang::Generic(&RUBY),
        "php" | "php5" | "php7" | "php8" => Lang::Generic(&PHP),
        "javascript" | "js" | "jsx" | "mjs" | "cjs" | "node" | "nodejs" | "ecmascript"
        | "actionscript" | "actionscript3" | "as3" => Lang::Generic(&JAVASCRIPT),
        "typescript" | "ts" | "tsx" => Lang::Generic(&TYPESCRIPT),
        "json" | "jsonc" | "json5" => Lang::Generic(&JSON),
        "yaml" | "yml" => Lang::Yaml,
        "toml" => Lang::Generic(&TOML),
        "sql" | "mysql" | "postgresql" | "postgres" | "psql" | "pgsql" | "plsql" | "tsql"
        | "sqlite" | "oracle" => Lang::Generic(&SQL),
        "bash" | "sh" | "shell" | "zsh" | "ksh" | "console" | "shellscript" => {
            Lang::Generic(&SHELL)
        }
        "powershell" | "ps" | "ps1" | "pwsh" | "posh" => Lang::Generic(&POWERSHELL),
        "html" | "xml" | "html/xml" | "htmlxml" | "xhtml" | "svg" | "xsl" | "xslt" | "xsd"
        | "wsdl" | "rss" | "atom" | "vue" | "jsp" | "aspx" | "plist" | "mxml" | "pom" => {
            Lang::Markup
        }
        "css" => Lang::Css { scss: false },
        "scss" | "sass" | "less" => Lang::Css { scss: true },
        "scala" | "sbt" => Lang::Generic(&SCALA),
        "swift" => Lang::Generic(&SWIFT),
        "perl" | "pl" | "pm" => Lang::Generic(&PERL),
        "lua" => Lang::Generic(&LUA),
        "haskell" | "hs" => Lang::Generic(&HASKELL),
        "diff" | "patch" | "udiff" => Lang::Diff,
        "properties" | "props" | "java-properties" => Lang::Properties,
        "ini" | "cfg" | "conf" | "config" | "dosini" | "editorconfig" | "gitconfig" => Lang::Ini,
        "markdown" | "md" | "mkd" | "gfm" => Lang::Markdown,
        "groovy" | "gradle" => Lang::Generic(&GROOVY),
        "dart" => Lang::Generic(&DART),
        "text" | "none" | "plain" | "plaintext" | "txt" | "nohighlight" | "output" | "log" => {
            Lang::Plain
        }
        _ => return None,
    })
}

/// Highlights `src` (newlines as `\n`). The tokens cover `src` exactly.
pub fn highlight(lang: Lang, src: &str) -> Vec<Token> {
    let toks = match lang {
        Lang::Generic(spec) => generic(spec, src),
        Lang::Markup => markup(src),
        Lang::Css { scss } => css(src, scss),
        Lang::Yaml => yaml(src),
        Lang::Ini => ini(src, false),
        Lang::Properties => ini(src, true),
        Lang::Diff => diff(src),
        Lang::Markdown => markdown(src),
        Lang::Plain => {
            let mut o = Out::new();
            o.push(None, 0, src.len());
            o.toks
        }
    };
    debug_assert!(covers(&toks, src));
    toks
}

/// Whether tokens cover `src` exactly (used by tests and debug builds).
pub fn covers(toks: &[Token], src: &str) -> bool {
    let mut at = 0;
    for t in toks {
        if t.start != at
            || t.end <= t.start
            || !src.is_char_boundary(t.start)
            || !src.is_char_boundary(t.end)
        {
            return false;
        }
        at = t.end;
    }
    at == src.len()
}

// ---------------------------------------------------------------------------------------
// Character helpers (bytes; every non-ASCII byte counts as part of a word so multi-byte
// characters are never split).

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Length of the character starting at byte `i` (which is a char boundary).
fn char_len(src: &str, i: usize) -> usize {
    src[i..].chars().next().map_or(1, char::len_utf8)
}

fn line_end(src: &str, i: usize) -> usize {
    src[i..].find('\n').map_or(src.len(), |p| i + p)
}

/// Start of the next line (after the `\n`), or the end.
fn next_line(src: &str, i: usize) -> usize {
    src[i..].find('\n').map_or(src.len(), |p| i + p + 1)
}

/// Position just after the first `pat` at or after `i`, or the end.
fn until_after(src: &str, i: usize, pat: &str) -> usize {
    src[i..].find(pat).map_or(src.len(), |p| i + p + pat.len())
}

fn starts_with_ci(src: &str, i: usize, pat: &str) -> bool {
    src.as_bytes()
        .get(i..i + pat.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(pat.as_bytes()))
}

/// Whether only spaces and tabs stand between the start of the line and `i`.
fn at_line_start(b: &[u8], i: usize) -> bool {
    let mut j = i;
    while j > 0 {
        match b[j - 1] {
            b'\n' => return true,
            b' ' | b'\t' => j -= 1,
            _ => return false,
        }
    }
    true
}

fn scan_while(b: &[u8], mut i: usize, f: impl Fn(u8) -> bool) -> usize {
    while i < b.len() && f(b[i]) {
        i += 1;
    }
    i
}

/// A number literal starting at `i` (a digit, or `.` before a digit).
fn scan_number(b: &[u8], i: usize) -> usize {
    let mut j = i;
    if b[j] == b'0'
        && j + 1 < b.len()
        && matches!(b[j + 1], b'x' | b'X' | b'b' | b'B' | b'o' | b'O')
    {
        j += 2;
        return scan_while(b, j, |c| {
            c.is_ascii_hexdigit() || c == b'_' || c.is_ascii_alphanumeric()
        });
    }
    loop {
        j = scan_while(b, j, |c| c.is_ascii_digit() || c == b'_');
        if j + 1 < b.len() && b[j] == b'.' && b[j + 1].is_ascii_digit() {
            j += 1;
            continue;
        }
        break;
    }
    // Trailing "." as in `1.` (but not `1..2` or `1.foo()`).
    if j < b.len()
        && b[j] == b'.'
        && !(j + 1 < b.len() && (b[j + 1] == b'.' || is_ident_start(b[j + 1])))
    {
        j += 1;
    }
    if j < b.len() && matches!(b[j], b'e' | b'E') {
        let mut k = j + 1;
        if k < b.len() && matches!(b[k], b'+' | b'-') {
            k += 1;
        }
        if k < b.len() && b[k].is_ascii_digit() {
            j = scan_while(b, k, |c| c.is_ascii_digit() || c == b'_');
        }
    }
    // Suffixes: 10u32, 1.5f, 100L, 3n, 2i64.
    scan_while(b, j, |c| c.is_ascii_alphanumeric() || c == b'_')
}

/// A quoted string from `i` (at the opening quote `q`): the end after the closing quote,
/// or at the end of the line / input when unclosed.
fn scan_quoted(b: &[u8], i: usize, q: u8, escape: u8, multiline: bool) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        let c = b[j];
        if escape != 0 && c == escape {
            j += 2;
            continue;
        }
        if c == q {
            return j + 1;
        }
        if c == b'\n' && !multiline {
            return j;
        }
        j += 1;
    }
    b.len()
}

// ---------------------------------------------------------------------------------------
// The configurable lexer.

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

fn word_in(list: &[&str], w: &str, ci: bool) -> bool {
    if ci {
        list.iter().any(|k| k.eq_ignore_ascii_case(w))
    } else {
        list.contains(&w)
    }
}

/// State of the configurable lexer.
struct G<'a> {
    spec: &'static Spec,
    src: &'a str,
    b: &'a [u8],
    out: Out,
    /// Class and last byte of the previous significant (non-space, non-comment) token.
    prev: Option<(Class, u8)>,
    /// The previous significant token was this keyword.
    prev_kw: Option<&'a str>,
}

impl<'a> G<'a> {
    fn emit(&mut self, class: Class, start: usize, end: usize) {
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

    fn starts(&self, i: usize, pat: &str) -> bool {
        self.src.as_bytes()[i..].starts_with(pat.as_bytes())
    }

    /// Whether an operand (not an operator) is expected: decides `/regex/` vs division.
    fn expects_operand(&self) -> bool {
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

    fn block_comment_end(&self, i: usize, open: &str, close: &str) -> usize {
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
    fn string_end(&self, i: usize) -> usize {
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

    fn run(mut self) -> Vec<Token> {
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

    fn followed_by_colon(&self, mut i: usize) -> bool {
        while i < self.b.len() && matches!(self.b[i], b' ' | b'\t') {
            i += 1;
        }
        self.b.get(i) == Some(&b':')
    }

    /// Shell-like languages: `#` only starts a comment at the start of a word.
    fn comment_allowed(&self, i: usize) -> bool {
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

    fn sigil(&self, i: usize) -> Option<usize> {
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
    fn word(&mut self, i: usize) -> usize {
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

    fn followed_by_assign(&self, mut i: usize) -> bool {
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

    /// Language-specific constructs checked before the general rules.
    fn special(&self, i: usize) -> Option<(Class, usize)> {
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

/// Lexes `src` with the configurable lexer.
fn generic(spec: &'static Spec, src: &str) -> Vec<Token> {
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

/// End of a bracketed group starting at `i` (`#[…]`, `[…]`): after the matching `]`,
/// skipping strings.
fn bracket_end(b: &[u8], i: usize) -> usize {
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
fn rust_quote(src: &str, i: usize) -> (Class, usize) {
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
fn verbatim_end(b: &[u8], i: usize) -> usize {
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
fn cpp_raw_string_end(src: &str, i: usize) -> usize {
    let b = src.as_bytes();
    let open = scan_while(b, i + 1, |c| c != b'(' && c != b'\n' && c != b'"');
    if b.get(open) != Some(&b'(') || open - (i + 1) > 16 {
        return scan_quoted(b, i, b'"', b'\\', false);
    }
    let close = format!("){}\"", &src[i + 1..open]);
    until_after(src, open + 1, &close)
}

/// Lua long brackets `[[ … ]]`, `[==[ … ]==]` at `i`; None when not one.
fn lua_long_bracket(src: &str, i: usize) -> Option<usize> {
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
fn regex_end(b: &[u8], i: usize) -> Option<usize> {
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
fn heredoc(src: &str, i: usize) -> Option<usize> {
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

// ---------------------------------------------------------------------------------------
// HTML / XML

fn markup(src: &str) -> Vec<Token> {
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

// ---------------------------------------------------------------------------------------
// CSS (and SCSS/Less)

fn css(src: &str, scss: bool) -> Vec<Token> {
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
fn is_property(src: &str, i: usize) -> bool {
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

// ---------------------------------------------------------------------------------------
// YAML

fn yaml(src: &str) -> Vec<Token> {
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
fn yaml_key_end(b: &[u8], i: usize, end: usize) -> Option<usize> {
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

fn yaml_value(src: &str, mut i: usize, end: usize, out: &mut Out) {
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

// ---------------------------------------------------------------------------------------
// INI and Java properties

fn ini(src: &str, properties: bool) -> Vec<Token> {
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

fn ini_value(src: &str, i: usize, end: usize, out: &mut Out, properties: bool) {
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

// ---------------------------------------------------------------------------------------
// Diffs

fn diff(src: &str) -> Vec<Token> {
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

// ---------------------------------------------------------------------------------------
// Markdown

fn markdown(src: &str) -> Vec<Token> {
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

fn is_md_rule(s: &str) -> bool {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    t.len() >= 3
        && (t.bytes().all(|c| c == b'-')
            || t.bytes().all(|c| c == b'*')
            || t.bytes().all(|c| c == b'_')
            || t.bytes().all(|c| c == b'='))
}

fn md_inline(src: &str, mut i: usize, end: usize, out: &mut Out) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(lang: &str, src: &str) -> Vec<(String, String)> {
        let l = lookup(lang).expect("known language");
        let toks = highlight(l, src);
        assert!(covers(&toks, src), "tokens do not cover {src:?}: {toks:?}");
        toks.iter()
            .filter_map(|t| {
                t.class
                    .map(|c| (c.to_string(), src[t.start..t.end].to_string()))
            })
            .collect()
    }

    fn has(lang: &str, src: &str, class: &str, text: &str) {
        let c = classes(lang, src);
        assert!(
            c.iter().any(|(k, t)| k == class && t == text),
            "{lang}: expected {class} {text:?} in {c:?}"
        );
    }

    const ALL: &[&str] = &[
        "rust",
        "c",
        "cpp",
        "csharp",
        "java",
        "kotlin",
        "go",
        "python",
        "ruby",
        "php",
        "javascript",
        "typescript",
        "json",
        "yaml",
        "toml",
        "sql",
        "bash",
        "powershell",
        "html",
        "xml",
        "css",
        "scss",
        "scala",
        "swift",
        "perl",
        "lua",
        "haskell",
        "diff",
        "properties",
        "ini",
        "markdown",
        "groovy",
        "dart",
        "text",
    ];

    const NASTY: &[&str] = &[
        "",
        "\"",
        "'",
        "`",
        "/*",
        "<!--",
        "<",
        "<a",
        "<a b=",
        "<script>",
        "#[",
        "r#\"",
        "'\\",
        "x = \"unterminated\n next",
        "é'ü'ß",
        "--[[",
        "{-",
        "@\"",
        "<<EOF",
        "$",
        "${",
        "=begin",
        "=pod\n",
        "```rust\nfn x",
        "- [",
        "a: |\n  x",
        "key=",
        "\\",
        "/",
        "0x",
        "1e",
        ".5",
        "1..2",
        "\u{1F600}'",
        "'\u{1F600}'",
        "R\"(",
        "[[",
        "#!/bin/sh",
        "@@ -1 +1 @@",
        "*",
        "_a_",
        "[x](y",
        "$$",
        "$a$",
        "<?php $x ?>",
        "[System.String]",
        "-eq",
        "@'",
        "{",
        "}",
        "a:hover{",
        "url(",
    ];

    #[test]
    fn never_panics_and_covers() {
        for lang in ALL {
            let l = lookup(lang).unwrap();
            for s in NASTY {
                let toks = highlight(l, s);
                assert!(covers(&toks, s), "{lang} {s:?}: {toks:?}");
                // Every suffix at a char boundary, too.
                for (k, _) in s.char_indices() {
                    let t = &s[k..];
                    assert!(covers(&highlight(l, t), t), "{lang} {t:?}");
                }
            }
            // A mixed blob.
            let blob: String = NASTY.join("\n");
            assert!(covers(&highlight(l, &blob), &blob), "{lang} blob");
        }
    }

    #[test]
    fn random_input_never_panics() {
        // Deterministic pseudo-random strings over an alphabet of delimiters, letters and
        // multi-byte characters.
        let alphabet: Vec<char> = "\"'`/*#-<>[]{}()=:;$@%!?\\\n\t ab0.xé😀|&+~^,_"
            .chars()
            .collect();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for lang in ALL {
            let l = lookup(lang).unwrap();
            for _ in 0..300 {
                let len = (next() % 40) as usize;
                let s: String = (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect();
                assert!(covers(&highlight(l, &s), &s), "{lang} {s:?}");
            }
        }
    }

    #[test]
    fn at_least_twenty_languages() {
        let distinct: std::collections::HashSet<String> = ALL
            .iter()
            .map(|l| format!("{:?}", lookup(l).unwrap()))
            .collect();
        assert!(distinct.len() >= 28, "{}", distinct.len());
    }

    #[test]
    fn aliases() {
        for a in [
            "js", "py", "sh", "c#", "xml", "html/xml", "text", "none", "yml", "ps1", "rb", "kt",
            "ts", "c++",
        ] {
            assert!(lookup(a).is_some(), "{a}");
        }
        assert_eq!(lookup("text"), Some(Lang::Plain));
        assert_eq!(lookup("klingon"), None);
        assert_eq!(lookup("Python"), lookup("py"));
    }

    #[test]
    fn rust() {
        let src = "#[derive(Debug)]\npub fn main() -> Result<(), String> { let x = 0x1F; // hi\n println!(\"a {}\", 'c'); let r = r#\"raw\"#; fn f<'a>(x: &'a str) {} }";
        has("rust", src, KW, "pub");
        has("rust", src, KW, "fn");
        has("rust", src, FN, "main");
        has("rust", src, TYPE, "Result");
        has("rust", src, ATTR, "#[derive(Debug)]");
        has("rust", src, NUM, "0x1F");
        has("rust", src, COM, "// hi");
        has("rust", src, FN, "println!");
        has("rust", src, STR, "\"a {}\"");
        has("rust", src, STR, "'c'");
        has("rust", src, STR, "r#\"raw\"#");
        has("rust", src, LIT, "'a");
        has("rust", "/* a /* b */ c */ x", COM, "/* a /* b */ c */");
    }

    #[test]
    fn c_and_cpp() {
        has(
            "c",
            "#include <stdio.h>\nint main(void) { return 0; }",
            META,
            "#include <stdio.h>",
        );
        has("c", "int main(void) { return 0; }", TYPE, "int");
        has("c", "int main(void) { return 0; }", KW, "return");
        has(
            "cpp",
            "auto s = R\"x(a\"b)x\"; std::vector<int> v;",
            STR,
            "R\"x(a\"b)x\"",
        );
        has("cpp", "class Foo {};", TYPE, "Foo");
    }

    #[test]
    fn python() {
        let src = "@app.route('/')\ndef hello(name: str = None):\n    \"\"\"Doc\n    string\"\"\"\n    return f'hi {name}'  # done";
        has("python", src, ATTR, "@app.route");
        has("python", src, KW, "def");
        has("python", src, FN, "hello");
        has("python", src, TYPE, "str");
        has("python", src, LIT, "None");
        has("python", src, STR, "\"\"\"Doc\n    string\"\"\"");
        has("python", src, STR, "f'hi {name}'");
        has("python", src, COM, "# done");
    }

    #[test]
    fn javascript_regex_vs_division() {
        let src = "const re = /a[/]b/gi; let x = a / b / c;";
        has("js", src, RE, "/a[/]b/gi");
        let c = classes("js", src);
        assert!(
            !c.iter().any(|(k, t)| k == RE && t.contains("b / c")),
            "{c:?}"
        );
        has("js", "const s = `multi\nline`;", STR, "`multi\nline`");
        has("ts", "interface Foo { a: string }", KW, "interface");
        has("ts", "interface Foo { a: string }", TYPE, "string");
    }

    #[test]
    fn json_keys() {
        let src = "{\"name\": \"cairn\", \"n\": 1.5e3, \"ok\": true, \"x\": null}";
        has("json", src, ATTR, "\"name\"");
        has("json", src, STR, "\"cairn\"");
        has("json", src, NUM, "1.5e3");
        has("json", src, LIT, "true");
    }

    #[test]
    fn yaml() {
        let src = "# c\nkey: value\nlist:\n  - 1\n  - \"two\"\nflag: true\nblock: |\n  text here\nanchor: &a x\nnext: 2";
        has("yaml", src, COM, "# c");
        has("yaml", src, ATTR, "key");
        has("yaml", src, NUM, "1");
        has("yaml", src, STR, "\"two\"");
        has("yaml", src, LIT, "true");
        has("yaml", src, STR, "  text here");
        has("yaml", src, VAR, "&a");
        has("yaml", src, ATTR, "next");
    }

    #[test]
    fn toml_ini_properties() {
        let src = "[package]\nname = \"x\" # c\nversion.workspace = true\ndate = 1979-05-27T07:32:00Z\n[[bin]]\n";
        has("toml", src, TYPE, "[package]");
        has("toml", src, ATTR, "name");
        has("toml", src, STR, "\"x\"");
        has("toml", src, COM, "# c");
        has("toml", src, LIT, "true");
        has("toml", src, NUM, "1979-05-27T07:32:00Z");
        has("toml", src, TYPE, "[[bin]]");
        has("ini", "; c\n[core]\nbare = false\n", TYPE, "[core]");
        has("ini", "; c\n[core]\nbare = false\n", LIT, "false");
        has("ini", "; c\n[core]\nbare = false\n", COM, "; c");
        has(
            "properties",
            "# c\napp.name=Cairn\nkey value\n",
            ATTR,
            "app.name",
        );
        has(
            "properties",
            "# c\napp.name=Cairn\nkey value\n",
            STR,
            "Cairn",
        );
        has(
            "properties",
            "# c\napp.name=Cairn\nkey value\n",
            ATTR,
            "key",
        );
    }

    #[test]
    fn sql() {
        let src = "SELECT id, \"Name\" FROM users WHERE name = 'o''brien' -- who\nAND n > 3; select count(*) from t";
        has("sql", src, KW, "SELECT");
        has("sql", src, KW, "select");
        has("sql", src, VAR, "\"Name\"");
        has("sql", src, STR, "'o''brien'");
        has("sql", src, COM, "-- who");
        has("sql", src, NUM, "3");
        has("sql", src, FN, "count");
    }

    #[test]
    fn shell() {
        let src = "#!/bin/bash\nif [ -f \"$HOME/x\" ]; then\n  echo ${NAME} $1 # comment\nfi\ncat <<EOF\nhello $x\nEOF\nls -la";
        has("bash", src, COM, "#!/bin/bash");
        has("bash", src, KW, "if");
        has("bash", src, ATTR, "-f");
        has("bash", src, STR, "\"$HOME/x\"");
        has("bash", src, VAR, "${NAME}");
        has("bash", src, VAR, "$1");
        has("bash", src, COM, "# comment");
        has("bash", src, STR, "<<EOF\nhello $x\nEOF");
        has("bash", src, FN, "echo");
        has("bash", src, ATTR, "-la");
        let c = classes("sh", "echo a#b");
        assert!(!c.iter().any(|(k, _)| k == COM), "{c:?}");
    }

    #[test]
    fn powershell() {
        let src = "<# block #>\n$items = Get-ChildItem -Path $env:TEMP | Where-Object { $_.Length -gt 100 }\n[string]$s = \"a`\"b\" # c\n$true";
        has("powershell", src, COM, "<# block #>");
        has("powershell", src, VAR, "$items");
        has("powershell", src, FN, "Get-ChildItem");
        has("powershell", src, ATTR, "-Path");
        has("powershell", src, VAR, "$env:TEMP");
        has("powershell", src, OP, "-gt");
        has("powershell", src, TYPE, "[string]");
        has("powershell", src, STR, "\"a`\"b\"");
        has("powershell", src, LIT, "$true");
    }

    #[test]
    fn markup() {
        let src = "<?xml version=\"1.0\"?>\n<!-- c -->\n<a href=\"x\" disabled>T &amp; <b>x</b></a>\n<script>var x = 1;</script><style>p { color: red }</style>";
        has("xml", src, META, "<?xml version=\"1.0\"?>");
        has("xml", src, COM, "<!-- c -->");
        has("xml", src, TAG, "<a");
        has("xml", src, ATTR, "href");
        has("xml", src, STR, "\"x\"");
        has("xml", src, ATTR, "disabled");
        has("xml", src, LIT, "&amp;");
        has("xml", src, TAG, "<b>");
        has("xml", src, TAG, "</b></a>");
        has("html", src, KW, "var");
        has("html", src, ATTR, "color");
    }

    #[test]
    fn css() {
        let src = "@media (max-width: 900px) {\n  .a > p:hover, #id { color: #fff; margin: 0 auto !important; background: url(x.png) }\n}\n/* c */";
        has("css", src, KW, "@media");
        has("css", src, TYPE, ".a");
        has("css", src, TAG, "p");
        has("css", src, KW, ":hover");
        has("css", src, TYPE, "#id");
        has("css", src, ATTR, "color");
        has("css", src, NUM, "#fff");
        has("css", src, NUM, "0");
        has("css", src, KW, "!important");
        has("css", src, FN, "url");
        has("css", src, COM, "/* c */");
        has("scss", "$w: 10px;\n.a { width: $w; } // c", VAR, "$w");
        has("scss", "$w: 10px;\n.a { width: $w; } // c", COM, "// c");
    }

    #[test]
    fn diff_and_markdown() {
        let d = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-old\n+new\n same";
        has("diff", d, META, "--- a/x");
        has("diff", d, HUNK, "@@ -1,2 +1,2 @@");
        has("diff", d, DEL, "-old");
        has("diff", d, INS, "+new");
        let md = "# Title\n\nSome **bold** and *em* and `code` [link](http://x).\n\n- item\n1. first\n> quote\n\n```python\ndef f(): pass\n```\n";
        has("md", md, HEAD, "# Title");
        has("md", md, STRONG, "**bold**");
        has("md", md, EM, "*em*");
        has("md", md, STR, "`code`");
        has("md", md, LINK, "[link]");
        has("md", md, OP, "-");
        has("md", md, OP, "1.");
        has("md", md, KW, "def");
        has("md", md, META, "```python");
    }

    #[test]
    fn others() {
        has("go", "func main() { s := `raw\\n` }", STR, "`raw\\n`");
        has("go", "func main() { s := `raw\\n` }", FN, "main");
        has(
            "java",
            "@Override public String toString() { return \"x\"; }",
            ATTR,
            "@Override",
        );
        has(
            "java",
            "@Override public String toString() { return \"x\"; }",
            TYPE,
            "String",
        );
        has("kotlin", "data class P(val x: Int)", KW, "val");
        has("kotlin", "data class P(val x: Int)", TYPE, "P");
        has(
            "csharp",
            "var s = @\"C:\\path\"; [Serializable]\nclass A {}",
            STR,
            "@\"C:\\path\"",
        );
        has("c#", "[Serializable]\nclass A {}", ATTR, "[Serializable]");
        has(
            "ruby",
            "def empty?\n  @items.nil? || :sym\nend",
            FN,
            "empty?",
        );
        has(
            "ruby",
            "def empty?\n  @items.nil? || :sym\nend",
            VAR,
            "@items",
        );
        has(
            "ruby",
            "def empty?\n  @items.nil? || :sym\nend",
            LIT,
            ":sym",
        );
        has(
            "php",
            "<?php\nfunction f($x) { echo \"hi\"; } ?>",
            META,
            "<?php",
        );
        has(
            "php",
            "<?php\nfunction f($x) { echo \"hi\"; } ?>",
            VAR,
            "$x",
        );
        has(
            "perl",
            "my %h = (a => 1); my @a = @{$r}; print $h{a};",
            VAR,
            "%h",
        );
        has(
            "perl",
            "my %h = (a => 1); my @a = @{$r}; print $h{a};",
            VAR,
            "@a",
        );
        has(
            "lua",
            "--[[ long\ncomment ]]\nlocal s = [[str]] -- c",
            COM,
            "--[[ long\ncomment ]]",
        );
        has(
            "lua",
            "--[[ long\ncomment ]]\nlocal s = [[str]] -- c",
            STR,
            "[[str]]",
        );
        has(
            "haskell",
            "{- c -}\nmain :: IO ()\nmain = putStrLn \"hi\" -- c",
            TYPE,
            "IO",
        );
        has(
            "haskell",
            "{- c -}\nmain :: IO ()\nmain = putStrLn \"hi\" -- c",
            COM,
            "{- c -}",
        );
        has("scala", "case class P(x: Int) extends T", KW, "case");
        has("swift", "guard let x = y else { return }", KW, "guard");
    }
}
