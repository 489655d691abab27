//! Running a search: the compiled query under the viewer's filter,
//! scored and ordered, then each hit confirmed by PostgreSQL.
//!
//! Invariant: counts, hits and excerpts come from the same filtered query,
//! so a total never counts what the viewer may not see.

use super::{
    excerpts::{excerpt, first_words},
    query::{term_filter, Split},
    SearchIndex,
};
use crate::error::Result;
use crate::perms::Viewer;
use crate::search::failed;
use cairn_cql::{
    Clause, Cql, Direction, Field as CqlField, Op, OrderField, Query as CqlQuery, Value,
};
use deadpool_postgres::GenericClient;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query};
use tantivy::schema::Value as _;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DateTime as TDate, TantivyDocument, Term};

/// A search hit the viewer may see.
pub struct Hit {
    pub id: i64,
    pub score: f32,
    /// Safe HTML: the body's text, HTML-escaped, with `<b>` around the
    /// matched words; it needs no further sanitizing.
    pub excerpt: String,
}

pub struct Results {
    pub total: usize,
    pub hits: Vec<Hit>,
}

impl SearchIndex {
    /// Runs a parsed CQL query for the viewer.
    pub async fn search(
        &self,
        db: &impl GenericClient,
        viewer: &Viewer,
        cql: &Cql,
        start: usize,
        limit: usize,
    ) -> Result<Results> {
        let (user_query, count_query): (Box<dyn Query>, Box<dyn Query>) = match &cql.query {
            Some(q) => (self.compile(q, false)?, self.compile(q, true)?),
            None => (Box::new(AllQuery), Box::new(AllQuery)),
        };
        let filter = self.blocked_for(db, viewer).await?;
        let f = self.f;
        let blocked: Vec<Term> = filter
            .blocked
            .iter()
            .map(|b| Term::from_field_u64(f.rset, *b as u64))
            .collect();
        // The space filter is part of the query (it skips whole spaces);
        // the few blocked restriction sets are checked per candidate in the
        // collector, so a viewer who may see every space runs the bare user
        // query, which tantivy can prune (block-max WAND).
        let spaces: Option<Box<dyn Query>> = (!filter.every_space).then(|| {
            term_filter(
                viewer
                    .view_spaces
                    .iter()
                    .map(|s| Term::from_field_u64(f.space_id, *s as u64))
                    .collect(),
            )
        });
        let in_spaces = |q: &dyn Query| -> Box<dyn Query> {
            match &spaces {
                None => q.box_clone(),
                Some(s) => Box::new(BooleanQuery::new(vec![
                    (Occur::Must, q.box_clone()),
                    (Occur::Must, s.box_clone()),
                ])),
            }
        };
        let (permitted, permitted_count) = (in_spaces(&*user_query), in_spaces(&*count_query));
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, permitted.box_clone())];
        if !blocked.is_empty() {
            clauses.push((Occur::MustNot, term_filter(blocked)));
        }
        let query = BooleanQuery::new(clauses);
        let live = self.live();
        let searcher = live.reader.searcher();
        let order = cql.order_by.first().copied();
        let fetch = start + limit;
        let (total, addrs): (usize, Vec<(f32, tantivy::DocAddress)>) = match order {
            Some((OrderField::Created | OrderField::LastModified, dir)) => {
                let field = if matches!(order, Some((OrderField::Created, _))) {
                    "created"
                } else {
                    "modified"
                };
                let ord = if dir == Direction::Desc {
                    tantivy::Order::Desc
                } else {
                    tantivy::Order::Asc
                };
                let (docs, total) = searcher
                    .search(
                        &query,
                        &(
                            TopDocs::with_limit(fetch.max(1))
                                .order_by_fast_field::<TDate>(field, ord),
                            Count,
                        ),
                    )
                    .map_err(|e| failed("collecting suggestions", e))?;
                (total, docs.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
            _ => {
                let blocked_set: std::collections::HashSet<u64> =
                    filter.blocked.iter().map(|b| *b as u64).collect();
                let space_set: std::collections::HashSet<u64> =
                    viewer.view_spaces.iter().map(|s| *s as u64).collect();
                let permit = Permit {
                    blocked: &blocked_set,
                    spaces: (!filter.every_space).then_some(&space_set),
                    rset: "rset",
                    space_id: "space_id",
                };
                let split = match &cql.query {
                    Some(CqlQuery::Clause(c))
                        if c.field == CqlField::Text && c.op == Op::Contains =>
                    {
                        match &c.value {
                            Value::Text(v) => self.split_text(v, &*permitted)?,
                            _ => None,
                        }
                    }
                    _ => None,
                };
                top_by_score(
                    &searcher,
                    &*permitted,
                    &*permitted_count,
                    split.as_ref(),
                    &permit,
                    fetch.max(1),
                )?
            }
        };
        // Excerpts highlight the query's `text` words: the body is stored
        // as is and analysed like `all` when an excerpt is cut.
        let mut stems = Vec::new();
        user_query.query_terms(&mut |term, _| {
            if term.field() == f.all {
                if let Some(t) = term.value().as_str() {
                    stems.push(t.to_string());
                }
            }
        });
        let snippets = if stems.is_empty() {
            None
        } else {
            SnippetGenerator::create(&searcher, &*user_query, f.all).ok()
        };
        let mut hits = Vec::new();
        let mut indexed = Vec::new();
        for (score, addr) in addrs.into_iter().skip(start).take(limit) {
            let doc: TantivyDocument = searcher
                .doc(addr)
                .map_err(|e| failed(format!("reading stored document at {addr:?}"), e))?;
            let id = doc.get_first(f.id).and_then(|v| v.as_u64()).unwrap_or(0) as i64;
            let version = doc
                .get_first(f.version)
                .and_then(|v| v.as_u64())
                .unwrap_or(0) as i64;
            let modified = doc
                .get_first(f.modified)
                .and_then(|v| v.as_datetime())
                .map_or(0, |d| d.into_timestamp_micros());
            indexed.push((id, version, modified));
            let body = doc.get_first(f.body).and_then(|v| v.as_str()).unwrap_or("");
            let excerpt = match &snippets {
                Some(g) => excerpt(g, &stems, body),
                None => first_words(body),
            };
            hits.push(Hit { id, score, excerpt });
        }
        // The index may be wrong (a restore, a bug, a hand edit): a hit is
        // shown only when PostgreSQL has that id, current, in the version
        // and modification time indexed, and the viewer may see it now —
        // so its text is never another content's or an older version's.
        let stale = self.stale_hits(db, viewer, &indexed).await?;
        let total = if stale.is_empty() {
            total
        } else {
            hits.retain(|h| !stale.contains(&h.id));
            self.queue_repairs(&stale);
            total.saturating_sub(stale.len())
        };
        if let Some((OrderField::Title | OrderField::Space, _)) = order {
            // Sorted by the caller from the loaded content (rare orders).
        }
        Ok(Results { total, hits })
    }

    /// Title suggestions for the search box: titles starting with (or
    /// containing a word starting with) `prefix`.
    pub(crate) async fn suggest(
        &self,
        db: &impl GenericClient,
        viewer: &Viewer,
        prefix: &str,
    ) -> Result<Vec<i64>> {
        let words: Vec<String> = prefix
            .split_whitespace()
            .map(|w| {
                w.to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric())
                    .collect::<String>()
            })
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let text = words
            .iter()
            .map(|w| format!("{w}*"))
            .collect::<Vec<_>>()
            .join(" ");
        let cql = Cql {
            query: Some(CqlQuery::And(vec![
                CqlQuery::Clause(Clause {
                    field: CqlField::Title,
                    op: Op::Contains,
                    value: Value::Text(text),
                }),
                CqlQuery::Clause(Clause {
                    field: CqlField::Type,
                    op: Op::In,
                    value: Value::List(vec![
                        Value::Text("page".into()),
                        Value::Text("blogpost".into()),
                    ]),
                }),
            ])),
            order_by: Vec::new(),
        };
        Ok(self
            .search(db, viewer, &cql, 0, 8)
            .await?
            .hits
            .into_iter()
            .map(|h| h.id)
            .collect())
    }
}

