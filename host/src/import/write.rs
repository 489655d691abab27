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
use std::sync::Arc;

use deadpool_postgres::Transaction;

use super::archive::Archive;
use super::model::Model;
use super::plan::Plan;
use super::{ImportError, Report, SpaceReport};

mod contents;

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
}
