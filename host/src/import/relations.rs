//! The import's relations, inside the same transaction as its content:
//! labels, space permissions, page restrictions, likes, watches, content
//! properties, templates (the last three as `import_extras`) and the id map
//! of old Confluence ids.
//!
//! Invariant: every relation either lands on an imported row or is named
//! in the report (a label on a row not imported, a permission type Cairn
//! has no equivalent for, a restriction naming nobody Cairn knows).

use std::collections::{HashMap, HashSet};

use super::write::Writer;
use super::{ImportError, Report};

impl Writer<'_> {
    /// Labels, space permissions, restrictions, likes, watches, content
    /// properties, templates and the id map.
    pub(crate) async fn relations(&mut self, r: &mut Report) -> Result<(), ImportError> {
        let tx = self.tx;
        let head = |old: i64| self.plan.head_of_item.get(&old).map(|h| *h as usize);
        // Labels.
        let (mut lc, mut lp, mut ln) = (Vec::new(), Vec::new(), Vec::new());
        let mut seen = HashSet::new();
        for (label, content, _owner) in &self.m.labellings {
            let Some((name, ns)) = self.m.labels.get(label) else {
                r.warn(format!(
                    "Labelling of {content} names label {label}, which is not in the export"
                ));
                continue;
            };
            if let Some(h) = head(*content) {
                if seen.insert((h, ns.clone(), name.to_lowercase())) {
                    lc.push(self.ids[h]);
                    lp.push(ns.clone());
                    ln.push(name.to_lowercase());
                }
            } else if let Some(&space) = self.plan.description_of.get(content) {
                // Labels of a space: its categories (the `team` namespace).
                if ns == "team" {
                    tx.execute(
                        "INSERT INTO space_categories (space_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        &[&self.spaces[space], &name.to_lowercase()],
                    )
                    .await?;
                } else {
                    self.extra(
                        space,
                        None,
                        None,
                        "space-label",
                        Some(*label),
                        serde_json::json!({"name": name, "namespace": ns}),
                    )
                    .await?;
                }
                r.space_labels += 1;
            } else {
                r.warn(format!(
                    "label {ns}:{name} is on {content}, which is not imported"
                ));
            }
        }
        r.labels = lc.len() as u64;
        let used: HashSet<i64> = self.m.labellings.iter().map(|l| l.0).collect();
        let unused = self.m.labels.keys().filter(|l| !used.contains(l)).count() as u64;
        if unused > 0 {
            *r.skipped
                .entry("Label (applied to nothing)".into())
                .or_default() += unused;
        }
        tx.execute(
            "INSERT INTO labels (content_id, prefix, name) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING",
            &[&lc, &lp, &ln],
        )
        .await?;
        // Space permissions.
        let space_of: HashMap<i64, usize> = self
            .plan
            .spaces
            .iter()
            .enumerate()
            .map(|(i, s)| (self.m.spaces[s.src].id, i))
            .collect();
        let (mut ps, mut pp, mut pu, mut pg) = (
            Vec::new(),
            Vec::new(),
            Vec::<Option<i64>>::new(),
            Vec::<Option<i64>>::new(),
        );
        let mut unmapped: HashMap<String, u64> = HashMap::new();
        for p in &self.m.space_perms {
            let Some(s) = p.space.and_then(|s| space_of.get(&s)) else {
                *r.skipped
                    .entry("SpacePermission (global)".into())
                    .or_default() += 1;
                continue;
            };
            let perm = match p.kind.as_str() {
                "VIEWSPACE" => "view",
                "EDITSPACE" | "EDITBLOG" => "edit",
                "COMMENT" => "comment",
                "CREATEATTACHMENT" => "attach",
                "REMOVEPAGE" | "REMOVEBLOG" | "REMOVECOMMENT" | "REMOVEATTACHMENT"
                | "REMOVEMAIL" | "REMOVEOWNCONTENT" => "delete",
                "SETPAGEPERMISSIONS" => "restrict",
                "SETSPACEPERMISSIONS" => "admin",
                other => {
                    *unmapped.entry(other.to_owned()).or_default() += 1;
                    continue;
                }
            };
            let user = self.user(p.user);
            let group = p.group.as_ref().and_then(|g| self.groups.get(g).copied());
            if p.user.is_some() && user.is_none() {
                continue;
            }
            ps.push(self.spaces[*s]);
            pp.push(perm.to_owned());
            pu.push(user);
            pg.push(group);
        }
        for (k, n) in unmapped {
            r.warn(format!(
                "{n} space permission(s) of type {k} have no Cairn equivalent: not imported"
            ));
        }
        r.space_permissions = tx
            .execute(
                "INSERT INTO space_permissions (space_id, permission, user_id, group_id)
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[]) ON CONFLICT DO NOTHING",
                &[&ps, &pp, &pu, &pg],
            )
            .await?;
        for (i, s) in self.spaces.iter().enumerate() {
            if !ps.contains(s) {
                r.warn(format!("space {} had no space permissions in the export: cairn-users may view, edit, comment and attach", self.plan.spaces[i].key));
                tx.execute(
                    "INSERT INTO space_permissions (space_id, permission, group_id)
                     SELECT $1, p, g.id FROM groups g, unnest(ARRAY['view','edit','comment','attach']) p WHERE g.name = 'cairn-users'",
                    &[s],
                )
                .await?;
            }
        }
        // Page restrictions.
        for x in &self.m.restrictions {
            let Some((_, owner)) = self.m.perm_sets.get(&x.set) else {
                r.warn(format!(
                    "a ContentPermission names set {}, which is not in the export",
                    x.set
                ));
                continue;
            };
            let Some(h) = head(*owner) else { continue };
            let op = if x.kind.eq_ignore_ascii_case("view") {
                "read"
            } else {
                "update"
            };
            let user = self.user(x.user);
            let group = x.group.as_ref().and_then(|g| self.groups.get(g).copied());
            if user.is_none() && group.is_none() {
                r.warn(format!(
                    "a {} restriction on {owner} names nobody Cairn knows: not imported",
                    x.kind
                ));
                continue;
            }
            r.restrictions += tx
                .execute(
                    "INSERT INTO content_restrictions (content_id, operation, user_id, group_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    &[&self.ids[h], &op, &user, &group],
                )
                .await?;
        }
        // Likes.
        for (content, user, at) in &self.m.likes {
            if let (Some(h), Some(u)) = (head(*content), self.user(Some(*user))) {
                r.likes += tx
                    .execute(
                        &format!("INSERT INTO likes (content_id, user_id, created_at) VALUES ($1, $2, coalesce($3::timestamp AT TIME ZONE '{}', now())) ON CONFLICT DO NOTHING", self.tz.replace('\'', "")),
                        &[&self.ids[h], &u, at],
                    )
                    .await?;
            }
        }
        // Watches: a page's or a space's, each with its own unsubscribe token.
        let (mut wu, mut wc, mut ws, mut wt, mut wb) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (content, space, receiver, blog) in &self.m.watches {
            let h = content.and_then(head);
            // A watch naming neither page nor space (seen in Cloud space
            // exports) is a watch of the export's only space.
            let s = if h.is_some() {
                None
            } else {
                space.and_then(|s| space_of.get(&s).copied()).or(
                    if self.spaces.len() == 1 && space.is_none() && content.is_none() {
                        Some(0)
                    } else {
                        None
                    },
                )
            };
            let Some(user) = self.user(Some(*receiver)) else {
                r.warn(format!(
                    "a watch on {content:?} / space {space:?} has no user: not imported"
                ));
                continue;
            };
            if h.is_none() && s.is_none() {
                r.warn(format!(
                    "a watch on {content:?} / space {space:?} names nothing imported: not imported"
                ));
                continue;
            }
            wu.push(user);
            wc.push(h.map(|h| self.ids[h]));
            ws.push(s.map(|s| self.spaces[s]));
            wt.push(crate::auth::random_token(24));
            wb.push(*blog && s.is_some());
            r.watches += 1;
        }
        tx.execute(
            "INSERT INTO watches (user_id, content_id, space_id, token, blog_only)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bool[]) ON CONFLICT DO NOTHING",
            &[&wu, &wc, &ws, &wt, &wb],
        )
        .await?;
        // JSON content properties (REST's): their bodies were staged.
        if !self.m.json_props.is_empty() {
            let ids: Vec<i64> = self.m.json_props.keys().copied().collect();
            let rows = tx
                .query(
                    &format!(
                        "SELECT old_id, body FROM {} WHERE description AND old_id = ANY($1)",
                        super::stage::table(self.run_id)
                    ),
                    &[&ids],
                )
                .await?;
            let bodies: HashMap<i64, String> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            let mut props: Vec<_> = self.m.json_props.iter().collect();
            props.sort_by_key(|(id, _)| **id);
            for (id, (owner, key, version)) in props {
                let Some(h) = owner.and_then(head) else {
                    r.warn(format!(
                        "content property {key:?} ({id}) belongs to nothing imported: not imported"
                    ));
                    continue;
                };
                let value = match bodies
                    .get(id)
                    .map(|b| serde_json::from_str::<serde_json::Value>(b))
                {
                    Some(Ok(v)) => v,
                    Some(Err(e)) => {
                        r.warn(format!(
                            "content property {key:?} ({id}) is not JSON ({e}): not imported"
                        ));
                        continue;
                    }
                    None => {
                        r.warn(format!(
                            "content property {key:?} ({id}) has no body: not imported"
                        ));
                        continue;
                    }
                };
                if key.is_empty() || key.len() > 255 {
                    r.warn(format!(
                        "content property {id} has no usable key: not imported"
                    ));
                    continue;
                }
                r.content_properties += tx
                    .execute(
                        "INSERT INTO content_properties (content_id, key, value, version) VALUES ($1, $2, $3, $4)
                         ON CONFLICT DO NOTHING",
                        &[&self.ids[h], key, &value, &(*version).max(1)],
                    )
                    .await?;
            }
        }
        // Confluence's own content properties, templates and drafts: kept as extras.
        let owned = self.m.props_by_owner();
        for (h, hd) in self.plan.heads.iter().enumerate() {
            if let Some(props) = owned.get(&hd.old_id) {
                let mut data = serde_json::Map::new();
                // An attachment's size, type and minor flag are its version
                // rows' own columns (and the export writes them from there).
                let modelled = |n: &str| {
                    hd.kind == super::model::Kind::Attachment
                        && matches!(n, "FILESIZE" | "MEDIA_TYPE" | "MINOR_EDIT")
                };
                for p in props
                    .iter()
                    .filter_map(|p| self.m.props.get(p))
                    .filter(|p| !modelled(&p.name))
                {
                    data.insert(
                        p.name.to_string(),
                        serde_json::Value::String(p.value.to_string()),
                    );
                }
                if data.is_empty() {
                    continue;
                }
                self.extra(
                    hd.space,
                    Some(self.ids[h]),
                    None,
                    "content-properties",
                    Some(hd.old_id),
                    data.into(),
                )
                .await?;
                r.extras += 1;
            }
        }
        for (class, id, space, data) in &self.m.extras {
            let s = space.and_then(|s| space_of.get(&s).copied()).unwrap_or(0);
            // A page template (its current version: historical ones name
            // their `originalVersion`) becomes the space's template, or a
            // global one when it belongs to no space.
            if class == "PageTemplate" && data.get("originalVersion").is_none_or(|v| v.is_null()) {
                let text = |k: &str| {
                    data.get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_owned()
                };
                let (name, body) = (text("name"), text("content"));
                if !name.trim().is_empty() && name.chars().count() <= 255 {
                    let space_id = match space {
                        Some(sp) => space_of.get(sp).map(|i| self.spaces[*i]),
                        None => None,
                    };
                    if space.is_none() || space_id.is_some() {
                        let version = text("version").parse::<i32>().unwrap_or(1).max(1);
                        let n = tx
                            .execute(
                                "INSERT INTO templates (space_id, name, description, body, version)
                                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                                &[
                                    &space_id,
                                    &name.trim(),
                                    &text("description"),
                                    &body,
                                    &version,
                                ],
                            )
                            .await?;
                        if n == 0 {
                            r.warn(format!(
                                "page template {name:?} ({id}): a template of that name exists already; not imported"
                            ));
                        }
                        r.templates += n;
                        continue;
                    }
                }
            }
            let kind = if class == "PageTemplate" {
                "page-template"
            } else {
                "legacy-draft"
            };
            self.extra(s, None, None, kind, Some(*id), data.clone())
                .await?;
            r.extras += 1;
        }
        self.flush_extras().await?;
        // The id map: heads and historical versions, in batches.
        for chunk in self.plan.rows.chunks(50_000) {
            let (mut o, mut c, mut v, mut s) = (
                Vec::with_capacity(chunk.len()),
                Vec::with_capacity(chunk.len()),
                Vec::<Option<i32>>::with_capacity(chunk.len()),
                Vec::with_capacity(chunk.len()),
            );
            for row in chunk {
                let h = row.head as usize;
                o.push(row.old_id);
                c.push(self.ids[h]);
                v.push(if row.old_id == self.plan.heads[h].old_id {
                    None
                } else {
                    Some(row.version)
                });
                s.push(self.spaces[self.plan.heads[h].space]);
            }
            tx.execute(
                "INSERT INTO import_ids (old_id, content_id, version, space_id, import_id)
                 SELECT o, c, v, s, $5 FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::bigint[]) AS x(o, c, v, s)
                 ON CONFLICT DO NOTHING",
                &[&o, &c, &v, &s, &self.run_id],
            )
            .await?;
        }
        Ok(())
    }

    async fn extra(
        &mut self,
        space: usize,
        content: Option<i64>,
        user: Option<i64>,
        kind: &str,
        old_id: Option<i64>,
        data: serde_json::Value,
    ) -> Result<(), ImportError> {
        let x = &mut self.extras;
        x.space.push(self.spaces[space]);
        x.content.push(content);
        x.user.push(user);
        x.kind.push(kind.to_owned());
        x.old_id.push(old_id);
        x.data.push(data);
        if x.space.len() >= 5000 {
            self.flush_extras().await?;
        }
        Ok(())
    }

    async fn flush_extras(&mut self) -> Result<(), ImportError> {
        let x = std::mem::take(&mut self.extras);
        if x.space.is_empty() {
            return Ok(());
        }
        self.tx
            .execute(
                "INSERT INTO import_extras (space_id, content_id, user_id, kind, old_id, data)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::jsonb[])",
                &[&x.space, &x.content, &x.user, &x.kind, &x.old_id, &x.data],
            )
            .await?;
        Ok(())
    }
}
