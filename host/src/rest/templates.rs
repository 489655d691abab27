//! Content templates as Confluence's REST API serves them:
//! `GET /template/page?spaceKey=` (the space's and the global ones),
//! `GET /template/blueprint?spaceKey=`, `GET/DELETE /template/{id}`,
//! `POST /template` and `PUT /template` (the body names `templateId`).
//!
//! Invariant: no SQL here (`templates`); who may read or change a template
//! is decided there, the same for the UI and REST.

use serde::Serialize;
use utoipa::ToSchema;

use super::*;
use crate::templates::{self, blueprints, TemplateInput};

/// A template's body, as `body.storage`.
#[derive(Serialize, ToSchema, Debug)]
pub struct TemplateBody {
    pub storage: shapes::BodyValue,
}

/// A content template (or a blueprint, `templateType` `blueprint`).
#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ContentTemplate {
    pub template_id: String,
    pub name: String,
    pub description: String,
    pub template_type: &'static str,
    pub labels: Vec<shapes::Label>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space: Option<SpaceRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<TemplateBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// The space a template belongs to.
#[derive(Serialize, ToSchema, Debug)]
pub struct SpaceRef {
    pub key: String,
}

fn storage(value: String) -> TemplateBody {
    TemplateBody {
        storage: shapes::BodyValue::new(value, "storage"),
    }
}

fn shape(base: &str, t: templates::Template, with_body: bool) -> ContentTemplate {
    ContentTemplate {
        links: Links::base_and_self(base, format!("/rest/api/template/{}", t.id)),
        template_id: t.id.to_string(),
        name: t.name,
        description: t.description,
        template_type: "page",
        labels: t.labels.iter().map(|l| shapes::Label::global(l)).collect(),
        space: t.space_key.map(|key| SpaceRef { key }),
        body: with_body.then(|| storage(t.body)),
        version: Some(t.version),
    }
}

fn template_id(s: &str) -> Result<i64> {
    s.trim()
        .parse()
        .map_err(|_| Error::NotFound(format!("No template with id {s}")))
}

#[utoipa::path(get, path = "/rest/api/template/page", params(("spaceKey" = Option<String>, Query, description = "the space (default: the global templates only)"), ("start" = Option<i64>, Query), ("limit" = Option<i64>, Query), ("expand" = Option<String>, Query, description = "body to include each body")), responses((status = 200, description = "content templates", body = List<ContentTemplate>)))]
pub(super) async fn templates_page(call: Call) -> Api {
    let (start, limit) = call.params.paging()?;
    require_use(&call.viewer)?;
    let with_body = call.params.get("expand").unwrap_or("").contains("body");
    let db = call.db().await?;
    let all =
        call.hint(templates::list(&db, &call.viewer, call.params.nonempty("spaceKey")).await)?;
    let more = (all.len() as i64) > start + limit;
    let base = call.base();
    let out = all
        .into_iter()
        .skip(start as usize)
        .take(limit as usize)
        .map(|t| shape(&base, t, with_body))
        .collect();
    ok(paged(
        &call.app,
        "/rest/api/template/page",
        &call.params,
        out,
        (start, limit),
        more,
    ))
}

#[utoipa::path(get, path = "/rest/api/template/blueprint", params(("spaceKey" = Option<String>, Query, description = "the space (default: every blueprint)"), ("start" = Option<i64>, Query), ("limit" = Option<i64>, Query)), responses((status = 200, description = "blueprints (offered in the space when one is named)", body = List<ContentTemplate>)))]
pub(super) async fn templates_blueprint(call: Call) -> Api {
    let (start, limit) = call.params.paging()?;
    require_use(&call.viewer)?;
    let db = call.db().await?;
    let offered: Vec<&blueprints::Blueprint> = match call.params.nonempty("spaceKey") {
        Some(k) => {
            let s = call.hint(content::space(&db, &call.viewer, k).await)?;
            blueprints::enabled(&db, s.id)
                .await?
                .into_iter()
                .filter(|(_, on)| *on)
                .map(|(b, _)| b)
                .collect()
        }
        None => blueprints::ALL.iter().collect(),
    };
    let base = call.base();
    let more = (offered.len() as i64) > start + limit;
    let out = offered
        .into_iter()
        .skip(start as usize)
        .take(limit as usize)
        .map(|b| ContentTemplate {
            links: Links::base(&base),
            template_id: b.key.to_owned(),
            name: b.name.to_owned(),
            description: b.description.to_owned(),
            template_type: "blueprint",
            labels: vec![shapes::Label::global(b.label)],
            space: None,
            body: Some(storage(b.body.to_owned())),
            version: None,
        })
        .collect();
    ok(paged(
        &call.app,
        "/rest/api/template/blueprint",
        &call.params,
        out,
        (start, limit),
        more,
    ))
}

