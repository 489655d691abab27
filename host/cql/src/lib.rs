//! Confluence Query Language (CQL) for Cairn.
//!
//! [`parse`] turns a CQL string such as
//! `space = DEV and lastmodified > now("-4w") order by lastmodified desc` into a typed,
//! validated [`Cql`]: every field is known, every operator is allowed for its field, every
//! value has the type its field needs (ids are integers, dates are resolved against
//! [`Context::now`], `currentUser()` is resolved to [`Context::current_user`]). The host only
//! has to translate the result into SQL / search queries; it never sees raw CQL text.
//!
//! Grammar (keywords and field names are case-insensitive):
//!
//! ```text
//! cql     := [query] [ORDER BY order (, order)*]
//! query   := and (OR and)*
//! and     := not (AND not)*
//! not     := NOT not | "(" query ")" | clause
//! clause  := field op value | field [NOT] IN "(" value (, value)* ")"
//! order   := (title | created | lastmodified | space) [ASC | DESC]
//! ```
//!
//! A query may not start with `NOT` ("a negated clause cannot be the first clause").
//!
//! The [`Display`](std::fmt::Display) impls print a canonical S-expression form
//! (`(AND (= type "page") (~ title "foo*")) ORDER BY title ASC`) meant for logs and tests.

#![warn(missing_docs)]

mod dates;
mod lexer;
mod parser;

use std::fmt;

use chrono::SecondsFormat;
pub use chrono::{DateTime, Utc};

/// A CQL string that could not be parsed or failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CQL at position {position}: {message}")]
pub struct CqlError {
    /// 0-based offset, in characters (not bytes), of the token where parsing failed; the
    /// length of the input when it failed at the end.
    pub position: usize,
    /// What was expected and what was found, lower-case, without the position.
    pub message: String,
}

impl CqlError {
    pub(crate) fn new(position: usize, message: impl Into<String>) -> Self {
        CqlError {
            position,
            message: message.into(),
        }
    }
}

/// A field a CQL clause can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `type`: page, blogpost, comment, attachment, space or user (always lower-case).
    Type,
    /// `space` or `space.key`: the space key.
    Space,
    /// `title`: exact (`=`, `!=`, `IN`) or contains (`~`, `!~`).
    Title,
    /// `text`: title, body and labels; contains only (`~`, `!~`).
    Text,
    /// `siteSearch`: what Confluence's search box sends — title, body and
    /// labels like `text`, ranked title first, then labels; contains only.
    SiteSearch,
    /// `label`: a label name.
    Label,
    /// `creator`: username of the author of the first version.
    Creator,
    /// `contributor`: username of anyone who wrote a version.
    Contributor,
    /// `mention`: username mentioned in the body.
    Mention,
    /// `created`: creation date ([`Value::Date`]).
    Created,
    /// `lastmodified`: date of the latest version ([`Value::Date`]).
    LastModified,
    /// `ancestor`: content id; matches all descendants of it.
    Ancestor,
    /// `parent`: content id; matches direct children of it.
    Parent,
    /// `id` or `content`: the content id itself.
    Id,
    /// `container`: id of the containing content (e.g. the page of an attachment).
    Container,
}

impl Field {
    /// Looks up a field by its CQL name, case-insensitively (`space.key` is [`Field::Space`],
    /// `content` is [`Field::Id`]).
    pub fn from_name(name: &str) -> Option<Field> {
        let f = match name.to_ascii_lowercase().as_str() {
            "type" => Field::Type,
            "space" | "space.key" => Field::Space,
            "title" => Field::Title,
            "text" => Field::Text,
            "sitesearch" => Field::SiteSearch,
            "label" => Field::Label,
            "creator" => Field::Creator,
            "contributor" => Field::Contributor,
            "mention" => Field::Mention,
            "created" => Field::Created,
            "lastmodified" => Field::LastModified,
            "ancestor" => Field::Ancestor,
            "parent" => Field::Parent,
            "id" | "content" => Field::Id,
            "container" => Field::Container,
            _ => return None,
        };
        Some(f)
    }

    /// The canonical lower-case CQL name of the field.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Type => "type",
            Field::Space => "space",
            Field::Title => "title",
            Field::Text => "text",
            Field::SiteSearch => "siteSearch",
            Field::Label => "label",
            Field::Creator => "creator",
            Field::Contributor => "contributor",
            Field::Mention => "mention",
            Field::Created => "created",
            Field::LastModified => "lastmodified",
            Field::Ancestor => "ancestor",
            Field::Parent => "parent",
            Field::Id => "id",
            Field::Container => "container",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A comparison operator of a clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`: exact match.
    Eq,
    /// `!=`: not an exact match.
    Ne,
    /// `~`: contains (title and text only; `*` and `?` are wildcards).
    Contains,
    /// `!~`: does not contain (title and text only).
    NotContains,
    /// `>` (dates and ids).
    Gt,
    /// `>=` (dates and ids).
    Ge,
    /// `<` (dates and ids).
    Lt,
    /// `<=` (dates and ids).
    Le,
    /// `IN (…)`: equal to one of a [`Value::List`].
    In,
    /// `NOT IN (…)`: equal to none of a [`Value::List`].
    NotIn,
}

impl Op {
    /// The CQL spelling of the operator (`=`, `!~`, `NOT IN`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Contains => "~",
            Op::NotContains => "!~",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::In => "IN",
            Op::NotIn => "NOT IN",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of a clause, already typed for its field.
///
/// Which variant a field gets: [`Field::Created`] and [`Field::LastModified`] get
/// [`Value::Date`]; [`Field::Ancestor`], [`Field::Parent`], [`Field::Id`] and
/// [`Field::Container`] get [`Value::Number`]; every other field gets [`Value::Text`].
/// `IN` / `NOT IN` get a [`Value::List`] of those.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A quoted string or bare word, unescaped; wildcards `*` and `?` are kept verbatim (the
    /// `~` operator interprets them), as are backslashes before anything other than `"`,
    /// `'` and `\`.
    Text(String),
    /// An integer (a content id).
    Number(i64),
    /// A date literal (UTC) or a date function resolved against [`Context::now`].
    Date(DateTime<Utc>),
    /// The values of `IN (…)` / `NOT IN (…)`; never empty, never nested.
    List(Vec<Value>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")
            }
            Value::Number(n) => write!(f, "{n}"),
            Value::Date(d) => f.write_str(&d.to_rfc3339_opts(SecondsFormat::Millis, true)),
            Value::List(items) => {
                f.write_str("(")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// One test: `field op value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// The field tested.
    pub field: Field,
    /// The operator, valid for `field`.
    pub op: Op,
    /// The value, typed for `field` ([`Value::List`] exactly when `op` is `IN` / `NOT IN`).
    pub value: Value,
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({} {} {})", self.op, self.field, self.value)
    }
}

