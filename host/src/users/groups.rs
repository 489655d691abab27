//! Groups and their members. Invariant: a change of membership that would
//! leave no active administrator is refused in its own transaction.

use super::{an_admin_remains, by_name};
use crate::error::{Error, Result};
use deadpool_postgres::GenericClient;

pub(crate) struct Group {
    pub name: String,
    pub description: String,
    pub members: Vec<String>,
}

pub(crate) async fn groups(db: &impl GenericClient) -> Result<Vec<Group>> {
    let rows = crate::db::query(db,
            "SELECT g.id, g.name, g.description,
               coalesce((SELECT array_agg(u.username ORDER BY lower(u.username)) FROM group_members m
                 JOIN users u ON u.id = m.user_id WHERE m.group_id = g.id), '{}')
             FROM groups g ORDER BY lower(g.name)",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Group {
            name: r.get(1),
            description: r.get(2),
            members: r.get(3),
        })
        .collect())
}

pub(crate) async fn create_group(
    db: &impl GenericClient,
    name: &str,
    description: &str,
) -> Result<i64> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(Error::BadRequest(
            "a group name needs 1 to 100 characters".into(),
        ));
    }
    let r = crate::db::query_one(
        db,
        "INSERT INTO groups (name, description) VALUES ($1, $2) RETURNING id",
        &[&name, &description.trim()],
    )
    .await
    .map_err(|e| {
        if crate::error::is_unique_violation(&e) {
            Error::BadRequest(format!("a group named {name:?} already exists"))
        } else {
            e.into()
        }
    })?;
    Ok(r.get(0))
}

pub(crate) async fn group_by_name(db: &impl GenericClient, name: &str) -> Result<Option<i64>> {
    Ok(crate::db::query_opt(
        db,
        "SELECT id FROM groups WHERE lower(name) = lower($1)",
        &[&name.trim()],
    )
    .await?
    .map(|r| r.get(0)))
}

pub(crate) async fn add_member(db: &impl GenericClient, group: &str, username: &str) -> Result<()> {
    let gid = group_by_name(db, group)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no group named {group:?}")))?;
    let user = by_name(db, username)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no user named {username:?}")))?;
    crate::db::execute(
        db,
        "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&gid, &user.id],
    )
    .await?;
    Ok(())
}

pub(crate) async fn remove_member(
    db: &mut deadpool_postgres::Object,
    group: &str,
    username: &str,
) -> Result<()> {
    let tx = db.transaction().await?;
    crate::db::execute(&tx,
        "DELETE FROM group_members m USING groups g, users u
         WHERE m.group_id = g.id AND m.user_id = u.id AND lower(g.name) = lower($1) AND lower(u.username) = lower($2)",
        &[&group, &username],
    )
    .await?;
    an_admin_remains(&tx, "removing this member").await?;
    tx.commit().await?;
    Ok(())
}
