//! Spaces: creation (with the creator's and `cairn-users`' grants and a home page),
//! settings and permission grants.
//!
//! Invariant: a space is read only by a viewer with `view` on it, and changed only by
//! one with `admin` on it (or a site administrator).

use super::*;

pub(crate) fn validate_space_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::BadRequest(format!(
            "space key {key:?} is invalid: use 1 to 255 letters and digits"
        )));
    }
    Ok(())
}

pub(crate) async fn spaces(db: &impl GenericClient, viewer: &Viewer) -> Result<Vec<Space>> {
    let rows = crate::db::query(
        db,
        "SELECT * FROM spaces WHERE id = ANY($1) ORDER BY lower(name)",
        &[&*viewer.view_spaces],
    )
    .await?;
    Ok(rows.iter().map(space_from).collect())
}

/// A space the viewer may view, by key (case-insensitive).
pub(crate) async fn space(db: &impl GenericClient, viewer: &Viewer, key: &str) -> Result<Space> {
    let row = crate::db::query_opt(
        db,
        "SELECT * FROM spaces WHERE upper(space_key) = upper($1)",
        &[&key],
    )
    .await?;
    match row {
        Some(r) if viewer.can_view_space(r.get("id")) => Ok(space_from(&r)),
        _ => Err(Error::NotFound(format!("No space with key : {key}"))),
    }
}

/// A space by key for its administrators (who may lack `view`).
pub(crate) async fn space_for_admin(
    db: &impl GenericClient,
    viewer: &Viewer,
    key: &str,
) -> Result<Space> {
    let row = crate::db::query_opt(
        db,
        "SELECT * FROM spaces WHERE upper(space_key) = upper($1)",
        &[&key],
    )
    .await?;
    let Some(r) = row else {
        return Err(Error::NotFound(format!("No space with key : {key}")));
    };
    let s = space_from(&r);
    if viewer.has_space_perm(db, s.id, SpacePerm::Admin).await? {
        Ok(s)
    } else if viewer.can_view_space(s.id) {
        Err(Error::Forbidden(
            "only space administrators may do this".into(),
        ))
    } else {
        Err(Error::NotFound(format!("No space with key : {key}")))
    }
}

/// Creates a space with a home page. The creator gets every space
/// permission; `cairn-users` gets view, edit, comment and attach.
pub(crate) async fn create_space(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    key: &str,
    name: &str,
    description: &str,
) -> Result<Space> {
    let user = viewer.require_user()?;
    if !viewer.can_create_space {
        return Err(Error::Forbidden(
            "you do not have permission to create spaces".into(),
        ));
    }
    validate_space_key(key)?;
    insert_space(
        db,
        user.id,
        key,
        name,
        description,
        "global",
        &["view", "edit", "comment", "attach"],
    )
    .await
}

/// The viewer's personal space (`~username`), made when they have none:
/// theirs to manage, readable and open to comments for every user, as in
/// Confluence. It needs no permission to create spaces.
pub(crate) async fn personal_space(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
) -> Result<Space> {
    let user = viewer.require_user()?.clone();
    if let Some(s) = personal_space_of(&*db, user.id).await? {
        return Ok(s);
    }
    let key = format!("~{}", user.username);
    insert_space(
        db,
        user.id,
        &key,
        &user.display_name,
        "",
        "personal",
        &["view", "comment"],
    )
    .await
}

/// A user's personal space, if they made one.
pub(crate) async fn personal_space_of(
    db: &impl GenericClient,
    user_id: i64,
) -> Result<Option<Space>> {
    Ok(crate::db::query_opt(
        db,
        "SELECT * FROM spaces WHERE space_type = 'personal' AND creator_id = $1 ORDER BY id LIMIT 1",
        &[&user_id],
    )
    .await?
    .map(|r| space_from(&r)))
}

/// A new space with its home page: everything for its creator, `others` for
/// the `cairn-users` group.
async fn insert_space(
    db: &mut deadpool_postgres::Object,
    creator_id: i64,
    key: &str,
    name: &str,
    description: &str,
    space_type: &str,
    others: &[&str],
) -> Result<Space> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(Error::BadRequest(
            "a space name needs 1 to 200 characters".into(),
        ));
    }
    let tx = db.transaction().await?;
    let row = tx
        .query_one(
            "INSERT INTO spaces (space_key, name, description, creator_id, space_type) VALUES ($1, $2, $3, $4, $5) RETURNING *",
            &[&key, &name, &description, &creator_id, &space_type],
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                Error::BadRequest(format!("A space with key {key} already exists"))
            } else {
                e.into()
            }
        })?;
    let space_id: i64 = row.get("id");
    tx.execute(
        "INSERT INTO space_permissions (space_id, permission, user_id)
         SELECT $1, p, $2 FROM unnest(ARRAY['view','edit','comment','attach','delete','restrict','admin']) p",
        &[&space_id, &creator_id],
    )
    .await?;
    tx.execute(
        "INSERT INTO space_permissions (space_id, permission, group_id)
         SELECT $1, p, g.id FROM groups g, unnest($2::text[]) p
         WHERE g.name = 'cairn-users'",
        &[&space_id, &others],
    )
    .await?;
    let home_title = format!("{name} Home");
    let body = format!("<p>Welcome to {}.</p>", xml_escape(name));
    let home = tx
        .query_one(
            "INSERT INTO content (content_type, space_id, title, body, creator_id, modifier_id)
             VALUES ('page', $1, $2, $3, $4, $4) RETURNING id",
            &[&space_id, &home_title, &body, &creator_id],
        )
        .await?;
    let home_id: i64 = home.get(0);
    tx.execute(
        "INSERT INTO content_versions (content_id, version, title, body, author_id, message)
         VALUES ($1, 1, $2, $3, $4, 'Space created')",
        &[&home_id, &home_title, &body, &creator_id],
    )
    .await?;
    tx.execute(
        "UPDATE spaces SET homepage_id = $2 WHERE id = $1",
        &[&space_id, &home_id],
    )
    .await?;
    journal(&tx, home_id, "created").await?;
    tx.commit().await?;
    let mut s = space_from(&row);
    s.homepage_id = Some(home_id);
    Ok(s)
}