/// A boolean combination of clauses.
///
/// `And` and `Or` always hold at least two items and are flattened: an `And` never directly
/// contains another `And`, nor an `Or` another `Or`.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// A single clause.
    Clause(Clause),
    /// All of the sub-queries match.
    And(Vec<Query>),
    /// At least one of the sub-queries matches.
    Or(Vec<Query>),
    /// The sub-query does not match.
    Not(Box<Query>),
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, items) = match self {
            Query::Clause(c) => return write!(f, "{c}"),
            Query::Not(q) => return write!(f, "(NOT {q})"),
            Query::And(items) => ("AND", items),
            Query::Or(items) => ("OR", items),
        };
        write!(f, "({name}")?;
        for q in items {
            write!(f, " {q}")?;
        }
        f.write_str(")")
    }
}

/// A field results can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderField {
    /// `title`.
    Title,
    /// `created`.
    Created,
    /// `lastmodified`.
    LastModified,
    /// `space` (the space key).
    Space,
}

impl OrderField {
    /// Looks up an ORDER BY field by name, case-insensitively.
    pub fn from_name(name: &str) -> Option<OrderField> {
        let f = match name.to_ascii_lowercase().as_str() {
            "title" => OrderField::Title,
            "created" => OrderField::Created,
            "lastmodified" => OrderField::LastModified,
            "space" => OrderField::Space,
            _ => return None,
        };
        Some(f)
    }

    /// The canonical lower-case name of the field.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderField::Title => "title",
            OrderField::Created => "created",
            OrderField::LastModified => "lastmodified",
            OrderField::Space => "space",
        }
    }
}

impl fmt::Display for OrderField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sort direction of an ORDER BY field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Ascending (the default).
    Asc,
    /// Descending.
    Desc,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Asc => "ASC",
            Direction::Desc => "DESC",
        })
    }
}

/// A parsed CQL string.
#[derive(Debug, Clone, PartialEq)]
pub struct Cql {
    /// The filter; `None` when the CQL has only an ORDER BY (everything matches).
    pub query: Option<Query>,
    /// Sort keys in priority order; empty when there is no ORDER BY.
    pub order_by: Vec<(OrderField, Direction)>,
}

impl fmt::Display for Cql {
    /// Prints `query ORDER BY field DIR, …`, with `()` for a missing query.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.query {
            Some(q) => write!(f, "{q}")?,
            None => f.write_str("()")?,
        }
        for (i, (field, dir)) in self.order_by.iter().enumerate() {
            f.write_str(if i == 0 { " ORDER BY " } else { ", " })?;
            write!(f, "{field} {dir}")?;
        }
        Ok(())
    }
}

/// What CQL values are resolved against.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The current instant: `now()`, `startOfDay()` etc. are computed from it (in UTC).
    pub now: DateTime<Utc>,
    /// Username of the requesting user, which `currentUser()` resolves to; `None` for an
    /// anonymous request, where `currentUser()` is an error.
    pub current_user: Option<&'a str>,
}

/// Parses and validates a CQL string.
///
/// # Errors
///
/// Returns a [`CqlError`] with the character position and a message saying what was
/// expected and found when the text is empty, does not follow the grammar, names an unknown
/// field or function, uses an operator its field does not support, has a value of the wrong
/// kind for its field (an id that is not an integer, a date that does not parse, an unknown
/// content type), or calls `currentUser()` without a current user.
///
/// # Example
///
/// ```
/// use cairn_cql::{parse, Clause, Context, Field, Op, Query, Utc, Value};
///
/// let ctx = Context { now: Utc::now(), current_user: Some("alice") };
/// let cql = parse("creator = currentUser() ORDER BY title", &ctx)?;
/// assert_eq!(
///     cql.query,
///     Some(Query::Clause(Clause {
///         field: Field::Creator,
///         op: Op::Eq,
///         value: Value::Text("alice".into()),
///     }))
/// );
/// assert_eq!(cql.to_string(), r#"(= creator "alice") ORDER BY title ASC"#);
///
/// let err = parse("title foo", &ctx).unwrap_err();
/// assert_eq!(err.position, 6);
/// # Ok::<(), cairn_cql::CqlError>(())
/// ```
pub fn parse(cql: &str, ctx: &Context<'_>) -> Result<Cql, CqlError> {
    parser::parse(cql, ctx)
}
