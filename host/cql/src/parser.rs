//! Recursive-descent parser over the tokens of [`crate::lexer`], validating each clause as
//! it is built (field, operator, value type) so errors point at the offending token.

use crate::dates::{self, DateFn};
use crate::lexer::{lex, Tok, Token};
use crate::{Clause, Context, Cql, CqlError, Direction, Field, Op, OrderField, Query, Value};

/// Deepest nesting of parentheses and NOTs accepted, so hostile input cannot overflow the
/// stack.
const MAX_DEPTH: usize = 64;

/// Words that end a value or clause; they must be quoted to be used as values.
const RESERVED: [&str; 5] = ["and", "or", "not", "in", "order"];

const CONTENT_TYPES: [&str; 6] = ["page", "blogpost", "comment", "attachment", "space", "user"];

pub(crate) fn parse(cql: &str, ctx: &Context<'_>) -> Result<Cql, CqlError> {
    if cql.trim().is_empty() {
        return Err(CqlError::new(0, "empty CQL"));
    }
    let toks = lex(cql)?;
    let mut p = Parser {
        toks,
        i: 0,
        ctx,
        depth: 0,
    };
    p.cql()
}

/// A value as written, before it is typed for its field.
enum Raw {
    /// A bare word or quoted string (typed the same way: `id = "3"` is `id = 3`).
    Str { text: String },
    /// `name(arg?)`.
    Call { name: String, arg: Option<String> },
}

