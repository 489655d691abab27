//! Restrictions (`/content/{id}/restriction…`), as Confluence 7.x+ serves
//! them: read them whole or by operation; replace (PUT), add (POST) or
//! remove (DELETE) them whole; add, test and remove one user or group of one
//! operation.
//!
//! Invariant: every write goes through `content::restrictions` — the checks
//! the UI's restrictions screen makes (view of the page, Restrict or Admin
//! in its space) — and a whole write is one transaction, checked before its
//! first change.

use super::*;
use crate::users::Principal;

const OPERATIONS: [&str; 2] = ["read", "update"];

fn operation(op: &str) -> Result<&'static str> {
    OPERATIONS
        .into_iter()
        .find(|o| *o == op)
        .ok_or_else(|| Error::BadRequest(format!("unknown operation {op:?}; use read or update")))
}

/// One operation's restriction in Confluence's shape.
fn block(id: i64, op: &'static str, grants: &[crate::users::Grant]) -> shapes::Restriction {
    let users: Vec<shapes::User> = grants
        .iter()
        .filter(|g| g.kind == "user")
        .map(|g| shapes::User::named(&g.name))
        .collect();
    let groups: Vec<shapes::Group> = grants
        .iter()
        .filter(|g| g.kind == "group")
        .map(|g| shapes::Group {
            kind: "group",
            name: g.name.clone(),
        })
        .collect();
    shapes::Restriction {
        operation: op,
        restrictions: shapes::Grants {
            user: List::all(users, 200),
            group: List::all(groups, 200),
        },
        links: Links::to(format!(
            "/rest/api/content/{id}/restriction/byOperation/{op}"
        )),
    }
}

/// Both operations' restrictions of `id`, as the caller may see them.
async fn both(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
) -> Result<(shapes::Restriction, shapes::Restriction)> {
    let r = content::restrictions(db, viewer, id).await?;
    Ok((block(id, "read", &r.read), block(id, "update", &r.update)))
}

/// `/restriction`: both operations as a list.
async fn listed(on: &On, db: &impl GenericClient, id: i64) -> Api {
    let (read, update) = on.hint(both(db, &on.viewer, id).await)?;
    ok(
        List::all(vec![read, update], 100).with_links(Links::base_and_self(
            &on.base(),
            format!("/rest/api/content/{id}/restriction"),
        )),
    )
}

#[utoipa::path(get, path = "/rest/api/content/{id}/restriction/byOperation", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), responses((status = 200, description = "restrictions", body = shapes::Restrictions)))]
pub(super) async fn restrictions(on: On) -> Api {
    let id = on.id()?;
    let (read, update) = on.hint(both(&on.db().await?, &on.viewer, id).await)?;
    ok(shapes::Restrictions {
        read,
        update,
        links: Links::base(&on.base()),
    })
}

#[utoipa::path(get, path = "/rest/api/content/{id}/restriction/byOperation/{op}", params(("id" = String, Path, description = "content id"), ("op" = String, Path, description = "read or update")), responses((status = 200, description = "the operation's restriction", body = shapes::Restriction)))]
pub(super) async fn restriction_of(call: Call, Path((id, op)): Path<(String, String)>) -> Api {
    let id = parse_id(&id)?;
    let op = operation(&op)?;
    let (read, update) = call.hint(both(&call.db().await?, &call.viewer, id).await)?;
    ok(if op == "read" { read } else { update })
}

#[utoipa::path(get, path = "/rest/api/content/{id}/restriction", params(("id" = String, Path, description = "content id")), responses((status = 200, description = "read and update restrictions", body = List<shapes::Restriction>)))]
pub(super) async fn restrictions_list(on: On) -> Api {
    let id = on.id()?;
    listed(&on, &on.db().await?, id).await
}

/// A list that may come bare or as `{"results": […]}` (what a GET answers).
fn items<'a>(v: Option<&'a Value>, what: &str) -> Result<&'a [Value]> {
    match v {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(Value::Object(o)) => match o.get("results") {
            Some(Value::Array(a)) => Ok(a),
            None | Some(Value::Null) => Ok(&[]),
            Some(other) => Err(Error::BadRequest(format!(
                "{what}.results must be a list, not {}",
                kind(other)
            ))),
        },
        Some(other) => Err(Error::BadRequest(format!(
            "{what} must be a list, not {}",
            kind(other)
        ))),
    }
}

fn text<'a>(v: &'a Value, field: &str, what: &str) -> Result<Option<&'a str>> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim())),
        Some(Value::String(_)) => Ok(None),
        Some(other) => Err(Error::BadRequest(format!(
            "{what}.{field} must be a string, not {}",
            kind(other)
        ))),
    }
}

