//! Splits CQL text into tokens with their character positions.
//!
//! Keywords are not recognised here: `and`, `not`, `order` … are plain [`Tok::Word`]s, and
//! the parser decides from context, so a quoted `"and"` is never a keyword.

use crate::{CqlError, Op};

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    Comma,
    /// A symbolic operator: `= != ~ !~ < <= > >=`.
    Op(Op),
    /// A bare word: field name, keyword, number, unquoted value or function name.
    Word(String),
    /// A quoted string, unescaped.
    Quoted(String),
    Eof,
}

/// A token and the character offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

impl Tok {
    /// How the token is named in error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::LParen => "\"(\"".into(),
            Tok::RParen => "\")\"".into(),
            Tok::Comma => "\",\"".into(),
            Tok::Op(op) => format!("\"{op}\""),
            Tok::Word(w) => format!("\"{w}\""),
            Tok::Quoted(s) => format!("string \"{s}\""),
            Tok::Eof => "end of input".into(),
        }
    }
}

fn ends_word(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '(' | ')' | '=' | ',' | '!' | '~' | '<' | '>' | '"' | '\''
        )
}

/// Tokenizes `input`; the last token is always [`Tok::Eof`] at the input's length in chars.
pub(crate) fn lex(input: &str) -> Result<Vec<Token>, CqlError> {
    let chars: Vec<char> = input.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i;
        let next = chars.get(i + 1).copied();
        let (tok, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            '=' => (Tok::Op(Op::Eq), 1),
            '~' => (Tok::Op(Op::Contains), 1),
            '!' if next == Some('=') => (Tok::Op(Op::Ne), 2),
            '!' if next == Some('~') => (Tok::Op(Op::NotContains), 2),
            '!' => return Err(CqlError::new(pos, "unexpected \"!\": expected != or !~")),
            '<' if next == Some('=') => (Tok::Op(Op::Le), 2),
            '<' => (Tok::Op(Op::Lt), 1),
            '>' if next == Some('=') => (Tok::Op(Op::Ge), 2),
            '>' => (Tok::Op(Op::Gt), 1),
            '"' | '\'' => {
                let (s, end) = quoted(&chars, pos)?;
                toks.push(Token {
                    tok: Tok::Quoted(s),
                    pos,
                });
                i = end;
                continue;
            }
            _ => {
                let mut end = i;
                while end < chars.len() && !ends_word(chars[end]) {
                    end += 1;
                }
                (Tok::Word(chars[i..end].iter().collect()), end - i)
            }
        };
        toks.push(Token { tok, pos });
        i += len;
    }
    toks.push(Token {
        tok: Tok::Eof,
        pos: chars.len(),
    });
    Ok(toks)
}

/// Reads the string whose opening quote is at `start`; returns it unescaped and the index
/// just after the closing quote.
///
/// `\"`, `\'` and `\\` stand for the quoted character; any other backslash is kept, so that
/// escapes meant for the contains operator (`\*`) reach it intact.
fn quoted(chars: &[char], start: usize) -> Result<(String, usize), CqlError> {
    let quote = chars[start];
    let mut s = String::new();
    let mut i = start + 1;
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => match chars.get(i + 1) {
                Some(&e @ ('"' | '\'' | '\\')) => {
                    s.push(e);
                    i += 2;
                }
                Some(_) => {
                    s.push('\\');
                    i += 1;
                }
                None => break,
            },
            c if c == quote => return Ok((s, i + 1)),
            c => {
                s.push(c);
                i += 1;
            }
        }
    }
    Err(CqlError::new(start, "unterminated string"))
}
