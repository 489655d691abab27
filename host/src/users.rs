//! Users and groups: creation, listing, membership, global permissions.
//! Used by the CLI (`cairn user create`), the admin UI and REST.

use deadpool_postgres::GenericClient;

use crate::auth;
use crate::error::{Error, Result};
use crate::perms::User;

mod grants;
mod groups;
pub use grants::Principal;
pub(crate) use grants::{
    global_grants, grant_from_row, parse_principal, set_global_grant, set_global_grants, Grant,
};
pub(crate) use groups::{add_member, create_group, group_by_name, groups, remove_member, Group};

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub password: &'a str,
    pub admin: bool,
}

pub(crate) fn validate_username(u: &str) -> Result<()> {
    if u.is_empty() || u.len() > 64 {
        return Err(Error::BadRequest(
            "a username needs 1 to 64 characters".into(),
        ));
    }
    if !u
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(Error::BadRequest(format!(
            "username {u:?} may only contain letters, digits, '.', '_', '-' and '@'"
        )));
    }
    Ok(())
}

/// Creates a user in `cairn-users` (and `cairn-administrators` when admin).
pub async fn create(db: &mut deadpool_postgres::Object, u: NewUser<'_>) -> Result<User> {
    validate_username(u.username)?;
    auth::validate_password(u.password)?;
    let display = u
        .display_name
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .unwrap_or(u.username);
    if display.len() > 255 {
        return Err(Error::BadRequest(
            "the display name is longer than 255 bytes".into(),
        ));
    }
    let email = u.email.unwrap_or("").trim();
    if !email.is_empty() && (!email.contains('@') || email.len() > 255) {
        return Err(Error::BadRequest(format!(
            "{email:?} is not an email address"
        )));
    }
    let hash = auth::hash_password(u.password.to_owned()).await?;
    let tx = db.transaction().await?;
    let row = tx
        .query_one(
            "INSERT INTO users (username, display_name, email, password_hash, is_admin)
             VALUES ($1, $2, $3, $4, $5) RETURNING id, user_key",
            &[&u.username, &display, &email, &hash, &u.admin],
        )
        .await
        .map_err(|e| {
            if crate::error::is_unique_violation(&e) {
                Error::BadRequest(format!("a user named {:?} already exists", u.username))
            } else {
                e.into()
            }
        })?;
    let id: i64 = row.get(0);
    tx.execute(
        "INSERT INTO group_members (group_id, user_id)
         SELECT id, $1 FROM groups WHERE name = 'cairn-users' OR (name = 'cairn-administrators' AND $2)",
        &[&id, &u.admin],
    )
    .await?;
    tx.commit().await?;
    Ok(User {
        id,
        username: u.username.to_owned(),
        display_name: display.to_owned(),
        user_key: row.get(1),
        email: email.to_owned(),
    })
}

pub(crate) struct UserRow {
    pub user: User,
    pub active: bool,
    pub rate_limit_exempt: bool,
    pub groups: Vec<String>,
}