/// A user named by `username`, `userKey` or `accountId` (the key).
async fn user_principal(
    db: &impl GenericClient,
    name: Option<&str>,
    key: Option<&str>,
) -> Result<Principal> {
    no_nul(name.or(key).unwrap_or_default())?;
    let user = match (name, key) {
        (Some(n), _) => crate::users::by_name(db, n).await?,
        (None, Some(k)) => crate::users::by_key(db, k).await?,
        (None, None) => {
            return Err(Error::BadRequest(
                "a user is named by username, userKey or accountId".into(),
            ))
        }
    };
    user.map(|u| Principal::User(u.id)).ok_or_else(|| {
        Error::NotFound(format!(
            "no user with username or key {:?}",
            name.or(key).unwrap_or_default()
        ))
    })
}

/// A name with NUL names nobody (and PostgreSQL cannot compare it).
fn no_nul(name: &str) -> Result<()> {
    if name.contains('\0') {
        return Err(Error::BadRequest(
            "a user or group name cannot hold the NUL character".into(),
        ));
    }
    Ok(())
}

async fn group_principal(db: &impl GenericClient, name: &str) -> Result<Principal> {
    no_nul(name)?;
    crate::users::group_by_name(db, name)
        .await?
        .map(Principal::Group)
        .ok_or_else(|| Error::NotFound(format!("no group named {name:?}")))
}

/// The restrictions a PUT or POST body names: a list of
/// `{operation, restrictions: {user: […], group: […]}}` (or one of them, or
/// a GET's answer with `results`), every principal resolved.
async fn changes(db: &impl GenericClient, b: &Value) -> Result<Vec<content::RestrictionChange>> {
    let list: Vec<&Value> = match b {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) if o.contains_key("results") => items(Some(b), "body")?.iter().collect(),
        Value::Object(_) => vec![b],
        other => {
            return Err(Error::BadRequest(format!(
                "the body must be a list of restrictions, not {}",
                kind(other)
            )))
        }
    };
    let mut out = Vec::new();
    for (i, r) in list.into_iter().enumerate() {
        let what = format!("restriction {i}");
        let op = match r.get("operation") {
            Some(Value::String(s)) => operation(s)?,
            Some(Value::Object(o)) => match o.get("operation").or_else(|| o.get("key")) {
                Some(Value::String(s)) => operation(s)?,
                _ => return Err(Error::BadRequest(format!("{what} needs an operation"))),
            },
            _ => {
                return Err(Error::BadRequest(format!(
                    "{what} needs an operation (read or update)"
                )))
            }
        };
        let within = r.get("restrictions");
        if let Some(w) = within.filter(|w| !w.is_null() && !w.is_object()) {
            return Err(Error::BadRequest(format!(
                "{what}.restrictions must be an object, not {}",
                kind(w)
            )));
        }
        let mut principals = Vec::new();
        for u in items(within.and_then(|w| w.get("user")), "restrictions.user")? {
            let name = text(u, "username", "user")?;
            let key = text(u, "userKey", "user")?.or(text(u, "accountId", "user")?);
            principals.push(user_principal(db, name, key).await?);
        }
        for g in items(within.and_then(|w| w.get("group")), "restrictions.group")? {
            let name = text(g, "name", "group")?
                .ok_or_else(|| Error::BadRequest("every group needs a name".into()))?;
            principals.push(group_principal(db, name).await?);
        }
        out.push(content::RestrictionChange {
            operation: op.to_owned(),
            principals,
        });
    }
    Ok(out)
}

async fn write(on: On, b: Value, replace: bool) -> Api {
    let id = on.id()?;
    let mut db = on.db().await?;
    on.visible(&db).await?;
    let changes = changes(&db, &b).await?;
    content::write_restrictions(&mut db, &on.viewer, id, &changes, replace).await?;
    listed(&on, &db, id).await
}

#[utoipa::path(put, path = "/rest/api/content/{id}/restriction", params(("id" = String, Path, description = "content id")), request_body = Vec<inputs::RestrictionInput>, responses((status = 200, description = "the restrictions now: each operation named holds exactly its users and groups (and the caller)", body = List<shapes::Restriction>)))]
pub(super) async fn restrictions_replace(on: On, Body(b): Body) -> Api {
    write(on, b, true).await
}

#[utoipa::path(post, path = "/rest/api/content/{id}/restriction", params(("id" = String, Path, description = "content id")), request_body = Vec<inputs::RestrictionInput>, responses((status = 200, description = "the restrictions now, the users and groups added", body = List<shapes::Restriction>)))]
pub(super) async fn restrictions_add(on: On, Body(b): Body) -> Api {
    write(on, b, false).await
}

