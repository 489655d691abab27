//! Content rows and every version of each, written by binary COPY; the
//! bodies come from a second streaming pass over `entities.xml`.
//!
//! Invariant: a version's body is written byte for byte as the export has
//! it (only the `]] >` CDATA quirk undone and wiki markup converted), and
//! no body is held in memory longer than its own COPY row.

use crate::attach::Stored;
use crate::import::archive::Archive;
use crate::import::model::Kind;
use crate::import::plan::Plan;
use crate::import::progress::Progress;
use crate::import::write::Writer;
use crate::import::xml::{repair_cdata, ObjectReader};
use crate::import::{wiki, ImportError, Report};
use chrono::NaiveDateTime;
use futures_util::pin_mut;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

/// Messages from the second pass's reading thread.
pub(super) enum Msg {
    Body { row: u32, body: String },
    Description { space: usize, body: String },
}

#[derive(Default)]
pub(super) struct Pass2 {
    pub(super) wiki: u64,
    pub(super) notes: HashMap<String, u64>,
    pub(super) bad: Vec<String>,
    pub(super) bad_total: u64,
    pub(super) repairs: u64,
    pub(super) bodies: u64,
}

impl<'a> Writer<'a> {
    /// Content rows and every version, bodies from the second pass.
    pub(crate) async fn contents(
        &mut self,
        r: &mut Report,
        stored: HashMap<u32, Stored>,
        progress: &Arc<Progress>,
    ) -> Result<(), ImportError> {
        let tx = self.tx;
        tx.batch_execute(
            "CREATE TEMP TABLE import_content (id BIGINT, content_type TEXT, space_id BIGINT, parent_id BIGINT,
                 container_id BIGINT, ancestors BIGINT[], position INT, status TEXT, title TEXT, version INT,
                 creator_id BIGINT, created_at TIMESTAMP, modifier_id BIGINT, modified_at TIMESTAMP, posting_day DATE) ON COMMIT DROP;
             CREATE TEMP TABLE import_versions (content_id BIGINT, version INT, title TEXT, body TEXT, author_id BIGINT,
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

        // Second pass: bodies, straight from the zip into COPY.
        let (send, mut recv) = tokio::sync::mpsc::channel::<Msg>(32);
        let (archive, plan) = (self.archive.clone(), self.plan.clone());
        let reader = tokio::task::spawn_blocking(move || second_pass(&archive, &plan, send));
        let sink = tx.copy_in("COPY import_versions FROM STDIN BINARY").await?;
        let w = BinaryCopyInWriter::new(
            sink,
            &[
                Type::INT8,
                Type::INT4,
                Type::TEXT,
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
        let mut written = vec![false; self.plan.rows.len()];
        let mut descriptions: HashMap<usize, String> = HashMap::new();
        let mut done = 0u64;
        let mut copy_err = None;
        while let Some(msg) = recv.recv().await {
            match msg {
                Msg::Body { row, body } => {
                    if std::mem::replace(&mut written[row as usize], true) {
                        r.warn(format!(
                            "{} has more than one body: the first is kept",
                            self.plan.rows[row as usize].old_id
                        ));
                        continue;
                    }
                    if let Err(e) = self
                        .version_row(&mut w, row as usize, &body, stored.get(&row))
                        .await
                    {
                        copy_err = Some(e);
                        break;
                    }
                    done += 1;
                    progress.done.store(done, Ordering::Relaxed);
                }
                Msg::Description { space, body } => {
                    descriptions.insert(space, body);
                }
            }
        }
        drop(recv);
        let stats = reader
            .await
            .map_err(|e| ImportError::Io(format!("the reading thread failed: {e}")))??;
        if let Some(e) = copy_err {
            return Err(e);
        }
        let mut no_body = 0u64;
        for (row, done) in written.iter().enumerate() {
            if !*done {
                if !self.plan.rows[row].file {
                    no_body += 1;
                }
                self.version_row(&mut w, row, "", stored.get(&(row as u32)))
                    .await?;
            }
        }
        w.finish().await?;
        if no_body > 0 {
            r.warn(format!("{no_body} version(s) have no BodyContent in the export: imported with an empty body"));
        }
        r.versions = self.plan.rows.len() as u64;
        r.historical_versions = r.versions - self.plan.heads.len() as u64;
        r.wiki_bodies = stats.wiki;
        r.wiki_unconverted = stats.notes.into_iter().collect();
        r.bodies = stats.bodies;
        r.cdata_repairs = stats.repairs;
        r.bodies_not_well_formed = stats.bad_total;
        for b in stats.bad {
            r.warn(b);
        }

        let tz = self.tz.replace('\'', "");
        tx.batch_execute(&format!(
            "INSERT INTO content (id, content_type, space_id, parent_id, container_id, ancestors, position, status, title,
                 version, body, creator_id, created_at, modifier_id, modified_at, posting_day, trashed_at)
             SELECT t.id, t.content_type, t.space_id, t.parent_id, t.container_id, t.ancestors, t.position, t.status,
                 t.title, t.version, coalesce(v.body, ''), t.creator_id, coalesce(t.created_at AT TIME ZONE '{tz}', now()),
                 t.modifier_id, coalesce(t.modified_at AT TIME ZONE '{tz}', now()), t.posting_day,
                 CASE WHEN t.status = 'trashed' THEN coalesce(t.modified_at AT TIME ZONE '{tz}', now()) END
             FROM import_content t LEFT JOIN import_versions v ON v.content_id = t.id AND v.version = t.version
             ORDER BY t.id;
             INSERT INTO content_versions (content_id, version, title, body, author_id, created_at, message, minor_edit,
                 file_sha256, file_size, media_type)
             SELECT content_id, version, title, body, author_id, coalesce(created_at AT TIME ZONE '{tz}', now()), message,
                 minor_edit, file_sha256, file_size, media_type FROM import_versions;"
        ))
        .await?;
        for (space, body) in descriptions {
            tx.execute(
                "UPDATE spaces SET description = $2 WHERE id = $1",
                &[&self.spaces[space], &body],
            )
            .await?;
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
        body: &str,
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
            &content_id,
            &v.version,
            &title,
            &body,
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

pub(super) fn second_pass(
    archive: &Archive,
    plan: &Plan,
    send: tokio::sync::mpsc::Sender<Msg>,
) -> Result<Pass2, ImportError> {
    let mut st = Pass2::default();
    archive.with_entities(|r| {
        let mut reader = ObjectReader::new(r, &[]);
        while let Some(o) = reader.next_object()? {
            if o.class != "BodyContent" {
                continue;
            }
            st.bodies += 1;
            let Some(owner) = o.ref_id("content") else { continue };
            let raw = o.text("body").unwrap_or("");
            let body = match o.long("bodyType") {
                Some(0) => {
                    st.wiki += 1;
                    let c = wiki::convert(raw);
                    for n in c.notes {
                        *st.notes.entry(n).or_default() += 1;
                    }
                    c.body
                }
                _ => {
                    let fixed = repair_cdata(raw);
                    if let std::borrow::Cow::Owned(_) = fixed {
                        st.repairs += 1;
                    }
                    fixed.into_owned()
                }
            };
            let msg = if let Some(&row) = plan.row_of_item.get(&owner) {
                if let Err(e) = cairn_render::check(&body) {
                    st.bad_total += 1;
                    if st.bad.len() < 50 {
                        st.bad.push(format!(
                            "the body of {owner} (BodyContent {}) is not well-formed storage format ({e}): stored as exported",
                            o.id
                        ));
                    }
                }
                Msg::Body { row, body }
            } else if let Some(&space) = plan.description_of.get(&owner) {
                Msg::Description { space, body }
            } else {
                continue;
            };
            if send.blocking_send(msg).is_err() {
                // The writer stopped (its error is reported); stop reading.
                return Ok(());
            }
        }
        Ok(())
    })?;
    Ok(st)
}
