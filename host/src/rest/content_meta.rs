//! Body conversion (`/contentbody/convert`).
//!
//! Invariant: the caller may use the site, and a rendering is made as the
//! caller (what they may not see renders as missing).

use super::*;

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
