//! Labels: normalised like Confluence's (lower case, no spaces), added, set and
//! removed by viewers who may edit.
//!
//! Invariant: every label change is journalled for the search index in its transaction.

use super::*;

pub(crate) fn normalize_label(name: &str) -> Result<String> {
    let l = name.trim().to_lowercase();
    if l.is_empty() || l.chars().count() > 255 {
        return Err(Error::BadRequest(
            "a label needs 1 to 255 characters".into(),
        ));
    }
    if l.chars()
        .any(|c| c.is_whitespace() || c.is_control() || "!#&()*,.:;<>?@[]^".contains(c))
    {
        return Err(Error::BadRequest(format!(
            "label {name:?} contains a space or one of !#&()*,.:;<>?@[]^"
        )));
    }
    Ok(l)
}

pub(super) fn normalize_labels(names: &[String]) -> Result<Vec<String>> {
    let mut v = Vec::new();
    for n in names {
        let l = normalize_label(n)?;
        if !v.contains(&l) {
            v.push(l);
        }
    }
    Ok(v)
}

pub(crate) async fn labels(db: &impl GenericClient, id: i64) -> Result<Vec<String>> {
    let rows = crate::db::query(
        db,
        "SELECT name FROM labels WHERE content_id = $1 ORDER BY name",
        &[&id],
    )
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub(crate) async fn add_labels(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    names: &[String],
) -> Result<Vec<String>> {
    get_to_edit(db, viewer, id).await?;
    for l in normalize_labels(names)? {
        crate::db::execute(
            db,
            "INSERT INTO labels (content_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&id, &l],
        )
        .await?;
    }
    journal(db, id, "labels").await?;
    labels(db, id).await
}

pub(crate) async fn set_labels(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    names: &[String],
) -> Result<Vec<String>> {
    get_to_edit(db, viewer, id).await?;
    let names = normalize_labels(names)?;
    crate::db::execute(
        db,
        "DELETE FROM labels WHERE content_id = $1 AND NOT (name = ANY($2))",
        &[&id, &names],
    )
    .await?;
    add_labels(db, viewer, id, &names).await
}

pub(crate) async fn remove_label(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    name: &str,
) -> Result<()> {
    get_to_edit(db, viewer, id).await?;
    let n = crate::db::execute(
        db,
        "DELETE FROM labels WHERE content_id = $1 AND name = lower($2)",
        &[&id, &name.trim()],
    )
    .await?;
    if n == 0 {
        return Err(Error::NotFound(format!(
            "content {id} has no label {name:?}"
        )));
    }
    journal(db, id, "labels").await?;
    Ok(())
}
