//! Page templates and blueprints: what a new page starts from.
//!
//! A template is storage format with variables as Confluence writes them —
//! `<at:declarations>` declaring `at:string`, `at:textarea` and `at:list`
//! (with `at:option`s), and `<at:var at:name="…"/>` where each value goes.
//! Global templates belong to no space; a space's belong to it. Blueprints
//! (`blueprints.rs`) are built in: each creates its pages under an index
//! page, with a title pattern and a label, and a space may switch each off.
//!
//! Invariants: anyone who may view a space may read its templates and the
//! global ones; only a space administrator changes a space's templates and
//! blueprints, only a site administrator global ones; a template body is
//! well-formed storage format; applying values escapes them.

pub mod blueprints;

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crate::content::{self, Space};
use crate::error::{Error, Result};
use crate::perms::{SpacePerm, Viewer};

/// A stored template.
#[derive(Debug, Clone)]
pub struct Template {
    pub id: i64,
    /// None for a global template.
    pub space_key: Option<String>,
    pub name: String,
    pub description: String,
    pub body: String,
    pub labels: Vec<String>,
    pub version: i32,
}

fn from_row(r: &Row) -> Template {
    Template {
        id: r.get("id"),
        space_key: r.get("space_key"),
        name: r.get("name"),
        description: r.get("description"),
        body: r.get("body"),
        labels: r.get("labels"),
        version: r.get("version"),
    }
}

const SELECT: &str = "SELECT t.id, s.space_key, t.name, t.description, t.body, t.labels, t.version,
     t.modified_at, t.space_id FROM templates t LEFT JOIN spaces s ON s.id = t.space_id";

/// What a template is created or changed with.
#[derive(Debug, Clone, Default)]
pub struct TemplateInput<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub body: &'a str,
    pub labels: &'a [String],
}

impl TemplateInput<'_> {
    fn validate(&self) -> Result<Vec<String>> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 255 {
            return Err(Error::BadRequest(
                "a template name needs 1 to 255 characters".into(),
            ));
        }
        if self.description.chars().count() > 1000 {
            return Err(Error::BadRequest(
                "a template description has at most 1000 characters".into(),
            ));
        }
        content::validate_body(self.body)?;
        let mut labels = Vec::new();
        for l in self.labels {
            let l = l.trim().to_lowercase();
            if l.is_empty() {
                continue;
            }
            let l = content::normalize_label(&l)?;
            if !labels.contains(&l) {
                labels.push(l);
            }
        }
        variables(self.body)?;
        Ok(labels)
    }
}

/// The space a template call is about, with the viewer's right to manage it
/// checked when `manage` is set.
async fn scope(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_key: Option<&str>,
    manage: bool,
) -> Result<Option<Space>> {
    match space_key.map(str::trim).filter(|k| !k.is_empty()) {
        Some(key) => {
            let s = content::space(db, viewer, key).await?;
            if manage {
                viewer
                    .require_space_perm(db, s.id, SpacePerm::Admin)
                    .await?;
            }
            Ok(Some(s))
        }
        None => {
            if manage {
                viewer.require_admin()?;
            } else {
                viewer.require_user()?;
            }
            Ok(None)
        }
    }
}

