//! `/content/{id}/label`: list, add and remove labels.
//!
//! Invariant: label names are validated like the UI's; bad names are a 400 that
//! names the label.

use super::*;

pub(super) async fn label_list(
    app: &AppState,
    db: &impl deadpool_postgres::GenericClient,
    id: i64,
) -> Result<List<shapes::Label>> {
    let names = content::labels(db, id).await?;
    let res = names.iter().map(|n| shapes::Label::global(n)).collect();
    Ok(List::all(res, 200).with_links(Links::base_and_self(
        &json::base(app),
        format!("/rest/api/content/{id}/label"),
    )))
}

#[utoipa::path(get, path = "/rest/api/content/{id}/label", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), responses((status = 200, description = "labels", body = List<shapes::Label>)))]
pub(super) async fn labels_get(on: On) -> Api {
    let db = on.db().await?;
    let c = on.visible(&db).await?;
    ok(label_list(&on.app, &db, c.id).await?)
}

#[utoipa::path(post, path = "/rest/api/content/{id}/label", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), request_body = Vec<inputs::LabelInput>, responses((status = 200, description = "all labels", body = List<shapes::Label>)))]
pub(super) async fn labels_post(on: On, Body(b): Body) -> Api {
    let id = on.id()?;
    let items: Vec<Value> = match b {
        Value::Array(a) => a,
        o @ Value::Object(_) => vec![o],
        _ => unreachable!("Body accepts only objects and arrays"),
    };
    let mut names = Vec::new();
    for it in &items {
        if let Some(prefix) = str_at(it, "prefix")? {
            if !["global", "my", "team"].contains(&prefix) {
                return Err(Error::BadRequest(format!(
                    "unknown label prefix {prefix:?}; use global"
                )));
            }
        }
        let n = str_at(it, "name")?
            .ok_or_else(|| Error::BadRequest("each label needs a name".into()))?;
        names.push(n.to_owned());
    }
    let db = on.db().await?;
    on.hint(content::add_labels(&db, &on.viewer, id, &names).await)?;
    ok(label_list(&on.app, &db, id).await?)
}

#[utoipa::path(delete, path = "/rest/api/content/{id}/label", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("name" = String, Query)), responses((status = 204, description = "removed")))]
pub(super) async fn label_delete_q(on: On) -> Api {
    let name = on
        .params
        .nonempty("name")
        .ok_or_else(|| Error::BadRequest("name is required".into()))?;
    remove_label(&on, &on.name, name).await
}

#[utoipa::path(delete, path = "/rest/api/content/{id}/label/{name}", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("name" = String, Path)), responses((status = 204, description = "removed")))]
pub(super) async fn label_delete(call: Call, Path((id, name)): Path<(String, String)>) -> Api {
    remove_label(&call, &id, &name).await
}

async fn remove_label(call: &Call, id: &str, name: &str) -> Api {
    let id = parse_id(id)?;
    let db = call.db().await?;
    call.hint(content::remove_label(&db, &call.viewer, id, name).await)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
