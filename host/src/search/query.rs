//! CQL compilation: a parsed CQL query becomes a tantivy query over the
//! schema's fields.
//!
//! Invariant: every CQL field and operator compiles to exactly the
//! documents the reference says it matches; what cannot be compiled is an
//! error naming the clause, never a silently wider query.

use super::SearchIndex;
use crate::error::{Error, Result};
use crate::search::failed;
use cairn_cql::{Clause, Field as CqlField, Op, Query as CqlQuery, Value};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, Query, RangeQuery,
    RegexQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DateTime as TDate, Term};

impl SearchIndex {
    pub(super) fn terms_of(&self, field: Field, text: &str) -> Result<Vec<String>> {
        let mut tok = self
            .live()
            .index
            .tokenizer_for_field(field)
            .map_err(|e| failed("loading the tokenizer of a field", e))?;
        let mut out = Vec::new();
        let mut stream = tok.token_stream(text);
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        Ok(out)
    }

    /// `~` on a text field: every word must match (stemmed), `*`/`?` are
    /// wildcards within a word.
    pub(super) fn contains(&self, field: Field, value: &str) -> Result<Box<dyn Query>> {
        let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in value.split_whitespace() {
            if word.contains(['*', '?']) {
                let pattern: String = word
                    .to_lowercase()
                    .chars()
                    .map(|c| match c {
                        '*' => ".*".to_owned(),
                        '?' => ".".to_owned(),
                        c if c.is_alphanumeric() => c.to_string(),
                        _ => String::new(),
                    })
                    .collect();
                if pattern.is_empty() || pattern == ".*" {
                    continue;
                }
                let q = RegexQuery::from_pattern(&pattern, field)
                    .map_err(|e| Error::BadRequest(format!("invalid wildcard {word:?}: {e}")))?;
                parts.push((Occur::Must, Box::new(q)));
            } else {
                for t in self.terms_of(field, word)? {
                    parts.push((
                        Occur::Must,
                        Box::new(TermQuery::new(
                            Term::from_field_text(field, &t),
                            IndexRecordOption::WithFreqs,
                        )),
                    ));
                }
            }
        }
        if parts.is_empty() {
            return Ok(Box::new(AllQuery));
        }
        Ok(Box::new(BooleanQuery::new(parts)))
    }

