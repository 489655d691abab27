//! The import's database writes, all inside the caller's one transaction:
//! users and groups, spaces, content rows and every version (binary COPY
//! through temporary tables, bodies streamed by the second pass), then
//! (in `relations.rs`) labels, permissions, restrictions, likes, extras and the id map.
//!
//! Invariant: rows are written with the exporter's authors, dates and
//! version numbers, and bodies byte for byte (only Confluence's `]] >`
//! CDATA quirk is undone, and wiki markup converted); content goes through
//! the `content` table's triggers like any write, so the search journal,
//! plugin events and every node's caches see it when the transaction commits.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use chrono::NaiveDateTime;
use deadpool_postgres::Transaction;
use futures_util::pin_mut;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::archive::Archive;
use super::model::{Kind, Model};
use super::plan::Plan;
use super::progress::Progress;
use super::xml::{repair_cdata, ObjectReader};
use super::{wiki, ImportError, Report, SpaceReport};
use crate::attach::Stored;

pub(crate) struct Writer<'a> {
    pub(super) tx: &'a Transaction<'a>,
    pub(super) m: &'a Model,
    pub(super) plan: &'a Arc<Plan>,
    pub(super) archive: &'a Arc<Archive>,
    pub(super) run_id: i64,
    pub(super) tz: String,
    pub(super) users: Vec<Option<i64>>,
    pub(super) groups: HashMap<String, i64>,
    pub(super) spaces: Vec<i64>,
    pub(super) ids: Vec<i64>,
    pub(super) extras: Extras,
}

/// Extras are written in batches (a property set per page adds up).
#[derive(Default)]
pub(super) struct Extras {
    pub(super) space: Vec<i64>,
    pub(super) content: Vec<Option<i64>>,
    pub(super) user: Vec<Option<i64>>,
    pub(super) kind: Vec<String>,
    pub(super) old_id: Vec<Option<i64>>,
    pub(super) data: Vec<serde_json::Value>,
}

fn sanitize_username(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    s
}

/// Messages from the second pass's reading thread.
enum Msg {
    Body { row: u32, body: String },
    Description { space: usize, body: String },
}

#[derive(Default)]
struct Pass2 {
    wiki: u64,
    notes: HashMap<String, u64>,
    bad: Vec<String>,
    bad_total: u64,
    repairs: u64,
    bodies: u64,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(
        tx: &'a Transaction<'a>,
        m: &'a Model,
        plan: &'a Arc<Plan>,
        archive: &'a Arc<Archive>,
        run_id: i64,
    ) -> Self {
        Writer {
            tx,
            m,
            plan,
            archive,
            run_id,
            tz: "UTC".into(),
            users: Vec::new(),
            groups: HashMap::new(),
            spaces: Vec::new(),
            ids: Vec::new(),
            extras: Extras::default(),
        }
    }

    pub(super) fn user(&self, u: Option<u32>) -> Option<i64> {
        u.and_then(|i| self.users.get(i as usize).copied().flatten())
    }

