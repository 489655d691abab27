//! Content rows and every version of each: the rows' metadata by binary
//! COPY into temporary tables, joined with the bodies the second pass
//! staged (`stage.rs`) as they go into `content` and `content_versions`.
//!
//! Invariant: a version's body is written byte for byte as the export has
//! it (only the `]] >` CDATA quirk undone and wiki markup converted), and
//! no body passes through this process here (PostgreSQL copies them from
//! the staging table).

use crate::attach::Stored;
use crate::import::model::Kind;
use crate::import::stage::{self, Pass2};
use crate::import::write::Writer;
use crate::import::{ImportError, Report};
use chrono::NaiveDateTime;
use futures_util::pin_mut;
use std::collections::HashMap;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

impl<'a> Writer<'a> {
    /// Content rows and every version, bodies from the second pass.
    pub(crate) async fn contents(
        &mut self,
        r: &mut Report,
        stored: &HashMap<u32, Stored>,
        stats: &Pass2,
        written: &[bool],
    ) -> Result<(), ImportError> {
        let tx = self.tx;
        tx.batch_execute(
            "CREATE TEMP TABLE import_content (id BIGINT, content_type TEXT, space_id BIGINT, parent_id BIGINT,
                 container_id BIGINT, ancestors BIGINT[], position INT, status TEXT, title TEXT, version INT,
                 creator_id BIGINT, created_at TIMESTAMP, modifier_id BIGINT, modified_at TIMESTAMP, posting_day DATE) ON COMMIT DROP;
             CREATE TEMP TABLE import_versions (old_id BIGINT, content_id BIGINT, version INT, title TEXT, author_id BIGINT,
                 created_at TIMESTAMP, message TEXT, minor_edit BOOLEAN, file_sha256 TEXT, file_size BIGINT, media_type TEXT) ON COMMIT DROP;",
        )
        .await?;
        {
            let sink = tx.copy_in("COPY import_content FROM STDIN BINARY").await?;
            let w = BinaryCopyInWriter::new(
                sink,
                &[
                    Type::INT8,
                    Type::TEXT,
                    Type::INT8,
                    Type::INT8,
                    Type::INT8,
                    Type::INT8_ARRAY,
                    Type::INT4,
                    Type::TEXT,
                    Type::TEXT,
                    Type::INT4,
                    Type::INT8,
                    Type::TIMESTAMP,
                    Type::INT8,
                    Type::TIMESTAMP,
                    Type::DATE,
                ],
            );
            pin_mut!(w);
            for (i, h) in self.plan.heads.iter().enumerate() {
                let ctype = match h.kind {
                    Kind::Page => "page",
                    Kind::BlogPost => "blogpost",
                    Kind::Comment => "comment",
                    _ => "attachment",
                };
                match h.kind {
                    Kind::Page => r.pages += 1,
                    Kind::BlogPost => r.blog_posts += 1,
                    Kind::Comment => r.comments += 1,
                    _ => r.attachments += 1,
                }
                if h.trashed {
                    r.trashed += 1;
                }
                let status = if h.trashed { "trashed" } else { "current" };
                let parent = h.parent.map(|p| self.ids[p as usize]);
                let container = h.container.map(|c| self.ids[c as usize]);
                let ancestors: Vec<i64> =
                    h.ancestors.iter().map(|a| self.ids[*a as usize]).collect();
                let space = self.spaces[h.space];
                let row: [&(dyn ToSql + Sync); 15] = [
                    &self.ids[i],
                    &ctype,
                    &space,
                    &parent,
                    &container,
                    &ancestors,
                    &h.position,
                    &status,
                    &h.title,
                    &h.version,
                    &self.user(h.creator),
                    &h.created,
                    &self.user(h.modifier),
                    &h.modified,
                    &h.posting_day,
                ];
                w.as_mut().write(&row).await?;
            }
            w.finish().await?;
        }

        // Every version's metadata; the bodies wait in the staging table.
        let sink = tx.copy_in("COPY import_versions FROM STDIN BINARY").await?;
        let w = BinaryCopyInWriter::new(
            sink,
            &[
                Type::INT8,
                Type::INT8,
                Type::INT4,
                Type::TEXT,
                Type::INT8,
                Type::TIMESTAMP,
                Type::TEXT,
                Type::BOOL,
                Type::TEXT,
                Type::INT8,
                Type::TEXT,
            ],
        );
        pin_mut!(w);
        let mut no_body = 0u64;
        for (row, has) in written.iter().enumerate() {
            if !*has && !self.plan.rows[row].file {
                no_body += 1;
            }
            self.version_row(&mut w, row, stored.get(&(row as u32)))
                .await?;
        }
        w.finish().await?;
        if no_body > 0 {
            r.warn(format!("{no_body} version(s) have no BodyContent in the export: imported with an empty body"));
        }
        r.versions = self.plan.rows.len() as u64;
        r.historical_versions = r.versions - self.plan.heads.len() as u64;
        r.wiki_bodies = stats.wiki;
        r.wiki_unconverted = stats.notes.clone();
        r.bodies = stats.bodies;
        r.cdata_repairs = stats.repairs;
        r.bodies_not_well_formed = stats.bad_total;
        for b in stats.bad.iter().chain(&stats.warnings) {
            r.warn(b.clone());
        }

