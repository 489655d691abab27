//! Content properties: a JSON value per (content, key), each with its own
//! version number (Confluence's `/content/{id}/property`).
//!
//! Invariants: reading needs view of the content, writing needs the checks
//! an edit of it makes (`require_edit`); an update names the version it
//! replaces and is refused (409) when that is stale — the write itself is
//! `UPDATE … WHERE version = $base`, so two concurrent updates cannot both
//! win; properties live and die with their content (kept in the trash,
//! deleted by the purge through the foreign key).

use serde_json::Value;

use super::*;

pub(crate) const MAX_PROPERTY_KEY: usize = 255;

/// The largest value, as compact JSON (Confluence's default limit).
pub(crate) const MAX_PROPERTY_VALUE: usize = 32 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct Property {
    pub id: i64,
    pub key: String,
    pub value: Value,
    pub version: i32,
    pub message: String,
    pub minor_edit: bool,
    pub by: Person,
    pub at: DateTime<Utc>,
}

/// A new value for a property: what a create or an update writes.
pub(crate) struct PropertyChange<'a> {
    pub key: &'a str,
    pub value: &'a Value,
    /// The version this write makes (1 on create).
    pub version: i32,
    pub message: &'a str,
    pub minor_edit: bool,
}

const PROPERTY_SELECT: &str = "
SELECT p.id, p.key, p.value, p.version, p.message, p.minor_edit, p.modified_at,
       u.username AS a_user, u.display_name AS a_name, u.user_key AS a_key
FROM content_properties p LEFT JOIN users u ON u.id = p.modifier_id";

fn property_from(r: &Row) -> Property {
    Property {
        id: r.get("id"),
        key: r.get("key"),
        value: r.get("value"),
        version: r.get("version"),
        message: r.get("message"),
        minor_edit: r.get("minor_edit"),
        by: person(r, "a_user", "a_name", "a_key"),
        at: r.get("modified_at"),
    }
}

/// Refuses an empty key, one longer than [`MAX_PROPERTY_KEY`] characters
/// or one with control characters.
pub(crate) fn validate_property_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::BadRequest(
            "a content property needs a non-empty key".into(),
        ));
    }
    if key.chars().count() > MAX_PROPERTY_KEY {
        return Err(Error::BadRequest(format!(
            "the content property key is longer than {MAX_PROPERTY_KEY} characters"
        )));
    }
    if key.chars().any(char::is_control) {
        return Err(Error::BadRequest(
            "the content property key must not contain control characters".into(),
        ));
    }
    Ok(())
}

/// Whether any string or object key in `v` holds NUL, which PostgreSQL's
/// `jsonb` cannot store.
fn holds_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(holds_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

/// Refuses a value larger than [`MAX_PROPERTY_VALUE`] bytes of JSON, or
/// one holding the NUL character.
pub(crate) fn validate_property_value(key: &str, value: &Value) -> Result<()> {
    if holds_nul(value) {
        return Err(Error::BadRequest(format!(
            "the value of content property {key:?} holds the NUL character (\\u0000), which cannot be stored"
        )));
    }
    let size = serde_json::to_vec(value).map_err(Error::internal)?.len();
    if size > MAX_PROPERTY_VALUE {
        return Err(Error::TooLarge(format!(
            "the value of content property {key:?} is {size} bytes of JSON; the limit is {MAX_PROPERTY_VALUE}"
        )));
    }
    Ok(())
}

fn validate_change(p: &PropertyChange<'_>) -> Result<()> {
    validate_property_key(p.key)?;
    validate_property_value(p.key, p.value)?;
    if p.message.contains('\0') {
        return Err(Error::BadRequest(
            "version.message cannot hold the NUL character".into(),
        ));
    }
    Ok(())
}

fn no_property(id: i64, key: &str) -> Error {
    Error::NotFound(format!(
        "Cannot find content property with key {key:?} on content {id}"
    ))
}

/// A page of the properties of content `id` (visible to the viewer), by
/// key; and whether more exist.
pub(crate) async fn properties(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    start: i64,
    limit: i64,
) -> Result<(Vec<Property>, bool)> {
    get(db, viewer, id).await?;
    let rows = crate::db::query(
        db,
        &format!("{PROPERTY_SELECT} WHERE p.content_id = $1 ORDER BY p.key OFFSET $2 LIMIT $3"),
        &[&id, &start, &(limit + 1)],
    )
    .await?;
    let more = rows.len() as i64 > limit;
    Ok((
        rows.iter()
            .take(limit as usize)
            .map(property_from)
            .collect(),
        more,
    ))
}

/// The properties of `c` among `keys` (the caller may already see `c`).
pub(crate) async fn properties_named(
    db: &impl GenericClient,
    c: &Content,
    keys: &[String],
) -> Result<Vec<Property>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows = crate::db::query(
        db,
        &format!("{PROPERTY_SELECT} WHERE p.content_id = $1 AND p.key = ANY($2) ORDER BY p.key"),
        &[&c.id, &keys],
    )
    .await?;
    Ok(rows.iter().map(property_from).collect())
}