pub(crate) async fn update_space(
    db: &impl GenericClient,
    viewer: &Viewer,
    space: &Space,
    name: &str,
    description: &str,
    homepage_id: Option<i64>,
) -> Result<()> {
    viewer
        .require_space_perm(db, space.id, SpacePerm::Admin)
        .await?;
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(Error::BadRequest(
            "a space name needs 1 to 200 characters".into(),
        ));
    }
    if name.chars().any(char::is_control) || description.contains('\0') {
        return Err(Error::BadRequest(
            "a space name cannot hold control characters, nor its description NUL".into(),
        ));
    }
    if let Some(h) = homepage_id {
        let c = get(db, viewer, h).await?;
        if c.space_id != space.id || c.content_type != ContentType::Page {
            return Err(Error::BadRequest(
                "the home page must be a page of this space".into(),
            ));
        }
    }
    crate::db::execute(db,
        "UPDATE spaces SET name = $2, description = $3, homepage_id = coalesce($4, homepage_id) WHERE id = $1",
        &[&space.id, &name, &description, &homepage_id],
    )
    .await?;
    Ok(())
}

pub(crate) async fn space_grants(db: &impl GenericClient, space_id: i64) -> Result<Vec<Grant>> {
    let rows = crate::db::query(
        db,
        "SELECT p.permission, u.username AS uname, g.name AS gname FROM space_permissions p
             LEFT JOIN users u ON u.id = p.user_id LEFT JOIN groups g ON g.id = p.group_id
             WHERE p.space_id = $1 ORDER BY 2 NULLS FIRST, 3 NULLS FIRST, 1",
        &[&space_id],
    )
    .await?;
    Ok(rows.iter().map(grant_from_row).collect())
}

pub(crate) async fn set_space_grant(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_id: i64,
    perm: SpacePerm,
    who: &Principal,
    granted: bool,
) -> Result<()> {
    viewer
        .require_space_perm(db, space_id, SpacePerm::Admin)
        .await?;
    if *who == Principal::Anonymous && matches!(perm, SpacePerm::Admin | SpacePerm::Restrict) {
        return Err(Error::BadRequest(
            "anonymous visitors cannot administer or restrict".into(),
        ));
    }
    let (u, g) = who.ids();
    if granted {
        crate::db::execute(db,
            "INSERT INTO space_permissions (space_id, permission, user_id, group_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[&space_id, &perm.as_str(), &u, &g],
        )
        .await?;
    } else {
        crate::db::execute(
            db,
            "DELETE FROM space_permissions WHERE space_id = $1 AND permission = $2
             AND user_id IS NOT DISTINCT FROM $3 AND group_id IS NOT DISTINCT FROM $4",
            &[&space_id, &perm.as_str(), &u, &g],
        )
        .await?;
    }
    Ok(())
}

