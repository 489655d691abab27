//! A small hand-written highlighter: one configurable lexer for the C-like, scripting and
//! query languages (`configurable.rs`, its per-language rules in `flavors.rs`, its tables in
//! `langs.rs`), and dedicated ones for markup and CSS (`markup.rs`), YAML, INI-like files
//! and diffs (`data.rs`), and Markdown (`markdown.rs`). This module holds the entry points
//! ([`lookup`], [`highlight`]) and the scanning helpers they share.
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

mod configurable;
mod data;
mod flavors;
mod markdown;
mod markup;

use configurable::*;
pub use configurable::{Flavor, Spec};
use data::*;
use flavors::*;
use markdown::*;
use markup::*;

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

#[cfg(test)]
mod tests;