struct Parser<'c> {
    toks: Vec<Token>,
    i: usize,
    ctx: &'c Context<'c>,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // `lex` always ends with Eof and `bump` never moves past it.
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.toks[(self.i + ahead).min(self.toks.len() - 1)].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.i += 1;
        }
        t
    }

    fn is_kw(tok: &Tok, kw: &str) -> bool {
        matches!(tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn at_kw(&self, kw: &str) -> bool {
        Self::is_kw(&self.peek().tok, kw)
    }

    fn err_here(&self, message: impl Into<String>) -> CqlError {
        CqlError::new(self.peek().pos, message)
    }

    fn found(&self) -> String {
        self.peek().tok.describe()
    }

    fn cql(&mut self) -> Result<Cql, CqlError> {
        let query = if self.at_kw("order") && Self::is_kw(self.peek_at(1), "by") {
            None
        } else {
            if self.at_kw("not") {
                return Err(self.err_here(
                    "a negated clause cannot be the first clause \
                     (write e.g. type = page AND NOT label = x)",
                ));
            }
            Some(self.or()?)
        };
        let mut order_by = Vec::new();
        if self.at_kw("order") {
            self.bump();
            if !self.at_kw("by") {
                return Err(
                    self.err_here(format!("expected BY after ORDER, found {}", self.found()))
                );
            }
            self.bump();
            order_by = self.order_list()?;
        }
        match self.peek().tok {
            Tok::Eof => Ok(Cql { query, order_by }),
            Tok::RParen => Err(self.err_here("unexpected \")\" without a matching \"(\"")),
            _ => Err(self.err_here(format!(
                "expected AND, OR, ORDER BY or end of input, found {}",
                self.found()
            ))),
        }
    }

    fn order_list(&mut self) -> Result<Vec<(OrderField, Direction)>, CqlError> {
        let mut out = Vec::new();
        loop {
            let field = match &self.peek().tok {
                Tok::Word(w) => OrderField::from_name(w).ok_or_else(|| {
                    self.err_here(format!(
                        "unknown ORDER BY field \"{w}\": expected title, created, lastmodified or space"
                    ))
                })?,
                _ => {
                    return Err(self.err_here(format!(
                        "expected a field to ORDER BY (title, created, lastmodified or space), found {}",
                        self.found()
                    )))
                }
            };
            self.bump();
            let dir = if self.at_kw("asc") {
                self.bump();
                Direction::Asc
            } else if self.at_kw("desc") {
                self.bump();
                Direction::Desc
            } else {
                Direction::Asc
            };
            out.push((field, dir));
            match self.peek().tok {
                Tok::Comma => {
                    self.bump();
                }
                Tok::Eof => return Ok(out),
                _ => {
                    return Err(self.err_here(format!(
                    "expected ASC, DESC, \",\" or end of input after ORDER BY {field}, found {}",
                    self.found()
                )))
                }
            }
        }
    }

    fn or(&mut self) -> Result<Query, CqlError> {
        let mut items = Vec::new();
        push_flat(&mut items, self.and()?, false);
        while self.at_kw("or") {
            self.bump();
            push_flat(&mut items, self.and()?, false);
        }
        Ok(combine(items, Query::Or))
    }

    fn and(&mut self) -> Result<Query, CqlError> {
        let mut items = Vec::new();
        push_flat(&mut items, self.not()?, true);
        while self.at_kw("and") {
            self.bump();
            push_flat(&mut items, self.not()?, true);
        }
        Ok(combine(items, Query::And))
    }

    fn enter(&mut self) -> Result<(), CqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err_here(format!(
                "query nested too deeply (more than {MAX_DEPTH} levels)"
            )));
        }
        Ok(())
    }

    fn not(&mut self) -> Result<Query, CqlError> {
        if self.at_kw("not") {
            self.bump();
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Query::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Query, CqlError> {
        let tok = self.peek().clone();
        match &tok.tok {
            Tok::LParen => {
                self.bump();
                self.enter()?;
                let q = self.or()?;
                if self.peek().tok != Tok::RParen {
                    return Err(self.err_here(format!(
                        "expected ) to close ( at position {}, found {}",
                        tok.pos,
                        self.found()
                    )));
                }
                self.bump();
                self.depth -= 1;
                Ok(q)
            }
            Tok::Word(w) if RESERVED.iter().any(|r| w.eq_ignore_ascii_case(r)) => Err(self
                .err_here(format!(
                    "expected a field name or \"(\", found {}",
                    self.found()
                ))),
            Tok::Word(w) => {
                let field = Field::from_name(w)
                    .ok_or_else(|| self.err_here(format!("unknown field \"{w}\"")))?;
                self.bump();
                self.clause(field, w).map(Query::Clause)
            }
            _ => Err(self.err_here(format!(
                "expected a field name or \"(\", found {}",
                self.found()
            ))),
        }
    }

    fn clause(&mut self, field: Field, written: &str) -> Result<Clause, CqlError> {
        let op_pos = self.peek().pos;
        let op = match self.peek().tok {
            Tok::Op(op) => op,
            _ if self.at_kw("in") => Op::In,
            _ if self.at_kw("not") => {
                self.bump();
                if !self.at_kw("in") {
                    return Err(self.err_here(format!(
                        "expected IN after \"{written} NOT\", found {}",
                        self.found()
                    )));
                }
                Op::NotIn
            }
            _ => {
                return Err(self.err_here(format!(
                    "expected an operator after \"{written}\", found {}",
                    self.found()
                )))
            }
        };
        self.bump();
        check_op(field, op).map_err(|m| CqlError::new(op_pos, m))?;
        let value = if matches!(op, Op::In | Op::NotIn) {
            self.list(field, op)?
        } else {
            let (raw, pos) = self.raw_value(op)?;
            self.typed(field, raw, pos)?
        };
        Ok(Clause { field, op, value })
    }

    fn list(&mut self, field: Field, op: Op) -> Result<Value, CqlError> {
        if self.peek().tok != Tok::LParen {
            return Err(self.err_here(format!("expected ( after {op}, found {}", self.found())));
        }
        self.bump();
        let mut items = Vec::new();
        loop {
            let (raw, pos) = self.raw_value(op)?;
            items.push(self.typed(field, raw, pos)?);
            match self.peek().tok {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => {
                    self.bump();
                    return Ok(Value::List(items));
                }
                _ => {
                    return Err(self.err_here(format!(
                        "expected \",\" or \")\" in the {op} list, found {}",
                        self.found()
                    )))
                }
            }
        }
    }

    /// Reads one value (word, string or function call) and where it starts.
    fn raw_value(&mut self, op: Op) -> Result<(Raw, usize), CqlError> {
        let t = self.peek().clone();
        let raw = match t.tok {
            Tok::Quoted(text) => Raw::Str { text },
            Tok::Word(name) if self.peek_at(1) == &Tok::LParen => {
                self.bump();
                self.bump();
                let arg = match &self.peek().tok {
                    Tok::Quoted(s) | Tok::Word(s) => {
                        let s = s.clone();
                        self.bump();
                        Some(s)
                    }
                    _ => None,
                };
                if self.peek().tok != Tok::RParen {
                    return Err(self.err_here(format!(
                        "expected ) to close the call to {name}( at position {}, found {}",
                        t.pos,
                        self.found()
                    )));
                }
                self.bump();
                return Ok((Raw::Call { name, arg }, t.pos));
            }
            Tok::Word(w) if RESERVED.iter().any(|r| w.eq_ignore_ascii_case(r)) => {
                return Err(self.err_here(format!(
                    "expected a value after {op}, found \"{w}\" (quote it to use it as a value)"
                )))
            }
            Tok::Word(text) => Raw::Str { text },
            _ => {
                return Err(self.err_here(format!(
                    "expected a value after {op}, found {}",
                    self.found()
                )))
            }
        };
        self.bump();
        Ok((raw, t.pos))
    }

    /// Types a raw value for `field`; errors point at `pos`, where the value starts.
    fn typed(&self, field: Field, raw: Raw, pos: usize) -> Result<Value, CqlError> {
        let err = |m: String| CqlError::new(pos, m);
        let text = match raw {
            Raw::Str { text, .. } => text,
            Raw::Call { name, arg } => return self.call(field, &name, arg.as_deref()).map_err(err),
        };
        let shown = format!("\"{text}\"");
        match field {
            Field::Type => {
                let lower = text.to_ascii_lowercase();
                if CONTENT_TYPES.contains(&lower.as_str()) {
                    Ok(Value::Text(lower))
                } else {
                    Err(err(format!(
                        "unknown content type {shown}: expected page, blogpost, comment, \
                         attachment, space or user"
                    )))
                }
            }
            Field::Space
            | Field::Title
            | Field::Text
            | Field::SiteSearch
            | Field::Label
            | Field::Creator
            | Field::Contributor
            | Field::Mention => Ok(Value::Text(text)),
            Field::Created | Field::LastModified => {
                dates::parse_date(&text).map(Value::Date).ok_or_else(|| {
                    err(format!(
                        "invalid date {shown} for {field}: expected yyyy-MM-dd, yyyy/MM/dd, \
                         yyyy-MM-dd HH:mm or yyyy/MM/dd HH:mm (quoted when it has a space) \
                         or a date function such as now(\"-4w\")"
                    ))
                })
            }
            Field::Ancestor | Field::Parent | Field::Id | Field::Container => {
                let digits = match field {
                    Field::Id | Field::Container => strip_att(&text),
                    _ => text.as_str(),
                };
                digits
                    .trim()
                    .parse::<i64>()
                    .map(Value::Number)
                    .map_err(|_| err(format!("expected an integer id for {field}, found {shown}")))
            }
        }
    }

    fn call(&self, field: Field, name: &str, arg: Option<&str>) -> Result<Value, String> {
        if name.eq_ignore_ascii_case("currentuser") {
            if !matches!(field, Field::Creator | Field::Contributor | Field::Mention) {
                return Err(format!(
                    "currentUser() can only be used with creator, contributor or mention, not {field}"
                ));
            }
            if let Some(a) = arg {
                return Err(format!("currentUser() takes no argument, found \"{a}\""));
            }
            return match self.ctx.current_user {
                Some(u) => Ok(Value::Text(u.to_string())),
                None => Err("currentUser() needs a logged-in user".into()),
            };
        }
        let Some(f) = DateFn::from_name(name) else {
            return Err(format!("unknown function \"{name}\""));
        };
        if !matches!(field, Field::Created | Field::LastModified) {
            return Err(format!(
                "{name}() can only be used with created or lastmodified, not {field}"
            ));
        }
        f.eval(self.ctx.now, arg).map(Value::Date)
    }
}

/// `att123` (an attachment id as Confluence prints it) → `123`.
fn strip_att(text: &str) -> &str {
    match text.get(..3) {
        Some(p) if p.eq_ignore_ascii_case("att") => &text[3..],
        _ => text,
    }
}

/// Whether `op` may be used with `field`; the error message when not.
fn check_op(field: Field, op: Op) -> Result<(), String> {
    match (field, op) {
        (Field::Text | Field::SiteSearch, Op::Contains | Op::NotContains) => Ok(()),
        (Field::Text | Field::SiteSearch, _) => Err(format!("{field} supports only ~ and !~")),
        (Field::Title, _) if matches!(op, Op::Contains | Op::NotContains) => Ok(()),
        (_, Op::Contains | Op::NotContains) => Err(format!(
            "{field} does not support {op}: ~ and !~ work only on title and text"
        )),
        (Field::Created | Field::LastModified | Field::Id, _) => Ok(()),
        (_, Op::Gt | Op::Ge | Op::Lt | Op::Le) => Err(format!(
            "{field} does not support {op}: < <= > >= work only on created, lastmodified and id"
        )),
        _ => Ok(()),
    }
}

/// Appends `q`, splicing its items in when it is the same connective (`and` = AND).
fn push_flat(items: &mut Vec<Query>, q: Query, and: bool) {
    match q {
        Query::And(inner) if and => items.extend(inner),
        Query::Or(inner) if !and => items.extend(inner),
        q => items.push(q),
    }
}

fn combine(mut items: Vec<Query>, make: fn(Vec<Query>) -> Query) -> Query {
    if items.len() == 1 {
        if let Some(q) = items.pop() {
            return q;
        }
    }
    make(items)
}
