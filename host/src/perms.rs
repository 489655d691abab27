//! The permission service: who the viewer is and what they may do. Every
//! path that can reach content (UI, REST, render, later search and macros)
//! asks this module, and every list query filters in SQL with
//! [`Viewer::content_filter`], so paging never counts hidden rows.
//!
//! Model (Confluence's three levels):
//! - global: `use` (may use the wiki at all), `create_space`, `admin`;
//! - space: `view`, `edit`, `comment`, `attach`, `delete`, `restrict`, `admin`,
//!   granted to users, groups or anonymous (both ids NULL);
//! - page restrictions: `read` inherited by the subtree, `update` on the page.
//!
//! Invariant: nothing here writes content; a grant of anonymous access only
//! counts when anonymous visitors hold the global `use` permission.

use std::sync::Arc;

use deadpool_postgres::GenericClient;

use crate::error::{Error, Result};

/// An authenticated user, as much as requests need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub user_key: String,
    pub email: String,
}

/// Who is asking. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: Option<User>,
    pub groups: Arc<Vec<i64>>,
    pub can_use: bool,
    pub can_create_space: bool,
    pub is_admin: bool,
    /// Spaces this viewer may view; empty without the global `use` permission.
    pub view_spaces: Arc<Vec<i64>>,
    /// The session's CSRF token when the viewer came with a UI session.
    pub csrf: Option<String>,
    /// Exempt from the REST rate limit.
    pub rate_limit_exempt: bool,
}

/// Space permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpacePerm {
    View,
    Edit,
    Comment,
    Attach,
    Delete,
    Restrict,
    Admin,
}

impl SpacePerm {
    pub(crate) const ALL: [SpacePerm; 7] = [
        SpacePerm::View,
        SpacePerm::Edit,
        SpacePerm::Comment,
        SpacePerm::Attach,
        SpacePerm::Delete,
        SpacePerm::Restrict,
        SpacePerm::Admin,
    ];
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SpacePerm::View => "view",
            SpacePerm::Edit => "edit",
            SpacePerm::Comment => "comment",
            SpacePerm::Attach => "attach",
            SpacePerm::Delete => "delete",
            SpacePerm::Restrict => "restrict",
            SpacePerm::Admin => "admin",
        }
    }
    pub(crate) fn parse(s: &str) -> Option<SpacePerm> {
        SpacePerm::ALL.into_iter().find(|p| p.as_str() == s)
    }
    pub(crate) fn label(self) -> &'static str {
        match self {
            SpacePerm::View => "View",
            SpacePerm::Edit => "Add / edit pages",
            SpacePerm::Comment => "Comment",
            SpacePerm::Attach => "Attach files",
            SpacePerm::Delete => "Delete",
            SpacePerm::Restrict => "Restrict pages",
            SpacePerm::Admin => "Administer space",
        }
    }
}

const VIEWER_SQL: &str = "
WITH g AS (
    SELECT coalesce(array_agg(group_id), '{}') AS ids FROM group_members WHERE user_id = $1
), gp AS (
    SELECT coalesce(array_agg(DISTINCT permission), '{}') AS perms FROM global_permissions, g
    WHERE (user_id IS NULL AND group_id IS NULL) OR user_id = $1 OR group_id = ANY(g.ids)
), anon AS (
    SELECT EXISTS (SELECT 1 FROM global_permissions WHERE permission = 'use'
                   AND user_id IS NULL AND group_id IS NULL) AS anon_use
)
SELECT g.ids, gp.perms,
  (SELECT coalesce(array_agg(DISTINCT space_id), '{}') FROM space_permissions sp
    WHERE sp.permission = 'view' AND (
      (sp.user_id IS NULL AND sp.group_id IS NULL AND anon.anon_use)
      OR sp.user_id = $1 OR sp.group_id = ANY(g.ids))) AS spaces,
  coalesce((SELECT rate_limit_exempt FROM users WHERE id = $1), false) AS exempt
FROM g, gp, anon";

impl Viewer {
    /// Loads the viewer for `user` (None = anonymous).
    pub async fn load(db: &impl GenericClient, user: Option<User>) -> Result<Viewer> {
        let uid = user.as_ref().map(|u| u.id);
        let row = crate::db::query_one(db, VIEWER_SQL, &[&uid]).await?;
        let groups: Vec<i64> = row.get(0);
        let perms: Vec<String> = row.get(1);
        let has = |p: &str| perms.iter().any(|x| x == p);
        let can_use = has("use");
        let spaces: Vec<i64> = if can_use { row.get(2) } else { Vec::new() };
        Ok(Viewer {
            is_admin: has("admin") && user.is_some(),
            can_create_space: has("create_space") && user.is_some() && can_use,
            can_use,
            user,
            groups: Arc::new(groups),
            view_spaces: Arc::new(spaces),
            csrf: None,
            rate_limit_exempt: row.get(3),
        })
    }

    pub fn anonymous() -> Viewer {
        Viewer {
            user: None,
            groups: Arc::new(Vec::new()),
            can_use: false,
            can_create_space: false,
            is_admin: false,
            view_spaces: Arc::new(Vec::new()),
            csrf: None,
            rate_limit_exempt: false,
        }
    }

    pub(crate) fn user_id(&self) -> Option<i64> {
        self.user.as_ref().map(|u| u.id)
    }

    pub(crate) fn is_anonymous(&self) -> bool {
        self.user.is_none()
    }

    /// Fails with 401 for anonymous viewers: the action needs a login.
    pub(crate) fn require_user(&self) -> Result<&User> {
        self.user
            .as_ref()
            .ok_or_else(|| Error::Unauthorized("you must log in to do this".into()))
    }