async fn find(db: &impl GenericClient, id: i64, key: &str) -> Result<Option<Property>> {
    let row = crate::db::query_opt(
        db,
        &format!("{PROPERTY_SELECT} WHERE p.content_id = $1 AND p.key = $2"),
        &[&id, &key],
    )
    .await?;
    Ok(row.as_ref().map(property_from))
}

/// Property `key` of content `id` (visible to the viewer).
pub(crate) async fn property(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    key: &str,
) -> Result<Property> {
    get(db, viewer, id).await?;
    validate_property_key(key)?;
    find(db, id, key).await?.ok_or_else(|| no_property(id, key))
}

/// Creates property `p.key` on content `id`; 409 when it exists.
pub(crate) async fn create_property(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    p: &PropertyChange<'_>,
) -> Result<Property> {
    validate_change(p)?;
    get_to_edit(db, viewer, id).await?;
    insert(db, viewer, id, p).await
}

async fn insert(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    p: &PropertyChange<'_>,
) -> Result<Property> {
    let inserted = crate::db::query_opt(
        db,
        "INSERT INTO content_properties (content_id, key, value, version, message, minor_edit, modifier_id)
         VALUES ($1, $2, $3, 1, $4, $5, $6) ON CONFLICT (content_id, key) DO NOTHING RETURNING id",
        &[&id, &p.key, p.value, &p.message, &p.minor_edit, &viewer.user_id()],
    )
    .await?;
    if inserted.is_none() {
        return Err(Error::Conflict(format!(
            "Cannot add a content property with key {:?} to content {id}: it already exists; update it with PUT and version.number",
            p.key
        )));
    }
    find(db, id, p.key)
        .await?
        .ok_or_else(|| no_property(id, p.key))
}

/// Replaces the value of property `p.key` with version `p.version`, which
/// must be the current one plus one (409 otherwise). A missing property is
/// created when `p.version` is 1, as in Confluence; else it is a 404.
pub(crate) async fn update_property(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    p: &PropertyChange<'_>,
) -> Result<Property> {
    validate_change(p)?;
    if p.version < 1 {
        return Err(Error::BadRequest(
            "version.number must be a positive integer".into(),
        ));
    }
    get_to_edit(db, viewer, id).await?;
    let Some(current) = find(db, id, p.key).await? else {
        return if p.version == 1 {
            insert(db, viewer, id, p).await
        } else {
            Err(no_property(id, p.key))
        };
    };
    let stale = || {
        Error::Conflict(format!(
            "Version must be incremented on update. Current version is: {}",
            current.version
        ))
    };
    if p.version != current.version + 1 {
        return Err(stale());
    }
    let updated = crate::db::query_opt(
        db,
        "UPDATE content_properties SET value = $3, version = $4, message = $5, minor_edit = $6,
                modifier_id = $7, modified_at = now()
         WHERE content_id = $1 AND key = $2 AND version = $4 - 1 RETURNING id",
        &[
            &id,
            &p.key,
            p.value,
            &p.version,
            &p.message,
            &p.minor_edit,
            &viewer.user_id(),
        ],
    )
    .await?;
    if updated.is_none() {
        // Another update won between the read and the write.
        return Err(stale());
    }
    find(db, id, p.key)
        .await?
        .ok_or_else(|| no_property(id, p.key))
}

/// Deletes property `key` of content `id`; 404 when there is none.
pub(crate) async fn delete_property(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    key: &str,
) -> Result<()> {
    validate_property_key(key)?;
    get_to_edit(db, viewer, id).await?;
    let n = crate::db::execute(
        db,
        "DELETE FROM content_properties WHERE content_id = $1 AND key = $2",
        &[&id, &key],
    )
    .await?;
    if n == 0 {
        return Err(no_property(id, key));
    }
    Ok(())
}

/// Gives content `to` the properties `from` has, each at version 1 (a
/// copy's, as in Confluence); how many.
pub(crate) async fn copy_properties(
    db: &impl GenericClient,
    viewer: &Viewer,
    from: i64,
    to: i64,
) -> Result<u64> {
    Ok(crate::db::execute(
        db,
        "INSERT INTO content_properties (content_id, key, value, version, modifier_id)
         SELECT $2, key, value, 1, $3 FROM content_properties WHERE content_id = $1
         ON CONFLICT (content_id, key) DO NOTHING",
        &[&from, &to, &viewer.user_id()],
    )
    .await?)
}