        let stage = stage::table(self.run_id);
        let tz = self.tz.replace('\'', "");
        tx.batch_execute(&format!(
            "INSERT INTO content (id, content_type, space_id, parent_id, container_id, ancestors, position, status, title,
                 version, body, creator_id, created_at, modifier_id, modified_at, posting_day, trashed_at)
             SELECT t.id, t.content_type, t.space_id, t.parent_id, t.container_id, t.ancestors, t.position, t.status,
                 t.title, t.version, coalesce(b.body, ''), t.creator_id, coalesce(t.created_at AT TIME ZONE '{tz}', now()),
                 t.modifier_id, coalesce(t.modified_at AT TIME ZONE '{tz}', now()), t.posting_day,
                 CASE WHEN t.status = 'trashed' THEN coalesce(t.modified_at AT TIME ZONE '{tz}', now()) END
             FROM import_content t LEFT JOIN import_versions v ON v.content_id = t.id AND v.version = t.version
                 LEFT JOIN {stage} b ON b.old_id = v.old_id AND NOT b.description
             ORDER BY t.id;
             INSERT INTO content_versions (content_id, version, title, body, author_id, created_at, message, minor_edit,
                 file_sha256, file_size, media_type)
             SELECT v.content_id, v.version, v.title, coalesce(b.body, ''), v.author_id, coalesce(v.created_at AT TIME ZONE '{tz}', now()),
                 v.message, v.minor_edit, v.file_sha256, v.file_size, v.media_type
             FROM import_versions v LEFT JOIN {stage} b ON b.old_id = v.old_id AND NOT b.description;"
        ))
        .await?;
        for d in tx
            .query(
                &format!("SELECT old_id, body FROM {stage} WHERE description"),
                &[],
            )
            .await?
        {
            if let Some(&space) = self.plan.description_of.get(&d.get::<_, i64>(0)) {
                let body: String = d.get(1);
                tx.execute(
                    "UPDATE spaces SET description = $2 WHERE id = $1",
                    &[&self.spaces[space], &body],
                )
                .await?;
            }
        }
        for (i, sp) in self.plan.spaces.iter().enumerate() {
            if let Some(h) = sp.home {
                tx.execute(
                    "UPDATE spaces SET homepage_id = $2 WHERE id = $1",
                    &[&self.spaces[i], &self.ids[h as usize]],
                )
                .await?;
            }
        }
        Ok(())
    }

    pub(super) async fn version_row(
        &self,
        w: &mut std::pin::Pin<&mut BinaryCopyInWriter>,
        row: usize,
        file: Option<&Stored>,
    ) -> Result<(), ImportError> {
        let v = &self.plan.rows[row];
        let head = &self.plan.heads[v.head as usize];
        let content_id = self.ids[v.head as usize];
        let it = self.m.items.get(&v.old_id);
        // The head's title may have been made unique; older rows keep theirs.
        let title: &str = match it {
            Some(_) if v.old_id == head.old_id => &head.title,
            Some(it) => self.m.str(it.title),
            None => &head.title,
        };
        let author = self.user(it.and_then(|i| i.modifier.or(i.creator)));
        let created: Option<NaiveDateTime> = it.and_then(|i| i.modified.or(i.created));
        let message = it.map(|i| self.m.str(i.comment)).unwrap_or("");
        let meta = self.plan.files.get(&(row as u32));
        let (sha, size, media) = match (meta, file) {
            (Some(meta), Some(f)) => (
                Some(f.sha256.clone()),
                Some(f.size as i64),
                Some(
                    meta.media_type
                        .clone()
                        .unwrap_or_else(|| crate::attach::media_type(title, None)),
                ),
            ),
            (Some(meta), None) => (
                None,
                meta.size_hint,
                Some(
                    meta.media_type
                        .clone()
                        .unwrap_or_else(|| crate::attach::media_type(title, None)),
                ),
            ),
            _ => (None, None, None),
        };
        let vals: [&(dyn ToSql + Sync); 11] = [
            &v.old_id,
            &content_id,
            &v.version,
            &title,
            &author,
            &created,
            &message,
            &v.minor,
            &sha,
            &size,
            &media,
        ];
        w.as_mut().write(&vals).await?;
        Ok(())
    }
}