#[utoipa::path(get, path = "/rest/api/template/{id}", params(("id" = String, Path)), responses((status = 200, description = "the template with its body", body = ContentTemplate)))]
pub(super) async fn template_get(on: On) -> Api {
    let id = template_id(&on.name)?;
    let db = on.db().await?;
    let t = on.hint(templates::get(&db, &on.viewer, id).await)?;
    ok(shape(&on.base(), t, true))
}

#[utoipa::path(delete, path = "/rest/api/template/{id}", params(("id" = String, Path)), responses((status = 204, description = "deleted")))]
pub(super) async fn template_delete(on: On) -> Api {
    let id = template_id(&on.name)?;
    let db = on.db().await?;
    on.hint(templates::delete(&db, &on.viewer, id).await)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The fields of a POST or PUT body.
fn input_of(b: &Value) -> Result<(String, String, String, Vec<String>)> {
    if let Some(t) = str_at(b, "templateType")? {
        if t != "page" {
            return Err(Error::BadRequest(format!(
                "templateType must be page, not {t:?} (blueprints are built in)"
            )));
        }
    }
    let name = str_at(b, "name")?
        .ok_or_else(|| Error::BadRequest("a template needs a name".into()))?
        .to_owned();
    if let Some(r) = str_at(b, "body.storage.representation")? {
        if r != "storage" {
            return Err(Error::BadRequest(format!(
                "body.storage.representation must be storage, not {r:?}"
            )));
        }
    }
    let body = str_at(b, "body.storage.value")?
        .ok_or_else(|| Error::BadRequest("a template needs body.storage.value".into()))?
        .to_owned();
    let description = str_at(b, "description")?.unwrap_or("").to_owned();
    let mut labels = Vec::new();
    if let Some(v) = pointer(b, "labels") {
        let Some(items) = v.as_array() else {
            return Err(Error::BadRequest("labels must be a list".into()));
        };
        for it in items {
            let n = str_at(it, "name")?
                .ok_or_else(|| Error::BadRequest("each label needs a name".into()))?;
            labels.push(n.to_owned());
        }
    }
    Ok((name, description, body, labels))
}

#[utoipa::path(post, path = "/rest/api/template", request_body = inputs::TemplateInput, responses((status = 200, description = "the new template", body = ContentTemplate)))]
pub(super) async fn template_create(call: Call, Body(b): Body) -> Api {
    let (name, description, body, labels) = input_of(&b)?;
    let space = str_at(&b, "space.key")?.map(str::to_owned);
    let db = call.db().await?;
    let t = call.hint(
        templates::create(
            &db,
            &call.viewer,
            space.as_deref(),
            &TemplateInput {
                name: &name,
                description: &description,
                body: &body,
                labels: &labels,
            },
        )
        .await,
    )?;
    ok(shape(&call.base(), t, true))
}

#[utoipa::path(put, path = "/rest/api/template", request_body = inputs::TemplateInput, responses((status = 200, description = "the changed template", body = ContentTemplate)))]
pub(super) async fn template_update(call: Call, Body(b): Body) -> Api {
    let id = match pointer(&b, "templateId") {
        Some(Value::String(s)) => template_id(s)?,
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| Error::BadRequest("templateId must be a template's id".into()))?,
        _ => return Err(Error::BadRequest("the body must name templateId".into())),
    };
    let (name, description, body, labels) = input_of(&b)?;
    let version = match pointer(&b, "version.number") {
        Some(v) => Some(
            v.as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .filter(|n| *n > 1)
                .map(|n| n - 1)
                .ok_or_else(|| {
                    Error::BadRequest("version.number must be the current version plus one".into())
                })?,
        ),
        None => None,
    };
    let db = call.db().await?;
    let t = call.hint(
        templates::update(
            &db,
            &call.viewer,
            id,
            version,
            &TemplateInput {
                name: &name,
                description: &description,
                body: &body,
                labels: &labels,
            },
        )
        .await,
    )?;
    ok(shape(&call.base(), t, true))
}
