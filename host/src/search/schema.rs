//! The index's schema: one tantivy document per content item, its fields
//! and how each is tokenized, and the merge policy.
//!
//! Invariant: `SCHEMA_VERSION` changes whenever a field or a tokenizer
//! changes, so an index written with another schema is rebuilt, never read.

use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, NumericOptions, Schema,
    TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};

/// Index schema version: a different one on disk means rebuild.
pub(super) const SCHEMA_VERSION: &str = "7";

#[derive(Clone, Copy)]
pub(super) struct Fields {
    pub(super) id: Field,
    pub(super) kind: Field,
    pub(super) space_id: Field,
    pub(super) space_key: Field,
    pub(super) title: Field,
    pub(super) title_raw: Field,
    pub(super) body: Field,
    pub(super) label: Field,
    pub(super) creator: Field,
    pub(super) contributor: Field,
    pub(super) created: Field,
    pub(super) modified: Field,
    pub(super) ancestor: Field,
    pub(super) parent: Field,
    pub(super) container: Field,
    pub(super) rset: Field,
    /// Usernames (lower case) mentioned in the body.
    pub(super) mention: Field,
    /// Title, body and labels, stemmed (not stored); `body` is only stored.
    pub(super) all: Field,
    /// The content's version when indexed: a hit is shown only while it
    /// is still the current one (see [`SearchIndex::search`]).
    pub(super) version: Field,
    /// A digest of everything indexed for the document, compared with
    /// PostgreSQL's by the drift check (`integrity.rs`).
    pub(super) digest: Field,
}

pub(super) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("en_stem")
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let num = NumericOptions::default().set_indexed().set_fast();
    // Microseconds (tantivy's default is seconds): sorting by date must
    // order edits made within the same second, as the database does.
    let date =
        DateOptions::from(INDEXED | FAST | STORED).set_precision(DateTimePrecision::Microseconds);
    // The exact title, indexed with frequencies (unlike STRING) so that a
    // one-word `text ~` query is a union of term queries only, which
    // tantivy answers with block-max WAND instead of scoring every match.
    let raw = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    // Title, body and labels in one field (Confluence's `text`): each word
    // of a `text ~` query is one term here, not a union over three fields.
    let all = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("en_stem")
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let f = Fields {
        id: b.add_u64_field("id", INDEXED | FAST | STORED),
        kind: b.add_text_field("type", STRING | STORED),
        space_id: b.add_u64_field("space_id", num.clone()),
        space_key: b.add_text_field("space", STRING | STORED),
        title: b.add_text_field("title", text.clone()),
        title_raw: b.add_text_field("title_raw", raw),
        body: b.add_text_field("body", STORED),
        label: b.add_text_field("label", STRING | STORED | FAST),
        creator: b.add_text_field("creator", STRING),
        contributor: b.add_text_field("contributor", STRING | FAST),
        created: b.add_date_field("created", date.clone()),
        modified: b.add_date_field("modified", date),
        ancestor: b.add_u64_field("ancestor", INDEXED),
        parent: b.add_u64_field("parent", INDEXED),
        container: b.add_u64_field("container", INDEXED),
        rset: b.add_u64_field("rset", num),
        mention: b.add_text_field("mention", STRING),
        all: b.add_text_field("all", all),
        version: b.add_u64_field("version", FAST | STORED),
        digest: b.add_u64_field("digest", FAST | STORED),
    };
    (b.build(), f)
}

/// Every query pays per segment (a term lookup and a scorer per term,
/// a count pass), so segments merge sooner than tantivy's default (4 of a
/// size rather than 8), and a segment a third deleted (edits delete and
/// re-add) is merged away.
pub(super) fn merge_policy() -> tantivy::merge_policy::LogMergePolicy {
    let mut p = tantivy::merge_policy::LogMergePolicy::default();
    p.set_min_num_segments(4);
    p.set_del_docs_ratio_before_merge(0.3);
    p
}