#[utoipa::path(delete, path = "/rest/api/content/{id}/restriction", params(("id" = String, Path, description = "content id")), responses((status = 200, description = "the restrictions now: none", body = List<shapes::Restriction>)))]
pub(super) async fn restrictions_delete(on: On) -> Api {
    let id = on.id()?;
    let mut db = on.db().await?;
    on.visible(&db).await?;
    let clear: Vec<content::RestrictionChange> = OPERATIONS
        .iter()
        .map(|op| content::RestrictionChange {
            operation: (*op).to_owned(),
            principals: Vec::new(),
        })
        .collect();
    content::write_restrictions(&mut db, &on.viewer, id, &clear, true).await?;
    listed(&on, &db, id).await
}

/// GET (is the principal named? 200 or 404), PUT (add) or DELETE (remove)
/// one principal of one operation. Answers 200 without a body, as Confluence.
async fn one(call: Call, method: Method, id: &str, op: &str, who: WhoIs<'_>) -> Api {
    let id = parse_id(id)?;
    let op = operation(op)?;
    let db = call.db().await?;
    call.hint(content::get(&db, &call.viewer, id).await)?;
    let principal = match who {
        WhoIs::User => {
            let p = &call.params;
            let name = p.nonempty("userName").or(p.nonempty("username"));
            let key = p
                .nonempty("key")
                .or(p.nonempty("userKey"))
                .or(p.nonempty("accountId"));
            user_principal(&db, name, key).await?
        }
        WhoIs::Group(name) => group_principal(&db, name).await?,
    };
    if method == Method::GET {
        if !content::has_restriction(&db, &call.viewer, id, op, &principal).await? {
            return Err(Error::NotFound(format!(
                "the {op} restriction of content {id} does not name them"
            )));
        }
    } else {
        content::set_restriction(&db, &call.viewer, id, op, &principal, method == Method::PUT)
            .await?;
    }
    Ok(StatusCode::OK.into_response())
}

enum WhoIs<'a> {
    User,
    Group(&'a str),
}

#[utoipa::path(put, path = "/rest/api/content/{id}/restriction/byOperation/{op}/user", params(("id" = String, Path, description = "content id"), ("op" = String, Path, description = "read or update"), ("userName" = Option<String>, Query), ("key" = Option<String>, Query, description = "the user key")), responses((status = 200, description = "added")))]
pub(super) async fn restriction_user_add(
    call: Call,
    Path((id, op)): Path<(String, String)>,
) -> Api {
    one(call, Method::PUT, &id, &op, WhoIs::User).await
}

#[utoipa::path(get, path = "/rest/api/content/{id}/restriction/byOperation/{op}/user", params(("id" = String, Path, description = "content id"), ("op" = String, Path, description = "read or update"), ("userName" = Option<String>, Query), ("key" = Option<String>, Query, description = "the user key")), responses((status = 200, description = "the restriction names the user (404 when not)")))]
pub(super) async fn restriction_user_get(
    call: Call,
    Path((id, op)): Path<(String, String)>,
) -> Api {
    one(call, Method::GET, &id, &op, WhoIs::User).await
}

#[utoipa::path(delete, path = "/rest/api/content/{id}/restriction/byOperation/{op}/user", params(("id" = String, Path, description = "content id"), ("op" = String, Path, description = "read or update"), ("userName" = Option<String>, Query), ("key" = Option<String>, Query, description = "the user key")), responses((status = 200, description = "removed")))]
pub(super) async fn restriction_user_remove(
    call: Call,
    Path((id, op)): Path<(String, String)>,
) -> Api {
    one(call, Method::DELETE, &id, &op, WhoIs::User).await
}

#[utoipa::path(put, path = "/rest/api/content/{id}/restriction/byOperation/{op}/group/{group}", params(("id" = String, Path, description = "content id"), ("op" = String, Path, description = "read or update"), ("group" = String, Path)), responses((status = 200, description = "added")))]
pub(super) async fn restriction_group_add(
    call: Call,
    Path((id, op, group)): Path<(String, String, String)>,
) -> Api {
    one(call, Method::PUT, &id, &op, WhoIs::Group(&group)).await
}

#[utoipa::path(get, path = "/rest/api/content/{id}/restriction/byOperation/{op}/group/{group}", params(("id" = String, Path, description = "content id"), ("op" = String, Path, description = "read or update"), ("group" = String, Path)), responses((status = 200, description = "the restriction names the group (404 when not)")))]
pub(super) async fn restriction_group_get(
    call: Call,
    Path((id, op, group)): Path<(String, String, String)>,
) -> Api {
    one(call, Method::GET, &id, &op, WhoIs::Group(&group)).await
}

#[utoipa::path(delete, path = "/rest/api/content/{id}/restriction/byOperation/{op}/group/{group}", params(("id" = String, Path, description = "content id"), ("op" = String, Path, description = "read or update"), ("group" = String, Path)), responses((status = 200, description = "removed")))]
pub(super) async fn restriction_group_remove(
    call: Call,
    Path((id, op, group)): Path<(String, String, String)>,
) -> Api {
    one(call, Method::DELETE, &id, &op, WhoIs::Group(&group)).await
}