/// Users whose username, display name or e-mail contains `q` (any case;
/// all when empty), by username, a page at a time; and how many match.
pub(crate) async fn list(
    db: &impl GenericClient,
    q: &str,
    offset: i64,
    limit: i64,
) -> Result<(Vec<UserRow>, i64)> {
    let like = format!(
        "%{}%",
        q.trim()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let filter =
        "($1 = '%%' OR u.username ILIKE $1 OR u.display_name ILIKE $1 OR u.email ILIKE $1)";
    let rows = crate::db::query(db,
            &format!("SELECT u.id, u.username, u.display_name, u.user_key, u.email, u.active, u.created_at, u.rate_limit_exempt,
               coalesce((SELECT array_agg(g.name ORDER BY g.name) FROM group_members m
                 JOIN groups g ON g.id = m.group_id WHERE m.user_id = u.id), '{{}}') AS groups
             FROM users u WHERE {filter} ORDER BY lower(u.username) OFFSET $2 LIMIT $3"),
            &[&like, &offset, &limit],
        )
        .await?;
    let total: i64 = crate::db::query_one(
        db,
        &format!("SELECT count(*) FROM users u WHERE {filter}"),
        &[&like],
    )
    .await?
    .get(0);
    Ok((
        rows.iter()
            .map(|r| UserRow {
                user: user_from(r),
                active: r.get(5),
                rate_limit_exempt: r.get(7),
                groups: r.get(8),
            })
            .collect(),
        total,
    ))
}

/// One user's row, for the admin's edit screen.
pub(crate) async fn row(db: &impl GenericClient, id: i64) -> Result<UserRow> {
    let r = crate::db::query_opt(db,
            "SELECT u.id, u.username, u.display_name, u.user_key, u.email, u.active, u.created_at, u.rate_limit_exempt,
               coalesce((SELECT array_agg(g.name ORDER BY g.name) FROM group_members m
                 JOIN groups g ON g.id = m.group_id WHERE m.user_id = u.id), '{}') AS groups
             FROM users u WHERE u.id = $1",
            &[&id],
        )
        .await?
        .ok_or_else(|| Error::NotFound(format!("no user with id {id}")))?;
    Ok(UserRow {
        user: user_from(&r),
        active: r.get(5),
        rate_limit_exempt: r.get(7),
        groups: r.get(8),
    })
}

/// An administrator's edit of a user: name, e-mail and group memberships,
/// in one transaction (refused if it would leave no active administrator).
pub(crate) async fn update_by_admin(
    db: &mut deadpool_postgres::Object,
    id: i64,
    display_name: &str,
    email: &str,
    groups: &[String],
) -> Result<()> {
    let display_name = display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 255 {
        return Err(Error::BadRequest(
            "a full name needs 1 to 255 characters".into(),
        ));
    }
    let email = email.trim();
    if !email.is_empty() && (!email.contains('@') || email.chars().count() > 255) {
        return Err(Error::BadRequest(format!(
            "{email:?} is not an e-mail address"
        )));
    }
    let tx = db.transaction().await?;
    let n = crate::db::execute(
        &tx,
        "UPDATE users SET display_name = $2, email = $3 WHERE id = $1",
        &[&id, &display_name, &email],
    )
    .await?;
    if n == 0 {
        return Err(Error::NotFound(format!("no user with id {id}")));
    }
    let lower: Vec<String> = groups.iter().map(|g| g.to_lowercase()).collect();
    let known: i64 = crate::db::query_one(
        &tx,
        "SELECT count(*) FROM groups WHERE lower(name) = ANY($1)",
        &[&lower],
    )
    .await?
    .get(0);
    if known as usize != lower.len() {
        return Err(Error::BadRequest(
            "a group in the list does not exist".into(),
        ));
    }
    crate::db::execute(
        &tx,
        "DELETE FROM group_members m USING groups g
         WHERE m.group_id = g.id AND m.user_id = $1 AND NOT (lower(g.name) = ANY($2))",
        &[&id, &lower],
    )
    .await?;
    crate::db::execute(
        &tx,
        "INSERT INTO group_members (group_id, user_id)
         SELECT g.id, $1 FROM groups g WHERE lower(g.name) = ANY($2) ON CONFLICT DO NOTHING",
        &[&id, &lower],
    )
    .await?;
    an_admin_remains(&tx, "this change").await?;
    tx.commit().await?;
    Ok(())
}

/// A user from a row that starts `id, username, display_name, user_key,
/// email`.
fn user_from(r: &tokio_postgres::Row) -> User {
    User {
        id: r.get(0),
        username: r.get(1),
        display_name: r.get(2),
        user_key: r.get(3),
        email: r.get(4),
    }
}

/// The user with this user key (Confluence's stable id).
pub(crate) async fn by_key(db: &impl GenericClient, key: &str) -> Result<Option<User>> {
    let r = crate::db::query_opt(
        db,
        "SELECT id, username, display_name, user_key, email FROM users WHERE user_key = $1",
        &[&key],
    )
    .await?;
    Ok(r.as_ref().map(user_from))
}

/// Active users whose username or display name contains `text` (any case),
/// exact and prefix matches first: the people among search results.
pub(crate) async fn matching(db: &impl GenericClient, text: &str, limit: i64) -> Result<Vec<User>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let like = format!(
        "%{}%",
        text.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let rows = crate::db::query(
        db,
        "SELECT id, username, display_name, user_key, email FROM users
         WHERE active AND (username ILIKE $1 OR display_name ILIKE $1)
         ORDER BY (lower(username) = lower($2) OR lower(display_name) = lower($2)) DESC,
                  (display_name ILIKE $2 || '%') DESC, display_name
         LIMIT $3",
        &[&like, &text, &limit],
    )
    .await?;
    Ok(rows.iter().map(user_from).collect())
}

/// Display names of these usernames (any case), keyed by lower-case username.
pub(crate) async fn display_names(
    db: &impl GenericClient,
    usernames: &[String],
) -> Result<std::collections::HashMap<String, String>> {
    let lower: Vec<String> = usernames.iter().map(|u| u.to_lowercase()).collect();
    let rows = crate::db::query(
        db,
        "SELECT lower(username), display_name FROM users WHERE lower(username) = ANY($1)",
        &[&lower],
    )
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// A user's display name and uploaded picture (hash in the attachment
/// store, media type), by username (any case); None when there is no such
/// active user.
pub(crate) async fn avatar(
    db: &impl GenericClient,
    username: &str,
) -> Result<Option<(String, Option<(String, String)>)>> {
    let r = crate::db::query_opt(
        db,
        "SELECT display_name, avatar_sha256, avatar_type FROM users
         WHERE lower(username) = lower($1) AND active",
        &[&username],
    )
    .await?;
    Ok(r.map(|r| {
        let sha: Option<String> = r.get(1);
        let ty: Option<String> = r.get(2);
        (r.get(0), sha.zip(ty))
    }))
}

/// Sets (or, with None, removes) a user's picture.
pub(crate) async fn set_avatar(
    db: &impl GenericClient,
    user_id: i64,
    picture: Option<(&str, &str)>,
) -> Result<()> {
    let (sha, ty) = match picture {
        Some((s, t)) => (Some(s), Some(t)),
        None => (None, None),
    };
    crate::db::execute(
        db,
        "UPDATE users SET avatar_sha256 = $2, avatar_type = $3 WHERE id = $1",
        &[&user_id, &sha, &ty],
    )
    .await?;
    Ok(())
}

/// How many users were active (a request with a session) in the last hour.
pub(crate) async fn recently_active(db: &impl GenericClient) -> Result<i64> {
    Ok(crate::db::query_one(
        db,
        "SELECT count(DISTINCT user_id) FROM sessions WHERE last_seen > now() - interval '1 hour'",
        &[],
    )
    .await?
    .get(0))
}

/// A person by user key or username (the key first), and whether the
/// account is active.
pub(crate) async fn by_key_or_name(
    db: &impl GenericClient,
    key_or_name: &str,
) -> Result<Option<(User, bool)>> {
    let r = crate::db::query_opt(
        db,
        "SELECT id, username, display_name, user_key, email, active FROM users
         WHERE user_key = $1 OR lower(username) = lower($1)
         ORDER BY user_key = $1 DESC LIMIT 1",
        &[&key_or_name],
    )
    .await?;
    Ok(r.as_ref().map(|r| (user_from(r), r.get(5))))
}

pub async fn by_name(db: &impl GenericClient, username: &str) -> Result<Option<User>> {
    let r = crate::db::query_opt(db,
            "SELECT id, username, display_name, user_key, email FROM users WHERE lower(username) = lower($1)",
            &[&username],
        )
        .await?;
    Ok(r.as_ref().map(user_from))
}

pub async fn set_active(
    db: &mut deadpool_postgres::Object,
    user_id: i64,
    active: bool,
) -> Result<()> {
    let tx = db.transaction().await?;
    crate::db::execute(
        &tx,
        "UPDATE users SET active = $2 WHERE id = $1",
        &[&user_id, &active],
    )
    .await?;
    if !active {
        crate::db::execute(&tx, "DELETE FROM sessions WHERE user_id = $1", &[&user_id]).await?;
        an_admin_remains(&tx, "deactivating this user").await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Active users with the global `admin` permission (directly, through a
/// group, or granted to everyone).
const ACTIVE_ADMINS: &str = "
SELECT count(*) FROM users u WHERE u.active AND EXISTS (
    SELECT 1 FROM global_permissions gp WHERE gp.permission = 'admin' AND (
        (gp.user_id IS NULL AND gp.group_id IS NULL) OR gp.user_id = u.id
        OR gp.group_id IN (SELECT group_id FROM group_members WHERE user_id = u.id)))";

/// Refuses a change (made in `tx`, not yet committed) that would leave the
/// site without an active administrator: nobody could then repair it.
pub(super) async fn an_admin_remains(tx: &impl GenericClient, what: &str) -> Result<()> {
    let n: i64 = crate::db::query_one(tx, ACTIVE_ADMINS, &[]).await?.get(0);
    if n == 0 {
        return Err(Error::BadRequest(format!(
            "{what} would leave no active administrator; make someone else an administrator first"
        )));
    }
    Ok(())
}

pub async fn set_password(db: &impl GenericClient, user_id: i64, password: &str) -> Result<()> {
    auth::validate_password(password)?;
    let hash = auth::hash_password(password.to_owned()).await?;
    crate::db::execute(
        db,
        "UPDATE users SET password_hash = $2 WHERE id = $1",
        &[&user_id, &hash],
    )
    .await?;
    Ok(())
}

pub(crate) async fn set_rate_limit_exempt(
    db: &impl GenericClient,
    user_id: i64,
    exempt: bool,
) -> Result<()> {
    crate::db::execute(
        db,
        "UPDATE users SET rate_limit_exempt = $2 WHERE id = $1",
        &[&user_id, &exempt],
    )
    .await?;
    Ok(())
}

/// User keys of the given usernames (lower case) that exist, by lower-case
/// username (for mentions written as `@username`).
pub(crate) async fn keys_by_usernames(
    db: &impl GenericClient,
    names: &[String],
) -> Result<std::collections::HashMap<String, String>> {
    Ok(crate::db::query(
        db,
        "SELECT lower(username), user_key FROM users WHERE lower(username) = ANY($1)",
        &[&names],
    )
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

/// A person offered by a completion: never their e-mail address.
pub(crate) struct Candidate {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub user_key: String,
}

/// Active users whose username or display name contains `term` (or whose
/// whole e-mail address it is), exact and prefix matches first; at most 20.
pub(crate) async fn complete(db: &impl GenericClient, term: &str) -> Result<Vec<Candidate>> {
    let term = term.trim().to_lowercase();
    let like = format!(
        "%{}%",
        term.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    Ok(crate::db::query(
        db,
        "SELECT id, username, display_name, user_key FROM users
         WHERE active AND (lower(username) LIKE $1 OR lower(display_name) LIKE $1
               OR (position('@' in $2) > 0 AND lower(email) = $2))
         ORDER BY lower(username) = $2 DESC, lower(username) LIKE $2 || '%' DESC, display_name
         LIMIT 20",
        &[&like, &term],
    )
    .await?
    .iter()
    .map(|r| Candidate {
        id: r.get(0),
        username: r.get(1),
        display_name: r.get(2),
        user_key: r.get(3),
    })
    .collect())
}