/// Grants and revokes space permissions in one transaction (the grid's
/// bulk save): all or nothing.
pub(crate) async fn set_space_grants(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    space_id: i64,
    changes: &[(Principal, SpacePerm, bool)],
) -> Result<()> {
    let tx = db.transaction().await?;
    for (who, perm, granted) in changes {
        set_space_grant(&tx, viewer, space_id, *perm, who, *granted).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The space of content the caller may already see.
pub(crate) async fn space_of(db: &impl GenericClient, c: &Content) -> Result<Space> {
    let r = crate::db::query_one(db, "SELECT * FROM spaces WHERE id = $1", &[&c.space_id]).await?;
    Ok(space_from(&r))
}

/// Deletes a space and everything in it; space administrators only.
/// Deletes a space as a long task (`longtask`): its content in batches,
/// deepest first, with progress, then the space. Checked (space admin)
/// before the task starts; returns the task's id.
pub(crate) async fn delete_space(
    pool: &deadpool_postgres::Pool,
    node_id: &str,
    viewer: &Viewer,
    key: &str,
) -> Result<i64> {
    let db = pool.get().await?;
    let s = space_for_admin(&db, viewer, key).await?;
    let total: i64 = crate::db::query_one(
        &db,
        "SELECT count(*) FROM content WHERE space_id = $1",
        &[&s.id],
    )
    .await?
    .get(0);
    drop(db);
    let task_pool = pool.clone();
    crate::longtask::start(
        pool,
        node_id,
        viewer,
        "delete-space",
        &format!("Delete space {} ({})", s.name, s.key),
        move |progress| async move {
            let db = task_pool.get().await?;
            // The home page row goes with the space; the reference must go first.
            crate::db::execute(
                &db,
                "UPDATE spaces SET homepage_id = NULL WHERE id = $1",
                &[&s.id],
            )
            .await?;
            let mut done = 0i64;
            loop {
                let n = crate::db::execute(
                    &db,
                    "DELETE FROM content WHERE id IN (SELECT id FROM content WHERE space_id = $1
                         ORDER BY cardinality(ancestors) DESC, id LIMIT 200)",
                    &[&s.id],
                )
                .await?;
                if n == 0 {
                    break;
                }
                done += n as i64;
                progress.set(done.min(total), total.max(done)).await?;
            }
            crate::db::execute(&db, "DELETE FROM spaces WHERE id = $1", &[&s.id]).await?;
            Ok((
                "/spaces".to_owned(),
                format!(
                    "The space {} ({}) was deleted with {done} pages, posts, comments and files.",
                    s.name, s.key
                ),
            ))
        },
    )
    .await
}

/// The most categories a space carries.
pub(crate) const MAX_CATEGORIES: usize = 20;

/// A space's categories, by name.
pub(crate) async fn categories(db: &impl GenericClient, space_id: i64) -> Result<Vec<String>> {
    Ok(crate::db::query(
        db,
        "SELECT name FROM space_categories WHERE space_id = $1 ORDER BY name",
        &[&space_id],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

/// Every category of the spaces the viewer may see, with how many spaces
/// carry it.
pub(crate) async fn all_categories(
    db: &impl GenericClient,
    viewer: &Viewer,
) -> Result<Vec<(String, i64)>> {
    Ok(crate::db::query(
        db,
        "SELECT name, count(*) FROM space_categories WHERE space_id = ANY($1)
         GROUP BY name ORDER BY name",
        &[&*viewer.view_spaces],
    )
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

/// The categories of each space the viewer may see, by space id.
pub(crate) async fn categories_by_space(
    db: &impl GenericClient,
    viewer: &Viewer,
) -> Result<std::collections::HashMap<i64, Vec<String>>> {
    let mut out: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
    for r in crate::db::query(
        db,
        "SELECT space_id, name FROM space_categories WHERE space_id = ANY($1) ORDER BY name",
        &[&*viewer.view_spaces],
    )
    .await?
    {
        out.entry(r.get(0)).or_default().push(r.get(1));
    }
    Ok(out)
}

/// Replaces a space's categories with `names` (comma or space separated,
/// written as labels are: lower case, no spaces). Space administrators only.
pub(crate) async fn set_categories(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    space: &Space,
    names: &str,
) -> Result<Vec<String>> {
    viewer
        .require_space_perm(&*db, space.id, SpacePerm::Admin)
        .await?;
    let given: Vec<String> = names
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    let names = super::labels::normalize_labels(&given)
        .map_err(|e| Error::BadRequest(format!("categories: {}", e.public_message())))?;
    if names.len() > MAX_CATEGORIES {
        return Err(Error::BadRequest(format!(
            "a space can have at most {MAX_CATEGORIES} categories"
        )));
    }
    let tx = db.transaction().await?;
    tx.execute(
        "DELETE FROM space_categories WHERE space_id = $1 AND name <> ALL($2)",
        &[&space.id, &names],
    )
    .await?;
    for n in &names {
        tx.execute(
            "INSERT INTO space_categories (space_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&space.id, n],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(names)
}

/// Sets (a stored picture's hash and media type) or removes a space's
/// logo. Space administrators only; the caller checked the picture.
pub(crate) async fn set_logo(
    db: &impl GenericClient,
    viewer: &Viewer,
    space: &Space,
    logo: Option<(&str, &str)>,
) -> Result<()> {
    viewer
        .require_space_perm(db, space.id, SpacePerm::Admin)
        .await?;
    let (sha, ty) = logo.unzip();
    crate::db::execute(
        db,
        "UPDATE spaces SET logo_sha256 = $2, logo_type = $3 WHERE id = $1",
        &[&space.id, &sha, &ty],
    )
    .await?;
    Ok(())
}

/// The stored logo (hash, media type) of a space the viewer may see.
pub(crate) async fn logo(
    db: &impl GenericClient,
    viewer: &Viewer,
    key: &str,
) -> Result<(Space, Option<(String, String)>)> {
    let s = space(db, viewer, key).await?;
    let r = crate::db::query_one(
        db,
        "SELECT logo_sha256, logo_type FROM spaces WHERE id = $1",
        &[&s.id],
    )
    .await?;
    let logo = match (r.get::<_, Option<String>>(0), r.get::<_, Option<String>>(1)) {
        (Some(sha), Some(ty)) => Some((sha, ty)),
        _ => None,
    };
    Ok((s, logo))
}