    /// Time zone, users, groups, spaces and content ids.
    pub(crate) async fn prepare(&mut self, r: &mut Report) -> Result<(), ImportError> {
        let tx = self.tx;
        if let Some(tz) = self.archive.descriptor.get("timezoneId") {
            let ok = tx
                .query_opt("SELECT 1 FROM pg_timezone_names WHERE name = $1", &[tz])
                .await?
                .is_some();
            if ok {
                self.tz = tz.clone();
            } else {
                r.warn(format!("unknown timezoneId {tz:?}: times taken as UTC"));
            }
        }
        // Users: by key (an earlier import), by username, by e-mail; else
        // created deactivated until someone claims them.
        for u in &self.m.users {
            let by_key = tx
                .query_opt(
                    "SELECT id, username FROM users WHERE user_key = $1",
                    &[&u.key],
                )
                .await?;
            let found = match by_key {
                Some(row) => Some(row),
                None if !u.name.is_empty() => match tx
                    .query_opt(
                        "SELECT id, username FROM users WHERE lower(username) = lower($1)",
                        &[&u.name],
                    )
                    .await?
                {
                    Some(row) => Some(row),
                    None if !u.email.is_empty() => {
                        let rows = tx
                            .query("SELECT id, username FROM users WHERE email <> '' AND lower(email) = lower($1) LIMIT 2", &[&u.email])
                            .await?;
                        if rows.len() == 1 {
                            rows.into_iter().next()
                        } else {
                            None
                        }
                    }
                    None => None,
                },
                None => None,
            };
            if let Some(row) = found {
                let name: String = row.get(1);
                r.users_matched.push(format!(
                    "{} → {name}",
                    if u.name.is_empty() { &u.key } else { &u.name }
                ));
                self.users.push(Some(row.get(0)));
                continue;
            }
            let base = if u.name.is_empty() {
                format!(
                    "confluence-{}",
                    &u.key
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric())
                        .take(12)
                        .collect::<String>()
                )
            } else {
                sanitize_username(&u.name)
            };
            let mut name = base.clone();
            let mut i = 2;
            while tx
                .query_opt(
                    "SELECT 1 FROM users WHERE lower(username) = lower($1)",
                    &[&name],
                )
                .await?
                .is_some()
            {
                name = format!("{base}-{i}");
                i += 1;
            }
            let display = if !u.display_name.is_empty() {
                u.display_name.clone()
            } else if u.name.is_empty() {
                format!("Unknown Confluence user {}", u.key)
            } else {
                u.name.clone()
            };
            let email = if u.email.contains('@') {
                u.email.clone()
            } else {
                String::new()
            };
            let id: i64 = tx
                .query_one(
                    "INSERT INTO users (username, display_name, email, password_hash, active, user_key)
                     VALUES ($1, $2, $3, '!imported: no password until claimed', FALSE, $4) RETURNING id",
                    &[&name, &display, &email, &u.key],
                )
                .await?
                .get(0);
            tx.execute(
                "INSERT INTO group_members (group_id, user_id) SELECT id, $1 FROM groups WHERE name = 'cairn-users'",
                &[&id],
            )
            .await?;
            if u.unknown {
                r.warn(format!(
                    "user key {} is referenced but not described by the export: created as {name}",
                    u.key
                ));
            }
            r.users_created.push(name);
            self.users.push(Some(id));
        }
        // Groups named anywhere.
        let default_group = self
            .archive
            .descriptor
            .get("defaultUsersGroup")
            .cloned()
            .unwrap_or_else(|| "confluence-users".into());
        let mut names: Vec<String> = self.m.groups.clone();
        names.extend(self.m.space_perms.iter().filter_map(|p| p.group.clone()));
        names.extend(self.m.restrictions.iter().filter_map(|p| p.group.clone()));
        names.extend(self.m.memberships.iter().map(|(g, _)| g.clone()));
        names.sort();
        names.dedup();
        for g in names {
            let target = if g.eq_ignore_ascii_case(&default_group)
                || g.eq_ignore_ascii_case("confluence-users")
            {
                "cairn-users".to_owned()
            } else if g.eq_ignore_ascii_case("confluence-administrators") {
                "cairn-administrators".to_owned()
            } else {
                g.clone()
            };
            let id: i64 = match tx
                .query_opt(
                    "SELECT id FROM groups WHERE lower(name) = lower($1)",
                    &[&target],
                )
                .await?
            {
                Some(row) => row.get(0),
                None => {
                    r.groups_created.push(target.clone());
                    tx.query_one("INSERT INTO groups (name, description) VALUES ($1, 'Imported from Confluence') RETURNING id", &[&target])
                        .await?
                        .get(0)
                }
            };
            self.groups.insert(g, id);
        }
        for (g, u) in &self.m.memberships {
            if let (Some(gid), true) = (
                self.groups.get(g),
                r.users_created.iter().any(|c| c.eq_ignore_ascii_case(u)),
            ) {
                tx.execute(
                    "INSERT INTO group_members (group_id, user_id) SELECT $1, id FROM users WHERE lower(username) = lower($2) ON CONFLICT DO NOTHING",
                    &[gid, u],
                )
                .await?;
            }
        }
        // Spaces.
        for sp in &self.plan.spaces {
            let s = &self.m.spaces[sp.src];
            let name = if s.name.trim().is_empty() {
                sp.key.clone()
            } else {
                s.name.clone()
            };
            let space_type = if s.space_type == "personal" {
                "personal"
            } else {
                "global"
            };
            let id: i64 = tx
                .query_one(
                    &format!(
                        "INSERT INTO spaces (space_key, name, creator_id, created_at, space_type)
                         VALUES ($1, $2, $3, coalesce($4::timestamp AT TIME ZONE '{}', now()), $5) RETURNING id",
                        self.tz.replace('\'', "")
                    ),
                    &[&sp.key, &name, &self.user(s.creator), &s.created, &space_type],
                )
                .await?
                .get(0);
            if !s.status.eq_ignore_ascii_case("CURRENT") {
                r.warn(format!("space {} was {} in Confluence; Cairn has no archived spaces: imported as current", s.key, s.status));
            }
            r.spaces.push(SpaceReport {
                key: sp.key.clone(),
                source_key: s.key.clone(),
                id,
                name,
            });
            self.spaces.push(id);
        }
        // Content ids, assigned up front so rows can name each other.
        let n = self.plan.heads.len() as i64;
        let ids: Option<Vec<i64>> = tx
            .query_one(
                "SELECT array_agg(nextval(pg_get_serial_sequence('content', 'id'))) FROM generate_series(1, $1::bigint)",
                &[&n],
            )
            .await?
            .get(0);
        self.ids = ids.unwrap_or_default();
        Ok(())
    }

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

    async fn version_row(
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

fn second_pass(
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
