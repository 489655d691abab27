//! Copying pages over REST, as Confluence 7.9+ does: `POST
//! /content/{id}/copy` (the page alone, answered with the copy) and `POST
//! /content/{id}/pagehierarchy/copy` (with the pages under it, answered
//! with a long task).

use super::spaces::{LongTaskLinks, LongTaskRef};
use super::*;

/// The `copy…` flags of both bodies (each true unless given false).
fn options(b: &Value, title: String) -> Result<crate::copy::Options> {
    let flag = |k: &str| bool_at(b, k).map(|v| v.unwrap_or(true));
    Ok(crate::copy::Options {
        attachments: flag("copyAttachments")?,
        restrictions: flag("copyPermissions")?,
        properties: flag("copyProperties")?,
        labels: flag("copyLabels")?,
        ..crate::copy::Options::page(&title)
    })
}

fn text<'a>(b: &'a Value, path: &str) -> Result<&'a str> {
    let s = str_at(b, path)?.unwrap_or("");
    if s.contains('\0') {
        return Err(Error::BadRequest(format!(
            "{path} cannot hold the NUL character"
        )));
    }
    Ok(s)
}

#[utoipa::path(post, path = "/rest/api/content/{id}/copy", params(("id" = String, Path, description = "the page to copy"), ("expand" = Option<String>, Query)), request_body = inputs::CopyInput, responses((status = 200, description = "the copy", body = shapes::Content)))]
pub(super) async fn content_copy(on: On, Body(b): Body) -> Api {
    let (app, viewer) = (&on.app, &on.viewer);
    let id = on.id()?;
    bool_at(&b, "copyCustomContents")?;
    let mut opts = options(&b, text(&b, "pageTitle")?.to_owned())?;
    let value = match pointer(&b, "destination.value") {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        None | Some(Value::Null) => {
            return Err(Error::BadRequest(
                "destination.value is required: a space key or a parent page id".into(),
            ))
        }
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "destination.value must be a string, not {}",
                kind(other)
            )))
        }
    };
    match str_at(&b, "destination.type")? {
        Some("space") => opts.space_key = Some(value),
        Some("parent_page") => {
            let parent = id_value(&Value::String(value), "destination.value")?;
            let mut db = on.db().await?;
            let p = content::get(&db, viewer, parent).await.map_err(|_| {
                Error::BadRequest(format!("the parent page {parent} does not exist or is hidden"))
            })?;
            opts.space_key = Some(p.space_key);
            opts.parent = Some(parent);
            let c = on.hint(crate::copy::copy_page(&mut db, viewer, id, opts).await)?;
            let expand = on.params.expand();
            return ok(json::content(&db, viewer, &c, &expand, app).await?);
        }
        Some("existing_page") => {
            return Err(Error::BadRequest(
                "copying over an existing page is not supported; copy to a space or under a parent_page"
                    .into(),
            ))
        }
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "unknown destination.type {other:?}; use space or parent_page"
            )))
        }
        None => {
            return Err(Error::BadRequest(
                "destination.type is required: space or parent_page".into(),
            ))
        }
    }
    let mut db = on.db().await?;
    let c = on.hint(crate::copy::copy_page(&mut db, viewer, id, opts).await)?;
    let expand = on.params.expand();
    ok(json::content(&db, viewer, &c, &expand, app).await?)
}

#[utoipa::path(post, path = "/rest/api/content/{id}/pagehierarchy/copy", params(("id" = String, Path, description = "the page to copy with the pages under it")), request_body = inputs::HierarchyCopyInput, responses((status = 202, description = "the copy, as a long task", body = LongTaskRef)))]
pub(super) async fn hierarchy_copy(on: On, Body(b): Body) -> Api {
    let viewer = &on.viewer;
    let id = on.id()?;
    bool_at(&b, "copyCustomContents")?;
    let dest = match pointer(&b, "destinationPageId") {
        None | Some(Value::Null) => {
            return Err(Error::BadRequest(
                "destinationPageId is required: the page the copy goes under".into(),
            ))
        }
        Some(v) => id_value(v, "destinationPageId")?,
    };
    let prefix = text(&b, "titleOptions.prefix")?;
    let (search, replace) = (
        text(&b, "titleOptions.search")?,
        text(&b, "titleOptions.replace")?,
    );
    let db = on.db().await?;
    let source = on.hint(content::get(&db, viewer, id).await)?;
    let parent = content::get(&db, viewer, dest)
        .await
        .map_err(|_| Error::BadRequest(format!("the page {dest} does not exist or is hidden")))?;
    drop(db);
    // Confluence applies the title options to every copied page, the
    // copied page included.
    let mut title = format!("{prefix}{}", source.title);
    if !search.is_empty() {
        title = title.replace(search, replace);
    }
    let opts = crate::copy::Options {
        space_key: Some(parent.space_key),
        parent: Some(dest),
        prefix: prefix.to_owned(),
        search: search.to_owned(),
        replace: replace.to_owned(),
        ..options(&b, title)?
    };
    let task = crate::copy::copy_tree(&on.app.pool, &on.app.node_id, viewer, id, opts).await?;
    let r = LongTaskRef {
        id: task.to_string(),
        links: LongTaskLinks {
            status: format!("/rest/api/longtask/{task}"),
        },
    };
    Ok((StatusCode::ACCEPTED, Json(r)).into_response())
}