/// The templates of a space (its own, then the global ones), or only the
/// global ones when `space_key` is None; by name.
pub async fn list(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_key: Option<&str>,
) -> Result<Vec<Template>> {
    let space = scope(db, viewer, space_key, false).await?;
    let rows = crate::db::query(
        db,
        &format!(
            "{SELECT} WHERE t.space_id IS NULL OR t.space_id = $1
             ORDER BY t.space_id IS NULL, lower(t.name)"
        ),
        &[&space.map(|s| s.id).unwrap_or(-1)],
    )
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// One template, if the viewer may read it.
pub async fn get(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<Template> {
    let not_found = || Error::NotFound(format!("No template with id {id}"));
    let row = crate::db::query_opt(db, &format!("{SELECT} WHERE t.id = $1"), &[&id])
        .await?
        .ok_or_else(not_found)?;
    let t = from_row(&row);
    match &t.space_key {
        Some(k) => {
            content::space(db, viewer, k)
                .await
                .map_err(|_| not_found())?;
        }
        None => {
            viewer.require_user()?;
        }
    }
    Ok(t)
}

fn name_taken(e: tokio_postgres::Error, name: &str) -> Error {
    if crate::error::is_unique_violation(&e) {
        Error::BadRequest(format!(
            "a template named {:?} already exists here",
            name.trim()
        ))
    } else {
        e.into()
    }
}

/// Creates a template in a space (or a global one).
pub async fn create(
    db: &impl GenericClient,
    viewer: &Viewer,
    space_key: Option<&str>,
    t: &TemplateInput<'_>,
) -> Result<Template> {
    let space = scope(db, viewer, space_key, true).await?;
    let labels = t.validate()?;
    let uid = viewer.require_user()?.id;
    let id: i64 = crate::db::query_one(
        db,
        "INSERT INTO templates (space_id, name, description, body, labels, creator_id, modifier_id)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        &[
            &space.map(|s| s.id),
            &t.name.trim(),
            &t.description.trim(),
            &t.body,
            &labels,
            &uid,
        ],
    )
    .await
    .map_err(|e| name_taken(e, t.name))?
    .get(0);
    get(db, viewer, id).await
}

/// Changes a template; `version` is the one the change was made on (a
/// stale one is a 409, as for pages). None skips the check.
pub async fn update(
    db: &impl GenericClient,
    viewer: &Viewer,
    id: i64,
    version: Option<i32>,
    t: &TemplateInput<'_>,
) -> Result<Template> {
    let cur = get(db, viewer, id).await?;
    scope(db, viewer, cur.space_key.as_deref(), true).await?;
    let labels = t.validate()?;
    if let Some(v) = version.filter(|v| *v != cur.version) {
        return Err(Error::Conflict(format!(
            "the template was changed meanwhile: version {v} is not the current {}",
            cur.version
        )));
    }
    let uid = viewer.require_user()?.id;
    let n = crate::db::execute(
        db,
        "UPDATE templates SET name = $2, description = $3, body = $4, labels = $5, modifier_id = $6,
             modified_at = now(), version = version + 1 WHERE id = $1 AND version = $7",
        &[
            &id,
            &t.name.trim(),
            &t.description.trim(),
            &t.body,
            &labels,
            &uid,
            &cur.version,
        ],
    )
    .await
    .map_err(|e| name_taken(e, t.name))?;
    if n == 0 {
        return Err(Error::Conflict(
            "the template was changed meanwhile; reload it".into(),
        ));
    }
    get(db, viewer, id).await
}

pub async fn delete(db: &impl GenericClient, viewer: &Viewer, id: i64) -> Result<()> {
    let cur = get(db, viewer, id).await?;
    scope(db, viewer, cur.space_key.as_deref(), true).await?;
    crate::db::execute(db, "DELETE FROM templates WHERE id = $1", &[&id]).await?;
    Ok(())
}

/// A variable a template declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub kind: VarKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarKind {
    Text,
    TextArea,
    List(Vec<String>),
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let at = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[at..].find('"')?;
    Some(&tag[at..at + end])
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The variables a body declares (`at:declarations`), in order; a variable
/// used by `at:var` but not declared is a text variable.
pub fn variables(body: &str) -> Result<Vec<Variable>> {
    let mut out: Vec<Variable> = Vec::new();
    if let Some(start) = body.find("<at:declarations") {
        let end = body[start..]
            .find("</at:declarations>")
            .map(|e| start + e)
            .unwrap_or(body.len());
        let decl = &body[start..end];
        let mut rest = decl;
        while let Some(i) = rest.find("<at:") {
            let tag_end = rest[i..].find('>').map(|e| i + e + 1).unwrap_or(rest.len());
            let tag = &rest[i..tag_end];
            let kind = if tag.starts_with("<at:string") {
                Some(VarKind::Text)
            } else if tag.starts_with("<at:textarea") {
                Some(VarKind::TextArea)
            } else if tag.starts_with("<at:list") {
                let close = rest[tag_end..]
                    .find("</at:list>")
                    .map(|e| tag_end + e)
                    .unwrap_or(tag_end);
                let options = rest[tag_end..close]
                    .split("<at:option")
                    .skip(1)
                    .filter_map(|o| attr(o, "at:value").map(unescape))
                    .collect();
                Some(VarKind::List(options))
            } else {
                None
            };
            if let (Some(kind), Some(name)) = (kind, attr(tag, "at:name")) {
                let name = unescape(name);
                if !out.iter().any(|v| v.name == name) {
                    out.push(Variable { name, kind });
                }
            }
            rest = &rest[tag_end..];
        }
    }
    let mut rest = body;
    while let Some(i) = rest.find("<at:var") {
        let tag_end = rest[i..].find('>').map(|e| i + e + 1).unwrap_or(rest.len());
        if let Some(name) = attr(&rest[i..tag_end], "at:name") {
            let name = unescape(name);
            if !out.iter().any(|v| v.name == name) {
                out.push(Variable {
                    name,
                    kind: VarKind::Text,
                });
            }
        }
        rest = &rest[tag_end..];
    }
    if out.len() > 100 {
        return Err(Error::BadRequest(
            "a template declares at most 100 variables".into(),
        ));
    }
    Ok(out)
}

/// The body with each `at:var` replaced by its value (escaped; a text
/// area's lines joined by `<br/>`) and the declarations removed.
pub fn apply(body: &str, values: &dyn Fn(&str) -> Option<String>) -> Result<String> {
    let vars = variables(body)?;
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    if let Some(start) = rest.find("<at:declarations") {
        let end = rest[start..]
            .find("</at:declarations>")
            .map(|e| start + e + "</at:declarations>".len())
            .or_else(|| rest[start..].find("/>").map(|e| start + e + 2))
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[end..];
    }
    let mut body_rest = String::new();
    body_rest.push_str(rest);
    let mut rest = body_rest.as_str();
    while let Some(i) = rest.find("<at:var") {
        out.push_str(&rest[..i]);
        let tag_end = rest[i..].find('>').map(|e| i + e + 1).unwrap_or(rest.len());
        let tag = &rest[i..tag_end];
        let mut after = tag_end;
        if !tag.ends_with("/>") {
            if let Some(c) = rest[tag_end..].find("</at:var>") {
                after = tag_end + c + "</at:var>".len();
            }
        }
        if let Some(name) = attr(tag, "at:name").map(unescape) {
            let v = values(&name).unwrap_or_default();
            let area = vars
                .iter()
                .any(|x| x.name == name && x.kind == VarKind::TextArea);
            if area {
                let lines: Vec<String> = v.lines().map(escape).collect();
                out.push_str(&lines.join("<br/>"));
            } else {
                out.push_str(&escape(&v));
            }
        }
        rest = &rest[after..];
    }
    out.push_str(rest);
    content::validate_body(&out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "<at:declarations><at:string at:name=\"owner\" /><at:textarea at:columns=\"40\" at:name=\"goals\" at:rows=\"3\" /><at:list at:name=\"status\"><at:option at:value=\"Draft\" /><at:option at:value=\"Final &amp; signed\" /></at:list></at:declarations><p>Owner: <at:var at:name=\"owner\" /></p><p><at:var at:name=\"goals\" /></p><p>Status: <at:var at:name=\"status\" /> <at:var at:name=\"extra\"/></p>";

    #[test]
    fn declarations_give_the_variables_in_order() {
        let v = variables(BODY).unwrap();
        assert_eq!(
            v,
            [
                Variable {
                    name: "owner".into(),
                    kind: VarKind::Text
                },
                Variable {
                    name: "goals".into(),
                    kind: VarKind::TextArea
                },
                Variable {
                    name: "status".into(),
                    kind: VarKind::List(vec!["Draft".into(), "Final & signed".into()])
                },
                Variable {
                    name: "extra".into(),
                    kind: VarKind::Text
                },
            ]
        );
    }

    #[test]
    fn values_are_escaped_and_the_declarations_removed() {
        let got = apply(BODY, &|n| match n {
            "owner" => Some("Ann <ann@x>".into()),
            "goals" => Some("ship\nrest".into()),
            "status" => Some("Final & signed".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            got,
            "<p>Owner: Ann &lt;ann@x&gt;</p><p>ship<br/>rest</p><p>Status: Final &amp; signed </p>"
        );
    }
}