    /// `text ~ …`: every word must appear somewhere — title, body or
    /// labels, as in Confluence's combined text field (`all`) — ranked with
    /// title matches boosted (×3 per word, ×3 more for every word in the
    /// title) and an exact title first (×10).
    ///
    /// The shapes are chosen for tantivy's fast paths: one plain word is a
    /// union of term queries only (its matches are the `all` term's; the
    /// title terms are subsets), pruned with block-max WAND; several words
    /// are an intersection of `all` terms (skip lists, not unions seeking)
    /// with the title boosts as optional clauses.
    pub(super) fn text_contains(&self, value: &str, count: bool) -> Result<Box<dyn Query>> {
        let f = self.f;
        let term = |field: Field, text: &str, boost: f32| -> Box<dyn Query> {
            let q: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::WithFreqs,
            ));
            if boost == 1.0 {
                q
            } else {
                Box::new(BoostQuery::new(q, boost))
            }
        };
        let words: Vec<&str> = value.split_whitespace().collect();
        let exact = term(f.title_raw, &value.trim().to_lowercase(), 10.0);
        if let [word] = words[..] {
            if !word.contains(['*', '?']) {
                let (all, title) = (self.terms_of(f.all, word)?, self.terms_of(f.title, word)?);
                if let ([a], [t]) = (&all[..], &title[..]) {
                    if count {
                        return Ok(term(f.all, a, 1.0));
                    }
                    return Ok(Box::new(BooleanQuery::new(vec![
                        (Occur::Should, term(f.all, a, 1.0)),
                        (Occur::Should, term(f.title, t, 6.0)),
                        (Occur::Should, exact),
                    ])));
                }
            }
        }
        let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in &words {
            if word.contains(['*', '?']) {
                parts.push((Occur::Must, self.contains(f.all, word)?));
            } else {
                for t in self.terms_of(f.all, word)? {
                    parts.push((Occur::Must, term(f.all, &t, 1.0)));
                }
            }
            parts.push((
                Occur::Should,
                Box::new(BoostQuery::new(self.contains(f.title, word)?, 3.0)),
            ));
        }
        if !parts.iter().any(|(o, _)| *o == Occur::Must) {
            return Ok(Box::new(AllQuery));
        }
        if count {
            parts.retain(|(o, _)| *o == Occur::Must);
            return Ok(Box::new(BooleanQuery::new(parts)));
        }
        // The whole phrase in the title (all words) ranks above words spread
        // over title and body.
        parts.push((
            Occur::Should,
            Box::new(BoostQuery::new(self.contains(f.title, value)?, 3.0)),
        ));
        parts.push((Occur::Should, exact));
        Ok(Box::new(BooleanQuery::new(parts)))
    }

    /// `siteSearch ~ …`, what Confluence's search box sends: the matches of
    /// `text ~` (every word in title, body or labels) and its title ranking,
    /// with a label equal to a word (or to the whole phrase) ranked next, so
    /// title beats labels beats body.
    pub(super) fn site_search(&self, value: &str, count: bool) -> Result<Box<dyn Query>> {
        let matches = self.text_contains(value, count)?;
        if count {
            return Ok(matches);
        }
        let label = |t: String| -> (Occur, Box<dyn Query>) {
            let q = TermQuery::new(
                Term::from_field_text(self.f.label, &t),
                IndexRecordOption::Basic,
            );
            (Occur::Should, Box::new(BoostQuery::new(Box::new(q), 2.0)))
        };
        let mut parts = vec![(Occur::Must, matches)];
        let words: Vec<String> = value
            .split_whitespace()
            .filter(|w| !w.contains(['*', '?']))
            .map(str::to_lowercase)
            .collect();
        if words.len() > 1 {
            parts.push(label(value.trim().to_lowercase()));
        }
        parts.extend(words.into_iter().map(label));
        Ok(Box::new(BooleanQuery::new(parts)))
    }

    /// The [`Split`] of `text ~ value` (the full query being `full`), when
    /// the value is two or more plain terms: the title terms' union marks
    /// the documents that may earn title boosts; all others score exactly
    /// the bare intersection of the `text` terms.
    pub(super) fn split_text(&self, value: &str, full: &dyn Query) -> Result<Option<Split>> {
        let f = self.f;
        if value.contains(['*', '?']) {
            return Ok(None);
        }
        let all = self.terms_of(f.all, value)?;
        if all.len() < 2 {
            return Ok(None);
        }
        let title = self.terms_of(f.title, value)?;
        let term = |field: Field, t: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, t),
                IndexRecordOption::WithFreqs,
            ))
        };
        let any_title: Box<dyn Query> = if title.is_empty() {
            Box::new(EmptyQuery)
        } else {
            Box::new(ConstScoreQuery::new(
                Box::new(BooleanQuery::new(
                    title
                        .iter()
                        .map(|t| (Occur::Should, term(f.title, t)))
                        .collect(),
                )),
                0.0,
            ))
        };
        Ok(Some(Split {
            titled: Box::new(BooleanQuery::new(vec![
                (Occur::Must, full.box_clone()),
                (Occur::Must, any_title),
            ])),
            plain: Box::new(BooleanQuery::new(
                all.iter().map(|t| (Occur::Must, term(f.all, t))).collect(),
            )),
        }))
    }

    /// The tantivy query of a CQL query. With `count`, the same matches
    /// without the clauses that only rank (title boosts): what counting
    /// needs, often a bare term whose count is its document frequency.
    pub(super) fn compile(&self, q: &CqlQuery, count: bool) -> Result<Box<dyn Query>> {
        Ok(match q {
            CqlQuery::And(v) => Box::new(BooleanQuery::new(
                v.iter()
                    .map(|q| Ok((Occur::Must, self.compile(q, count)?)))
                    .collect::<Result<Vec<_>>>()?,
            )),
            CqlQuery::Or(v) => Box::new(BooleanQuery::new(
                v.iter()
                    .map(|q| Ok((Occur::Should, self.compile(q, count)?)))
                    .collect::<Result<Vec<_>>>()?,
            )),
            CqlQuery::Not(q) => negate(self.compile(q, count)?),
            CqlQuery::Clause(c) => self.clause(c, count)?,
        })
    }

    pub(super) fn clause(&self, c: &Clause, count: bool) -> Result<Box<dyn Query>> {
        let f = self.f;
        let values: Vec<&Value> = match &c.value {
            Value::List(l) => l.iter().collect(),
            v => vec![v],
        };
        let one = |v: &Value| -> Result<Box<dyn Query>> {
            let text = |v: &Value| match v {
                Value::Text(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            let num = |v: &Value| match v {
                Value::Number(n) => Ok(*n as u64),
                other => Err(Error::BadRequest(format!(
                    "{} needs a number, not {other:?}",
                    c.field.as_str()
                ))),
            };
            let term_text = |field: Field, s: String| -> Box<dyn Query> {
                Box::new(TermQuery::new(
                    Term::from_field_text(field, &s),
                    IndexRecordOption::Basic,
                ))
            };
            let term_u64 = |field: Field, n: u64| -> Box<dyn Query> {
                Box::new(TermQuery::new(
                    Term::from_field_u64(field, n),
                    IndexRecordOption::Basic,
                ))
            };
            Ok(match c.field {
                CqlField::Type => term_text(f.kind, text(v).to_lowercase()),
                CqlField::Space => term_text(f.space_key, text(v).to_lowercase()),
                CqlField::Title if matches!(c.op, Op::Contains | Op::NotContains) => {
                    self.contains(f.title, &text(v))?
                }
                CqlField::Title => term_text(f.title_raw, text(v).to_lowercase()),
                CqlField::Text => self.text_contains(&text(v), count)?,
                CqlField::SiteSearch => self.site_search(&text(v), count)?,
                CqlField::Label => term_text(f.label, text(v).to_lowercase()),
                CqlField::Creator => term_text(f.creator, text(v).to_lowercase()),
                CqlField::Contributor => term_text(f.contributor, text(v).to_lowercase()),
                CqlField::Mention => term_text(f.mention, text(v).to_lowercase()),
                CqlField::Ancestor => term_u64(f.ancestor, num(v)?),
                CqlField::Parent => term_u64(f.parent, num(v)?),
                CqlField::Container => term_u64(f.container, num(v)?),
                CqlField::Id => match c.op {
                    Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                        let n = num(v)?;
                        let (lo, hi) = bounds(c.op, Term::from_field_u64(f.id, n));
                        Box::new(RangeQuery::new(lo, hi))
                    }
                    _ => term_u64(f.id, num(v)?),
                },
                CqlField::Created | CqlField::LastModified => {
                    let field = if c.field == CqlField::Created {
                        f.created
                    } else {
                        f.modified
                    };
                    let Value::Date(d) = v else {
                        return Err(Error::BadRequest(format!(
                            "{} needs a date",
                            c.field.as_str()
                        )));
                    };
                    let t = Term::from_field_date(
                        field,
                        TDate::from_timestamp_micros(d.timestamp_micros()),
                    );
                    match c.op {
                        Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                            let (lo, hi) = bounds(c.op, t);
                            Box::new(RangeQuery::new(lo, hi))
                        }
                        _ => Box::new(RangeQuery::new(
                            std::ops::Bound::Included(t.clone()),
                            std::ops::Bound::Included(t),
                        )),
                    }
                }
            })
        };
        let positive: Box<dyn Query> = if values.len() == 1 {
            one(values[0])?
        } else {
            Box::new(BooleanQuery::new(
                values
                    .iter()
                    .map(|v| Ok((Occur::Should, one(v)?)))
                    .collect::<Result<Vec<_>>>()?,
            ))
        };
        Ok(match c.op {
            Op::Ne | Op::NotContains | Op::NotIn => negate(positive),
            _ => positive,
        })
    }
}

