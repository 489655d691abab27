//! Facet counts of a search: how many of the viewer's results are of each
//! content type and in each space, for the search page's refinements.
//!
//! Invariant: counted over the same permission-filtered query as the results
//! (spaces the viewer may see, restriction sets they are not blocked from),
//! so a count never reveals content the viewer may not see.

use super::query::term_filter;
use super::SearchIndex;
use crate::error::Result;
use crate::perms::Viewer;
use crate::search::failed;
use cairn_cql::Cql;
use deadpool_postgres::GenericClient;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::{AggContextParams, AggregationCollector};
use tantivy::collector::Count;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryClone, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::Term;

/// Counts per content type, space (id), label and contributor (username),
/// largest first.
#[derive(Debug, Default)]
pub struct Facets {
    pub types: Vec<(&'static str, usize)>,
    pub spaces: Vec<(i64, usize)>,
    pub labels: Vec<(String, usize)>,
    pub contributors: Vec<(String, usize)>,
}

/// The content types the type facet counts, in the order shown.
const TYPES: [&str; 4] = ["page", "blogpost", "comment", "attachment"];

/// How many values the space, label and contributor facets list.
const TOP: usize = 12;

impl SearchIndex {
    /// The facet counts of `cql` for `viewer` (its ORDER BY is ignored).
    pub async fn facets(
        &self,
        db: &impl GenericClient,
        viewer: &Viewer,
        cql: &Cql,
    ) -> Result<Facets> {
        let f = self.f;
        let query: Box<dyn Query> = match &cql.query {
            Some(q) => self.compile(q, true)?,
            None => Box::new(AllQuery),
        };
        let filter = self.blocked_for(db, viewer).await?;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, query)];
        if !filter.every_space {
            clauses.push((
                Occur::Must,
                term_filter(
                    viewer
                        .view_spaces
                        .iter()
                        .map(|s| Term::from_field_u64(f.space_id, *s as u64))
                        .collect(),
                ),
            ));
        }
        if !filter.blocked.is_empty() {
            clauses.push((
                Occur::MustNot,
                term_filter(
                    filter
                        .blocked
                        .iter()
                        .map(|b| Term::from_field_u64(f.rset, *b as u64))
                        .collect(),
                ),
            ));
        }
        let permitted = BooleanQuery::new(clauses);
        let searcher = self.live().reader.searcher();
        let mut types = Vec::new();
        for t in TYPES {
            let of_type = BooleanQuery::new(vec![
                (Occur::Must, permitted.box_clone()),
                (
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.kind, t),
                        IndexRecordOption::Basic,
                    )),
                ),
            ]);
            let n = searcher
                .search(&of_type, &Count)
                .map_err(|e| failed(format!("counting {t} results"), e))?;
            if n > 0 {
                types.push((t, n));
            }
        }
        types.sort_by_key(|t| std::cmp::Reverse(t.1));
        let aggs: Aggregations = serde_json::from_value(serde_json::json!({
            "spaces": {"terms": {"field": "space_id", "size": TOP}},
            "labels": {"terms": {"field": "label", "size": TOP}},
            "contributors": {"terms": {"field": "contributor", "size": TOP}},
        }))
        .map_err(|e| failed("building the facets", e))?;
        let collector = AggregationCollector::from_aggs(aggs, AggContextParams::default());
        let result = searcher
            .search(&permitted, &collector)
            .map_err(|e| failed("counting results per space, label and contributor", e))?;
        let json = serde_json::to_value(&result).map_err(|e| failed("reading the facets", e))?;
        let buckets = |name: &str| -> Vec<(serde_json::Value, usize)> {
            json[name]["buckets"]
                .as_array()
                .map(|b| {
                    b.iter()
                        .filter_map(|b| Some((b["key"].clone(), b["doc_count"].as_u64()? as usize)))
                        .collect()
                })
                .unwrap_or_default()
        };
        let spaces = buckets("spaces")
            .into_iter()
            .filter_map(|(k, n)| Some((k.as_f64()? as i64, n)))
            .collect();
        let strings = |name: &str| -> Vec<(String, usize)> {
            buckets(name)
                .into_iter()
                .filter_map(|(k, n)| Some((k.as_str()?.to_owned(), n)))
                .collect()
        };
        let (labels, contributors) = (strings("labels"), strings("contributors"));
        Ok(Facets {
            types,
            spaces,
            labels,
            contributors,
        })
    }
}