/// Which documents a viewer may see, checked per candidate on fast fields:
/// none of the `blocked` restriction sets, and (when `spaces` is set and
/// the query does not already filter them) a space among `spaces`.
pub(super) struct Permit<'a> {
    pub(super) blocked: &'a std::collections::HashSet<u64>,
    pub(super) spaces: Option<&'a std::collections::HashSet<u64>>,
    pub(super) rset: &'a str,
    pub(super) space_id: &'a str,
}

/// The `k` best documents of `query` by score that the viewer may see, and
/// how many documents `count_query` (the same matches without the ranking
/// clauses) has that the viewer may see.
///
/// The permit is checked on each candidate the scorer offers, so pruning
/// (block-max WAND) still applies; the threshold carries over from one
/// segment to the next. The count is a second pass without scoring, which
/// for a viewer with nothing blocked is tantivy's own count (a term's
/// document frequency, an intersection's skip-list walk).
///
/// With a `split`, the documents with a query word in the title are scored
/// exhaustively first (they are few, and only they can earn title boosts);
/// every other match scores exactly its `text` terms' sum, so the rest is
/// found by a pruned pass over the bare term intersection (block-max WAND),
/// skipping the documents already scored. The result is the same top `k`.
pub(super) fn top_by_score(
    searcher: &tantivy::Searcher,
    query: &dyn Query,
    count_query: &dyn Query,
    split: Option<&Split>,
    permit: &Permit,
    k: usize,
) -> Result<(usize, Vec<(f32, tantivy::DocAddress)>)> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    use tantivy::query::EnableScoring;
    use tantivy::DocAddress;

    /// Higher score first, then lower address, as tantivy's TopDocs.
    #[derive(PartialEq)]
    struct Entry(f32, DocAddress);
    impl Eq for Entry {}
    impl PartialOrd for Entry {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Entry {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            self.0.total_cmp(&o.0).then_with(|| o.1.cmp(&self.1))
        }
    }

    let scoring = EnableScoring::enabled_from_searcher(searcher);
    let scored = query
        .weight(scoring)
        .map_err(|e| failed("preparing the scored query", e))?;
    let split = match split {
        Some(s) => Some((
            s.titled
                .weight(scoring)
                .map_err(|e| failed("preparing the title query", e))?,
            s.plain
                .weight(scoring)
                .map_err(|e| failed("preparing the body query", e))?,
        )),
        None => None,
    };
    let unscored = count_query
        .weight(EnableScoring::disabled_from_searcher(searcher))
        .map_err(|e| failed("preparing the count query", e))?;
    let mut heap: BinaryHeap<Reverse<Entry>> = BinaryHeap::with_capacity(k + 1);
    let mut threshold = f32::MIN;
    let mut total = 0usize;
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let alive = reader.alive_bitset();
        let sets = if permit.blocked.is_empty() {
            None
        } else {
            Some(
                reader
                    .fast_fields()
                    .u64(permit.rset)
                    .map_err(|e| failed("reading the restriction-set column", e))?,
            )
        };
        let space_col = match permit.spaces {
            Some(_) if split.is_some() => Some(
                reader
                    .fast_fields()
                    .u64(permit.space_id)
                    .map_err(|e| failed("reading the space_id column", e))?,
            ),
            _ => None,
        };
        // Deleted, or in a blocked restriction set.
        let permitted = |doc: tantivy::DocId| -> bool {
            if alive.is_some_and(|a| a.is_deleted(doc)) {
                return false;
            }
            match &sets {
                Some(col) => !col.values_for_doc(doc).any(|r| permit.blocked.contains(&r)),
                None => true,
            }
        };
        let mut offer = |doc: tantivy::DocId, score: f32, threshold: &mut f32| {
            heap.push(Reverse(Entry(score, DocAddress::new(ord as u32, doc))));
            if heap.len() > k {
                heap.pop();
            }
            if heap.len() == k {
                *threshold = heap.peek().map_or(f32::MIN, |e| e.0 .0);
            }
        };
        match &split {
            None => scored
                .for_each_pruning(threshold, reader, &mut |doc, score| {
                    if permitted(doc) {
                        offer(doc, score, &mut threshold);
                    }
                    threshold
                })
                .map_err(|e| failed("scoring a segment", e))?,
            Some((titled, plain)) => {
                let mut seen = std::collections::HashSet::new();
                titled
                    .for_each(reader, &mut |doc, score| {
                        seen.insert(doc);
                        if permitted(doc) && score > threshold {
                            offer(doc, score, &mut threshold);
                        }
                    })
                    .map_err(|e| failed("scoring a segment", e))?;
                let in_space = |doc: tantivy::DocId| match (&space_col, permit.spaces) {
                    (Some(col), Some(spaces)) => {
                        col.first(doc).is_some_and(|s| spaces.contains(&s))
                    }
                    _ => true,
                };
                plain
                    .for_each_pruning(threshold, reader, &mut |doc, score| {
                        if !seen.contains(&doc) && permitted(doc) && in_space(doc) {
                            offer(doc, score, &mut threshold);
                        }
                        threshold
                    })
                    .map_err(|e| failed("scoring a segment", e))?;
            }
        }
        total += match &sets {
            None => unscored
                .count(reader)
                .map_err(|e| failed("counting matches in a segment", e))?
                as usize,
            Some(_) => {
                let mut n = 0usize;
                unscored
                    .for_each_no_score(reader, &mut |docs| {
                        n += docs.iter().filter(|d| permitted(**d)).count();
                    })
                    .map_err(|e| failed("counting matches in a segment", e))?;
                n
            }
        };
    }
    let mut top: Vec<(f32, DocAddress)> = heap
        .into_iter()
        .map(|Reverse(Entry(s, a))| (s, a))
        .collect();
    top.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok((total, top))
}
