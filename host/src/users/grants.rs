//! Global permissions and who they are granted to (a user, a group or
//! anonymous visitors). Invariant: a save is all or nothing and never leaves
//! the site without an active administrator.

use super::{an_admin_remains, by_name, group_by_name};
use crate::error::{Error, Result};
use deadpool_postgres::GenericClient;

/// A grant's principal as shown and parsed in forms: `user:NAME`,
/// `group:NAME` or `anonymous`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    User(i64),
    Group(i64),
}

impl Principal {
    pub(crate) fn ids(&self) -> (Option<i64>, Option<i64>) {
        match self {
            Principal::Anonymous => (None, None),
            Principal::User(u) => (Some(*u), None),
            Principal::Group(g) => (None, Some(*g)),
        }
    }
}

pub(crate) async fn parse_principal(
    db: &impl GenericClient,
    kind: &str,
    name: &str,
) -> Result<Principal> {
    match kind {
        "anonymous" => Ok(Principal::Anonymous),
        "user" => by_name(db, name)
            .await?
            .map(|u| Principal::User(u.id))
            .ok_or_else(|| Error::BadRequest(format!("no user named {name:?}"))),
        "group" => group_by_name(db, name)
            .await?
            .map(Principal::Group)
            .ok_or_else(|| Error::BadRequest(format!("no group named {name:?}"))),
        other => Err(Error::BadRequest(format!(
            "unknown principal type {other:?}; use user, group or anonymous"
        ))),
    }
}

/// A permission grant for display: (permission, principal kind, name).
pub(crate) struct Grant {
    pub permission: String,
    pub kind: &'static str,
    pub name: String,
}

pub(crate) fn grant_from_row(r: &tokio_postgres::Row) -> Grant {
    let user: Option<String> = r.get("uname");
    let group: Option<String> = r.get("gname");
    let (kind, name) = match (user, group) {
        (Some(u), _) => ("user", u),
        (_, Some(g)) => ("group", g),
        _ => ("anonymous", "Anonymous".to_owned()),
    };
    Grant {
        permission: r.get("permission"),
        kind,
        name,
    }
}

pub(crate) async fn global_grants(db: &impl GenericClient) -> Result<Vec<Grant>> {
    let rows = crate::db::query(
        db,
        "SELECT p.permission, u.username AS uname, g.name AS gname FROM global_permissions p
             LEFT JOIN users u ON u.id = p.user_id LEFT JOIN groups g ON g.id = p.group_id
             ORDER BY 2 NULLS FIRST, 3 NULLS FIRST, 1",
        &[],
    )
    .await?;
    Ok(rows.iter().map(grant_from_row).collect())
}

pub(crate) async fn set_global_grant(
    db: &mut deadpool_postgres::Object,
    permission: &str,
    who: &Principal,
    granted: bool,
) -> Result<()> {
    set_global_grants(db, &[(who.clone(), permission.to_owned(), granted)]).await
}

/// Grants and revokes global permissions in one transaction (the grid's
/// bulk save): grants first, so a save that moves the admin permission
/// from one principal to another never passes through "no administrator";
/// refused as a whole if it would leave no active administrator.
pub(crate) async fn set_global_grants(
    db: &mut deadpool_postgres::Object,
    changes: &[(Principal, String, bool)],
) -> Result<()> {
    for (who, permission, _) in changes {
        if !["use", "create_space", "admin"].contains(&permission.as_str()) {
            return Err(Error::BadRequest(format!(
                "unknown global permission {permission:?}"
            )));
        }
        if *who == Principal::Anonymous && permission != "use" {
            return Err(Error::BadRequest(
                "anonymous visitors can only be granted 'use'".into(),
            ));
        }
    }
    let tx = db.transaction().await?;
    for (who, permission, _) in changes.iter().filter(|c| c.2) {
        let (u, g) = who.ids();
        crate::db::execute(&tx,
            "INSERT INTO global_permissions (permission, user_id, group_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[permission, &u, &g],
        )
        .await?;
    }
    for (who, permission, _) in changes.iter().filter(|c| !c.2) {
        let (u, g) = who.ids();
        crate::db::execute(&tx,
            "DELETE FROM global_permissions WHERE permission = $1 AND user_id IS NOT DISTINCT FROM $2
             AND group_id IS NOT DISTINCT FROM $3",
            &[permission, &u, &g],
        )
        .await?;
    }
    if changes.iter().any(|c| !c.2 && c.1 == "admin") {
        an_admin_remains(&tx, "revoking this administrator permission").await?;
    }
    tx.commit().await?;
    Ok(())
}
