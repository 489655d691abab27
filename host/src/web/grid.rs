//! Permissions as Confluence's grid: groups, users and anonymous as rows,
//! permissions as columns, one checkbox per cell, saved all at once (global
//! permissions in `admin.rs`, a space's in `spaces.rs`).
//!
//! Invariant: a save changes exactly the cells that differ from what is
//! stored, for the rows the form showed (plus the new row), in one
//! transaction of the owning service — so two admins saving different rows
//! do not undo each other, and a refused save changes nothing.

use axum::response::Response;

use super::{FormData, OnField, UiResult};
use crate::error::Error;
use crate::users::Grant;

/// One principal's row.
pub(crate) struct GridRow {
    pub kind: &'static str,
    pub name: String,
    /// Checked per column, in the order of the grid's permissions.
    pub cells: Vec<bool>,
}

/// The rows of `grants` for `perms` (values): anonymous, then groups, then
/// users, each by name.
pub(crate) fn rows(grants: &[Grant], perms: &[&str]) -> Vec<GridRow> {
    let mut rows: Vec<GridRow> = Vec::new();
    for g in grants {
        let i = match rows
            .iter()
            .position(|r| r.kind == g.kind && r.name == g.name)
        {
            Some(i) => i,
            None => {
                rows.push(GridRow {
                    kind: g.kind,
                    name: g.name.clone(),
                    cells: vec![false; perms.len()],
                });
                rows.len() - 1
            }
        };
        if let Some(col) = perms.iter().position(|p| *p == g.permission) {
            rows[i].cells[col] = true;
        }
    }
    let rank = |k: &str| match k {
        "anonymous" => 0,
        "group" => 1,
        _ => 2,
    };
    rows.sort_by(|a, b| {
        (rank(a.kind), a.name.to_lowercase()).cmp(&(rank(b.kind), b.name.to_lowercase()))
    });
    rows
}

/// A cell to change: (kind, name, permission, granted).
pub(crate) type Change = (String, String, String, bool);

/// The cells a submitted grid changes against what is stored (`grants`).
pub(crate) fn changes(
    form: &FormData,
    grants: &[Grant],
    perms: &[&str],
) -> Result<Vec<Change>, Error> {
    let has = |kind: &str, name: &str, perm: &str| {
        grants
            .iter()
            .any(|g| g.kind == kind && g.name.eq_ignore_ascii_case(name) && g.permission == perm)
    };
    let rows: Vec<(String, String)> = form
        .0
        .iter()
        .filter(|(k, _)| k == "row")
        .map(|(_, v)| {
            v.split_once(':')
                .map(|(k, n)| (k.to_owned(), n.to_owned()))
                .ok_or_else(|| Error::BadRequest(format!("the grid row {v:?} is not kind:name")))
        })
        .collect::<Result<_, _>>()?;
    let checked: Vec<(usize, String)> = form
        .0
        .iter()
        .filter(|(k, _)| k == "cell")
        .map(|(_, v)| {
            v.split_once(':')
                .and_then(|(i, p)| Some((i.parse().ok()?, p.to_owned())))
                .ok_or_else(|| {
                    Error::BadRequest(format!("the grid cell {v:?} is not row:permission"))
                })
        })
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (i, (kind, name)) in rows.iter().enumerate() {
        for perm in perms {
            let want = checked.iter().any(|(r, p)| *r == i && p == perm);
            if want != has(kind, name, perm) {
                out.push((kind.clone(), name.clone(), (*perm).to_owned(), want));
            }
        }
    }
    let (new_kind, new_name) = (form.text("new_kind"), form.text("new_name").trim());
    let new_perms: Vec<&str> = form
        .0
        .iter()
        .filter(|(k, _)| k == "new_cell")
        .map(|(_, v)| v.as_str())
        .collect();
    if !new_perms.is_empty() {
        if new_name.is_empty() && new_kind != "anonymous" {
            return Err(Error::BadRequest(
                "the new row needs a group or user name".into(),
            ));
        }
        for perm in new_perms {
            if !perms.contains(&perm) {
                return Err(Error::BadRequest(format!("unknown permission {perm:?}")));
            }
            if !has(new_kind, new_name, perm) {
                out.push((
                    new_kind.to_owned(),
                    new_name.to_owned(),
                    perm.to_owned(),
                    true,
                ));
            }
        }
    }
    Ok(out)
}

/// The principal of a row the grid changes; an unknown name is the new
/// row's (the others were drawn from grants that exist).
pub(crate) async fn principal(
    db: &impl deadpool_postgres::GenericClient,
    form: &FormData,
    kind: &str,
    name: &str,
) -> UiResult<crate::users::Principal> {
    let r = crate::users::parse_principal(db, kind, name.trim()).await;
    if kind == form.text("new_kind") && name.trim() == form.text("new_name").trim() {
        r.on_name("new_name")
    } else {
        Ok(r?)
    }
}

/// The redirect after a grid save of `n` changes.
pub(crate) fn saved(path: &str, n: usize) -> Response {
    if n == 0 {
        super::notice::done(path, "unchanged")
    } else {
        super::notice::done_with(path, "changes", &n.to_string(), "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(kind: &'static str, name: &str, permission: &str) -> Grant {
        Grant {
            kind,
            name: name.into(),
            permission: permission.into(),
        }
    }

    #[test]
    fn a_save_changes_only_the_cells_that_differ() {
        let grants = [
            grant("group", "staff", "use"),
            grant("user", "bob", "use"),
            grant("user", "bob", "admin"),
        ];
        let perms = ["use", "create_space", "admin"];
        let rows = rows(&grants, &perms);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].kind, rows[0].cells.clone()),
            ("group", vec![true, false, false])
        );
        let form = FormData(
            [
                ("row", "group:staff"),
                ("cell", "0:use"),
                ("cell", "0:create_space"),
                ("row", "user:bob"),
                ("cell", "1:use"),
                ("new_kind", "user"),
                ("new_name", "carol"),
                ("new_cell", "use"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        let c = changes(&form, &grants, &perms).unwrap();
        assert_eq!(
            c,
            [
                ("group".into(), "staff".into(), "create_space".into(), true),
                ("user".into(), "bob".into(), "admin".into(), false),
                ("user".into(), "carol".into(), "use".into(), true),
            ]
        );
    }
}