    pub(crate) fn require_admin(&self) -> Result<()> {
        self.require_user()?;
        if self.is_admin {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "only system administrators may do this".into(),
            ))
        }
    }

    pub(crate) fn can_view_space(&self, space_id: i64) -> bool {
        self.view_spaces.contains(&space_id)
    }

    /// SQL condition that is true for content rows (alias `c`) this viewer
    /// may view. `$uid` and `$groups` are the parameter numbers that carry
    /// [`Viewer::user_id`] and [`Viewer::groups`]; `$spaces` carries
    /// [`Viewer::view_spaces`].
    pub(crate) fn content_filter(uid: usize, groups: usize, spaces: usize) -> String {
        format!(
            "(c.space_id = ANY(${spaces}) AND (c.ancestors = '{{}}' AND NOT EXISTS \
             (SELECT 1 FROM content_restrictions r0 WHERE r0.content_id = c.id AND r0.operation = 'read') \
             OR cairn_passes_restrictions(c.ancestors || c.id, ${uid}, ${groups})))"
        )
    }

    /// The rows of `sql` this viewer may view: `{visible}` in `sql` stands
    /// for [`Viewer::content_filter`] over $2–$4, `first` is $1 and `rest`
    /// are $5 on.
    pub(crate) async fn query_visible(
        &self,
        db: &impl GenericClient,
        sql: &str,
        first: &(dyn tokio_postgres::types::ToSql + Sync),
        rest: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>> {
        let sql = sql.replace("{visible}", &Viewer::content_filter(2, 3, 4));
        let uid = self.user_id();
        let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            vec![first, &uid, &*self.groups, &*self.view_spaces];
        params.extend_from_slice(rest);
        Ok(crate::db::query(db, &sql, &params).await?)
    }

    /// Whether the viewer holds `perm` in the space. Global admins hold
    /// `admin` (to repair permissions) but not `view` by that alone.
    pub(crate) async fn has_space_perm(
        &self,
        db: &impl GenericClient,
        space_id: i64,
        perm: SpacePerm,
    ) -> Result<bool> {
        if !self.can_use {
            return Ok(false);
        }
        if perm == SpacePerm::View {
            return Ok(self.can_view_space(space_id));
        }
        if perm == SpacePerm::Admin && self.is_admin {
            return Ok(true);
        }
        if self.user.is_none() && matches!(perm, SpacePerm::Admin | SpacePerm::Restrict) {
            return Ok(false);
        }
        let row = crate::db::query_one(db,
                "SELECT EXISTS (SELECT 1 FROM space_permissions WHERE space_id = $1 AND permission = $2
                 AND ((user_id IS NULL AND group_id IS NULL) OR user_id = $3 OR group_id = ANY($4)))",
                &[&space_id, &perm.as_str(), &self.user_id(), &*self.groups],
            )
            .await?;
        Ok(row.get(0) && self.can_view_space(space_id))
    }

    /// Every space permission the viewer holds in one space, in one query.
    pub(crate) async fn space_perms(
        &self,
        db: &impl GenericClient,
        space_id: i64,
    ) -> Result<Vec<SpacePerm>> {
        if !self.can_use || !self.can_view_space(space_id) {
            return Ok(if self.is_admin {
                vec![SpacePerm::Admin]
            } else {
                Vec::new()
            });
        }
        let rows = crate::db::query(db,
                "SELECT DISTINCT permission FROM space_permissions WHERE space_id = $1
                 AND ((user_id IS NULL AND group_id IS NULL) OR user_id = $2 OR group_id = ANY($3))",
                &[&space_id, &self.user_id(), &*self.groups],
            )
            .await?;
        let mut out: Vec<SpacePerm> = rows
            .iter()
            .filter_map(|r| SpacePerm::parse(r.get(0)))
            .filter(|p| self.user.is_some() || !matches!(p, SpacePerm::Admin | SpacePerm::Restrict))
            .collect();
        if self.is_admin && !out.contains(&SpacePerm::Admin) {
            out.push(SpacePerm::Admin);
        }
        Ok(out)
    }

    pub(crate) async fn require_space_perm(
        &self,
        db: &impl GenericClient,
        space_id: i64,
        perm: SpacePerm,
    ) -> Result<()> {
        if self.has_space_perm(db, space_id, perm).await? {
            return Ok(());
        }
        if self.is_anonymous() {
            return Err(Error::Unauthorized(format!(
                "you must log in to {} in this space",
                perm_verb(perm)
            )));
        }
        Err(Error::Forbidden(format!(
            "you do not have permission to {} in this space",
            perm_verb(perm)
        )))
    }

    /// Whether the viewer passes the page's own update restrictions.
    pub(crate) async fn passes_update_restrictions(
        &self,
        db: &impl GenericClient,
        content_id: i64,
    ) -> Result<bool> {
        let row = crate::db::query_one(
            db,
            "SELECT NOT EXISTS (SELECT 1 FROM content_restrictions WHERE content_id = $1
                   AND operation = 'update') OR EXISTS (SELECT 1 FROM content_restrictions
                   WHERE content_id = $1 AND operation = 'update'
                   AND (user_id = $2 OR group_id = ANY($3)))",
            &[&content_id, &self.user_id(), &*self.groups],
        )
        .await?;
        Ok(row.get(0))
    }
}

fn perm_verb(p: SpacePerm) -> &'static str {
    match p {
        SpacePerm::View => "view content",
        SpacePerm::Edit => "add or edit pages",
        SpacePerm::Comment => "comment",
        SpacePerm::Attach => "attach files",
        SpacePerm::Delete => "delete content",
        SpacePerm::Restrict => "restrict pages",
        SpacePerm::Admin => "administer the space",
    }
}