pub(super) fn bounds(op: Op, t: Term) -> (std::ops::Bound<Term>, std::ops::Bound<Term>) {
    use std::ops::Bound::*;
    match op {
        Op::Gt => (Excluded(t), Unbounded),
        Op::Ge => (Included(t), Unbounded),
        Op::Lt => (Unbounded, Excluded(t)),
        _ => (Unbounded, Included(t)),
    }
}

pub(super) fn negate(q: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, Box::new(AllQuery)),
        (Occur::MustNot, q),
    ]))
}

/// A multi-word `text ~` query split for pruning (see [`top_by_score`]):
/// `titled` is the full query restricted to documents with a query word in
/// the title, `plain` the bare intersection of the words' `text` terms.
pub(super) struct Split {
    pub(super) titled: Box<dyn Query>,
    pub(super) plain: Box<dyn Query>,
}

/// Matches documents holding any of `terms`, without scoring. A
/// `TermSetQuery` builds an FST per search, whose builder zeroes about a
/// megabyte (18 % of a search's CPU at 10k pages); a union of term queries
/// is cheaper for the few spaces and restriction sets a viewer usually has.
pub(super) fn term_filter(terms: Vec<Term>) -> Box<dyn Query> {
    const UNION_MAX: usize = 128;
    match terms.len() {
        0 => Box::new(EmptyQuery),
        n if n <= UNION_MAX => Box::new(ConstScoreQuery::new(
            Box::new(BooleanQuery::new(
                terms
                    .into_iter()
                    .map(|t| {
                        (
                            Occur::Should,
                            Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as Box<dyn Query>,
                        )
                    })
                    .collect(),
            )),
            0.0,
        )),
        _ => Box::new(TermSetQuery::new(terms)),
    }
}
