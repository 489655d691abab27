//! Read restrictions (`/restriction/byOperation`), content properties and body
//! conversion (`/contentbody/convert`).
//!
//! Invariant: each checks that the caller may view the content (or use the site)
//! before it answers.

use super::*;

#[utoipa::path(get, path = "/rest/api/content/{id}/restriction/byOperation", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), responses((status = 200, description = "restrictions", body = shapes::Restrictions)))]
pub(super) async fn restrictions(on: On) -> Api {
    let id = on.id()?;
    let r = on.hint(content::restrictions(&on.db().await?, &on.viewer, id).await)?;
    let block = |op: &'static str, grants: &[crate::users::Grant]| {
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
    };
    ok(shapes::Restrictions {
        read: block("read", &r.read),
        update: block("update", &r.update),
        links: Links::base(&on.base()),
    })
}

#[utoipa::path(get, path = "/rest/api/content/{id}/property", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), responses((status = 200, description = "content properties (none)", body = List<serde_json::Value>)))]
pub(super) async fn properties(on: On) -> Api {
    on.visible(&on.db().await?).await?;
    // Cairn keeps no content properties: the list is always empty, so its
    // element type is left open.
    let none: Vec<Value> = Vec::new();
    ok(List::all(none, 25).with_links(Links::base(&on.base())))
}

#[utoipa::path(post, path = "/rest/api/contentbody/convert/{to}", params(("to" = String, Path)), request_body = inputs::ConvertInput, responses((status = 200, description = "converted", body = shapes::BodyValue)))]
pub(super) async fn convert(on: On, Body(b): Body) -> Api {
    let (app, viewer, to) = (&on.app, &on.viewer, &on.name);
    require_use(viewer)?;
    let rep = str_at(&b, "representation")?.unwrap_or("storage");
    let value =
        str_at(&b, "value")?.ok_or_else(|| Error::BadRequest("value is required".into()))?;
    if rep != "storage" {
        return Err(Error::BadRequest(format!(
            "cannot convert from {rep:?}; only storage is supported"
        )));
    }
    let out = match to.as_str() {
        "storage" => {
            content::validate_body(value)?;
            value.to_owned()
        }
        "view" | "export_view" | "styled_view" => {
            let db = app.pool.get().await?;
            let space = match json::space_key_hint(&b) {
                Some(k) => k,
                None => content::spaces(&db, viewer)
                    .await?
                    .first()
                    .map(|s| s.key.clone())
                    .unwrap_or_default(),
            };
            app.presenter
                .render_source(&db, viewer, &space, None, value)
                .await?
                .html
        }
        other => {
            return Err(Error::BadRequest(format!(
                "cannot convert to {other:?}; use view, export_view or storage"
            )))
        }
    };
    ok(shapes::BodyValue {
        links: Some(Links::base(&json::base(app))),
        ..shapes::BodyValue::new(out, to)
    })
}
